"""The site as an app on a phone's home screen: the web app manifest, the service worker and the
page it shows offline.

The service worker keeps only the app shell (APP_SHELL: the stylesheet, our scripts, the icons
and the offline page) and answers a page that cannot be fetched with the offline page. It never
caches pages, prices, results, the API or account pages: it does not touch any request but a
shell asset's and a failed navigation's.
"""

import hashlib
import json

from django.http import HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

# The browser bar and the splash screen: the site's primary blue and page background (site.css).
THEME_COLOR = "#1d4ed8"
BACKGROUND_COLOR = "#f8fafc"
ICONS = (
    ("img/icon-192.png", "192x192", "any"),
    ("img/icon-512.png", "512x512", "any"),
    ("img/icon-maskable-512.png", "512x512", "maskable"),
)
# The static files the service worker keeps, besides the offline page: what the offline page and
# the first paint of every page need.
SHELL_STATIC = (
    "css/site.css",
    "js/site.js",
    "js/watchlist.js",
    "img/favicon.svg",
    *(path for path, _size, _purpose in ICONS),
)


def app_shell() -> list[str]:
    """The URLs the service worker caches when it installs (hashed names in production)."""
    return [reverse("offline"), *(static(path) for path in SHELL_STATIC)]


@require_GET
@cache_control(max_age=3600)
@vary_on_headers("Accept-Language", "Cookie")
def web_manifest(request):
    """/manifest.webmanifest, in the page's language (Japanese unless English is asked for)."""
    manifest = {
        "id": "/",
        "name": _("stocksite: look-alike stock charts"),
        "short_name": "stocksite",
        "description": _(
            "Find the stock charts that look like a chosen one across the whole Tokyo market, "
            "and see what happened after them."
        ),
        "lang": translation.get_language() or "ja",
        "dir": "ltr",
        "start_url": reverse("home"),
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "background_color": BACKGROUND_COLOR,
        "theme_color": THEME_COLOR,
        "icons": [
            {"src": static(path), "sizes": size, "type": "image/png", "purpose": purpose}
            for path, size, purpose in ICONS
        ],
    }
    return HttpResponse(
        json.dumps(manifest, ensure_ascii=False, indent=2),
        content_type="application/manifest+json; charset=utf-8",
    )


@require_GET
@cache_control(no_cache=True)
def service_worker(request):
    """/sw.js at the root, so that its scope is the whole site. Its cache is named after the
    shell's URLs: a deploy that changes an asset (a new hashed name) installs a new cache and
    drops the old one. Revalidated on every visit (no-cache)."""
    shell = app_shell()
    version = hashlib.sha256("\n".join(shell).encode()).hexdigest()[:12]
    response = render(
        request,
        "sw.js",
        {
            "shell_json": json.dumps(shell),
            "offline_url": json.dumps(reverse("offline")),
            "cache_name": json.dumps(f"stocksite-shell-{version}"),
        },
        content_type="text/javascript; charset=utf-8",
    )
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
@cache_control(no_cache=True)
def offline(request):
    """The page shown when a page cannot be fetched: nothing of the user's (it is cached)."""
    return render(request, "offline.html")
