"""The Japanese catalogs are complete: a fresh makemessages finds nothing untranslated or fuzzy."""

import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

# What a fresh clone does not have: built assets, installs, local data.
NOT_IN_A_CLONE = (".git", ".venv", "venv", "node_modules", "vendor", "staticfiles", "var")
NOT_IN_A_CLONE_FILES = (
    "*.mo",
    "*.pyc",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    "test-output",
)


@pytest.fixture(scope="module")
def fresh_catalogs(tmp_path_factory):
    if shutil.which("msgfmt") is None:
        pytest.fail("gettext is required (apt-get install gettext)")
    copy = tmp_path_factory.mktemp("clone") / "stocksite"
    shutil.copytree(
        REPO_ROOT,
        copy,
        symlinks=True,
        ignore=shutil.ignore_patterns(*NOT_IN_A_CLONE, *NOT_IN_A_CLONE_FILES),
    )
    for domain in ("django", "djangojs"):
        subprocess.run(
            [sys.executable, "manage.py", "makemessages", "-l", "ja", "-d", domain],
            cwd=copy,
            check=True,
            capture_output=True,
        )
    return copy / "locale" / "ja" / "LC_MESSAGES"


def _statistics(po_path) -> str:
    run = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po_path)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    return run.stderr


def _open_entries(po_path) -> list[str]:
    """The msgids of untranslated or fuzzy entries, for a readable failure."""
    text = po_path.read_text(encoding="utf-8")
    found = []
    for block in text.split("\n\n")[1:]:
        if block.lstrip().startswith("#~"):
            continue
        msgid = re.search(r'^msgid "(.*)"', block, re.M)
        empty = re.search(r'^msgstr(\[0\])? ""\n?(?!")', block + "\n", re.M)
        if msgid and ("#, fuzzy" in block or "fuzzy," in block or empty):
            found.append(msgid.group(1) or block.split("\n")[-3:][0])
    return found


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_message_is_translated_into_japanese(fresh_catalogs, domain):
    po_path = fresh_catalogs / f"{domain}.po"

    statistics = _statistics(po_path)

    assert "untranslated" not in statistics and "fuzzy" not in statistics, (
        f"{domain}.po: {statistics.strip()}; add the Japanese for: {_open_entries(po_path)}"
    )
    assert re.match(r"\d+ translated message", statistics)


def test_the_catalog_is_not_empty(fresh_catalogs):
    statistics = _statistics(fresh_catalogs / "django.po")

    assert int(statistics.split()[0]) > 400
