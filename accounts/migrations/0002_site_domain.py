from urllib.parse import urlsplit

from django.conf import settings
from django.db import migrations


def set_site_domain(apps, schema_editor):
    """allauth writes the site's domain into its emails: make it ours, not example.com."""
    Site = apps.get_model("sites", "Site")
    domain = urlsplit(settings.SITE_URL).netloc or "localhost"
    Site.objects.update_or_create(
        id=settings.SITE_ID, defaults={"domain": domain, "name": "stocksite"}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("sites", "0002_alter_domain_unique"),
    ]

    operations = [migrations.RunPython(set_site_domain, migrations.RunPython.noop)]
