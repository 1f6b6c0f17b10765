"""A pattern: what a search looks for, checked and z-normalised.

The limits of what the engine can search (``MIN_LENGTH`` to ``MAX_LENGTH`` prices, finite, not
flat) are defined here once; the search, latest mode and the base-rate index read them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

MIN_LENGTH = 5
MAX_LENGTH = 500


class PatternError(ValueError):
    """The pattern cannot be searched; the message says why."""


def normalize_pattern(pattern: ArrayLike) -> np.ndarray:
    """Validate a pattern and return it z-normalised (population standard deviation).

    Parameters
    ----------
    pattern : array_like of float
        ``MIN_LENGTH`` to ``MAX_LENGTH`` prices, oldest first, of any magnitude.

    Returns
    -------
    numpy.ndarray of float64
        The pattern minus its mean, over its standard deviation.

    Raises
    ------
    PatternError
        When the pattern is not a flat list of numbers, is too short or too long, holds NaN or
        infinite values, or is flat.
    """
    try:
        q = np.asarray(pattern, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise PatternError("the pattern must be a list of numbers") from exc
    if q.ndim != 1:
        raise PatternError("the pattern must be a one-dimensional list of prices")
    return normalize_patterns(q[None, :])[0]


def normalize_patterns(patterns: np.ndarray) -> np.ndarray:
    """Validate patterns of one length (one per row) and return them z-normalised, row by row.

    Raises PatternError, naming the first bad row when there are several.
    """
    q = np.asarray(patterns, dtype=np.float64)
    count, m = q.shape
    where = "" if count == 1 else " (pattern {row})"
    if m < MIN_LENGTH:
        raise PatternError(f"the pattern has {m} prices; at least {MIN_LENGTH} are needed")
    if m > MAX_LENGTH:
        raise PatternError(f"the pattern has {m} prices; at most {MAX_LENGTH} are allowed")
    finite = np.isfinite(q).all(axis=1)
    if not finite.all():
        row = int(np.argmin(finite))
        raise PatternError("the pattern contains NaN or infinite values" + where.format(row=row))
    # z-normalisation ignores scale: bring the values near 1 first, so that prices of 1e200 do
    # not overflow when squared and prices of 1e-300 do not vanish.
    peak = np.abs(q).max(axis=1, keepdims=True)
    q = q / np.where(peak > 0, peak, 1.0)
    q = q - q.mean(axis=1, keepdims=True)
    sd = np.sqrt(np.mean(q * q, axis=1, keepdims=True))
    # A pattern whose spread is lost in rounding is as flat as one whose values are all equal.
    flat = sd[:, 0] <= 1e-12
    if flat.any():
        row = int(np.argmax(flat))
        raise PatternError("the pattern is flat: all its values are equal" + where.format(row=row))
    return q / sd
