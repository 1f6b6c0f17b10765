import threading
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.services import api_token_rotate
from billing.entitlements import (
    PAST_DUE_GRACE,
    SearchQuotaExceeded,
    entitlements_for,
    search_quota_consume,
)
from billing.models import ComplimentaryGrant
from tests.factories import ComplimentaryGrantFactory, UserFactory


def test_anonymous_visitor_has_the_free_plan(db):
    limits = entitlements_for(user=AnonymousUser())

    assert (limits.plan_slug, limits.is_paid, limits.searches_per_day) == ("free", False, 10)


def test_user_without_subscription_has_the_free_plan_of_design(user):
    limits = entitlements_for(user=user)

    assert limits.plan_name == "Free"
    assert (limits.max_matches, limits.history_years, limits.all_horizons) == (10, 3, False)
    assert (limits.api_access, limits.csv_export, limits.is_paid) == (False, False, False)


def test_limits_come_from_the_plan_row_that_staff_edit(user, free_plan):
    free_plan.searches_per_day = 4
    free_plan.save()

    assert entitlements_for(user=user).searches_per_day == 4


@pytest.mark.parametrize(
    ("status", "is_paid"),
    [
        ("trialing", True),
        ("active", True),
        ("past_due", True),
        ("canceled", False),
        ("unpaid", False),
        ("incomplete", False),
        ("incomplete_expired", False),
        ("paused", False),
    ],
)
def test_subscription_status_decides_access(user, make_subscription, status, is_paid):
    past_due_since = timezone.now() - timedelta(days=1) if status == "past_due" else None
    make_subscription(user, status=status, past_due_since=past_due_since)

    limits = entitlements_for(user=user)

    assert (limits.is_paid, limits.plan_slug) == (is_paid, "pro" if is_paid else "free")


def test_pro_subscription_unlocks_the_pro_limits(user, make_subscription):
    make_subscription(user, status="active")

    limits = entitlements_for(user=user)

    assert (limits.searches_per_day, limits.max_matches, limits.history_years) == (1000, 100, None)
    assert (limits.all_horizons, limits.api_access, limits.csv_export) == (True, True, True)
    assert (limits.source, limits.status) == ("subscription", "active")


def test_past_due_keeps_access_within_the_grace_period(user, make_subscription):
    since = timezone.now() - PAST_DUE_GRACE + timedelta(hours=1)
    make_subscription(user, status="past_due", past_due_since=since)

    limits = entitlements_for(user=user)

    assert limits.is_paid
    assert limits.grace_until == since + PAST_DUE_GRACE


def test_past_due_loses_access_after_the_grace_period(user, make_subscription):
    make_subscription(
        user, status="past_due", past_due_since=timezone.now() - PAST_DUE_GRACE - timedelta(hours=1)
    )

    assert not entitlements_for(user=user).is_paid


@pytest.mark.parametrize(
    ("ended_days_ago", "is_paid"), [(-10, True), (0.5, True), (2, False), (400, False)]
)
def test_active_subscription_stops_paying_after_its_period_end_and_grace(
    user, make_subscription, ended_days_ago, is_paid
):
    # A lost customer.subscription.deleted leaves the row active: its period end still decides.
    make_subscription(user, status="active")
    user.subscriptions.update(current_period_end=timezone.now() - timedelta(days=ended_days_ago))

    assert entitlements_for(user=user).is_paid is is_paid


def test_subscription_to_an_unknown_price_gives_nothing(user, make_subscription):
    subscription = make_subscription(user, status="active")
    subscription.plan = None
    subscription.save()

    assert not entitlements_for(user=user).is_paid


@pytest.mark.parametrize(
    ("starts_days", "ends_days", "is_paid"),
    [(-1, 10, True), (-10, -1, False), (1, 10, False)],
    ids=["current", "ended", "not-started"],
)
def test_complimentary_plan_applies_between_its_dates(
    user, pro_plan, starts_days, ends_days, is_paid
):
    now = timezone.now()
    ComplimentaryGrant.objects.create(
        user=user,
        plan=pro_plan,
        starts_at=now + timedelta(days=starts_days),
        ends_at=now + timedelta(days=ends_days),
    )

    limits = entitlements_for(user=user)

    assert limits.is_paid is is_paid
    assert limits.source == ("complimentary" if is_paid else "free")


def test_complimentary_plan_works_without_stripe_keys(user, pro_plan, settings):
    settings.STRIPE_SECRET_KEY = ""
    ends = timezone.now() + timedelta(days=5)
    ComplimentaryGrant.objects.create(
        user=user, plan=pro_plan, starts_at=timezone.now(), ends_at=ends
    )

    limits = entitlements_for(user=user)

    assert (limits.plan_slug, limits.period_end) == ("pro", ends)


def test_eleventh_search_of_the_day_is_refused_on_free(user):
    for _ in range(10):
        search_quota_consume(user=user)

    with pytest.raises(SearchQuotaExceeded):
        search_quota_consume(user=user)
    assert entitlements_for(user=user).searches_today == 10


def test_the_used_up_message_says_when_the_count_starts_again():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.utils import translation

    now = datetime(2026, 12, 2, 21, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    with translation.override("ja"):
        japanese = SearchQuotaExceeded(limit=10, now=now).message
    with translation.override("en"):
        english = SearchQuotaExceeded(limit=10, now=now).message

    assert "2026/12/03 00:00" in japanese and "2時間30分" in japanese and "/pricing/" in japanese
    assert "2026-12-03 00:00, in 2 h 30 min" in english and "/pricing/" in english


def test_search_quota_follows_the_plan(user, make_subscription):
    make_subscription(user, status="active")
    for _ in range(11):
        limits = search_quota_consume(user=user)

    assert (limits.searches_today, limits.searches_left) == (11, 989)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_last_searches_do_not_both_pass(redis_url):
    user = UserFactory(email="racer@example.com", password="x")
    for _ in range(9):
        search_quota_consume(user=user)
    racers = 8
    barrier = threading.Barrier(racers)
    outcomes = []

    def race():
        try:
            barrier.wait()
            search_quota_consume(user=user)
            outcomes.append("passed")
        except SearchQuotaExceeded:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["passed"] + ["refused"] * (racers - 1)
    assert entitlements_for(user=user).searches_today == 10


@pytest.mark.parametrize(
    ("years", "today", "start"),
    [
        (3, date(2026, 11, 26), date(2023, 11, 26)),
        (1, date(2028, 2, 29), date(2027, 2, 28)),
        (None, date(2026, 11, 26), None),
    ],
)
def test_history_start_follows_the_plan(user, free_plan, years, today, start):
    free_plan.history_years = years
    free_plan.save()

    assert entitlements_for(user=user).history_start(today=today) == start


def test_an_api_request_reads_the_plan_once(client, user):
    ComplimentaryGrantFactory(user=user)
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {api_token_rotate(user=user)}"

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/searches/")  # authentication, permission and throttle

    assert response.status_code == 200
    reads = [q["sql"] for q in queries if 'FROM "billing_complimentarygrant"' in q["sql"]]
    assert len(reads) == 1


def test_a_plan_ended_between_two_requests_counts_in_the_second(client, user):
    grant = ComplimentaryGrantFactory(user=user)
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {api_token_rotate(user=user)}"
    assert client.get("/api/v1/searches/").status_code == 200
    grant.delete()

    assert client.get("/api/v1/searches/").status_code == 402
