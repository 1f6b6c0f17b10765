"""Production settings: checked in fresh processes, with only the environment an operator sets."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GOOD_KEY = "k3y-" + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _env_example(name: str) -> str:
    for line in (REPO / ".env.example").read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1]
    raise AssertionError(f"{name} is not in .env.example")


def _run(args: list[str], **environment: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "stocksite.settings",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "sqlite:///:memory:"),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "stocksite.example.com",
        **environment,
    }
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def _start_web(**environment: str) -> subprocess.CompletedProcess:
    return _run(["-c", "import stocksite.wsgi"], **environment)


# What a web process started with the documented production settings reads, a line each: its
# secure defaults and its password hasher. One process for the tests of that environment
# (each start imports the whole project and warms the search up: some 2.5 s of CPU).
PRODUCTION_PROBE = (
    "import stocksite.wsgi; "
    "from django.conf import settings as s; "
    "from django.contrib.auth.hashers import get_hasher; "
    "print('secure', s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, "
    "s.CSRF_COOKIE_SECURE, s.REST_FRAMEWORK['NUM_PROXIES'], s.ALLAUTH_TRUSTED_PROXY_COUNT); "
    "hasher = get_hasher(); print('hasher', hasher.algorithm, hasher.iterations)"
)


@pytest.fixture(scope="module")
def production_web_process() -> subprocess.CompletedProcess:
    return _run(["-c", PRODUCTION_PROBE], SECRET_KEY=GOOD_KEY, EMAIL_HOST="smtp.example.com")


def _probed(process: subprocess.CompletedProcess, what: str) -> list[str]:
    """The values of the probe's line ``what``."""
    for line in process.stdout.splitlines():
        if line.startswith(f"{what} "):
            return line.split()[1:]
    raise AssertionError(f"no {what} line in {process.stdout!r}; stderr: {process.stderr[-2000:]}")


def test_the_web_process_starts_with_a_real_key_and_a_mail_server(production_web_process):
    assert production_web_process.returncode == 0, production_web_process.stderr


@pytest.mark.parametrize(
    "secret_key",
    [None, "", _env_example("SECRET_KEY"), "django-insecure-stocksite-development-key"],
    ids=["unset", "empty", "env-example-placeholder", "development-default"],
)
def test_the_web_process_refuses_to_start_without_a_real_secret_key(secret_key):
    environment = {"EMAIL_HOST": "smtp.example.com"}
    if secret_key is not None:
        environment["SECRET_KEY"] = secret_key

    result = _start_web(**environment)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_the_web_process_refuses_to_start_without_a_mail_server():
    result = _start_web(SECRET_KEY=GOOD_KEY)

    assert result.returncode != 0
    assert "No mail server" in result.stderr


def test_the_web_process_refuses_console_email_with_debug_off():
    result = _start_web(
        SECRET_KEY=GOOD_KEY, EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend"
    )

    assert result.returncode != 0
    assert "No mail server" in result.stderr


def test_debug_runs_on_a_laptop_without_production_settings():
    result = _start_web(DEBUG="1")

    assert result.returncode == 0, result.stderr


def test_check_deploy_is_clean_with_only_the_documented_production_settings():
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        SECRET_KEY=GOOD_KEY,
        EMAIL_HOST="smtp.example.com",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_secure_defaults_with_debug_off(production_web_process):
    secure_defaults = _probed(production_web_process, "secure")

    assert secure_defaults == ["True", "31536000", "True", "True", "0", "0"]


def test_the_proxy_count_is_one_setting_for_drf_and_allauth():
    result = _run(
        [
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.REST_FRAMEWORK['NUM_PROXIES'], s.ALLAUTH_TRUSTED_PROXY_COUNT, "
            "s.SECURE_PROXY_SSL_HEADER[0])",
        ],
        SECRET_KEY=GOOD_KEY,
        EMAIL_HOST="smtp.example.com",
        TRUSTED_PROXY_COUNT="1",
    )

    assert result.stdout.split() == ["1", "1", "HTTP_X_FORWARDED_PROTO"]


def test_the_celery_worker_refuses_to_start_without_production_settings():
    result = _run(
        ["-m", "celery", "-A", "stocksite", "worker", "--pool", "solo", "--loglevel", "WARNING"],
        REDIS_URL=os.environ.get("REDIS_URL", ""),
    )

    assert result.returncode != 0
    assert "refuses to start" in result.stderr + result.stdout


def test_production_hashes_passwords_with_pbkdf2_at_a_million_rounds(production_web_process):
    """The suite's fast hasher (stocksite/settings_test.py) stays out of production."""
    algorithm, iterations = _probed(production_web_process, "hasher")

    assert algorithm == "pbkdf2_sha256"
    assert int(iterations) >= 1_000_000
