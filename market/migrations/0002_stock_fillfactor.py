"""Room on market_stock's pages for the daily sync's update of every stock's bar dates: with
free space on the page, PostgreSQL updates the row in place (a HOT update) instead of adding an
entry to each of the table's indexes for each of the market's 4,000 rows a day."""

from django.db import migrations

FILLFACTOR = 50


def fillfactor_set(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE market_stock SET (fillfactor = {FILLFACTOR})")


def fillfactor_reset(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE market_stock RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("market", "0001_initial")]

    operations = [migrations.RunPython(fillfactor_set, fillfactor_reset)]
