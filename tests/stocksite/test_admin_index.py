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
