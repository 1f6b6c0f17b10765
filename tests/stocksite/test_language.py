"""Japanese first, English on request: Accept-Language, the footer switch, a user's saved choice."""

import json
import re

import pytest


def _lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


@pytest.mark.django_db
def test_a_page_is_japanese_by_default(client):
    response = client.get("/")

    assert _lang(response) == "ja"
    assert response["Content-Language"] == "ja"
    assert "類似チャート" in response.content.decode()


@pytest.mark.django_db
def test_a_page_is_english_when_the_browser_asks_for_it(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    assert _lang(response) == "en"
    assert "every chart that looked like this one" in response.content.decode()


@pytest.mark.django_db
def test_a_japanese_browser_gets_japanese(client):
    response = client.get("/pricing/", HTTP_ACCEPT_LANGUAGE="ja,en-US;q=0.7")

    assert _lang(response) == "ja"
    assert "料金プラン" in response.content.decode()


@pytest.mark.django_db
def test_the_footer_switch_works_without_javascript(client):
    page = client.get("/stocks/").content.decode()
    assert 'action="/i18n/setlang/"' in page and 'name="language" value="en"' in page

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/stocks/"})

    assert response.status_code == 302 and response["Location"] == "/stocks/"
    assert _lang(client.get("/stocks/", HTTP_ACCEPT_LANGUAGE="ja")) == "en"


@pytest.mark.django_db
def test_a_signed_in_users_choice_is_saved_and_follows_them(client, user):
    client.force_login(user)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    user.refresh_from_db()
    assert user.language == "en"

    client.cookies.clear()
    client.force_login(user)  # another browser: no cookie, a Japanese Accept-Language

    assert _lang(client.get("/account/", HTTP_ACCEPT_LANGUAGE="ja")) == "en"


@pytest.mark.django_db
def test_an_unknown_language_is_ignored(client, user):
    client.force_login(user)

    client.post("/i18n/setlang/", {"language": "xx", "next": "/"})

    user.refresh_from_db()
    assert user.language == ""
    assert _lang(client.get("/")) == "ja"


@pytest.mark.django_db
def test_an_api_error_follows_accept_language(client, user):
    client.force_login(user)

    ja = client.get("/api/v1/stocks/0000/", HTTP_ACCEPT_LANGUAGE="ja").json()
    en = client.get("/api/v1/stocks/0000/", HTTP_ACCEPT_LANGUAGE="en").json()

    assert ja["error"]["code"] == en["error"]["code"] == "not_found"
    assert "0000" in ja["error"]["message"] and "銘柄" in ja["error"]["message"]
    assert en["error"]["message"] == "No stock with code 0000."


def _japanese_share(html: str) -> float:
    """Japanese letters among the letters a person reads (scripts and drawings left out)."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    for node in tree.css("script, style, svg"):
        node.decompose()
    text = tree.body.text(separator=" ")
    japanese = len(re.findall(r"[\u3040-\u30ff\u3400-\u9fff]", text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return japanese / (japanese + latin)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/", "/pricing/", "/search/", "/stocks/", "/accounts/login/", "/accounts/signup/"]
)
def test_pages_read_mostly_japanese_and_english_pages_hardly_any(client, path):
    japanese = client.get(path, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    english = client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert _japanese_share(japanese) > 0.5
    assert _japanese_share(english) < 0.2


@pytest.mark.django_db
def test_the_script_catalog_is_cached_per_language(client):
    japanese = client.get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    english = client.get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    japanese_again = client.get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()

    trading_days = json.dumps("営業日")[1:-1]  # the catalog is JSON with escaped letters
    assert trading_days in japanese and japanese_again == japanese
    assert trading_days not in english
