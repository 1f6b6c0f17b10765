from django.conf import settings


def site(request):
    return {
        "site_name": "stocksite",
        "site_debug": settings.DEBUG,
        "candle_colors": settings.CANDLE_COLORS,
    }
