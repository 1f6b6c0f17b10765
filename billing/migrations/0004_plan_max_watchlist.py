"""Watchlist stocks per plan (issue 23: Free 10, Pro 300); staff change them in admin."""

from django.db import migrations, models

MAX_WATCHLIST = {"free": 10, "pro": 300}


def seed(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    for slug, limit in MAX_WATCHLIST.items():
        Plan.objects.filter(slug=slug).update(max_watchlist=limit)


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_plan_line_alerts")]

    operations = [
        migrations.AddField(
            model_name="plan",
            name="max_watchlist",
            field=models.PositiveIntegerField(
                default=10,
                help_text=(
                    "Stocks a user may keep in their watchlist; lowering it keeps the stocks "
                    "already there but adds no more."
                ),
                verbose_name="watchlist stocks",
            ),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
