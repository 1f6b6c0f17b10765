"""The plan read in one query (PostgreSQL) gives what the two querysets give."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing import entitlements
from billing.entitlements import entitlements_for
from billing.models import Subscription
from tests.factories import ComplimentaryGrantFactory, PlanFactory, UserFactory


def _both(user, monkeypatch):
    one_query = entitlements_for(user=user)
    with monkeypatch.context() as patch:
        patch.setattr(entitlements, "connection", SimpleNamespace(vendor="other"))
        querysets = entitlements_for(user=user)
    return one_query, querysets


def _sub(make_subscription, user, number, **fields):
    return make_subscription(user, stripe_subscription_id=f"sub_{user.pk}_{number}", **fields)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one query is PostgreSQL's")
def test_every_kind_of_plan_held_reads_the_same_in_one_query(make_subscription, monkeypatch):
    now = timezone.now()
    gold = PlanFactory(slug="gold", rank=9, api_access=True)
    low = PlanFactory(slug="low", rank=2)
    users = [UserFactory() for _ in range(9)]
    # 0: nothing. 1: active. 2: past due in grace. 3: past due beyond it. 4: canceled and an
    # ended period. 5: a grant over a subscription of a lower rank. 6: a subscription and a
    # grant of the same plan (the subscription shows). 7: an expired and a future grant, and a
    # trialing subscription with no period end. 8: two grants, the later ending shown.
    _sub(make_subscription, users[1], 1)
    _sub(make_subscription, users[2], 1, status="past_due", past_due_since=now - timedelta(days=2))
    _sub(make_subscription, users[3], 1, status="past_due", past_due_since=now - timedelta(days=9))
    _sub(make_subscription, users[4], 1, status="canceled")
    ended = _sub(make_subscription, users[4], 2)
    Subscription.objects.filter(pk=ended.pk).update(current_period_end=now - timedelta(days=3))
    _sub(make_subscription, users[5], 1, plan=low, cancel_at_period_end=True)
    ComplimentaryGrantFactory(user=users[5], plan=gold)
    _sub(make_subscription, users[6], 1)
    ComplimentaryGrantFactory(user=users[6])
    ComplimentaryGrantFactory(
        user=users[7], starts_at=now - timedelta(days=9), ends_at=now - timedelta(days=1)
    )
    ComplimentaryGrantFactory(user=users[7], plan=gold, starts_at=now + timedelta(days=1))
    trial = _sub(make_subscription, users[7], 1, plan=low, status="trialing")
    Subscription.objects.filter(pk=trial.pk).update(current_period_end=None)
    ComplimentaryGrantFactory(user=users[8], ends_at=now + timedelta(days=5))
    ComplimentaryGrantFactory(user=users[8], ends_at=now + timedelta(days=50))

    read = {index: _both(user, monkeypatch) for index, user in enumerate(users)}

    for index, (one_query, querysets) in read.items():
        assert one_query == querysets, index
    sources = [(read[i][0].plan_slug, read[i][0].source, read[i][0].status) for i in range(9)]
    assert sources == [
        ("free", "free", ""),
        ("pro", "subscription", "active"),
        ("pro", "subscription", "past_due"),
        ("free", "free", ""),
        ("free", "free", ""),
        ("gold", "complimentary", ""),
        ("pro", "subscription", "active"),
        ("low", "subscription", "trialing"),
        ("pro", "complimentary", ""),
    ]
    assert read[8][0].period_end > now + timedelta(days=49)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one query is PostgreSQL's")
def test_the_plan_is_read_in_one_query(make_subscription):
    user = UserFactory()
    _sub(make_subscription, user, 1)
    ComplimentaryGrantFactory(user=user)

    with CaptureQueriesContext(connection) as queries:
        entitlements_for(user=user)

    assert len(queries) == 1
