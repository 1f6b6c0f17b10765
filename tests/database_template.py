"""One migrated test database for pytest-xdist's workers to copy.

Each worker has a test database of its own (test_<name>_gwN). Built by the migrations, that is
some 6.5 s of CPU per worker, at the moment the engine's kernels compile on the same two cores.
On PostgreSQL the controller instead migrates one template (test_<name>_template) in a process
of its own as the workers start; each worker creates its database as a copy of it (CREATE
DATABASE ... TEMPLATE), and the migrate Django runs after that finds nothing left to do. The
template is built afresh on every run and dropped at its end.
"""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# Set by the controller for its workers: the template's name, and the file written when the
# process building it ends (with its exit status).
NAME_VARIABLE = "STOCKSITE_TEST_DATABASE_TEMPLATE"
READY_VARIABLE = "STOCKSITE_TEST_DATABASE_TEMPLATE_READY"


def template_name(database_url: str) -> str | None:
    """The template's name for a PostgreSQL DATABASE_URL, else None (SQLite: no template)."""
    parts = urlsplit(database_url)
    if parts.scheme not in ("postgres", "postgresql") or not parts.path.strip("/"):
        return None
    return f"test_{parts.path.strip('/')}_template"


def _maintenance_connect(database_url: str):
    import psycopg

    parts = urlsplit(database_url.replace("postgres://", "postgresql://", 1))
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


def template_drop(database_url: str, name: str) -> None:
    with _maintenance_connect(database_url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def template_start(database_url: str, ready: Path) -> subprocess.Popen | None:
    """Start building the template; the processes started after this call (the workers) find
    its name and ``ready`` in their environment. None when the database is not PostgreSQL."""
    name = template_name(database_url)
    if name is None:
        return None
    os.environ[NAME_VARIABLE] = name
    os.environ[READY_VARIABLE] = str(ready)
    return subprocess.Popen(
        [sys.executable, "-m", "tests.database_template", database_url, name, str(ready)],
        cwd=Path(__file__).resolve().parent.parent,
    )


def template_wait(timeout: float = 300.0) -> str | None:
    """The template's name once it is built; None when there is none, or it failed (the worker
    then migrates its own database, as it would without one)."""
    name = os.environ.get(NAME_VARIABLE)
    ready = os.environ.get(READY_VARIABLE)
    if not name or not ready:
        return None
    deadline = time.monotonic() + timeout
    while not Path(ready).exists():
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)
    return name if Path(ready).read_text().strip() == "0" else None


def _build(database_url: str, name: str) -> int:
    template_drop(database_url, name)
    with _maintenance_connect(database_url) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlunsplit(urlsplit(database_url)._replace(path=f"/{name}"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "stocksite.settings_test"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    return 0


if __name__ == "__main__":
    status = 1
    try:
        status = _build(*sys.argv[1:3])
    finally:
        Path(sys.argv[3]).write_text(str(status))
