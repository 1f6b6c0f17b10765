"""The words of a stored result, in the language of the page that shows it.

A SavedSearch keeps its result for years and is read in either language: what it says in words is
stored as a key and its numbers (a plan limit's code and params, a scenario's English name) and
put into words when shown. Results saved before that carry only their text, shown as stored.
"""

import re

from django.utils.translation import gettext, gettext_lazy, gettext_noop

from core.templatetags.site_formats import day, period

LIMIT_MESSAGES = {
    "k_capped": gettext_lazy("Matches capped at %(max)d on the %(plan)s plan."),
    "first_horizon_only": gettext_lazy(
        "Outcomes for the first horizon (%(days)d days) only on the %(plan)s plan."
    ),
    "history_limited": gettext_lazy(
        "History limited to the last %(years)d years (since %(date)s) on %(plan)s."
    ),
}

# Scenario names by the median return at the horizon (lowest bound first), stored in English.
SCENARIO_NAMES = (
    (0.05, gettext_noop("Rally")),
    (0.0, gettext_noop("Drift up")),
    (-0.05, gettext_noop("Drift down")),
    (float("-inf"), gettext_noop("Decline")),
)
# A second scenario of one name is told apart by a letter ("Rally B").
SCENARIO_LETTERS = "ABCDEFGH"


def limit_message(code: str, params: dict) -> str:
    """A plan limit in words, e.g. "Matches capped at 10 on the Free plan."; a date in the
    page's format (2015/11/16 in Japanese)."""
    if "date" in params:
        params = {**params, "date": day(params["date"])}
    return str(LIMIT_MESSAGES[code] % params)


def limit_text(limit: dict) -> str:
    """A stored limit in the page's language (as stored when it has no params)."""
    params = limit.get("params")
    if params is None or limit.get("code") not in LIMIT_MESSAGES:
        return limit.get("message", "")
    return limit_message(limit["code"], params)


def scenario_name(median_return: float) -> str:
    """The English name of a scenario, as a result stores it."""
    return next(name for bound, name in SCENARIO_NAMES if median_return >= bound)


def scenario_text(label: str) -> str:
    """A stored scenario name in the page's language ("Rally B" -> "上昇 B")."""
    names = {name for _bound, name in SCENARIO_NAMES}
    base, _space, letter = label.rpartition(" ")
    if base in names and len(letter) == 1 and letter in SCENARIO_LETTERS:
        return f"{gettext(base)} {letter}"
    return gettext(label) if label in names else label


# The end of a stock range's stored label: "7974 任天堂 2018-08-20 – 2018-11-16".
_STORED_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2}) – (\d{4}-\d{2}-\d{2})$")


def stock_label_text(label: str) -> str:
    """A stock range's stored label with its dates in the page's language
    ("7974 任天堂 2018/08/20〜2018/11/16"); any other label as stored."""
    found = _STORED_RANGE.search(label or "")
    if found is None:
        return label
    return label[: found.start()] + period(found[1], found[2])


def pattern_text(*, source: str, spec: dict) -> str | None:
    """What pasted prices or a sketch are, in words ("20 pasted prices"); None for a stock range,
    whose label (code, name, dates) reads the same in both languages."""
    if source == "prices" and spec.get("prices"):
        return gettext("%(count)d pasted prices") % {"count": len(spec["prices"])}
    if source == "sketch" and spec.get("days"):
        return gettext("Sketch over %(days)d days") % {"days": spec["days"]}
    return None


def skill_sentence(summary: dict) -> str:
    """Whether the look-alikes beat the base rate at one horizon, in one plain sentence, from a
    calibration table's horizon summary (`engine.walkforward.calibration_table`)."""
    interval = summary.get("matches_crps_skill_interval")
    values = {"days": summary["horizon"], "count": summary.get("matches_crps_skill_count", 0)}
    if interval is None or summary.get("matches_crps_skill") is None:
        return (
            gettext(
                "At %(days)d trading days, too few patterns were measured to say whether the "
                "look-alikes beat the base rate."
            )
            % values
        )
    values.update(
        skill=_signed(summary["matches_crps_skill"]),
        lo=_signed(interval[0]),
        hi=_signed(interval[1]),
    )
    if summary.get("matches_beat_base"):
        return (
            gettext(
                "At %(days)d trading days, the look-alikes beat the base rate: their CRPS skill is "
                "%(skill)s (90%% interval %(lo)s to %(hi)s, %(count)d patterns)."
            )
            % values
        )
    if interval[0] > 0:
        return (
            gettext(
                "At %(days)d trading days, the look-alikes' CRPS skill is %(skill)s (90%% "
                "interval %(lo)s to %(hi)s), but on only %(count)d patterns: too few to claim "
                "that they beat the base rate."
            )
            % values
        )
    return (
        gettext(
            "At %(days)d trading days, the look-alikes do not beat the base rate: their CRPS skill "
            "is %(skill)s (90%% interval %(lo)s to %(hi)s, %(count)d patterns)."
        )
        % values
    )


def _signed(fraction: float) -> str:
    return f"{fraction * 100:+.1f}%"
