import pytest


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "japanese", "english"),
    [
        ("/legal/terms/", "利用規約", "Terms of service"),
        ("/legal/privacy/", "プライバシーポリシー", "Privacy policy"),
        ("/legal/commerce/", "特定商取引法に基づく表記", "Specified Commercial Transactions"),
    ],
)
def test_legal_pages_are_written_in_both_languages(client, path, japanese, english):
    ja = client.get(path).content.decode()
    en = client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert f"<h1>{japanese}" in ja
    assert english in en and japanese not in en.split("<main", 1)[1].split("</main>", 1)[0]


@pytest.mark.django_db
def test_the_commerce_notice_is_filled_from_settings(client, settings):
    settings.LEGAL_SELLER = "株式会社テスト"
    settings.LEGAL_ADDRESS = "東京都中央区日本橋兜町1-1"
    settings.LEGAL_PHONE = "03-0000-0000"
    settings.LEGAL_CANCELLATION = "いつでも解約できます。"

    page = client.get("/legal/commerce/").content.decode()

    for value in (
        "株式会社テスト",
        "東京都中央区日本橋兜町1-1",
        "03-0000-0000",
        "いつでも解約できます。",
    ):
        assert value in page
    assert "¥2,980（税込）" in page  # the price row comes from the plans


@pytest.mark.django_db
def test_an_empty_address_is_disclosed_on_request(client, settings):
    settings.LEGAL_ADDRESS = ""

    page = client.get("/legal/commerce/").content.decode()

    assert "ご請求があれば遅滞なく開示します" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("ja", "アカウントはご自身でいつでも削除できます"),
        ("en", "You can delete your account yourself at any time"),
    ],
)
def test_the_privacy_policy_says_deletion_is_self_service_and_what_it_removes(
    client, language, text
):
    body = client.get("/legal/privacy/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert text in body
    assert ("形状アラート" if language == "ja" else "shape alerts") in body
    assert "下記までご連絡ください" not in body and "Write to us below to delete" not in body
