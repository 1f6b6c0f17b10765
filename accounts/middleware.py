from django.conf import settings
from django.utils import translation
from django.utils.cache import add_never_cache_headers


class UserLanguageMiddleware:
    """Speak the language a signed-in user saved, unless this browser chose one with the switcher.

    Runs after LocaleMiddleware (which already read the switcher's cookie and Accept-Language) and
    after authentication; LocaleMiddleware's response step then sets Content-Language.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.language
            and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
        ):
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


class PersonalPagesNotStoredMiddleware:
    """Every page answered to a signed-in user shows their data (their email, searches, alerts,
    API token, second factor): no cache, shared or in the browser, keeps a copy. Pages that set
    their own Cache-Control (a static asset, a public page) keep it; pages that show personal
    data without a session (the unsubscribe page) say no-store themselves."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response
