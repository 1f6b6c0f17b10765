"""Test data, built with factory_boy through the real models and services.

UserFactory()                             a user who signs in with PASSWORD
StockFactory(closes=[...])                a listed stock with daily bars (daily_bars_upsert)
PlanFactory(), ComplimentaryGrantFactory(user=..., plan=...)
SavedSearchFactory(user=..., mode="latest", k=5, limits=[...])
    a saved search whose result is built by similarity.results.builder.search_result_build from an
    engine search on a tiny market of random walks: its shape is the real one, always.
"""

import datetime as dt
import time

import factory
import numpy as np
from django.contrib.auth import get_user_model
from django.utils import timezone
from factory.django import DjangoModelFactory

from billing.models import ComplimentaryGrant, Plan
from market.bars import Bar
from market.models import Stock
from market.services.daily_bars import daily_bars_upsert
from similarity.engine import Market, search
from similarity.models import SavedSearch
from similarity.results.builder import ResolvedPattern, search_result_build
from similarity.selectors import Universe
from similarity.validation import search_options_clean

PASSWORD = "s3cret-Pass!"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()

    email = factory.Sequence(lambda n: f"trader{n}@example.com")
    password = PASSWORD

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.objects.create_user(*args, **kwargs)


def walk_closes(*, seed: int, days: int, start: float = 1000.0) -> list[float]:
    """A random walk of daily closes, the same for the same seed."""
    rng = np.random.default_rng(seed)
    return (start * np.exp(np.cumsum(rng.normal(0, 0.015, days)))).round(1).tolist()


def trading_days(*, last: dt.date, count: int) -> list[dt.date]:
    """`count` weekdays ending on `last` (holidays aside, the days a market trades)."""
    days, day = [], last
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= dt.timedelta(days=1)
    return days[::-1]


class StockFactory(DjangoModelFactory):
    """A listed stock; `closes=[...]` gives it daily bars ending on `closes__last_day`."""

    class Meta:
        model = Stock
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"{1300 + n % 8000:04d}")
    name = factory.Sequence(lambda n: f"銘柄{n}")
    segment = "プライム（内国株式）"
    sector33_code = "3650"
    sector33 = "電気機器"

    @factory.post_generation
    def closes(self, create: bool, extracted, last_day: dt.date = dt.date(2018, 11, 16), **_):
        if not create or not extracted:
            return
        days = trading_days(last=last_day, count=len(extracted))
        opens = [extracted[0], *extracted[:-1]]  # each day opens at the previous close
        bars = [
            Bar(
                date=day,
                open=open_,
                high=max(open_, close),
                low=min(open_, close),
                close=close,
                volume=100_000,
                adj_close=close,
            )
            for day, open_, close in zip(days, opens, extracted, strict=True)
        ]
        daily_bars_upsert(stock=self, bars=bars)


class PlanFactory(DjangoModelFactory):
    class Meta:
        model = Plan
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"plan-{n}")
    name = factory.LazyAttribute(lambda plan: plan.slug.title())
    rank = 5
    searches_per_day = 100
    max_matches = 50
    history_years = None
    all_horizons = True


class ComplimentaryGrantFactory(DjangoModelFactory):
    """A plan granted by staff, from yesterday for a month (the seeded Pro plan by default)."""

    class Meta:
        model = ComplimentaryGrant

    user = factory.SubFactory(UserFactory)
    plan = factory.LazyFunction(lambda: Plan.objects.get(slug="pro"))
    starts_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    ends_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=30))


# The tiny market of SavedSearchFactory: code -> (name, segment, sector, seed).
TINY_MARKET = {
    "7201": ("日産自動車", "プライム（内国株式）", "輸送用機器", 1),
    "7203": ("トヨタ自動車", "プライム（内国株式）", "輸送用機器", 2),
    "6758": ("ソニーグループ", "プライム（内国株式）", "電気機器", 3),
    "9984": ("ソフトバンクグループ", "プライム（内国株式）", "情報・通信業", 4),
    "1435": ("ロボットホーム", "スタンダード（内国株式）", "不動産業", 5),
}
TINY_MARKET_DAYS = 400
TINY_MARKET_LAST_DAY = dt.date(2018, 11, 16)


def tiny_market() -> tuple[Market, Universe]:
    codes = tuple(TINY_MARKET)
    dates = np.array(
        trading_days(last=TINY_MARKET_LAST_DAY, count=TINY_MARKET_DAYS), dtype="datetime64[D]"
    )
    series = [walk_closes(seed=TINY_MARKET[code][3], days=TINY_MARKET_DAYS) for code in codes]
    market = Market.from_series(series, codes, dates=[dates] * len(codes))
    universe = Universe(
        snapshot_id="factory",
        codes=codes,
        names=[TINY_MARKET[code][0] for code in codes],
        segments=np.array([TINY_MARKET[code][1] for code in codes], dtype=object),
        sector_codes=np.array(["" for _code in codes], dtype=object),
        sector_names=np.array([TINY_MARKET[code][2] for code in codes], dtype=object),
        twins=np.full(len(codes), -1, dtype=np.int64),
    )
    return market, universe


class SavedSearchFactory(DjangoModelFactory):
    """A saved search of pasted prices whose result comes from the real builder.

    `limits` takes (code, message) pairs, as the plan would have applied them.
    """

    class Meta:
        model = SavedSearch

    user = factory.SubFactory(UserFactory)
    mode = SavedSearch.Mode.HISTORY
    prices = factory.LazyFunction(lambda: walk_closes(seed=99, days=30))
    # What the search was asked, read by _create (not model fields as such).
    k = 3
    horizons = (5, 20)
    limits = ()
    label = None

    @classmethod
    def _create(cls, model_class, *, user, mode, prices, k, horizons, limits, label):
        started = time.perf_counter()
        options = search_options_clean(options={"mode": mode, "k": k, "horizons": list(horizons)})
        market, universe = tiny_market()
        pattern = ResolvedPattern(
            values=np.asarray(prices, dtype=np.float64),
            label=label or f"{len(prices)} pasted prices",
        )
        found = search(market, pattern.values, k=options["k"], mode=mode)
        result = search_result_build(
            market=market,
            universe=universe,
            snapshot_id="factory",
            snapshot_date=TINY_MARKET_LAST_DAY,
            pattern=pattern,
            source=SavedSearch.Source.PRICES,
            mode=mode,
            found=found,
            horizons=options["horizons"],
            # As searches saved before limits kept their numbers: the message as stored.
            limits=[{"code": code, "message": message} for code, message in limits],
            started=started,
        )
        return model_class.objects.create(
            user=user,
            source=SavedSearch.Source.PRICES,
            mode=mode,
            label=pattern.label,
            spec={"source": SavedSearch.Source.PRICES, "prices": list(prices)},
            pattern=list(prices),
            options=options,
            result=result,
            match_count=len(found),
            elapsed_ms=result["elapsed_ms"],
            snapshot_id="factory",
            snapshot_date=TINY_MARKET_LAST_DAY,
        )


def staff_sign_in(client, user) -> None:
    """Sign `user` in as if through the login form and its second-factor step: the session's
    own authentication record says it passed the second factor, as the admin requires."""
    client.force_login(user)
    session = client.session
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time(), "email": user.email},
        {"method": "mfa", "at": time.time(), "type": "totp"},
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
