import csv
import uuid
from collections import Counter
from urllib.parse import urlencode

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.entitlements import SearchQuotaExceeded, entitlements_for
from core.errors import DomainError, NotFoundError
from market.selectors import stock_english_names, stock_filter_choices
from similarity import limits, selectors, services, validation
from similarity.engine import INTERVAL_LEVEL, MIN_SKILL_PATTERNS
from similarity.forms import SearchForm
from similarity.results import charts
from similarity.results import statistics as result_stats
from similarity.results.export import search_csv_rows
from similarity.results.glossary import glossary
from similarity.results.summary import result_summary
from similarity.results.texts import limit_text, scenario_text, skill_sentence

PREFILL_FIELDS = ("source", "code", "date_from", "date_to", "mode", "prices", "days", "k")
HISTORY_PER_PAGE = 25


def _search_form(data=None, initial=None) -> SearchForm:
    segments, sectors = stock_filter_choices()
    return SearchForm(data, initial=initial, segments=segments, sectors=sectors)


def _render_search(request, form: SearchForm, status: int = 200):
    user = request.user
    context = {
        "form": form,
        "quota_exhausted": status == SearchQuotaExceeded.status,
        "entitlements": entitlements_for(user=user),
        "recent": selectors.saved_search_list(user=user)[:5] if user.is_authenticated else [],
        "search_limits": limits.script_limits(),
    }
    return render(request, "similarity/search.html", context, status=status)


@require_http_methods(["GET", "POST"])
def search(request):
    if request.method == "GET":
        initial = {name: request.GET[name] for name in PREFILL_FIELDS if request.GET.get(name)}
        if "code" in initial and "source" not in initial:
            initial["source"] = "stock"
        return _render_search(request, _search_form(initial=initial))

    if not request.user.is_authenticated:
        # Back on the form after signing in, with the pattern and options already filled in.
        prefill = {name: request.POST[name] for name in PREFILL_FIELDS if request.POST.get(name)}
        messages.info(request, _("Sign in or create a free account to run a search."))
        return redirect_to_login(
            f"{request.path}?{urlencode(prefill)}" if prefill else request.path
        )
    form = _search_form(request.POST)
    if not form.is_valid():
        return _render_search(request, form, status=400)
    try:
        saved = services.search_run(user=request.user, spec=form.spec(), options=form.options())
    except DomainError as error:  # bad input naming a field, an unknown code, no searches left
        form.add_domain_error(error)
        return _render_search(request, form, status=error.status)
    return redirect("search_result", search_id=saved.pk)


@require_POST
def search_latest_bars(request):
    """ "今のチャートに似た過去": one tap runs a history search of a stock's latest bars
    (limits.LATEST_BARS_BY_INTERVAL), counted like any search, and opens its results, where the
    days can be changed. A refusal (no searches left, an unknown code) is told on the page the
    button was on."""
    code = request.POST.get("code", "")[: limits.MAX_NAME_LENGTH]
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("search")
    if not request.user.is_authenticated:
        messages.info(request, _("Sign in or create a free account to run a search."))
        return redirect_to_login(back)
    try:
        saved = services.search_latest_bars(
            user=request.user, code=code, interval=request.POST.get("interval") or "day"
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(back)
    return redirect("search_result", search_id=saved.pk)


@require_POST
def prices_preview(request):
    """What pasted prices read as, before the search runs: the series, its count and, for a
    table, the column used. The search page's script draws it as a sparkline. Anyone may ask,
    so it is rate-limited per client address and per session (settings.ACCOUNT_RATE_LIMITS)."""
    session_key = request.session.session_key
    if not ratelimit.consume(request, action="prices_preview") or (
        session_key
        and not ratelimit.consume(request, action="prices_preview_session", key=session_key)
    ):
        return JsonResponse(
            {"error": {"code": "throttled", "message": _("Too many previews: wait a minute.")}},
            status=429,
        )
    text = request.POST.get("prices", "")
    problem = None
    try:
        pasted = validation.prices_text_parse(text)
    except validation.SearchInputError as error:
        pasted, problem = validation.PastedPrices(prices=[]), error.field_messages()["prices"][0]
    else:
        try:
            validation.pattern_spec_clean(spec={"source": "prices", "prices": pasted.prices})
        except validation.SearchInputError as error:
            problem = error.field_messages()["prices"][0]
    count = len(pasted.prices)
    summary = ngettext("%(count)d price", "%(count)d prices", count) % {"count": count}
    if pasted.column:
        summary += _(", from the column “%(column)s”") % {"column": pasted.column}
    if pasted.reversed:
        summary += _(", turned to oldest first")
    return JsonResponse(
        {"count": count, "prices": pasted.prices, "summary": summary, "problem": problem}
    )


def _own_search(request, search_id: uuid.UUID):
    try:
        return selectors.saved_search_get(user=request.user, search_id=search_id)
    except NotFoundError:
        raise Http404(_("No saved search with this id.")) from None


def _match_rows(result: dict, key: str = "matches") -> list[dict]:
    """The rows of the result's list `key` ("matches" or "same_period") as the page shows them."""
    pattern = result.get("pattern", {}).get("normalized") or []
    matches = result.get(key) or []
    names_en = (
        stock_english_names(codes=[match["code"] for match in matches])
        if (translation.get_language() or "").startswith("en")
        else {}
    )
    episode_sizes = Counter(match.get("episode") for match in matches)
    rows = []
    for match in matches:
        returns = match.get("returns") or {}
        rows.append(
            {
                **match,
                "display_name": names_en.get(match["code"], match.get("name", "")),
                # Matches of one market episode count once; the page says how many share it.
                "episode_size": episode_sizes[match["episode"]] if match.get("episode") else 0,
                "mini": charts.mini_chart(
                    pattern=pattern,
                    window=match.get("window") or [],
                    after=match.get("after") or [],
                ),
                "horizon_returns": [
                    {
                        "horizon": h,
                        "value": returns.get(str(h)),
                        "booked": h in (match.get("booked") or ()),
                    }
                    for h in result.get("horizons", [])
                ],
            }
        )
    return rows


@login_required
@require_GET
def search_result(request, search_id: uuid.UUID):
    saved = _own_search(request, search_id)
    result = saved.result or {}
    pattern = result.get("pattern") or {}
    fan = result.get("fan")
    groups = [
        {
            **group,
            "label": scenario_text(group["label"]),
            "spark": charts.line_chart(values=group["median_path"], width=200, height=56),
        }
        # Best outcome first, so that the groups read in the order of their medians.
        for group in sorted(
            result.get("groups") or [], key=lambda group: -(group.get("median_return") or 0)
        )
    ]
    track = _verdict_track_record()
    context = {
        "saved": saved,
        "result": result,
        "pattern": pattern,
        "pattern_line": charts.line_chart(
            values=pattern.get("values") or [], width=480, height=200
        ),
        "matches": _match_rows(result),
        # None: the search did not ask for the same period (searches before the option, too).
        "same_period": _match_rows(result, "same_period") if "same_period" in result else None,
        "stats": result.get("stats") or [],
        "fan": fan,
        "fan_svg": charts.fan_chart(bands=fan["bands"], base_band=_base_band(result))
        if fan
        else {},
        "groups": groups,
        "limits": [limit_text(limit) for limit in result.get("limits") or []],
        "entitlements": entitlements_for(user=request.user),
        "is_latest": result.get("mode") == "latest",
        "evidence": [
            {
                **stat,
                "bar": charts.interval_bar(stat=stat),
                "track": track.get(stat["horizon"]),
                "rose": round((stat.get("share_positive") or 0) * (stat.get("count") or 0)),
            }
            for stat in result.get("stats") or []
        ],
        "summary": result_summary(
            result.get("stats") or [] if result.get("mode") == "history" else [],
            hit_rates={
                horizon: {"rate": cell["hit"], "count": cell["verdicts"]}
                for horizon, cell in track.items()
            },
        ),
        "glossary": {term["key"]: term for term in glossary()},
        "glossary_order": glossary(),
        "forecast_model": result.get("forecast_model"),
        "as_of": bool((saved.options or {}).get("as_of")),
        "booked": sum(stat.get("booked", 0) for stat in result.get("stats") or []),
        "warnings": result.get("warnings") or [],
        "min_episodes": result_stats.MIN_EPISODES,
        "weak_correlation": result_stats.WEAK_CORRELATION,
        "interval_level": f"{INTERVAL_LEVEL:.0%}",
        "grades": saved.grades.order_by("horizon"),
    }
    return render(request, "similarity/result.html", context)


def _verdict_track_record() -> dict[int, dict]:
    """Per horizon, how often the verdicts were right walk-forward in the latest calibration
    (over every pattern length), and on how many verdicts."""
    run = selectors.calibration_latest()
    cells = run.table.get("cells", []) if run else []
    return {
        cell["horizon"]: {"hit": cell["hit"], "verdicts": cell["verdicts"]}
        for cell in cells
        if cell["length"] is None and cell["third"] is None and cell["verdicts"]
    }


def _base_band(result: dict) -> dict[int, tuple[float, float]]:
    """The base rate's 10th and 90th percentile returns by horizon, where the result has them."""
    band = {}
    for stat in result.get("stats") or []:
        base = stat.get("baseline") or {}
        if base.get("p10") is not None and base.get("p90") is not None:
            band[stat["horizon"]] = (base["p10"], base["p90"])
    return band


def _export_file_name(saved, result: dict) -> str:
    """stocksite_7203_2015-01-05_2015-03-31_history.csv; searches without a stock are named by
    their source and the day they ran (stocksite_prices_2026-12-01_latest.csv)."""
    pattern = result.get("pattern") or {}
    mode = result.get("mode") or saved.mode
    if pattern.get("code"):
        parts = [pattern["code"], pattern.get("start_date"), pattern.get("end_date")]
    else:
        parts = [saved.source, timezone.localdate(saved.created_at).isoformat()]
    return "_".join(["stocksite", *(str(part) for part in parts if part), mode]) + ".csv"


@login_required
@require_GET
def search_export(request, search_id: uuid.UUID):
    saved = _own_search(request, search_id)
    if not entitlements_for(user=request.user).csv_export:
        return render(request, "similarity/export_locked.html", {"saved": saved}, status=402)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    result = saved.result or {}
    response["Content-Disposition"] = f'attachment; filename="{_export_file_name(saved, result)}"'
    # A byte order mark, so that Japanese Excel reads the names as UTF-8 rather than Shift_JIS.
    response.write("\ufeff")
    csv.writer(response).writerows(search_csv_rows(result))
    return response


@login_required
@require_POST
def search_rerun(request, search_id: uuid.UUID):
    saved = _own_search(request, search_id)
    try:
        fresh = services.search_rerun(user=request.user, saved_search=saved)
    except DomainError as error:
        first = next(iter(error.field_messages().values()), [error.message])
        messages.error(request, first[0])
        return redirect("search_result", search_id=saved.pk)
    messages.success(request, _("Run again on today's data."))
    return redirect("search_result", search_id=fresh.pk)


@login_required
@require_GET
def search_history(request):
    page = Paginator(selectors.saved_search_list(user=request.user), HISTORY_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "similarity/history.html", {"page": page})


THIRD_LABELS = {
    None: gettext_lazy("all"),
    0: pgettext_lazy("volatility third", "low"),
    1: pgettext_lazy("volatility third", "middle"),
    2: pgettext_lazy("volatility third", "high"),
}


@require_GET
def calibration(request):
    run = selectors.calibration_latest()
    table = run.table if run else {}
    return render(
        request,
        "similarity/calibration.html",
        {
            "run": run,
            "cells": [
                {**cell, "third_label": THIRD_LABELS[cell["third"]]}
                for cell in table.get("cells", [])
            ],
            "horizons": [
                {**summary, "sentence": skill_sentence(summary)}
                for summary in table.get("horizons", [])
            ],
            "verdicts_any": table.get("verdicts_any", {}),
            "min_skill_patterns": MIN_SKILL_PATTERNS,
        },
    )


@login_required
@require_GET
def track_record(request):
    page = Paginator(selectors.track_record_list(user=request.user), HISTORY_PER_PAGE).get_page(
        request.GET.get("page")
    )
    summary = selectors.track_record_summary(user=request.user)
    return render(request, "similarity/track_record.html", {"page": page, "summary": summary})
