"""Prepare the embedded demo for `make run`: a demo account, and the demo market when empty."""

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from billing.models import ComplimentaryGrant, Plan

DEMO_EMAIL = "demo@stocksite.local"
DEMO_PASSWORD = "demo-trader-2026"
# A second account on a complimentary Pro plan, so the demo shows every paid feature too.
DEMO_PRO_EMAIL = "pro@stocksite.local"
# Staff, for Django admin (/admin/): plans, grants, stocks, scrape runs.
DEMO_STAFF_EMAIL = "staff@stocksite.local"


class Command(BaseCommand):
    help = "Create the demo account (and load the demo market if the database has none)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000", help="Address printed for the demo site."
        )

    def handle(self, *args, **options):
        self._demo_user(DEMO_EMAIL)
        self._complimentary_pro(self._demo_user(DEMO_PRO_EMAIL))
        self._demo_user(DEMO_STAFF_EMAIL, staff=True)
        self._demo_market()
        self.stdout.write(
            self.style.SUCCESS(
                f"\n  stocksite demo: {options['url']}\n"
                f"  sign in as {DEMO_EMAIL} / {DEMO_PASSWORD} (Free plan)\n"
                f"          or {DEMO_PRO_EMAIL} / {DEMO_PASSWORD} (complimentary Pro plan)\n"
                f"  staff:     {DEMO_STAFF_EMAIL} / {DEMO_PASSWORD} "
                f"(Django admin: {options['url']}/admin/)\n"
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
    def _demo_user(self, email: str, *, staff: bool = False):
        user, created = get_user_model().objects.get_or_create(
            email=email, defaults={"is_staff": staff, "is_superuser": staff}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        return user

    @transaction.atomic
    def _complimentary_pro(self, user) -> None:
        now = timezone.now()
        if ComplimentaryGrant.objects.filter(user=user, ends_at__gt=now).exists():
            return
        ComplimentaryGrant.objects.create(
            user=user,
            plan=Plan.objects.get(slug="pro"),
            starts_at=now,
            ends_at=now + timedelta(days=365),
            reason="Demo account created by make run",
        )
