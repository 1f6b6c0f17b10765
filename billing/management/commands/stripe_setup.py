from django.core.management.base import BaseCommand, CommandError

from billing import gateway
from billing.models import Plan, PlanPrice

INTERVAL_FIELDS = {"month": "stripe_price_monthly", "year": "stripe_price_yearly"}


class Command(BaseCommand):
    help = (
        "Create the Stripe product and monthly and yearly prices of every paid plan, "
        "idempotently, and record their ids on the plans. Ids a plan had before stay in its "
        "price history, so that subscribers who pay an old price keep their plan."
    )

    def handle(self, *args, **options):
        if not gateway.payments_configured():
            raise CommandError(
                "STRIPE_SECRET_KEY is not set: there is no Stripe account to set up."
            )
        plans = [plan for plan in Plan.objects.order_by("rank") if not plan.is_free]
        if not plans:
            self.stdout.write("No paid plans: nothing to do.")
            return
        for plan in plans:
            amounts = {"month": plan.price_monthly, "year": plan.price_yearly}
            try:
                result = gateway.catalogue_ensure(slug=plan.slug, name=plan.name, amounts=amounts)
            except gateway.StripeError as exc:
                raise CommandError(f"Stripe refused the set-up of {plan.slug}: {exc}") from exc
            plan.stripe_product_id = result.product_id
            for interval, field in INTERVAL_FIELDS.items():
                for price_id in (getattr(plan, field), result.price_ids[interval]):
                    if price_id:
                        PlanPrice.objects.get_or_create(
                            stripe_price_id=price_id, defaults={"plan": plan, "interval": interval}
                        )
                setattr(plan, field, result.price_ids[interval])
            plan.save(update_fields=["stripe_product_id", *INTERVAL_FIELDS.values()])
            created = ", ".join(result.created) or "nothing new"
            self.stdout.write(
                f"{plan.slug}: product {result.product_id}, monthly {plan.stripe_price_monthly}, "
                f"yearly {plan.stripe_price_yearly} (created: {created})"
            )
            if result.legacy_plans:
                self.stdout.write(
                    self.style.WARNING(
                        "This Stripe server has no Prices API (localstripe?): legacy Plans were "
                        "used instead. Subscriptions work; Checkout and the customer portal need "
                        "real Stripe."
                    )
                )
