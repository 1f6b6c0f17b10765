"""The site as a phone app (issue 23, point 6): the web app manifest, the service worker and the
offline page, as the server gives them. tests/browser/test_watchlist.py checks them in Chromium."""

import json
import re
import struct

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def _png_size(path: str) -> tuple[int, int]:
    with open(path, "rb") as handle:
        head = handle.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_the_manifest_is_json_with_the_fields_an_install_needs(client):
    response = client.get("/manifest.webmanifest")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/manifest+json")
    manifest = json.loads(response.content)
    assert manifest["name"] == "stocksite：似ているチャート検索"
    assert manifest["short_name"] == "stocksite"
    assert manifest["lang"] == "ja"
    assert manifest["start_url"] == "/"
    assert manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes


def test_the_manifest_icons_are_pngs_of_their_sizes(client):
    manifest = json.loads(client.get("/manifest.webmanifest").content)

    for icon in manifest["icons"]:
        path = finders.find(icon["src"].removeprefix("/static/"))
        width, height = (int(n) for n in icon["sizes"].split("x"))
        assert _png_size(path) == (width, height)


def test_the_manifest_in_english(client):
    manifest = json.loads(client.get("/manifest.webmanifest", HTTP_ACCEPT_LANGUAGE="en").content)

    assert manifest["name"] == "stocksite: look-alike stock charts"
    assert manifest["lang"] == "en"


def test_every_page_links_the_manifest_and_the_theme_colour(client):
    text = client.get("/").content.decode()

    assert '<link rel="manifest" href="/manifest.webmanifest">' in text
    assert '<meta name="theme-color" content="#1d4ed8">' in text
    assert 'data-service-worker="/sw.js"' in text


def test_the_service_worker_is_served_at_the_root_and_revalidated(client):
    response = client.get("/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]


def test_the_service_worker_keeps_only_the_app_shell(client):
    text = client.get("/sw.js").content.decode()

    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", text).group(1))
    assert "/offline/" in shell
    assert "/static/css/site.css" in shell
    assert "/static/img/icon-192.png" in shell
    for path in shell:
        assert path == "/offline/" or path.startswith("/static/"), path
    # No page, price, result, API or account path is ever put in the cache.
    assert "cache.put" not in text
    assert re.search(r'const CACHE = "stocksite-shell-[0-9a-f]{12}";', text)


def test_the_offline_page_is_translated_and_holds_nothing_personal(client, user):
    client.force_login(user)

    response = client.get("/offline/")

    text = response.content.decode()
    assert response.status_code == 200
    assert "オフラインです" in text
    assert user.email not in text
    assert "csrfmiddlewaretoken" not in text
    english = client.get("/offline/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "You are offline" in english


def test_the_policy_allows_our_own_manifest_and_worker_only(client):
    header = client.get("/")["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}

    assert directives["manifest-src"] == ["'self'"]
    assert "'self'" in directives["worker-src"]
    assert directives["script-src"] == ["'self'"]
