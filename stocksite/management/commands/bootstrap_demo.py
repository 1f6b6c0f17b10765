"""Prepare the embedded demo for `make run`: a demo account, and the demo market when empty."""

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

DEMO_EMAIL = "demo@stocksite.local"
DEMO_PASSWORD = "demo-trader-2026"


class Command(BaseCommand):
    help = "Create the demo account (and load the demo market if the database has none)."

    def handle(self, *args, **options):
        self._demo_user()
        self._demo_market()
        self.stdout.write(
            self.style.SUCCESS(
                "\n  stocksite demo: http://127.0.0.1:8000\n"
                f"  sign in as {DEMO_EMAIL} / {DEMO_PASSWORD}\n"
            )
        )

    def _demo_market(self) -> None:
        from market.demo_market import demo_market_load

        result = demo_market_load()
        if result is not None:
            self.stdout.write(
                f"  demo market loaded: {result.stocks} stocks, {result.bars.inserted} daily bars"
            )

    @transaction.atomic
    def _demo_user(self) -> None:
        user, created = get_user_model().objects.get_or_create(email=DEMO_EMAIL)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        EmailAddress.objects.update_or_create(
            user=user, email=DEMO_EMAIL, defaults={"verified": True, "primary": True}
        )
