"""The admin's titles from third-party apps that ship no Japanese (django-celery-beat, allauth's
MFA models). They are marked here so that makemessages keeps their entries in our catalog, which
Django reads before the apps' own (LOCALE_PATHS); tests/stocksite/test_admin_index.py checks that
the admin shows them in Japanese."""

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
    gettext_noop("authenticator"),
    gettext_noop("authenticators"),
)
