"""The answer of a history result in one look: per horizon, one plain sentence that says what
the similar shapes did against the base rate and the market, how sure that is (the forecast
range and the number of episodes) and the verdict, or why there is none; e.g.
"60営業日後：似た形の中央値 -4.7%（全体 +0.9%）、市場比 -3.2%。8局面のため判定なし。"

Built from the stored statistics when the page is shown, so it reads in the page's language;
a result stored before a field existed (the forecast, the insufficient verdict) says less.
"""

from django.utils.translation import gettext as _

from core.templatetags.site_formats import signed_percent
from similarity.results.interval_texts import horizon_after
from similarity.results.statistics import MIN_EPISODES


def _percent(value: float | None) -> str:
    return "—" if value is None else signed_percent(float(value) * 100, 1)


def _share(value: float | None) -> str:
    return "—" if value is None else f"{float(value) * 100:.0f}%"


def verdict_of(stat: dict) -> str:
    """above, below, indistinguishable, or insufficient (fewer than MIN_EPISODES episodes,
    also for results stored before that verdict existed)."""
    if stat.get("verdict") == "insufficient" or (stat.get("count") or 0) < MIN_EPISODES:
        return "insufficient"
    return stat.get("verdict") or "indistinguishable"


def horizon_summary(stat: dict, *, hit_rate: dict | None = None, interval: str = "day") -> dict:
    """One horizon's sentence and its parts: {horizon, verdict, text, hit_rate}. `hit_rate`:
    the measured walk-forward hit rate of verdicts at this horizon ({"rate", "count"})."""
    base = stat.get("baseline") or {}
    excess = stat.get("excess") or {}
    forecast = stat.get("forecast") or {}
    count = stat.get("count") or 0
    verdict = verdict_of(stat)
    parts = [
        _("After %(days)d trading days: ") % {"days": stat["horizon"]}
        if interval == "day"
        else _("%(after)s: ") % {"after": horizon_after(stat["horizon"], interval).capitalize()},
        _("similar shapes' median %(median)s") % {"median": _percent(stat.get("median"))},
    ]
    if base.get("median") is not None:
        parts.append(_(" (all windows %(base)s)") % {"base": _percent(base["median"])})
    text = "".join(parts[:2]) + (parts[2] if len(parts) > 2 else "")
    if excess.get("median") is not None:
        text += _(", versus the market %(excess)s") % {"excess": _percent(excess["median"])}
    text += _(". ")
    if forecast.get("p10") is not None and forecast.get("p90") is not None:
        text += _("Forecast range %(low)s to %(high)s. ") % {
            "low": _percent(forecast["p10"]),
            "high": _percent(forecast["p90"]),
        }
    text += {
        "insufficient": _("%(count)d episodes: too few for a verdict. "),
        "above": _("Above the base rate (%(count)d episodes). "),
        "below": _("Below the base rate (%(count)d episodes). "),
        "indistinguishable": _("No clear difference from the base rate (%(count)d episodes). "),
    }[verdict] % {"count": count}
    rate = None
    if verdict in ("above", "below") and hit_rate and hit_rate.get("rate") is not None:
        rate = _share(hit_rate["rate"])
        text += _("Verdicts like this were right %(rate)s of the time in walk-forward tests.") % {
            "rate": rate
        }
    return {"horizon": stat["horizon"], "verdict": verdict, "text": text.strip(), "hit_rate": rate}


def result_summary(
    stats: list[dict], *, hit_rates: dict[int, dict] | None = None, interval: str = "day"
) -> list[dict]:
    """The summary of every horizon with statistics (none for a latest-mode result)."""
    hit_rates = hit_rates or {}
    return [
        horizon_summary(stat, hit_rate=hit_rates.get(stat["horizon"]), interval=interval)
        for stat in stats
        if stat.get("count")
    ]
