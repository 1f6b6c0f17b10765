"""manage.py calibrate (the table and the forecast it learns), the public /calibration/ page in
both languages and GET /api/v1/calibration/."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from similarity.models import CalibrationRun, ForecastModel

CELL_KEYS = {
    "length",
    "horizon",
    "third",
    "count",
    "inside_80",
    "inside_80_interval",
    "inside_50",
    "inside_50_interval",
    "raw_inside_80",
    "raw_inside_80_interval",
    "raw_inside_50",
    "raw_inside_50_interval",
    "raw_ideal_80",
    "raw_ideal_50",
    "crps_skill",
    "crps_skill_interval",
    "crps_skill_count",
    "matches_crps_skill",
    "matches_crps_skill_interval",
    "matches_crps_skill_count",
    "brier_skill",
    "brier_skill_interval",
    "brier_skill_count",
    "fired",
    "verdicts",
    "hit",
    "hit_interval",
    "control_fired",
    "control_verdicts",
    "control_hit",
    "control_hit_interval",
    "control_gap_median",
    "booked",
}


@pytest.fixture
def calibrated(search_market):
    call_command("calibrate", "--samples", "12", "--lengths", "20,60", "--seed", "3")
    return CalibrationRun.objects.get()


def test_calibrate_stores_a_cell_per_length_horizon_and_third(calibrated):
    # 12 asked: 14 drawn (a tenth more for the burn-in), 7 per length, of which the earliest
    # tenth (rounded down: none) is only learned from; the run records the patterns scored
    assert calibrated.samples == 14
    assert (calibrated.lengths, calibrated.horizons, calibrated.seed) == ([20, 60], [5, 20, 60], 3)
    keys = {(c["length"], c["horizon"], c["third"]) for c in calibrated.table["cells"]}
    assert {(m, h, None) for m in (20, 60, None) for h in (5, 20, 60)} <= keys
    # per horizon x volatility third over every length too
    assert {h for m, h, t in keys if m is None and t is not None} == {5, 20, 60}
    for cell in calibrated.table["cells"]:
        assert cell["third"] in (None, 0, 1, 2)
        if cell["inside_80"] is not None:
            assert 0 <= cell["inside_50"] <= cell["inside_80"] <= 1
    assert [s["horizon"] for s in calibrated.table["horizons"]] == [5, 20, 60]
    assert not any(s["matches_beat_base"] for s in calibrated.table["horizons"])


def test_calibrate_learns_a_forecast_model_with_its_data_date(calibrated):
    model = ForecastModel.objects.get()

    assert model.calibration == calibrated
    assert model.snapshot_date == calibrated.snapshot_date is not None
    assert model.params["lengths"] == [20, 60] and model.params["horizons"] == [5, 20, 60]
    assert not calibrated.demo


@pytest.mark.parametrize("args", [["--lengths", "20,x"], ["--lengths", "3"], ["--samples", "0"]])
def test_calibrate_refuses_bad_arguments(db, args):
    with pytest.raises(CommandError):
        call_command("calibrate", *args)


def test_the_demo_calibration_is_marked_and_runs_only_once(search_market):
    call_command("calibrate", "--demo", "--samples", "6", "--lengths", "20", "--seed", "1")
    call_command("calibrate", "--demo", "--samples", "6", "--lengths", "20", "--seed", "2")

    run = CalibrationRun.objects.get()
    assert run.demo and run.samples == 7  # 6 scored asked: 7 drawn, none in the burn-in


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        (
            "en",
            [
                "from 14 random patterns",
                "the look-alikes do not beat the base rate",
                "Forecast: inside 10–90 (ideal 80%)",
                "date-only control",
            ],
        ),
        (
            "ja",
            [
                "無作為な14件のパターンから計算しました",
                "似たチャートはベースレートに勝っていません",
                "予測：10〜90に入った割合（理想80%）",
                "日付だけの対照",
            ],
        ),
    ],
)
def test_calibration_page_says_whether_the_look_alikes_beat_the_base_rate(
    client, calibrated, language, texts
):
    response = client.get("/calibration/", HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="calibration-table"' in body
    assert body.count('data-beat="no"') == 3
    for text in texts:
        assert text in body


def test_the_demo_run_is_marked_on_the_page(client, search_market):
    call_command("calibrate", "--demo", "--samples", "6", "--lengths", "20", "--seed", "1")

    body = client.get("/calibration/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'data-testid="calibration-demo"' in body


def test_calibration_page_before_the_first_run(client, db):
    response = client.get("/calibration/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "has not been computed yet" in response.content.decode()


def test_calibration_api_is_public_and_publishes_every_figure(client, calibrated):
    response = client.get("/api/v1/calibration/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    data = response.json()
    assert data["samples"] == 14 and data["demo"] is False
    assert data["forecast_version"] == ForecastModel.objects.get().pk
    assert set(data["table"]["cells"][0]) == CELL_KEYS
    summary = data["table"]["horizons"][0]
    assert summary["sentence"].startswith("At 5 trading days, the look-alikes")
    assert set(data["table"]["verdicts_any"]) == {"patterns", "fired", "control_fired"}


def test_calibration_api_before_the_first_run_is_a_404(client, db):
    response = client.get("/api/v1/calibration/")
    assert response.status_code == 404
    assert response.json()["error"]["code"]


def test_monthly_calibration_and_nightly_grading_are_scheduled(db):
    from django_celery_beat.models import PeriodicTask

    call_command("install_schedule", stdout=StringIO())

    tasks = dict(PeriodicTask.objects.values_list("task", "crontab__day_of_month"))
    assert tasks["similarity.tasks.calibration_compute"] == "1"
    assert tasks["similarity.tasks.track_record_grade"] == "*"
