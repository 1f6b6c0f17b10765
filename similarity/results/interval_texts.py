"""How a result names its horizons and bars on daily, weekly and monthly charts."""

from django.utils.translation import gettext, ngettext


def horizon_after(horizon: int, interval: str = "day") -> str:
    """ "after 20 trading days", "after 13 weeks", "after 6 months"."""
    if interval == "week":
        return ngettext("after %(count)d week", "after %(count)d weeks", horizon) % {
            "count": horizon
        }
    if interval == "month":
        return ngettext("after %(count)d month", "after %(count)d months", horizon) % {
            "count": horizon
        }
    return ngettext("after %(count)d trading day", "after %(count)d trading days", horizon) % {
        "count": horizon
    }


def horizon_short(horizon: int, interval: str = "day") -> str:
    """A column heading: "20d", "13w", "6m" (20日, 13週, 6か月)."""
    if interval == "week":
        return gettext("%(count)dw") % {"count": horizon}
    if interval == "month":
        return gettext("%(count)dm") % {"count": horizon}
    return gettext("%(count)dd") % {"count": horizon}


def interval_name(interval: str = "day") -> str:
    """日足, 週足, 月足 (Daily, Weekly, Monthly)."""
    return {"week": gettext("Weekly"), "month": gettext("Monthly")}.get(interval) or gettext(
        "Daily"
    )
