from django.db import migrations

from core.text import normalize_search_text


def names_fold_again(apps, schema_editor):
    """Search names now fold hiragana to katakana: recompute the stored ones."""
    Stock = apps.get_model("market", "Stock")
    changed = []
    for stock in Stock.objects.only("pk", "name", "name_normalized"):
        folded = normalize_search_text(stock.name)
        if folded != stock.name_normalized:
            stock.name_normalized = folded
            changed.append(stock)
    Stock.objects.bulk_update(changed, ["name_normalized"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("market", "0009_stock_underlying"),
    ]

    operations = [
        migrations.RunPython(names_fold_again, migrations.RunPython.noop),
    ]
