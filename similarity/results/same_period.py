"""Same-period context: the other stocks over a stock pattern's own days, listed apart.

A history search of a stock's range leaves out every window, in any stock, with a close on one of
the pattern's days: those are the market moving together with the pattern, not analogs of it (and
for a recent pattern they have no outcome yet). With the `same_period` option they are searched on
their own, with the main search's filters, dates and k, and the result lists the closest as
`same_period`: context, never counted in the statistics, fan, groups, warnings or base rate. Pasted
prices and sketches have no period and latest mode has no past windows: for them the option is
accepted and the list is empty.
"""

from similarity.engine import Market, Match, search
from similarity.results.builder import ResolvedPattern


def same_period_applies(*, options: dict, pattern: ResolvedPattern) -> bool:
    """Whether the option asks for a search: on, in history mode, for a stock's date range."""
    return bool(
        options.get("same_period") and options["mode"] == "history" and pattern.code is not None
    )


def same_period_find(
    *, market: Market, pattern: ResolvedPattern, k: int, options: dict, scope: dict, exclude
) -> list[Match] | None:
    """The `k` windows over the pattern's own days closest to it, in the main search's `scope`
    (series mask and dates) without its own window (`exclude`); None when the option is off,
    [] when it does not apply."""
    if not options.get("same_period"):
        return None
    if not same_period_applies(options=options, pattern=pattern):
        return []
    return search(
        market,
        pattern.values,
        k=k,
        mode="history",
        exclude=exclude,
        series=scope["series"],
        date_from=scope["date_from"],
        date_to=scope["date_to"],
        only_period=(pattern.start_date, pattern.end_date),
        stretch=options["stretch"],
    )
