import datetime as dt

import numpy as np
import pytest

from market.bars import Bar
from market.models import Stock
from market.services.daily_bars import daily_bars_upsert

FIRST_DAY = dt.date(2026, 1, 5)
DAYS = 80
# 1001 is quiet and jumps on the new day; 1002 already spiked the day before; the rest wander.
CODES = ("1001", "1002", "1003", "1004")
SEGMENT = "プライム（内国株式）"


def trading_days(count: int) -> list[dt.date]:
    days, day = [], FIRST_DAY
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def spike_pattern(m: int = 20) -> list[float]:
    """Quiet, then one jump at the end: the shape 1001 takes on the new day."""
    return [100 + 0.3 * np.sin(i) for i in range(m - 1)] + [150.0]


def closes_of(code: str, count: int) -> np.ndarray:
    rng = np.random.default_rng(int(code))
    if code == "1001":
        return 100 + rng.normal(0, 0.3, count)
    if code == "1002":
        closes = 100 + rng.normal(0, 0.3, count)
        closes[DAYS - 2] = 150  # its spike is one day old on the new day
        return closes
    return 100 * np.exp(np.cumsum(rng.normal(0, 0.02, count)))


class SyntheticMarket:
    """Four stocks in the database and a snapshot of them; `new_day()` adds the next close."""

    def __init__(self, stocks: dict[str, Stock] | None = None):
        self.days = trading_days(DAYS)
        self.stocks = stocks or {
            code: Stock.objects.create(code=code, name=f"銘柄{code}", segment=SEGMENT)
            for code in CODES
        }

    def load(self, count: int):
        """The first `count` days in the database and a snapshot built from them."""
        from similarity.snapshot import snapshot_build

        self.load_bars(count)
        return snapshot_build()

    def load_bars(self, count: int) -> None:
        for code, stock in self.stocks.items():
            closes = closes_of(code, DAYS)
            if code == "1001":
                closes[DAYS - 1] = 150
            bars = [
                Bar(date=day, open=c, high=c, low=c, close=c, volume=10_000, adj_close=c)
                for day, c in zip(self.days[:count], closes[:count], strict=True)
            ]
            daily_bars_upsert(stock=stock, bars=bars)

    @property
    def previous_day(self) -> dt.date:
        return self.days[DAYS - 2]

    @property
    def new_day(self) -> dt.date:
        return self.days[DAYS - 1]


@pytest.fixture(scope="session")
def synthetic_market_template(django_db_setup, django_db_blocker, tmp_path_factory):
    """The market up to the day before the new one and its snapshot, built once per session."""
    from tests.conftest import market_template_build

    def load():
        market = SyntheticMarket()
        market.load_bars(DAYS - 1)
        return market.stocks

    return market_template_build(
        load,
        django_db_blocker=django_db_blocker,
        root=tmp_path_factory.mktemp("synthetic_market") / "snapshot",
    )


@pytest.fixture
def synthetic_market(db, settings, tmp_path, synthetic_market_template):
    """The market up to the day before the new one, with its snapshot built: each test has the
    rows in its own transaction and its own copy of the snapshot (synthetic_market_template)."""
    settings.SIMILARITY_SNAPSHOT_DIR = tmp_path / "snapshot"
    return SyntheticMarket(synthetic_market_template.restore(settings.SIMILARITY_SNAPSHOT_DIR))


@pytest.fixture
def pro_user(user):
    """`user` on the Pro plan, granted by staff for a month."""
    from django.utils import timezone

    from billing.models import ComplimentaryGrant, Plan

    now = timezone.now()
    ComplimentaryGrant.objects.create(
        user=user,
        plan=Plan.objects.get(slug="pro"),
        starts_at=now - dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=30),
    )
    return user


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(email="other@example.com", password="x-Pass-12!")


@pytest.fixture
def line(settings):
    """A local server in the shape of LINE's Messaging API, and the settings that point at it."""
    from tests.alerts.line_server import ACCESS_TOKEN, CHANNEL_SECRET, FakeLine
    from tests.http_server import LocalHTTPServer

    server = LocalHTTPServer(threaded=True)
    server.start()
    fake = FakeLine(server)
    settings.LINE_API_BASE = fake.base_url
    settings.LINE_CHANNEL_SECRET = CHANNEL_SECRET
    settings.LINE_CHANNEL_ACCESS_TOKEN = ACCESS_TOKEN
    settings.LINE_ADD_FRIEND_URL = "https://lin.ee/stocksite-test"
    settings.LINE_TIMEOUT_SECONDS = 2
    settings.SITE_URL = "https://stocksite.test"
    yield fake
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def post_webhook(client):
    """POST events to /line/webhook/ as LINE does: the raw body signed with the channel secret."""
    from tests.alerts.line_server import signature, webhook_body

    def post(*events, body: bytes | None = None, signed: str | None = None):
        raw = webhook_body(*events) if body is None else body
        headers = {} if signed == "" else {"HTTP_X_LINE_SIGNATURE": signed or signature(raw)}
        return client.generic(
            "POST", "/line/webhook/", raw, content_type="application/json", **headers
        )

    return post


@pytest.fixture
def line_linked(pro_user):
    """`pro_user` with a LINE account linked and the LINE channel on."""
    from alerts.models import AlertChannelPreference, LineLink

    LineLink.objects.create(user=pro_user, line_user_id="U" + "a" * 32)
    AlertChannelPreference.objects.create(user=pro_user, line_enabled=True)
    return pro_user
