"""The README says what `make run` does and where to look: every management command of its
recipe by name, the readable status page beside the machines' /healthz, in about 120 lines; and
docs/market-data.md says what the stock chart marks (splits) and what it does not yet (earnings)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_recipe_commands() -> list[str]:
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nrun: install", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"manage\.py (\w+)", recipe)


def test_the_readme_names_every_command_make_run_runs():
    readme = (ROOT / "README.md").read_text()
    commands = run_recipe_commands()

    assert {"bootstrap_demo", "calibrate", "demo_track_record"} <= set(commands)
    assert [name for name in commands if name not in readme and name != "runserver"] == []


def test_the_readme_tells_the_status_page_from_healthz_and_stays_short():
    readme = (ROOT / "README.md").read_text()

    assert "`/status/`" in readme and "`/healthz`" in readme
    assert len(readme.splitlines()) <= 130


def test_the_market_docs_say_earnings_are_not_stored_and_where_chart_marks_go():
    docs = (ROOT / "docs" / "market-data.md").read_text()
    script = (ROOT / "static" / "js" / "stock_chart.js").read_text()

    assert "Earnings are not stored yet" in docs
    assert "MARK_KINDS" in docs and "const MARK_KINDS = {" in script
