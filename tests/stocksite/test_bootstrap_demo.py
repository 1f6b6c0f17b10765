import pytest
from django.core.management import call_command

from billing.entitlements import entitlements_for
from market.models import DailyBar, Stock

pytestmark = pytest.mark.django_db


def test_bootstrap_demo_sets_up_accounts_and_market_once(django_user_model, capsys):
    call_command("bootstrap_demo", "--url", "http://127.0.0.1:8123")
    stocks, bars = Stock.objects.count(), DailyBar.objects.count()

    call_command("bootstrap_demo")

    free = django_user_model.objects.get(email="demo@stocksite.local")
    pro = django_user_model.objects.get(email="pro@stocksite.local")
    assert free.check_password("demo-trader-2026")
    assert entitlements_for(user=free).is_paid is False
    assert entitlements_for(user=pro).is_paid is True
    assert pro.complimentary_grants.count() == 1
    assert Stock.objects.filter(code="7203").exists()
    assert (Stock.objects.count(), DailyBar.objects.count()) == (stocks, bars)
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8123" in out and "pro@stocksite.local" in out
    staff = django_user_model.objects.get(email="staff@stocksite.local")
    assert staff.is_staff and staff.is_superuser and staff.check_password("demo-trader-2026")
    assert "staff@stocksite.local" in out and "http://127.0.0.1:8123/admin/" in out
    assert Stock.objects.get(code="7974").name_en == "Nintendo Co., Ltd."
