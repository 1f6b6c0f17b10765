"""One definition per term (similarity/results/glossary.py), the same text everywhere a result is
read: on the results page one tap from the term, in the CSV export's note, in the API schema's
field descriptions and in docs/api.md, in English and in Japanese."""

import csv
import io
import re
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.html import escape

from accounts.services import api_token_rotate
from similarity.results.glossary import TERMS, glossary
from similarity.services import search_run

pytestmark = pytest.mark.django_db

NINTENDO_2015 = {"source": "stock", "code": "7974", "from": "2015-01-05", "to": "2015-04-30"}
# The schema field each term describes: (component, property).
SCHEMA_FIELDS = {
    "similarity": ("Match", "correlation"),
    "match": ("HorizonStats", "matches"),
    "episode": ("Match", "episode"),
    "base_rate": ("HorizonStats", "baseline"),
    "versus_market": ("HorizonStats", "excess"),
    "interval": ("HorizonStats", "interval"),
    "forecast": ("HorizonStats", "forecast"),
    "verdict": ("HorizonStats", "verdict"),
    "hit_rate": ("CalibrationCell", "hit"),
}
LANGUAGES = ["en", "ja"]


def definitions(language: str) -> dict[str, tuple[str, str]]:
    with translation.override(language):
        return {term["key"]: (term["term"], term["definition"]) for term in glossary()}


def test_every_term_is_tied_to_a_schema_field():
    assert set(SCHEMA_FIELDS) == set(TERMS)


@pytest.fixture
def saved(search_market, pro_user):
    return search_run(user=pro_user, spec=NINTENDO_2015, options={"k": 10})


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_page_gives_each_definition_beside_its_term(saved, pro_user, client, language):
    client.force_login(pro_user)

    page = client.get(f"/search/results/{saved.pk}/", HTTP_ACCEPT_LANGUAGE=language)

    body = page.content.decode()
    for term, definition in definitions(language).values():
        assert (
            f"<summary>{escape(term)}</summary>"
            f'<span class="term-definition" role="note">{escape(definition)}</span>'
        ) in body


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_csv_note_gives_each_term_and_its_definition(saved, pro_user, client, language):
    client.force_login(pro_user)

    response = client.get(f"/search/results/{saved.pk}/export.csv", HTTP_ACCEPT_LANGUAGE=language)

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    note = [row for row in rows if row[0].startswith("#")]
    assert note == [
        [f"# {term}", definition] for term, definition in definitions(language).values()
    ]
    assert rows[len(note)][0] == "rank"  # the header follows the note


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_schema_describes_each_field_with_its_term_s_definition(
    search_market, pro_user, client, language
):
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {api_token_rotate(user=pro_user)}"

    schemas = client.get(
        "/api/v1/schema/",
        HTTP_ACCEPT="application/vnd.oai.openapi+json",
        HTTP_ACCEPT_LANGUAGE=language,
    ).json()["components"]["schemas"]

    for key, (_term, definition) in definitions(language).items():
        component, field = SCHEMA_FIELDS[key]
        description = schemas[component]["properties"][field]["description"]
        assert description.startswith(definition), (key, description)


def test_the_api_docs_list_each_term_with_its_definition():
    text = Path(__file__).resolve().parents[2].joinpath("docs", "api.md").read_text()
    terms = " ".join(text.split("## Terms", 1)[1].split("\n## ", 1)[0].split())
    japanese = definitions("ja")

    for key, (term, definition) in definitions("en").items():
        entry = f"- **{term}** ({japanese[key][0]}, `{key}`): {definition}"
        assert entry in terms, key
    section = text.split("## Terms", 1)[1].split("\n## ", 1)[0]
    assert len(re.findall(r"^- \*\*", section, re.M)) == len(TERMS)
