"""Content-Security-Policy (issue 11, finding 20): every script is a file of ours."""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def _directives(header: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {part[0]: part[1:] for part in parts}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/pricing/", "/accounts/login/", "/api/v1/docs/"])
def test_pages_allow_only_our_own_scripts(client, path):
    response = client.get(path)

    assert response.status_code == 200
    directives = _directives(response["Content-Security-Policy"])
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    inline = [
        attributes
        for attributes in SCRIPT_TAG.findall(response.content.decode())
        if "src=" not in attributes and "application/json" not in attributes
    ]
    assert inline == []


def test_no_template_has_an_inline_script():
    for template in (REPO / "templates").rglob("*.html"):
        for attributes in SCRIPT_TAG.findall(template.read_text()):
            assert "src=" in attributes or "application/json" in attributes, template
