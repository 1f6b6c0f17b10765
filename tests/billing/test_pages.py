import pytest
from django.test import Client
from django.utils import timezone

from billing.models import Subscription


@pytest.fixture
def stripe_keys(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_stocksite"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_stocksite"


def test_pricing_page_compares_free_and_pro_monthly_and_yearly(client, pro_plan):
    response = client.get("/pricing/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="plan-free"' in body
    assert 'data-testid="plan-pro"' in body
    assert "¥2,980 (tax incl.) a month, or ¥29,800 (tax incl.) a year" in body


def test_pricing_page_shows_tax_inclusive_prices_in_japanese(client, pro_plan):
    body = client.get("/pricing/").content.decode()

    assert "¥2,980（税込）" in body and "¥29,800（税込）" in body
    assert "投資助言ではありません" in body
    assert 'href="/legal/commerce/"' in body


def test_pricing_page_lists_the_shape_alerts_and_the_yearly_saving(client, pro_plan):
    body = client.get("/pricing/").content.decode()

    alerts = body.split('data-testid="plan-alerts">')[1:]
    assert [cell.split("<")[0] for cell in alerts] == ["1", "50"]
    assert "年払いなら、月払い12か月分より5,960円お得です。" in body


def test_pricing_page_says_payments_are_not_configured_without_keys(client, user, settings):
    settings.STRIPE_SECRET_KEY = ""
    client.force_login(user)

    body = client.get("/pricing/").content.decode()

    assert 'data-testid="payments-not-configured"' in body
    assert "/billing/checkout/" not in body


def test_pricing_page_offers_upgrade_forms_with_csrf(client, user, pro_plan, stripe_keys):
    client.force_login(user)

    body = client.get("/pricing/").content.decode()

    assert body.count('action="/billing/checkout/"') == 2
    assert 'name="interval" value="monthly"' in body
    assert 'name="interval" value="yearly"' in body
    assert "csrfmiddlewaretoken" in body


def test_checkout_refuses_a_post_without_csrf_token(user, pro_plan, stripe_keys):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post("/billing/checkout/", {"plan": "pro", "interval": "monthly"})

    assert response.status_code == 403


def test_checkout_refuses_get(client, user, stripe_keys):
    client.force_login(user)

    assert client.get("/billing/checkout/").status_code == 405


def test_checkout_sends_anonymous_visitors_to_sign_in(client, pro_plan, stripe_keys):
    response = client.post("/billing/checkout/", {"plan": "pro", "interval": "monthly"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_checkout_without_keys_says_payments_are_not_configured(client, user, pro_plan, settings):
    settings.STRIPE_SECRET_KEY = ""
    client.force_login(user)

    response = client.post(
        "/billing/checkout/",
        {"plan": "pro", "interval": "monthly"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert "Payments are not configured" in response.content.decode()


def test_checkout_of_an_unknown_plan_is_404(client, user, stripe_keys):
    client.force_login(user)

    assert (
        client.post("/billing/checkout/", {"plan": "gold", "interval": "monthly"}).status_code
        == 404
    )


def test_success_page_grants_nothing(client, user, pro_plan, stripe_keys):
    client.force_login(user)

    response = client.get("/billing/success/?session_id=cs_test_forged")

    assert response.status_code == 200
    assert 'data-testid="awaiting-confirmation"' in response.content.decode()
    assert not Subscription.objects.exists()
    assert client.get("/api/v1/me/").json()["plan"] == "Free"


def test_account_page_shows_plan_status_and_renewal_date(
    client, user, make_subscription, stripe_keys
):
    subscription = make_subscription(user, status="active")
    client.force_login(user)

    body = client.get("/account/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'data-testid="plan-name">Pro<' in body
    assert 'data-testid="subscription-status">active<' in body
    assert (
        f'data-testid="period-end">{timezone.localtime(subscription.current_period_end):%Y-%m-%d}<'
        in body
    )
    assert 'action="/billing/portal/"' in body


def test_account_page_shows_the_end_date_of_a_cancelling_subscription(
    client, user, make_subscription
):
    make_subscription(user, status="active", cancel_at_period_end=True)
    client.force_login(user)

    body = client.get("/account/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Ends</dt>" in body


def test_account_page_shows_the_live_subscription_before_an_ended_one(
    client, user, make_subscription
):
    make_subscription(user, status="active", stripe_subscription_id="sub_live")
    make_subscription(user, status="canceled", stripe_subscription_id="sub_old")
    client.force_login(user)

    body = client.get("/account/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'data-testid="subscription-status">active<' in body


def test_pricing_page_sends_a_subscriber_to_the_portal_not_to_checkout(
    client, user, make_subscription, stripe_keys
):
    make_subscription(user, status="active")
    client.force_login(user)

    body = client.get("/pricing/").content.decode()

    assert 'action="/billing/checkout/"' not in body
    assert 'action="/billing/portal/"' in body
