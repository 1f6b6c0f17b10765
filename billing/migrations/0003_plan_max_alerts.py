"""Shape alerts per plan (DESIGN.md: Free 1, Pro 50); staff change the numbers in admin."""

from django.db import migrations, models

MAX_ALERTS = {"free": 1, "pro": 50}


def seed(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    for slug, max_alerts in MAX_ALERTS.items():
        Plan.objects.filter(slug=slug).update(max_alerts=max_alerts)


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_seed_plans")]

    operations = [
        migrations.AddField(
            model_name="plan",
            name="max_alerts",
            field=models.PositiveIntegerField(
                default=1,
                help_text="Active alerts a user may keep; lowering it pauses the newest ones.",
                verbose_name="shape alerts",
            ),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
