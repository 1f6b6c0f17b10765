import re

import pytest

from tests.factories import staff_sign_in


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["ja", "en"])
def test_no_two_admin_sections_share_a_title(client, staff_user, language):
    staff_sign_in(client, staff_user)

    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    titles = re.findall(r'<a href="/admin/[^"]+/" class="section"[^>]*>([^<]+)</a>', page)
    assert len(titles) >= 6
    assert len(titles) == len(set(titles)), titles


@pytest.mark.django_db
def test_the_third_party_sections_of_the_admin_read_in_japanese(client, staff_user):
    staff_sign_in(client, staff_user)

    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()

    titles = re.findall(r'class="section"[^>]*>([^<]+)</a>', page)
    assert "定期実行タスク" in titles and "二段階認証" in titles
    for english in ("Periodic Tasks", "Clocked", "Crontabs", "Authenticators", "Solar events"):
        assert english not in page, english
