"""docker-compose.yml and the Dockerfile (issue 11, finding 18): no default database password,
the web port on loopback only, forwarded headers never trusted from everyone."""

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())


def _env_example_names() -> set[str]:
    lines = (REPO / ".env.example").read_text().splitlines()
    return {line.lstrip("# ").split("=", 1)[0] for line in lines if "=" in line}


def test_the_database_password_has_no_default_and_is_documented():
    text = (REPO / "docker-compose.yml").read_text()

    assert "POSTGRES_PASSWORD:-" not in text
    assert "${POSTGRES_PASSWORD:?" in COMPOSE["services"]["db"]["environment"]["POSTGRES_PASSWORD"]
    assert "POSTGRES_PASSWORD" in _env_example_names()


def test_the_web_port_is_published_on_loopback_only():
    for service in COMPOSE["services"].values():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), port


def test_forwarded_headers_are_never_trusted_from_everyone():
    for path in ("docker-compose.yml", "Dockerfile", "gunicorn.conf.py"):
        text = (REPO / path).read_text()
        assert "forwarded-allow-ips '*'" not in text
        assert '"--forwarded-allow-ips", "*"' not in text
        assert 'forwarded_allow_ips = "*"' not in text


def test_gunicorn_trusts_forwarded_headers_only_with_a_declared_proxy(monkeypatch):
    import runpy

    monkeypatch.delenv("TRUSTED_PROXY_COUNT", raising=False)
    assert runpy.run_path(str(REPO / "gunicorn.conf.py"))["forwarded_allow_ips"] == ""

    monkeypatch.setenv("TRUSTED_PROXY_COUNT", "1")
    assert runpy.run_path(str(REPO / "gunicorn.conf.py"))["forwarded_allow_ips"] == "127.0.0.1,::1"


def test_compose_installs_the_beat_schedule_before_anything_starts():
    setup = COMPOSE["services"]["setup"]

    assert setup["command"].index("migrate") < setup["command"].index("install_schedule")
    assert setup["restart"] == "no"
    for name in ("web", "worker", "beat"):
        condition = COMPOSE["services"][name]["depends_on"]["setup"]["condition"]
        assert condition == "service_completed_successfully"


def test_make_run_installs_the_beat_schedule():
    makefile = (REPO / "Makefile").read_text()
    run_recipe = makefile.split("\nrun: install", 1)[1].split("\n\n", 1)[0]

    assert "manage.py install_schedule" in run_recipe
