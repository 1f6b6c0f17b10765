"""What the sync commands print: a progress bar on a terminal, the expected time and the plan."""

import datetime
import math

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from market.exchanges.tse.jquants import Plan

BAR_WIDTH = 30


class ProgressBar:
    """`[#####-----] 12/250 2024-01-05` redrawn in place on a terminal; silent elsewhere."""

    def __init__(self, stream, total: int):
        self.stream, self.total = stream, total
        self.active = total > 0 and stream.isatty()

    def step(self, done: int, label: str) -> None:
        if not self.active:
            return
        filled = BAR_WIDTH * done // self.total
        self.stream.write(
            f"\r[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {done}/{self.total} {label}  ",
            ending="",
        )
        self.stream.flush()
        if done == self.total:
            self.stream.write("")


def expected_time(*, requests: int, plan: Plan, rate_per_minute: int) -> str:
    minutes = math.ceil(requests / max(rate_per_minute, 1))
    return ngettext(
        "about %(requests)d requests at %(rate)d a minute (%(plan)s plan): "
        "about %(minutes)d minute",
        "about %(requests)d requests at %(rate)d a minute (%(plan)s plan): "
        "about %(minutes)d minutes",
        minutes,
    ) % {"requests": requests, "rate": rate_per_minute, "plan": plan.name, "minutes": minutes}


def plan_allows(*, plan: Plan, today: datetime.date) -> str:
    first, last = plan.window(today)
    if plan.delay_days:
        return _(
            "The %(plan)s plan serves %(first)s to %(last)s: %(weeks)d weeks delayed, "
            "%(years)d years deep."
        ) % {
            "plan": plan.name,
            "first": first,
            "last": last,
            "weeks": plan.delay_days // 7,
            "years": plan.years,
        }
    return _("The %(plan)s plan serves %(first)s to %(last)s: %(years)d years deep.") % {
        "plan": plan.name,
        "first": first,
        "last": last,
        "years": plan.years,
    }
