"""The Free and Pro plans of DESIGN.md; staff change the numbers in admin afterwards."""

from django.db import migrations

PLANS = [
    {
        "slug": "free",
        "name": "Free",
        "rank": 0,
        "price_monthly": 0,
        "price_yearly": 0,
        "searches_per_day": 10,
        "max_matches": 10,
        "history_years": 3,
        "all_horizons": False,
        "api_access": False,
        "csv_export": False,
        "api_requests_per_minute": 30,
        "max_alerts": 1,
    },
    {
        "slug": "pro",
        "name": "Pro",
        "rank": 10,
        "price_monthly": 2980,
        "price_yearly": 29800,
        "searches_per_day": 1000,
        "max_matches": 100,
        "history_years": None,
        "all_horizons": True,
        "api_access": True,
        "csv_export": True,
        "api_requests_per_minute": 300,
        "max_alerts": 50,
    },
]


def seed(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    for plan in PLANS:
        Plan.objects.get_or_create(slug=plan["slug"], defaults=plan)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
