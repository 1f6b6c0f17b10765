import pytest


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/signup/", "/accounts/login/"])
def test_public_pages_render(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert b"stocksite" in response.content


@pytest.mark.django_db
def test_landing_page_says_what_the_product_does(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")

    assert "every chart that looked like this one" in response.content.decode()


@pytest.mark.django_db
def test_navigation_changes_for_a_signed_in_user(client, user):
    anonymous = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.force_login(user)
    signed_in = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Sign in" in anonymous and "Account" not in anonymous
    assert "Sign out" in signed_in and "Sign in" not in signed_in


@pytest.mark.django_db
def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


@pytest.mark.django_db
def test_api_docs_and_schema_are_served_with_local_assets(client):
    docs = client.get("/api/v1/docs/")
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn." not in html and "unpkg" not in html
    assert schema.status_code == 200
    assert "/api/v1/me/" in schema.json()["paths"]


def test_deploy_check_rejects_the_development_secret_key():
    import os
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update({"DEBUG": "0", "ALLOWED_HOSTS": "stocksite.example.com"})
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "stocksite.E001" in result.stdout + result.stderr


@pytest.mark.django_db
def test_scripts_get_their_translations_from_the_catalog(client):
    page = client.get("/")
    catalog = client.get("/jsi18n/")

    assert '<script src="/jsi18n/" defer></script>' in page.content.decode()
    assert catalog.status_code == 200
    assert catalog["Content-Type"].startswith("text/javascript")
    body = catalog.content.decode()
    for name in ("gettext", "ngettext", "interpolate"):
        assert f"django.{name} = function" in body
