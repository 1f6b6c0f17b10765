"""The texts the site pushes to LINE: plain text, in the reader's language, within LINE's limit."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from alerts.line.gateway import TEXT_MAX_LENGTH
from alerts.mail import user_language
from core.templatetags.site_formats import day, yen


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def text_length(text: str) -> int:
    """Length as LINE counts it: UTF-16 code units (an emoji outside the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2


def link_text(*, link_token: str) -> str:
    """The message that starts linking, to a LINE user the site does not know yet: in the site's
    language."""
    url = _absolute(reverse("line_link")) + "?linkToken=" + link_token
    with translation.override(settings.LANGUAGE_CODE):
        return _(
            "To get your stocksite shape alerts here, link your stocksite account: open this "
            "link within 10 minutes and sign in.\n%(url)s"
        ) % {"url": url}


def linked_text(*, user) -> str:
    with translation.override(user_language(user)):
        return _(
            "Your stocksite account is linked: your shape alerts will come here after each "
            "day's data. Choose the channels or unlink on the alerts page:\n%(url)s"
        ) % {"url": _absolute(reverse("alerts"))}


def digest_text(*, user, data_date: dt.date, hits: list, more: int = 0) -> str:
    """The day's hits grouped by alert: code, name, correlation and last close of each, as many
    as fit in one LINE message; the rest, and the `more` hits beyond the digest's cap
    (HITS_PER_DIGEST, as in the mail), are counted, one tap away on the alerts page."""
    with translation.override(user_language(user)):
        head = ngettext(
            "stocksite: %(count)d stock looks like your alerts (data of %(date)s).",
            "stocksite: %(count)d stocks look like your alerts (data of %(date)s).",
            len(hits) + more,
        ) % {"count": len(hits) + more, "date": day(data_date)}
        alerts_url = _absolute(reverse("alerts"))
        blocks, alert_id = [], None
        for hit in hits:
            lines = []
            if hit.alert_id != alert_id:
                alert_id = hit.alert_id
                lines += ["", f"■ {hit.alert.name}"]
            lines += [
                f"{hit.code} {hit.name}".strip(),
                _("r %(correlation)s · close %(close)s")
                % {"correlation": f"{hit.correlation:.3f}", "close": yen(hit.last_close)},
            ]
            blocks.append("\n".join(lines))
        return _fit(head, blocks, alerts_url, total=len(hits) + more)


def _fit(head: str, blocks: list[str], alerts_url: str, *, total: int) -> str:
    """Head, as many hit blocks as fit, and a foot that points to the rest."""

    def foot(left: int) -> str:
        if left:
            return "\n\n" + ngettext(
                "%(count)d more on the alerts page:\n%(url)s",
                "%(count)d more on the alerts page:\n%(url)s",
                left,
            ) % {"count": left, "url": alerts_url}
        return "\n\n" + _("Charts and searches on the alerts page:\n%(url)s") % {"url": alerts_url}

    text = head
    for shown, block in enumerate(blocks):
        longer = text + "\n" + block
        if text_length(longer + foot(total - shown - 1)) > TEXT_MAX_LENGTH:
            return text + foot(total - shown)
        text = longer
    return text + foot(total - len(blocks))
