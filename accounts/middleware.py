from django.conf import settings
from django.utils import translation


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
