"""Geometry of the small server-drawn SVG charts on the results page: pure functions, no Django.

Every function returns SVG coordinates as strings ready for `points=` or `d=` attributes, so the
templates only place them.
"""

from collections.abc import Sequence

import numpy as np


def _scale(low: float, high: float, size: float, pad: float) -> tuple[float, float]:
    span = high - low or 1.0
    return (size - 2 * pad) / span, low


def _polyline(xs: Sequence[float], ys: Sequence[float]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))


def mini_chart(
    *,
    pattern: Sequence[float],
    window: Sequence[float],
    after: Sequence[float],
    width: float = 168,
    height: float = 48,
    pad: float = 3,
) -> dict:
    """The pattern over the matched window, and what came after the window, on one axis.

    All three series are on the window's z-normalised scale; `after` continues from the window's
    last point, in a shaded area to the right.
    """
    values = [v for v in (*pattern, *window, *after) if v is not None]
    if not values or not window:
        return {}
    low, high = min(values), max(values)
    y_factor, y_low = _scale(low, high, height, pad)
    total = len(window) + len(after)
    x_step = (width - 2 * pad) / max(1, total - 1)

    def y(value: float) -> float:
        return height - pad - (value - y_low) * y_factor

    def x(index: int) -> float:
        return pad + index * x_step

    window_end_x = x(len(window) - 1)
    after_points = [(len(window) - 1, window[-1])] + [
        (len(window) + i, v) for i, v in enumerate(after) if v is not None
    ]
    return {
        "width": width,
        "height": height,
        "pattern": _polyline(
            [x(i * (len(window) - 1) / max(1, len(pattern) - 1)) for i in range(len(pattern))],
            [y(v) for v in pattern],
        ),
        "window": _polyline([x(i) for i in range(len(window))], [y(v) for v in window]),
        "after": _polyline([x(i) for i, _ in after_points], [y(v) for _, v in after_points])
        if after
        else "",
        "after_x": round(window_end_x, 1),
        "after_width": round(width - window_end_x, 1),
    }


def line_chart(*, values: Sequence[float], width: float, height: float, pad: float = 4) -> str:
    """A sparkline through `values`, as polyline points."""
    if not values:
        return ""
    y_factor, y_low = _scale(min(values), max(values), height, pad)
    x_step = (width - 2 * pad) / max(1, len(values) - 1)
    return _polyline(
        [pad + i * x_step for i in range(len(values))],
        [height - pad - (v - y_low) * y_factor for v in values],
    )


def fan_chart(
    *,
    bands: dict[str, Sequence[float]],
    base_band: dict[int, tuple[float, float]] | None = None,
    width: float = 640,
    height: float = 280,
    left: float = 52,
    right: float = 12,
    top: float = 12,
    bottom: float = 30,
) -> dict:
    """Percentile bands of the paths after the matches (ratios, 1.0 on day 0) as SVG areas.

    Returns the outer (p10-p90) and inner (p25-p75) band paths, the median line, the 1.0 base
    line, and axis ticks labelled in per cent. ``base_band`` maps horizons (days) to the base
    rate's 10th and 90th percentile returns; it is drawn behind, through 1.0 on day 0 and straight
    between the horizons.
    """
    p10, p25, p50, p75, p90 = (bands.get(key) or [] for key in ("p10", "p25", "p50", "p75", "p90"))
    if not p50:
        return {}
    base_low, base_high = _base_band_lines(base_band or {}, len(p50))
    low, high = _padded_range((p10, p25, p50, p75, p90, base_low, base_high))
    plot_w, plot_h = width - left - right, height - top - bottom
    count = len(p50)

    def x(i: int) -> float:
        return left + i * plot_w / max(1, count - 1)

    def y(v: float) -> float:
        return top + (high - v) * plot_h / (high - low)

    def area(upper: Sequence[float], lower: Sequence[float]) -> str:
        if not upper or not lower:
            return ""
        points = [f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(upper)]
        points += [f"{x(i):.1f},{y(v):.1f}" for i, v in reversed(list(enumerate(lower)))]
        return "M" + " L".join(points) + " Z"

    ticks = _nice_ticks(low - 1.0, high - 1.0)
    day_ticks = sorted({0, (count - 1) // 2, count - 1})
    return {
        "width": width,
        "height": height,
        "outer": area(p90, p10),
        "base": area(base_high, base_low),
        "inner": area(p75, p25),
        "median": _polyline([x(i) for i in range(count)], [y(v) for v in p50]),
        "base_y": round(y(1.0), 1),
        "left": left,
        "right_x": width - right,
        "bottom_y": height - bottom,
        "y_ticks": [
            {"y": round(y(1.0 + t), 1), "label": f"{t * 100:+.0f}%" if t else "0%"} for t in ticks
        ],
        "x_ticks": [{"x": round(x(d), 1), "label": str(d)} for d in day_ticks],
        "end_median": p50[-1],
    }


def _base_band_lines(
    base_band: dict[int, tuple[float, float]], count: int
) -> tuple[list[float], list[float]]:
    """The base rate's low and high lines as ratios per day: 1.0 on day 0, straight between the
    horizons shorter than ``count`` days, up to the longest of them."""
    days = [d for d in sorted(base_band) if 0 < d < count]
    if not days:
        return [], []
    known = [0, *days]
    base_low = list(
        np.interp(range(days[-1] + 1), known, [1.0, *(1 + base_band[d][0] for d in days)])
    )
    base_high = list(
        np.interp(range(days[-1] + 1), known, [1.0, *(1 + base_band[d][1] for d in days)])
    )
    return base_low, base_high


def _padded_range(lines: Sequence[Sequence[float | None]]) -> tuple[float, float]:
    """The lowest and highest value of the lines and of 1.0, widened by 6% of the span."""
    values = [v for line in lines for v in line if v is not None] + [1.0]
    low, high = min(values), max(values)
    margin = (high - low) * 0.06 or 0.01
    return low - margin, high + margin


def _nice_ticks(low: float, high: float, target: int = 5) -> list[float]:
    span = high - low
    if span <= 0:
        return [0.0]
    raw = span / target
    magnitude = 10 ** _floor_log10(raw)
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = int(low // step) + 1
    ticks = []
    value = first * step
    while value < high:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _floor_log10(value: float) -> int:
    exponent = 0
    while value >= 10:
        value /= 10
        exponent += 1
    while value < 1:
        value *= 10
        exponent -= 1
    return exponent


def interval_bar(*, stat: dict, width: float = 240, height: float = 28, pad: float = 8) -> dict:
    """A horizontal scale of returns with the matches' median interval as a bar, their median
    as a dot, the base rate's median as a tick and zero as a faint line."""
    interval = (stat.get("interval") or {}).get("median")
    base = (stat.get("baseline") or {}).get("median")
    if not interval:
        return {}
    values = [*interval, 0.0] + ([base] if base is not None else [])
    values += [stat["median"]] if stat.get("median") is not None else []
    low, high = min(values), max(values)
    span = (high - low) or 0.01
    low, high = low - span * 0.1, high + span * 0.1

    def x(value: float) -> float:
        return round(pad + (value - low) * (width - 2 * pad) / (high - low), 1)

    return {
        "width": width,
        "height": height,
        "lo_x": x(interval[0]),
        "bar_width": max(1.0, round(x(interval[1]) - x(interval[0]), 1)),
        "median_x": x(stat["median"]) if stat.get("median") is not None else None,
        "base_x": x(base) if base is not None else None,
        "zero_x": x(0.0),
    }
