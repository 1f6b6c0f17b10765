"""What production must have: a real SECRET_KEY and a mail server when DEBUG is off.

`check --deploy` reports the problems (stocksite.E001, stocksite.E002), and every server process
refuses to start with them (`refuse_insecure_production`, called by wsgi.py, asgi.py and the
Celery worker): neither compose nor the Dockerfile runs `check --deploy`.
"""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

# Django's own rule for a key that is not a placeholder (security.W009).
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5
CONSOLE_MAIL_BACKENDS = (
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
)


def _secret_key_is_weak(key: str) -> bool:
    return (
        key == settings.INSECURE_DEV_SECRET_KEY
        or key.startswith("django-insecure")
        or key.startswith("change-me")
        or len(key) < SECRET_KEY_MIN_LENGTH
        or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
    )


def production_errors() -> list[Error]:
    errors = []
    if _secret_key_is_weak(settings.SECRET_KEY):
        errors.append(
            Error(
                "SECRET_KEY is missing, the development default, the .env.example placeholder "
                f"or shorter than {SECRET_KEY_MIN_LENGTH} characters.",
                hint="Set SECRET_KEY in the environment to a long random value, e.g. "
                "python -c 'import secrets; print(secrets.token_urlsafe(50))'.",
                id="stocksite.E001",
            )
        )
    if settings.EMAIL_BACKEND in CONSOLE_MAIL_BACKENDS or (
        settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
        and not settings.EMAIL_HOST
    ):
        errors.append(
            Error(
                "No mail server: emails (password reset links) would be printed in the logs "
                "or lost.",
                hint="Set EMAIL_HOST (and EMAIL_HOST_USER, EMAIL_HOST_PASSWORD), or EMAIL_BACKEND "
                "to a real mail backend.",
                id="stocksite.E002",
            )
        )
    return errors


@register(Tags.security, deploy=True)
def production_settings(app_configs, **kwargs):
    return production_errors()


def refuse_insecure_production() -> None:
    """Raise at start-up when DEBUG is off and production settings are missing."""
    if settings.DEBUG:
        return
    errors = production_errors()
    if errors:
        raise ImproperlyConfigured(
            "stocksite refuses to start with DEBUG off: "
            + " ".join(f"{error.msg} {error.hint}" for error in errors)
        )
