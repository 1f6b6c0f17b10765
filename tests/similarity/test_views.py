import csv
import io
import uuid
from urllib.parse import parse_qs, urlparse

import pytest

from similarity.models import SavedSearch


@pytest.fixture
def client(client):
    """These tests read the pages' English: every request asks for it."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _result(*, mode="history", horizons=(5,), count=3) -> dict:
    pattern = [-1.2, -0.4, 0.1, 0.6, 0.9]
    matches = []
    for rank in range(1, count + 1):
        match = {
            "rank": rank,
            "code": f"{7200 + rank}",
            "name": f"Motor {rank}",
            "segment": "プライム",
            "sector": "輸送用機器",
            "start_date": f"2016-0{rank}-04",
            "end_date": f"2016-0{rank}-08",
            "length": 5,
            "correlation": 0.99 - rank / 100,
            "distance": 0.1 * rank,
            "returns": {str(h): (0.02 * (2 - rank) if rank != 3 else None) for h in horizons},
            "window": [-1.1, -0.5, 0.2, 0.5, 1.0],
            "after": [1.1, 1.3, 0.9] if mode == "history" else [],
            "last_close": 1000.0 + rank,
        }
        if mode == "latest":
            match |= {"latest_close": 2000.0 + rank, "latest_date": "2018-11-16"}
        matches.append(match)
    return {
        "mode": mode,
        "pattern": {
            "source": "prices",
            "length": 5,
            "values": [100, 101, 103, 104, 106],
            "normalized": pattern,
            "code": None,
            "name": None,
            "start_date": None,
            "end_date": None,
        },
        "horizons": list(horizons),
        "matches": matches,
        "stats": [
            {
                "horizon": h,
                "count": 2,
                "mean": 0.01,
                "median": 0.01,
                "q25": 0.0,
                "q75": 0.02,
                "share_positive": 0.5,
            }
            for h in horizons
        ]
        if mode == "history"
        else [],
        "fan": {
            "horizon": 5,
            "days": [0, 1, 2, 3, 4, 5],
            "count": 2,
            "bands": {
                "p10": [1, 0.97, 0.96, 0.95, 0.94, 0.93],
                "p25": [1, 0.99, 0.98, 0.98, 0.97, 0.97],
                "p50": [1, 1.0, 1.01, 1.01, 1.02, 1.02],
                "p75": [1, 1.01, 1.02, 1.03, 1.04, 1.05],
                "p90": [1, 1.03, 1.05, 1.06, 1.07, 1.09],
            },
        }
        if mode == "history"
        else None,
        "groups": [
            {
                "label": "Drift up",
                "share": 0.5,
                "count": 1,
                "median_path": [1, 1.01, 1.04],
                "median_return": 0.04,
                "ranks": [1],
            },
            {
                "label": "Decline",
                "share": 0.5,
                "count": 1,
                "median_path": [1, 0.98, 0.95],
                "median_return": -0.05,
                "ranks": [2],
            },
        ]
        if mode == "history"
        else [],
        "groups_horizon": 5 if mode == "history" else None,
        "limits": [{"code": "k_capped", "message": "Matches capped at 10 on the Free plan."}],
        "snapshot": {"id": "s1", "date": "2018-11-16"},
        "elapsed_ms": 41.5,
    }


@pytest.fixture
def saved_search(user):
    return SavedSearch.objects.create(
        user=user,
        source="prices",
        mode="history",
        label="5 pasted prices",
        spec={"source": "prices", "prices": [100, 101, 103, 104, 106]},
        pattern=[100, 101, 103, 104, 106],
        options={"mode": "history", "k": 10},
        result=_result(),
        match_count=3,
        elapsed_ms=41.5,
    )


@pytest.fixture
def latest_search(user):
    return SavedSearch.objects.create(
        user=user,
        source="prices",
        mode="latest",
        label="latest look-alikes",
        spec={"source": "prices", "prices": [100, 101, 103, 104, 106]},
        pattern=[100, 101, 103, 104, 106],
        options={"mode": "latest", "k": 10},
        result=_result(mode="latest"),
        match_count=3,
    )


def _make_pro(user):
    from datetime import timedelta

    from django.utils import timezone

    from billing.models import ComplimentaryGrant, Plan

    now = timezone.now()
    ComplimentaryGrant.objects.create(
        user=user,
        plan=Plan.objects.get(slug="pro"),
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=30),
    )


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

    response = client.get(f"/search/results/{saved_search.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="mini-chart"') == 3
    assert 'class="mini-after"' in html
    assert "7201" in html and "Motor 1" in html and "0.980" in html
    assert 'data-testid="horizon-stat"' in html and "+1.0%" in html
    assert 'data-testid="fan-chart"' in html and 'class="fan-outer"' in html
    assert html.count('data-testid="scenario-group"') == 2
    assert "Matches capped at 10 on the Free plan." in html
    assert 'href="/stocks/7201/?date_from=2016-01-04&amp;date_to=2016-01-08"' in html


@pytest.mark.django_db
def test_result_rows_carry_the_values_the_table_sorts_on(client, user, saved_search):
    client.force_login(user)

    html = client.get(f"/search/results/{saved_search.pk}/").content.decode()

    assert 'data-rank="1" data-code="7201"' in html
    assert 'data-r="0.980000"' in html and 'data-h5="0.02"' in html
    assert 'data-h5=""' in html  # the third match has no return yet


@pytest.mark.django_db
def test_latest_mode_lists_stocks_that_look_like_this_now_with_their_price(
    client, user, latest_search
):
    client.force_login(user)

    html = client.get(f"/search/results/{latest_search.pk}/").content.decode()

    assert "Stocks that look like this now" in html
    assert "2,001" in html and "2018-11-16" in html
    assert 'data-testid="fan-chart"' not in html


@pytest.mark.django_db
def test_someone_elses_result_is_a_404(client, django_user_model, saved_search):
    other = django_user_model.objects.create_user(email="other@example.com", password="x-Pass-12")
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
def test_pro_csv_export_lists_every_match_with_its_returns(client, user, saved_search, monkeypatch):
    _make_pro(user)
    client.force_login(user)

    response = client.get(f"/search/results/{saved_search.pk}/export.csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())  # Japanese Excel reads it as UTF-8
    assert 'filename="stocksite_prices_' in response["Content-Disposition"]
    assert response["Content-Disposition"].endswith('_history.csv"')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
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
    ]
    assert rows[1][:3] == ["1", "7201", "Motor 1"]
    assert rows[1][8:] == ["0.980000", "0.100000", "0.020000"]
    assert rows[3][10] == ""
    assert len(rows) == 4


@pytest.mark.django_db
def test_csv_export_of_someone_elses_search_is_a_404(client, django_user_model, saved_search):
    other = django_user_model.objects.create_user(email="other@example.com", password="x-Pass-12")
    client.force_login(other)

    assert client.get(f"/search/results/{saved_search.pk}/export.csv").status_code == 404


# --- History -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_account_page_lists_the_users_searches_with_a_run_again_button(client, user, saved_search):
    client.force_login(user)

    html = client.get("/account/").content.decode()

    assert 'data-testid="search-history"' in html
    assert "5 pasted prices" in html
    assert f'action="/search/results/{saved_search.pk}/rerun/"' in html


@pytest.mark.django_db
def test_history_page_lists_only_the_users_own_searches(
    client, user, django_user_model, saved_search
):
    other = django_user_model.objects.create_user(email="other@example.com", password="x-Pass-12")
    client.force_login(other)

    assert "5 pasted prices" not in client.get("/search/history/").content.decode()
    client.force_login(user)
    assert "5 pasted prices" in client.get("/search/history/").content.decode()


@pytest.mark.django_db
def test_rerun_needs_a_post(client, user, saved_search):
    client.force_login(user)

    assert client.get(f"/search/results/{saved_search.pk}/rerun/").status_code == 405


@pytest.mark.django_db
def test_rerun_of_someone_elses_search_is_a_404(client, django_user_model, saved_search):
    other = django_user_model.objects.create_user(email="other@example.com", password="x-Pass-12")
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
