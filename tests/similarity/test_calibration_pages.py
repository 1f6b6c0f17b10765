"""manage.py calibrate, the public /calibration/ page and GET /api/v1/calibration/."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from similarity.models import CalibrationRun


@pytest.fixture
def calibrated(search_market):
    call_command("calibrate", "--samples", "9", "--lengths", "20,60", "--seed", "3")
    return CalibrationRun.objects.get()


def test_calibrate_stores_a_row_per_length_and_horizon(calibrated):
    assert calibrated.samples == 9
    assert (calibrated.lengths, calibrated.horizons, calibrated.seed) == ([20, 60], [5, 20, 60], 3)
    keys = [(row["length"], row["horizon"]) for row in calibrated.table]
    assert keys == [(20, 5), (20, 20), (20, 60), (60, 5), (60, 20), (60, 60)]
    for row in calibrated.table:
        assert row["count"] <= 5  # lengths in turn: 5 of 20 closes, 4 of 60
        if row["count"]:
            assert 0 <= row["inside_50"] <= row["inside_80"] <= 1


@pytest.mark.parametrize("args", [["--lengths", "20,x"], ["--lengths", "3"], ["--samples", "0"]])
def test_calibrate_refuses_bad_arguments(db, args):
    with pytest.raises(CommandError):
        call_command("calibrate", *args)


def test_calibration_page_shows_the_table_date_and_sample_size(client, calibrated):
    response = client.get("/calibration/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="calibration-table"' in body
    assert "from 9 random patterns" in body
    assert calibrated.created_at.strftime("%Y-%m-%d") in body
    assert "<svg" in body


def test_calibration_page_before_the_first_run(client, db):
    response = client.get("/calibration/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "has not been computed yet" in response.content.decode()


def test_calibration_api_is_public(client, calibrated):
    response = client.get("/api/v1/calibration/")
    assert response.status_code == 200
    data = response.json()
    assert data["samples"] == 9
    assert set(data["table"][0]) == {
        "length",
        "horizon",
        "count",
        "inside_80",
        "inside_50",
        "sign_hit",
        "base_sign_hit",
        "verdicts",
        "verdict_hit",
    }


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
