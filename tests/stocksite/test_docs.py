"""docs/configuration.md, .env.example and the settings name the same environment variables.

The configuration table is what an operator reads, .env.example what they copy, settings.py what
the site reads: a variable missing from one of them is a setting nobody can find or set.
"""

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VARIABLE = r"[A-Z][A-Z0-9_]*"


def _configuration_table_names() -> set[str]:
    """The variables in the first column of every table of docs/configuration.md."""
    names = set()
    for line in (REPO / "docs" / "configuration.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        first_cell = line.split("|")[1]
        names |= set(re.findall(rf"`({VARIABLE})`", first_cell))
    return names


def _env_example_names() -> set[str]:
    """The variables .env.example sets, or shows commented out (`# NAME=value`)."""
    text = (REPO / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(rf"(?m)^#?\s*({VARIABLE})=", text))


def _settings_names() -> set[str]:
    """The variables stocksite/settings.py reads through django-environ: env("X"), env.bool("X")…"""
    tree = ast.parse((REPO / "stocksite" / "settings.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        function = node.func
        reads_env = (isinstance(function, ast.Name) and function.id == "env") or (
            isinstance(function, ast.Attribute)
            and isinstance(function.value, ast.Name)
            and function.value.id == "env"
        )
        first = node.args[0]
        if reads_env and isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
    return names


def _missing(names: set[str], *, from_: str) -> str:
    return f"missing from {from_}: {', '.join(sorted(names))}"


def test_the_readers_find_variables():
    assert {"DEBUG", "DATABASE_URL", "REDIS_URL"} <= _configuration_table_names()
    assert {"DEBUG", "DATABASE_URL", "REDIS_URL"} <= _env_example_names()
    assert {"DEBUG", "DATABASE_URL", "REDIS_URL"} <= _settings_names()


def test_every_variable_the_settings_read_is_in_the_configuration_table():
    missing = _settings_names() - _configuration_table_names()
    assert not missing, _missing(missing, from_="docs/configuration.md")


def test_every_variable_the_settings_read_is_in_env_example():
    missing = _settings_names() - _env_example_names()
    assert not missing, _missing(missing, from_=".env.example")


def test_every_variable_of_env_example_is_in_the_configuration_table():
    missing = _env_example_names() - _configuration_table_names()
    assert not missing, _missing(missing, from_="docs/configuration.md")


def test_every_variable_of_the_configuration_table_is_in_env_example():
    missing = _configuration_table_names() - _env_example_names()
    assert not missing, _missing(missing, from_=".env.example")
