"""Alerts on LINE per plan (issue 24: Pro on, Free off); staff change it in admin."""

from django.db import migrations, models

LINE_ALERTS = {"free": False, "pro": True}


def seed(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    for slug, line_alerts in LINE_ALERTS.items():
        Plan.objects.filter(slug=slug).update(line_alerts=line_alerts)


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_seed_plans")]

    operations = [
        migrations.AddField(
            model_name="plan",
            name="line_alerts",
            field=models.BooleanField(
                default=False,
                help_text="Alert digests pushed to LINE as well as mailed; each push costs the operator.",
                verbose_name="alerts on LINE",
            ),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
