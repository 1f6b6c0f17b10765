import csv
import io
import uuid
from urllib.parse import parse_qs, urlparse

import pytest

from similarity import services
from similarity.models import SavedSearch
from similarity.templatetags.similarity_pages import percent
from tests.factories import (
    TINY_MARKET,
    TINY_MARKET_DAYS,
    ComplimentaryGrantFactory,
    SavedSearchFactory,
    UserFactory,
    walk_closes,
)

from .conftest import csv_data_rows

TAIL_OF_7203 = walk_closes(seed=TINY_MARKET["7203"][3], days=TINY_MARKET_DAYS)[-30:]


@pytest.fixture
def client(client):
    """These tests read the pages' English: every request asks for it."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


LIMIT_MESSAGE = "Matches capped at 10 on the Free plan."


@pytest.fixture
def saved_search(user):
    """A history search whose best match is the tiny market's own last window (no returns yet)."""
    return SavedSearchFactory(
        user=user, prices=TAIL_OF_7203, limits=[("k_capped", LIMIT_MESSAGE)], k=4
    )


@pytest.fixture
def latest_search(user):
    return SavedSearchFactory(user=user, mode="latest", prices=TAIL_OF_7203)


# --- The search form -----------------------------------------------------------------------


@pytest.mark.django_db
def test_search_page_offers_the_three_pattern_sources_with_labels(client):
    response = client.get("/search/")

    html = response.content.decode()
    assert response.status_code == 200
    for text in ("A stock and a date range", "Pasted prices", "A sketch", 'id="sketch-canvas"'):
        assert text in html
    assert 'for="id_prices"' in html and 'for="id_k"' in html
    assert "csrfmiddlewaretoken" in html


@pytest.mark.django_db
def test_search_page_is_prefilled_from_a_stock_page_link(client):
    response = client.get(
        "/search/", {"code": "7974", "date_from": "2018-01-04", "date_to": "2018-03-30"}
    )

    form = response.context["form"]
    assert form["code"].value() == "7974"
    assert form["source"].value() == "stock"
    assert 'value="2018-01-04"' in response.content.decode()


@pytest.mark.django_db
def test_an_anonymous_search_is_sent_to_sign_in(client):
    response = client.post("/search/", {"source": "prices", "prices": "1 2 3 4 5"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/search/")


@pytest.mark.django_db
def test_after_signing_in_the_search_form_comes_back_filled_in(client, user):
    response = client.post(
        "/search/",
        {"source": "stock", "code": "7974", "date_from": "2018-06-01", "date_to": "2018-08-31"},
    )
    next_url = parse_qs(urlparse(response["Location"]).query)["next"][0]
    client.force_login(user)

    form = client.get(next_url).context["form"]

    assert (form["code"].value(), form["date_from"].value()) == ("7974", "2018-06-01")
    assert form["source"].value() == "stock"


BASE_OPTIONS = {"mode": "history", "k": "10", "horizons": ["5", "20"]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"source": "prices", "prices": "1, 2, abc, 4, 5"}, "prices", "“abc”, is not a number"),
        ({"source": "prices", "prices": "1 2 nan 4 5"}, "prices", "not a finite number"),
        ({"source": "prices", "prices": "1 2 inf 4 5"}, "prices", "not a finite number"),
        ({"source": "prices", "prices": "1 2 3"}, "prices", "at least 5 are needed"),
        (
            {"source": "prices", "prices": " ".join(["1", "2"] * 251)},
            "prices",
            "at most 500 are allowed",
        ),
        ({"source": "prices", "prices": "5 5 5 5 5 5"}, "prices", "all the same"),
        ({"source": "prices", "prices": ""}, "prices", "at least 5 are needed"),
        (
            {"source": "stock", "code": "", "date_from": "2018-01-04", "date_to": "2018-02-01"},
            "code",
            "Give a stock code",
        ),
        (
            {"source": "stock", "code": "7974", "date_from": "2018-03-01", "date_to": "2018-02-01"},
            "date_from",
            "is after its last day",
        ),
        (
            {"source": "stock", "code": "7974", "date_from": "not a date", "date_to": "2018-02-01"},
            "date_from",
            "valid date",
        ),
        ({"source": "sketch", "sketch": "", "days": "60"}, "sketch", "draw the pattern first"),
        ({"source": "sketch", "sketch": '[[0, 1], ["x"]]', "days": "60"}, "sketch", "draw again"),
        ({"source": "sketch", "sketch": "[" * 50000, "days": "60"}, "sketch", "draw again"),
        ({"source": "sketch", "sketch": "[[0, 0], [1, 1]]", "days": "4"}, "days", "greater than"),
        ({"source": "nonsense"}, "source", "Select a valid choice"),
        ({"source": "prices", "prices": "1 2 3 4 5", "k": "0"}, "k", "greater than"),
        ({"source": "prices", "prices": "1 2 3 4 5", "horizons": ["7"]}, "horizons", "valid"),
        (
            {
                "source": "prices",
                "prices": "1 2 3 4 5",
                "search_from": "2018-02-01",
                "search_to": "2018-01-01",
            },
            "search_from",
            "is after their last day",
        ),
    ],
)
def test_bad_search_input_re_renders_the_form_with_a_400_naming_the_field(
    client, user, data, field, message
):
    client.force_login(user)

    response = client.post("/search/", {**BASE_OPTIONS, **data})

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors
    assert message in " ".join(errors[field])
    html = response.content.decode()
    assert 'role="alert"' in html and f'href="#id_{field}"' in html


@pytest.mark.django_db
def test_pasted_prices_accept_commas_spaces_new_lines_and_full_width_digits(user):
    from similarity.forms import SearchForm

    form = SearchForm(
        {**BASE_OPTIONS, "source": "prices", "prices": "１５２０、1534,1529\n1551  1580;1572"},
        segments=[],
        sectors=[],
    )

    assert form.is_valid(), form.errors
    assert form.spec() == {
        "source": "prices",
        "prices": [1520.0, 1534.0, 1529.0, 1551.0, 1580.0, 1572.0],
    }


@pytest.mark.django_db
def test_the_form_builds_the_service_spec_and_options(user):
    from similarity.forms import SearchForm

    form = SearchForm(
        {
            "source": "stock",
            "code": "130a",
            "date_from": "2015-01-05",
            "date_to": "2015-04-30",
            "mode": "latest",
            "k": "25",
            "horizons": ["60", "5"],
            "segment": "プライム",
            "sector": "3650",
            "min_turnover": "150",
            "search_from": "2010-01-01",
            "stretch": "on",
            "same_period": "on",
        },
        segments=["プライム"],
        sectors=[("3650", "電気機器")],
    )

    assert form.is_valid(), form.errors
    assert form.spec() == {
        "source": "stock",
        "code": "130A",
        "from": "2015-01-05",
        "to": "2015-04-30",
    }
    assert form.options() == {
        "mode": "latest",
        "k": 25,
        "horizons": [5, 60],
        "segment": "プライム",
        "sector": "3650",
        "min_turnover": 150_000_000.0,
        "date_from": "2010-01-01",
        "date_to": None,
        "stretch": True,
        "same_period": True,
        "as_of": False,
        "interval": "day",
    }


@pytest.mark.django_db
def test_a_sketch_is_posted_as_points_with_its_days(user):
    from similarity.forms import SearchForm

    form = SearchForm(
        {
            **BASE_OPTIONS,
            "source": "sketch",
            "sketch": "[[0, 0.2], [0.5, 0.9], [1, 0.4]]",
            "days": "30",
        },
        segments=[],
        sectors=[],
    )

    assert form.is_valid(), form.errors
    assert form.spec() == {
        "source": "sketch",
        "points": [[0.0, 0.2], [0.5, 0.9], [1.0, 0.4]],
        "days": 30,
    }


# --- Results -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_result_page_shows_pattern_matches_statistics_fan_and_groups(client, user, saved_search):
    client.force_login(user)
    result = saved_search.result
    first, second = result["matches"][:2]

    response = client.get(f"/search/results/{saved_search.pk}/", HTTP_ACCEPT_LANGUAGE="en")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="mini-chart"') == len(result["matches"]) == 4
    assert 'class="mini-after"' in html
    assert f"{second['code']}</span> {second['name']}" in html
    assert f"{second['correlation']:.3f}" in html
    assert html.count('data-testid="horizon-stat"') == len(result["stats"])
    assert percent(result["stats"][0]["median"]) in html
    assert 'data-testid="fan-chart"' in html and 'class="fan-outer"' in html
    assert html.count('data-testid="scenario-group"') == len(result["groups"]) > 0
    assert LIMIT_MESSAGE in html
    assert (
        f'href="/stocks/{first["code"]}/?date_from={first["start_date"]}'
        f'&amp;date_to={first["end_date"]}"'
    ) in html


@pytest.mark.django_db
def test_result_rows_carry_the_values_the_table_sorts_on(client, user, saved_search):
    client.force_login(user)
    first, second = saved_search.result["matches"][:2]

    html = client.get(f"/search/results/{saved_search.pk}/").content.decode()

    assert f'data-rank="1" data-code="{first["code"]}"' in html
    assert f'data-r="{second["correlation"]:.6f}"' in html
    assert f'data-h5="{second["returns"]["5"]}"' in html
    assert first["returns"]["5"] is None and 'data-h5=""' in html  # the last window: no return yet


@pytest.mark.django_db
def test_latest_mode_lists_stocks_that_look_like_this_now_with_their_price(
    client, user, latest_search
):
    client.force_login(user)
    first = latest_search.result["matches"][0]

    html = client.get(
        f"/search/results/{latest_search.pk}/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    assert "Stocks that look like this now" in html
    assert f'data-latest="{first["latest_close"]}"' in html and first["latest_date"] in html
    assert 'data-testid="fan-chart"' not in html


@pytest.mark.django_db
def test_someone_elses_result_is_a_404(client, saved_search):
    other = UserFactory(email="other@example.com", password="x-Pass-12")
    client.force_login(other)

    assert client.get(f"/search/results/{saved_search.pk}/").status_code == 404
    assert client.get(f"/search/results/{uuid.uuid4()}/").status_code == 404


@pytest.mark.django_db
def test_result_page_needs_sign_in(client, saved_search):
    response = client.get(f"/search/results/{saved_search.pk}/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- CSV export ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_free_plan_csv_export_is_a_402_pointing_to_pricing(client, user, saved_search):
    client.force_login(user)

    response = client.get(f"/search/results/{saved_search.pk}/export.csv")

    assert response.status_code == 402
    assert 'href="/pricing/"' in response.content.decode()


@pytest.mark.django_db
def test_pro_csv_export_lists_every_match_with_its_returns(client, user, saved_search):
    ComplimentaryGrantFactory(user=user)
    client.force_login(user)

    response = client.get(f"/search/results/{saved_search.pk}/export.csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())  # Japanese Excel reads it as UTF-8
    assert 'filename="stocksite_prices_' in response["Content-Disposition"]
    assert response["Content-Disposition"].endswith('_history.csv"')
    rows = csv_data_rows(list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")))))
    assert rows[0] == [
        "rank",
        "code",
        "name",
        "segment",
        "sector",
        "start_date",
        "end_date",
        "length",
        "correlation",
        "distance",
        "return_5d",
        "return_20d",
        "excess_5d",
        "excess_20d",
        "excess_benchmark",
        "episode",
        "stopped trading (returns after it booked at its last close)",
    ]
    matches = saved_search.result["matches"]
    assert len(rows) == 1 + len(matches)
    for row, match in zip(rows[1:], matches, strict=True):
        assert row[:3] == [str(match["rank"]), match["code"], match["name"]]
        assert row[8:10] == [f"{match['correlation']:.6f}", f"{match['distance']:.6f}"]
        returns = [match["returns"][horizon] for horizon in ("5", "20")]
        assert row[10:12] == ["" if value is None else f"{value:.6f}" for value in returns]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "header"),
    [
        ("en", "stopped trading (returns after it booked at its last close)"),
        ("ja", "取引終了日（以降のリターンは最終終値で計上）"),
    ],
)
def test_csv_export_marks_a_match_whose_stock_stopped_trading(
    client, user, saved_search, language, header
):
    """A match booked at its last traded close carries that day in the last column, under a
    header in the reader's language; the others leave it empty."""
    matches = saved_search.result["matches"]
    assert len(matches) >= 2
    matches[1]["stopped_trading"] = "2018-11-16"
    matches[1]["booked"] = [20]
    saved_search.save(update_fields=["result"])
    ComplimentaryGrantFactory(user=user)
    client.force_login(user)

    response = client.get(
        f"/search/results/{saved_search.pk}/export.csv", HTTP_ACCEPT_LANGUAGE=language
    )

    rows = [
        row
        for row in csv.reader(io.StringIO(response.content.decode("utf-8-sig")))
        if not row[0].startswith("#")  # the terms' note above the header
    ]
    assert rows[0][-1] == header
    column = [row[-1] for row in rows[1:]]
    assert column[1] == "2018-11-16"
    assert column[0] == "" and all(cell == "" for cell in column[2:])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "cell"),
    [
        (
            "name",
            '=HYPERLINK("http://evil.example","x")',
            '\'=HYPERLINK("http://evil.example","x")',
        ),
        ("name", "+81 3 1234", "'+81 3 1234"),
        ("segment", "-1+1", "'-1+1"),
        ("sector", "@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("name", "\tcmd", "'\tcmd"),
        ("name", "\r=1", "'\r=1"),
        ("code", "7203", "7203"),
        ("name", "トヨタ=自動車", "トヨタ=自動車"),
    ],
)
def test_csv_export_neutralises_cells_a_spreadsheet_would_run(
    client, user, saved_search, field, value, cell
):
    saved_search.result["matches"][0][field] = value
    saved_search.save(update_fields=["result"])
    ComplimentaryGrantFactory(user=user)
    client.force_login(user)

    rows = csv_data_rows(
        list(
            csv.reader(
                io.StringIO(
                    client.get(f"/search/results/{saved_search.pk}/export.csv").content.decode()
                )
            )
        )
    )

    assert rows[1][rows[0].index(field)] == cell


@pytest.mark.django_db
def test_csv_export_of_someone_elses_search_is_a_404(client, saved_search):
    other = UserFactory(email="other@example.com", password="x-Pass-12")
    client.force_login(other)

    assert client.get(f"/search/results/{saved_search.pk}/export.csv").status_code == 404


# --- History -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_account_page_lists_the_users_searches_with_a_run_again_button(client, user, saved_search):
    client.force_login(user)

    html = client.get("/account/").content.decode()

    assert 'data-testid="search-history"' in html
    assert "30 pasted prices" in html
    assert f'action="/search/results/{saved_search.pk}/rerun/"' in html


@pytest.mark.django_db
def test_history_page_lists_only_the_users_own_searches(client, user, saved_search):
    other = UserFactory(email="other@example.com", password="x-Pass-12")
    client.force_login(other)

    assert "30 pasted prices" not in client.get("/search/history/").content.decode()
    client.force_login(user)
    assert "30 pasted prices" in client.get("/search/history/").content.decode()


@pytest.mark.django_db
def test_rerun_needs_a_post(client, user, saved_search):
    client.force_login(user)

    assert client.get(f"/search/results/{saved_search.pk}/rerun/").status_code == 405


@pytest.mark.django_db
def test_rerun_of_someone_elses_search_is_a_404(client, saved_search):
    other = UserFactory(email="other@example.com", password="x-Pass-12")
    client.force_login(other)

    assert client.post(f"/search/results/{saved_search.pk}/rerun/").status_code == 404


@pytest.mark.django_db
def test_the_stock_pages_short_form_takes_default_options(user):
    from similarity.forms import SearchForm

    form = SearchForm(
        {"source": "stock", "code": "7974", "date_from": "2018-01-04", "date_to": "2018-03-30"},
        segments=[],
        sectors=[],
    )

    assert form.is_valid(), form.errors
    options = form.options()
    assert (options["mode"], options["k"], options["horizons"]) == ("history", 10, [5, 20, 60])
    assert options["same_period"] is False


# --- Searching through the page, on a real small market --------------------------------------

PRICES = "100 102 101 104 108 107 111 115 113 118 121 119 124 128 126"


def test_a_valid_search_is_saved_and_redirects_to_its_permalink(client, user, search_market):
    client.force_login(user)

    response = client.post("/search/", {**BASE_OPTIONS, "source": "prices", "prices": PRICES})

    saved = SavedSearch.objects.get(user=user)
    assert response.status_code == 302
    assert response["Location"] == f"/search/results/{saved.pk}/"
    assert saved.spec == {"source": "prices", "prices": [float(p) for p in PRICES.split()]}
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert page.content.decode().count('class="mini-chart"') == saved.match_count > 0


def test_the_stock_pages_form_searches_the_chosen_days(client, user, search_market):
    client.force_login(user)

    response = client.post(
        "/search/",
        {"source": "stock", "code": "7974", "date_from": "2018-06-01", "date_to": "2018-08-31"},
    )

    assert response.status_code == 302
    saved = SavedSearch.objects.get(user=user)
    assert saved.spec == {
        "source": "stock",
        "code": "7974",
        "from": "2018-06-01",
        "to": "2018-08-31",
    }
    assert saved.result["pattern"]["code"] == "7974"


def test_the_code_field_takes_a_name_that_one_stock_has(client, user, search_market):
    client.force_login(user)

    response = client.post(
        "/search/",
        {"source": "stock", "code": "とよた", "date_from": "2018-06-01", "date_to": "2018-08-31"},
    )

    assert response.status_code == 302
    assert SavedSearch.objects.get(user=user).spec["code"] == "7203"


def test_a_name_several_stocks_share_asks_for_the_code(client, user, search_market):
    client.force_login(user)

    response = client.post(
        "/search/",
        {"source": "stock", "code": "グループ", "date_from": "2018-06-01", "date_to": "2018-08-31"},
    )

    assert response.status_code == 400
    message = response.context["form"].errors["code"][0]
    assert "6758 Sony Group" in message or "6758 ソニーグループ" in message
    assert "choose one by its code" in message


def test_an_unknown_code_re_renders_the_form_with_a_404_on_the_code(client, user, search_market):
    client.force_login(user)

    response = client.post(
        "/search/",
        {"source": "stock", "code": "9999", "date_from": "2018-06-01", "date_to": "2018-08-31"},
    )

    assert response.status_code == 404
    assert response.context["form"].errors["code"] == ["No stock with code 9999."]


def test_a_range_of_too_few_trading_days_is_a_400_on_the_dates(client, user, search_market):
    client.force_login(user)

    response = client.post(
        "/search/",
        {"source": "stock", "code": "7974", "date_from": "2018-06-01", "date_to": "2018-06-05"},
    )

    assert response.status_code == 400
    assert (
        "choose a range of 5 to 500 trading days" in response.context["form"].errors["date_to"][0]
    )


def test_when_todays_searches_are_used_up_the_form_says_so_with_a_429(client, user, search_market):
    client.force_login(user)
    data = {**BASE_OPTIONS, "source": "prices", "prices": PRICES}
    for _ in range(10):
        assert client.post("/search/", data).status_code == 302

    response = client.post("/search/", data)

    assert response.status_code == 429
    assert "/pricing/" in " ".join(response.context["form"].non_field_errors())


def test_run_again_makes_a_new_search_and_redirects_to_it(client, user, search_market):
    client.force_login(user)
    client.post("/search/", {**BASE_OPTIONS, "source": "prices", "prices": PRICES})
    first = SavedSearch.objects.get(user=user)

    response = client.post(f"/search/results/{first.pk}/rerun/")

    again = SavedSearch.objects.exclude(pk=first.pk).get()
    assert again.rerun_of_id == first.pk
    assert response.status_code == 302
    assert response["Location"] == f"/search/results/{again.pk}/"


@pytest.mark.django_db
def test_the_search_page_states_the_free_plans_limits(client, user):
    client.force_login(user)

    html = client.get("/search/").content.decode()

    assert "Free shows 10 matches, searches the last 3 years" in html
    assert "10 of 10 searches left today" in html


# --- Same period (context) -----------------------------------------------------------------

NINTENDO_2015 = {"source": "stock", "code": "7974", "from": "2015-01-05", "to": "2015-04-30"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "label"),
    [
        ("en", "Also show other stocks over the same period (context, not counted)"),
        ("ja", "同じ期間の他銘柄の動きも参考表示（統計には含めません）"),
    ],
)
def test_the_search_page_offers_the_same_period_option_in_history_mode(client, language, label):
    html = client.get("/search/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert label in html
    assert 'name="same_period"' in html and 'aria-describedby="id_same_period_helptext"' in html
    assert 'class="field inline-check history-only' in html


def test_the_form_asks_for_the_same_period_and_the_result_remembers_it(
    client, pro_user, search_market
):
    client.force_login(pro_user)
    form = {"source": "stock", "code": "7974", "date_from": "2015-01-05", "date_to": "2015-04-30"}

    response = client.post("/search/", {**form, "k": "5", "same_period": "on"})

    saved = SavedSearch.objects.get(user=pro_user)
    assert response.status_code == 302
    assert saved.options["same_period"] is True
    assert len(saved.result["same_period"]) == 5


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        (
            "en",
            (
                "Same period (context)",
                "they show how other stocks moved with the market at that time",
                "not counted in the statistics above",
                "They are listed apart below, for context.",
            ),
        ),
        (
            "ja",
            (
                "同じ期間の動き（参考）",
                "その時期の相場全体と連動した他銘柄の動き",
                "上の統計には含めていません",
                "それらの区間は下に参考として別に表示しています。",
            ),
        ),
    ],
)
def test_the_result_page_lists_the_same_period_apart_from_the_matches(
    client, pro_user, search_market, language, texts
):
    saved = services.search_run(
        user=pro_user, spec=NINTENDO_2015, options={"k": 5, "same_period": True}
    )
    client.force_login(pro_user)

    html = client.get(
        f"/search/results/{saved.pk}/", HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()

    for text in texts:
        assert text in html
    section = html[html.index('data-testid="same-period"') :]
    context = saved.result["same_period"]
    assert section.count('data-testid="same-period-row"') == len(context) == 5
    assert html.count("data-rank=") == len(saved.result["matches"])  # the sortable matches only
    for item in context:
        assert f'<span class="mono">{item["code"]}</span>' in section
        assert f"{item['correlation']:.2f}" in section
        assert percent(item["returns"]["20"]) in section


def test_a_recent_patterns_same_period_shows_a_dash_for_returns_not_known_yet(
    client, pro_user, search_market
):
    days = search_market["7974"].bars.order_by("-date").values_list("date", flat=True)[:30]
    spec = {**NINTENDO_2015, "from": days[29].isoformat(), "to": days[0].isoformat()}
    saved = services.search_run(user=pro_user, spec=spec, options={"same_period": True})
    client.force_login(pro_user)

    html = client.get(f"/search/results/{saved.pk}/").content.decode()

    section = html[html.index('data-testid="same-period"') :]
    assert section.count('data-testid="same-period-row"') == len(saved.result["same_period"]) > 0
    assert "—</td>" in section


def test_the_same_period_section_is_there_only_when_asked_for(client, pro_user, search_market):
    plain = services.search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 5})
    prices = services.search_run(
        user=pro_user,
        spec={"source": "prices", "prices": [float(p) for p in PRICES.split()]},
        options={"same_period": True},
    )
    client.force_login(pro_user)

    plain_html = client.get(f"/search/results/{plain.pk}/").content.decode()
    prices_html = client.get(f"/search/results/{prices.pk}/").content.decode()

    assert 'data-testid="same-period"' not in plain_html
    assert 'data-testid="same-period"' in prices_html
    assert "Only a search of a stock's date range in history mode" in prices_html
    assert 'data-testid="same-period-row"' not in prices_html


def test_the_csv_marks_the_same_period_rows_apart_from_the_matches(client, pro_user, search_market):
    saved = services.search_run(
        user=pro_user, spec=NINTENDO_2015, options={"k": 4, "same_period": True}
    )
    saved.result["same_period"][0]["name"] = '=HYPERLINK("http://evil.example")'
    saved.save(update_fields=["result"])
    client.force_login(pro_user)

    response = client.get(f"/search/results/{saved.pk}/export.csv")

    rows = csv_data_rows(list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")))))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["list", "rank", "code"] and header[-2] == "episode"
    lists = [row[0] for row in body]
    assert lists == ["match"] * 4 + ["same_period"] * len(saved.result["same_period"])
    context = [row for row in body if row[0] == "same_period"]
    assert [row[1] for row in context] == [str(rank) for rank in range(1, len(context) + 1)]
    assert all(row[-2] == "" for row in context)  # no episode: not counted
    assert all(row[-2] != "" for row in body if row[0] == "match")
    assert context[0][header.index("name")] == '\'=HYPERLINK("http://evil.example")'


@pytest.mark.parametrize(
    ("language", "label"),
    [("ja", "7974 任天堂 2018/08/20〜2018/11/16"), ("en", "7974 任天堂 2018-08-20 → 2018-11-16")],
)
def test_a_stock_range_is_labelled_with_dates_in_the_pages_format(client, user, language, label):
    saved = SavedSearchFactory(user=user, prices=TAIL_OF_7203)
    saved.label = "7974 任天堂 2018-08-20 – 2018-11-16"
    saved.source = SavedSearch.Source.STOCK
    saved.spec = {"source": "stock", "code": "7974", "from": "2018-08-20", "to": "2018-11-16"}
    saved.save()
    client.force_login(user)

    html = client.get("/search/history/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert label in html


def test_a_range_past_the_data_says_where_the_prices_end(client, user, search_market):
    client.force_login(user)

    response = client.post(
        "/search/",
        {"source": "stock", "code": "7974", "date_from": "2026-01-05", "date_to": "2026-03-31"},
        HTTP_ACCEPT_LANGUAGE="ja",
    )

    assert response.status_code == 400
    [message] = response.context["form"].errors["date_from"]
    assert message.startswith("7974の株価データは") and "/" in message and "-" not in message
