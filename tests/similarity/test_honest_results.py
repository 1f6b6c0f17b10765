"""A search's honest statistics end to end: base rate, market, episodes, delisted stocks, and
the track record graded after new bars arrive through the import path."""

import csv
import datetime as dt

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import translation

from market.models import IndexBar, MarketIndex, Stock
from similarity import selectors
from similarity.engine import base_rate
from similarity.models import SearchGrade
from similarity.services import search_run
from similarity.snapshot import snapshot_build, snapshot_current
from similarity.tasks import track_record_grade

from .conftest import STOCKS, _bars, csv_data_rows, market_load

NINTENDO_2015 = {"source": "stock", "code": "7974", "from": "2015-01-05", "to": "2015-04-30"}


@pytest.fixture(autouse=True)
def _fresh_benchmark(monkeypatch):
    monkeypatch.setattr(selectors, "_benchmark", {})


def test_baseline_is_the_base_rate_of_every_window_the_search_could_return(search_market, pro_user):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 20})

    snapshot = snapshot_current()
    m = saved.result["pattern"]["length"]
    exact = base_rate(
        snapshot.market, m, [5, 20, 60], exclude_period=(dt.date(2015, 1, 5), dt.date(2015, 4, 30))
    )
    for stat, expected in zip(saved.result["stats"], exact, strict=True):
        assert stat["baseline"]["count"] == expected.count > 5000
        for name in ("median", "q25", "q75"):
            assert abs(stat["baseline"][name] - getattr(expected, name)) <= 0.001
        assert stat["baseline"]["share_positive"] == pytest.approx(expected.share_positive)


def test_same_period_windows_of_every_stock_are_left_out(search_market, pro_user):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 50})

    for match in saved.result["matches"]:
        assert match["end_date"] < "2015-01-05" or match["start_date"] > "2015-04-30"


def test_excess_returns_against_the_equal_weighted_ordinary_shares_bought_and_held(
    search_market, pro_user
):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 5})

    assert saved.result["market_benchmark"] == "equal_weighted"
    market = snapshot_current().market
    match = saved.result["matches"][0]
    s = market.index_of(match["code"])
    dates, closes = market.series_dates(s), market.series_closes(s)
    end = int(np.searchsorted(dates, np.datetime64(match["end_date"])))
    # By hand: each ordinary share (not the ETF 1321) that had traded by the match's last day
    # and not yet stopped, bought then in equal amounts and held 20 of the match's closes.
    ratios = []
    for code, (_name, segment, _sector, _label) in STOCKS.items():
        if segment == "ETF・ETN":
            continue
        d, c = (
            market.series_dates(market.index_of(code)),
            market.series_closes(market.index_of(code)),
        )
        start = int(np.searchsorted(d, dates[end], side="right")) - 1
        if start < 0 or d[-1] < dates[end]:
            continue
        stop = int(np.searchsorted(d, dates[end + 20], side="right")) - 1
        ratios.append(c[stop] / c[start])
    expected = closes[end + 20] / closes[end] - 1 - (np.mean(ratios) - 1)
    assert match["excess_returns"]["20"] == pytest.approx(expected, abs=1e-6)


def test_excess_returns_against_topix_when_stored(search_market, pro_user):
    topix = MarketIndex.objects.create(code="TOPIX", name="TOPIX")
    market = snapshot_current().market
    days = np.unique(market.dates)
    IndexBar.objects.bulk_create(
        IndexBar(index=topix, date=day.item(), open=1, high=1, low=1, close=1000 + i)
        for i, day in enumerate(days)
    )
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 5})

    assert saved.result["market_benchmark"] == "TOPIX"
    assert {m["excess_benchmark"] for m in saved.result["matches"]} == {"TOPIX"}
    match = saved.result["matches"][0]
    dates = market.series_dates(market.index_of(match["code"]))
    end = int(np.searchsorted(dates, np.datetime64(match["end_date"])))
    first = int(np.searchsorted(days, dates[end]))
    last = int(np.searchsorted(days, dates[end + 5]))
    expected = match["returns"]["5"] - ((1000 + last) / (1000 + first) - 1)
    assert match["excess_returns"]["5"] == pytest.approx(expected, abs=1e-6)
    assert saved.result["stats"][0]["excess"]["count"] == saved.result["stats"][0]["count"]


def test_matches_before_the_stored_topix_are_measured_against_the_equal_weighted_market(
    search_market, pro_user
):
    # TOPIX stored from 2016 only (a J-Quants plan serves a few years): earlier matches are
    # measured against the equal-weighted market, never left without a market.
    topix = MarketIndex.objects.create(code="TOPIX", name="TOPIX")
    market = snapshot_current().market
    days = [day for day in np.unique(market.dates) if day >= np.datetime64("2016-01-04")]
    IndexBar.objects.bulk_create(
        IndexBar(index=topix, date=day.item(), open=1, high=1, low=1, close=1000 + i)
        for i, day in enumerate(days)
    )
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 30})

    matches = saved.result["matches"]
    sources = {match["excess_benchmark"] for match in matches}
    assert sources == {"TOPIX", "equal_weighted"}
    assert saved.result["market_benchmark"] == "mixed"
    for match in matches:
        early = match["end_date"] < "2016-01-04"
        assert match["excess_benchmark"] == ("equal_weighted" if early else "TOPIX")
        assert match["excess_returns"]["5"] is not None or match["returns"]["5"] is None


def test_delisted_stocks_are_searched_in_history_mode_only(search_market, pro_user):
    Stock.objects.filter(code="9984").update(is_listed=False)
    snapshot_build()
    pattern = {"source": "stock", "code": "9984", "from": "2016-01-04", "to": "2016-03-31"}

    history = search_run(user=pro_user, spec=pattern, options={"k": 50})
    latest = search_run(user=pro_user, spec=pattern, options={"k": 50, "mode": "latest"})

    assert "9984" in {m["code"] for m in history.result["matches"]}
    assert "9984" not in {m["code"] for m in latest.result["matches"]}
    assert len(latest.result["matches"]) == len(STOCKS) - 1


def test_few_matches_are_flagged_and_scenarios_are_named_apart(search_market, pro_user, client):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 5})

    assert "few_matches" in saved.result["warnings"]
    labels = [group["label"] for group in saved.result["groups"]]
    assert len(labels) == len(set(labels))
    # The page says the threshold the warning uses (result_stats.MIN_EPISODES), in both languages.
    client.force_login(pro_user)
    url = f"/search/results/{saved.pk}/"
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "fewer than 10 market episodes" in english
    assert "10未満の相場局面" in client.get(url).content.decode()


# --- Track record ---------------------------------------------------------------------------

CUT = dt.date(2018, 8, 31)


@pytest.fixture
def market_until_cut(db, settings, tmp_path, shared_data_dir, monkeypatch):
    """The test market with its bars up to CUT only, and a snapshot of it."""
    import tests.similarity.conftest as conftest

    settings.SIMILARITY_SNAPSHOT_DIR = tmp_path / "snapshot"
    full = conftest._bars
    monkeypatch.setattr(
        conftest, "_bars", lambda path: tuple(bar for bar in full(path) if bar.date <= CUT)
    )
    market_load(shared_data_dir)
    snapshot_build()
    return shared_data_dir


def test_a_search_of_the_latest_stretch_is_graded_after_new_bars_are_imported(
    market_until_cut, pro_user, tmp_path, client
):
    spec = {"source": "stock", "code": "7974", "from": "2018-06-01", "to": CUT.isoformat()}
    saved = search_run(user=pro_user, spec=spec, options={"k": 30})
    assert saved.tracks_outcome
    assert track_record_grade()["grades"] == 0  # nothing newer yet

    later = [bar for bar in _bars(market_until_cut / "jp_daily" / "7974.csv") if bar.date > CUT]
    path = tmp_path / "7974-new.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "date", "open", "high", "low", "close", "volume", "adj_close"])
        for bar in later:
            writer.writerow(
                [
                    "7974",
                    bar.date,
                    bar.open,
                    bar.high,
                    bar.low,
                    bar.close,
                    bar.volume,
                    bar.adj_close,
                ]
            )
    call_command("import_prices", str(path), verbosity=0)

    assert 20 < len(later) < 60
    assert track_record_grade()["grades"] == 2  # 5 and 20 days have passed; 60 not yet
    assert track_record_grade()["grades"] == 0  # graded once
    base = [bar for bar in _bars(market_until_cut / "jp_daily" / "7974.csv") if bar.date == CUT][0]
    grade = SearchGrade.objects.get(saved_search=saved, horizon=20)
    assert grade.outcome_date == later[19].date
    assert grade.realised_return == pytest.approx(later[19].adj_close / base.adj_close - 1)
    outcomes = [
        m["returns"]["20"] for m in saved.result["matches"] if m["returns"]["20"] is not None
    ]
    assert grade.percentile == pytest.approx(
        100 * np.mean(np.array(outcomes) <= grade.realised_return), abs=0.05
    )
    p10, p90 = np.percentile(outcomes, (10, 90))
    assert grade.inside_80 == (p10 <= grade.realised_return <= p90)

    client.force_login(pro_user)
    page = client.get("/account/track-record/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert 'id="track-record-summary"' in page.content.decode()
    result_page = client.get(f"/search/results/{saved.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Track record" in result_page.content.decode()
    api = client.get("/api/v1/track-record/")
    assert api.status_code == 200
    data = api.json()
    assert [row["horizon"] for row in data["summary"]] == [5, 20]
    assert data["searches"][0]["id"] == str(saved.pk)
    assert [g["horizon"] for g in data["searches"][0]["grades"]] == [5, 20]


def test_a_search_of_an_older_stretch_is_not_tracked(market_until_cut, pro_user):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 5})
    assert not saved.tracks_outcome


def test_result_page_opens_with_the_answer_and_shows_the_evidence(search_market, pro_user, client):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 30})
    client.force_login(pro_user)

    html = client.get(f"/search/results/{saved.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    last = saved.result["stats"][-1]
    assert html.count('data-testid="answer-horizon"') == len(saved.result["stats"])
    assert "After 60 trading days: similar shapes&#x27; median" in html
    assert 'data-testid="evidence-table"' in html
    # An interval bar where there are enough episodes to bootstrap, else the episodes' range.
    bootstrapped = [stat for stat in saved.result["stats"] if stat["interval"]["median"]]
    assert html.count('class="interval-bar"') == len(bootstrapped)
    assert html.count('data-testid="episode-range"') == 3 - len(bootstrapped)
    assert 'data-testid="fan-base-rate"' in html
    assert f'data-verdict="{last["verdict"]}"' in html
    assert ">Distance<" not in html
    # Similarity is a correlation, written one way: 0.92, never 92%.
    assert f"{saved.result['matches'][0]['correlation']:.2f}" in html
    assert f">{saved.result['matches'][0]['correlation'] * 100:.0f}%<" not in html
    # No advice, except the notice that says the results are none.
    advice_free = html.replace(
        "not a recommendation to buy or sell any security", "not a recommendation"
    )
    for word in ("buy", "sell", "Buy", "Sell"):
        assert f" {word} " not in advice_free

    # In Japanese, the sentence the issue asks for, and the verdict in words.
    ja = client.get(f"/search/results/{saved.pk}/").content.decode()
    answer = f"60営業日後：似た形の中央値 {last['median'] * 100:+.1f}%（全体 "
    assert answer in ja
    verdict = {
        "above": "市場の動きを差し引くとベースレートを上回る",
        "below": "市場の動きを差し引くとベースレートを下回る",
        "indistinguishable": "似た形の後は、市場全体と比べて有意な差はありませんでした",
        "insufficient": "判定するには局面が少なすぎる",
    }[last["verdict"]]
    assert verdict in ja
    assert "90%区間" in ja


def test_csv_carries_excess_returns_and_episodes(search_market, pro_user, client):
    saved = search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 10})
    client.force_login(pro_user)

    rows = csv_data_rows(
        list(
            csv.reader(
                client.get(f"/search/results/{saved.pk}/export.csv").content.decode().splitlines()
            )
        )
    )

    header = rows[0][:-1]  # the last column: the day a match's stock stopped trading
    assert header[-5:] == ["excess_5d", "excess_20d", "excess_60d", "excess_benchmark", "episode"]
    first = saved.result["matches"][0]
    assert float(rows[1][-5]) == pytest.approx(first["excess_returns"]["20"], abs=1e-6)
    assert rows[1][-3] == "equal_weighted" == first["excess_benchmark"]
    assert rows[1][-2] == str(first["episode"])


def test_a_result_reads_in_the_language_of_the_page_not_of_the_search(search_market, user, client):
    # A Free search run on a Japanese page: its plan limits, scenarios and label are stored as
    # keys and numbers, and an English page later says them in English (and back).
    prices = [float(v) for v in 1000 + 10 * np.sin(np.arange(40) / 4)]
    with translation.override("ja"):
        saved = search_run(
            user=user, spec={"source": "prices", "prices": prices}, options={"k": 30}
        )
    assert {limit["code"] for limit in saved.result["limits"]} >= {"k_capped"}
    assert saved.result["groups"]
    client.force_login(user)

    english = client.get(f"/search/results/{saved.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    japanese = client.get(f"/search/results/{saved.pk}/").content.decode()

    assert "Matches capped at 10 on the Free plan." in english
    assert "40 pasted prices" in english
    names = ("Rally", "Drift up", "Drift down", "Decline")
    for group in saved.result["groups"]:
        assert group["label"].rsplit(" ", 1)[0] in names or group["label"] in names
        assert f"<span>{group['label']}</span>" in english
        assert f"<span>{group['label']}</span>" not in japanese
    assert "プランでは類似チャートは10件までです。" in japanese
    assert "貼り付けた株価40個" in japanese
    assert "Matches capped" not in japanese and "40 pasted prices" not in japanese
