"""Third-party texts our catalog translates: admin titles of an app that ships no Japanese
(django-celery-beat), and allauth's words for two-factor authentication,
which its Japanese calls 多要素認証 where our pages say 二段階認証. They are marked here so that
makemessages keeps their entries in our catalog, which Django reads before the apps' own
(LOCALE_PATHS); tests/stocksite/test_admin_index.py checks the admin in Japanese."""

from django.utils.translation import gettext_noop

THIRD_PARTY_ADMIN_TITLES = (
    gettext_noop("Periodic Tasks"),
    gettext_noop("periodic task"),
    gettext_noop("periodic tasks"),
    gettext_noop("clocked"),
    gettext_noop("crontab"),
    gettext_noop("crontabs"),
    gettext_noop("interval"),
    gettext_noop("intervals"),
    gettext_noop("solar event"),
    gettext_noop("solar events"),
)

TWO_FACTOR_WORDS = (
    gettext_noop("MFA"),
    gettext_noop("Two-Factor Authentication"),
    gettext_noop("You cannot deactivate two-factor authentication."),
)
