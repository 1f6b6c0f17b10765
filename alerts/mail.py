"""The daily digest mail: text and HTML, in the user's language, with one-click unsubscribe."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import ngettext

from core.templatetags.site_formats import day


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def user_language(user) -> str:
    """The language the user chose, else the site's default (Japanese)."""
    return user.language or settings.LANGUAGE_CODE


def hit_links(hit) -> dict[str, str]:
    """Where a hit leads: the stock's chart over the matched window, and a search from it."""
    window = {"date_from": hit.start_date.isoformat(), "date_to": hit.end_date.isoformat()}
    interval = hit.alert.interval
    if interval != "day":  # the weekly or monthly chart, and a search of those closes
        window["interval"] = interval
    search = {"source": "stock", "code": hit.code, **window}
    return {
        "chart": reverse("stock_detail", args=[hit.code]) + "?" + urlencode(window),
        "search": reverse("search") + "?" + urlencode(search),
    }


def digest_message(
    *, user, data_date: dt.date, hits: list, unsubscribe_token: str, more: int = 0
) -> EmailMultiAlternatives:
    """One mail listing the hits of the user's alerts on `data_date`, grouped by alert; `more`
    hits beyond them are counted, with the link to the alerts page that lists them."""
    unsubscribe_url = _absolute(reverse("alerts_unsubscribe", args=[unsubscribe_token]))
    with translation.override(user_language(user)):
        groups: dict[int, dict] = {}
        for hit in hits:
            links = hit_links(hit)
            group = groups.setdefault(hit.alert_id, {"alert": hit.alert, "hits": []})
            group["hits"].append(
                {
                    "hit": hit,
                    "chart_url": _absolute(links["chart"]),
                    "search_url": _absolute(links["search"]),
                }
            )
        context = {
            "user": user,
            "data_date": data_date,
            "groups": list(groups.values()),
            "count": len(hits) + more,
            "more": more,
            "alerts_url": _absolute(reverse("alerts")),
            "unsubscribe_url": unsubscribe_url,
        }
        subject = ngettext(
            "[stocksite] %(count)d stock looks like your alerts (%(date)s)",
            "[stocksite] %(count)d stocks look like your alerts (%(date)s)",
            len(hits) + more,
        ) % {"count": len(hits) + more, "date": day(data_date)}
        text = render_to_string("alerts/email/digest.txt", context)
        html = render_to_string("alerts/email/digest.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={
            # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" to this address.
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Stocksite-Digest": f"{user.pk}:{data_date.isoformat()}",
        },
    )
    message.attach_alternative(html, "text/html")
    return message
