from datetime import timedelta

from django.utils import timezone

from billing.entitlements import entitlements_for
from billing.models import ComplimentaryGrant, Plan
from tests.factories import staff_sign_in


def test_staff_give_a_complimentary_plan_in_admin(client, staff_user, user, pro_plan):
    staff_sign_in(client, staff_user)
    now = timezone.localtime()
    ends = now + timedelta(days=30)

    response = client.post(
        "/admin/billing/complimentarygrant/add/",
        {
            "user": user.pk,
            "plan": pro_plan.pk,
            "starts_at_0": now.strftime("%Y-%m-%d"),
            "starts_at_1": (now - timedelta(minutes=5)).strftime("%H:%M:%S"),
            "ends_at_0": ends.strftime("%Y-%m-%d"),
            "ends_at_1": ends.strftime("%H:%M:%S"),
            "reason": "press review",
        },
    )

    assert response.status_code == 302
    grant = ComplimentaryGrant.objects.get()
    assert grant.created_by == staff_user
    assert entitlements_for(user=user).source == "complimentary"


def test_staff_edit_plan_limits_in_admin(client, staff_user, user, free_plan):
    staff_sign_in(client, staff_user)

    page = client.get(f"/admin/billing/plan/{free_plan.pk}/change/")

    assert page.status_code == 200
    assert 'name="searches_per_day"' in page.content.decode()
    assert 'name="max_alerts"' in page.content.decode()
    Plan.objects.filter(pk=free_plan.pk).update(searches_per_day=20)
    assert entitlements_for(user=user).searches_per_day == 20


def test_subscriptions_are_read_only_in_admin(client, staff_user, user, make_subscription):
    subscription = make_subscription(user, status="active")
    staff_sign_in(client, staff_user)

    assert client.get("/admin/billing/subscription/add/").status_code == 403
    page = client.get(f"/admin/billing/subscription/{subscription.pk}/change/")
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()


def test_removing_a_complimentary_plan_in_admin_pauses_the_alerts_above_the_free_limit(
    client, staff_user, user, pro_plan
):
    from alerts.models import Alert
    from alerts.services import alert_create

    now = timezone.now()
    grant = ComplimentaryGrant.objects.create(
        user=user, plan=pro_plan, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=9)
    )
    older, newer = (
        alert_create(user=user, spec={"source": "prices", "prices": [1, 3, 2, 5, 4 + i]})
        for i in range(2)
    )
    staff_sign_in(client, staff_user)

    response = client.post(f"/admin/billing/complimentarygrant/{grant.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert Alert.objects.get(pk=older.pk).status == "active"
    assert Alert.objects.get(pk=newer.pk).paused_by == "plan"
