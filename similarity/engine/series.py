"""The searchable market: every series' closes end to end, plus what the search precomputes.

A Market is a handful of flat arrays (closes, offsets, optional dates, a cached spectrum per
series). Saved, it is a folder of ``.npy`` files and a small ``meta.json``; loaded, every array is
memory-mapped read-only, so several processes share one copy in the page cache; built in memory,
they are read-only too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.fft

FORMAT_VERSION = 1
_ARRAYS = (
    "closes",
    "offsets",
    "dates",
    "center",
    "scale",
    "max_dev",
    "closes32",
    "fft_len",
    "spec_offsets",
    "spectra",
    "prefix_offsets",
    "prefix1",
    "prefix2",
    "ssd_prefix",
)
# Arrays a snapshot saved before they existed may lack; they are computed when it is loaded.
_DERIVED = ("prefix_offsets", "prefix1", "prefix2", "ssd_prefix")
# Window sums of squares must stay far from overflow; no price comes near this.
MAX_CLOSE = 1e12
# A fast FFT length shared by at least this many series gets its own batch; rarer lengths are
# rounded up onto a coarse ladder so that series of similar length are transformed together.
_OWN_LENGTH_MIN_SERIES = 32
# Closes between two stored prefix sums: a window's sums need at most 2 * (PREFIX_STEP - 1) closes
# added to two stored sums, and the stored sums take 16 / PREFIX_STEP bytes a close.
PREFIX_STEP = 4


def read_only(holder) -> None:
    """Make every array field of a frozen dataclass read-only, as its loaded memory maps are."""
    for value in vars(holder).values():
        if isinstance(value, np.ndarray):
            value.flags.writeable = False


class ReadOnlyArrays:
    """A market and its indexes never change once built: their arrays are read-only, whether
    built in memory, loaded (memory maps) or unpickled in another process (a pool's worker). So
    they have one numba type (``readonly``), each kernel compiles once for all of them, and a
    write by mistake raises instead of changing a search's data."""

    def __post_init__(self) -> None:
        read_only(self)

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        read_only(self)


def fft_lengths(lengths: np.ndarray) -> np.ndarray:
    """FFT length per series: one spectrum of that length serves every pattern length."""
    exact = np.array(
        [scipy.fft.next_fast_len(max(int(n), 1), real=True) for n in lengths], dtype=np.int64
    )
    values, counts = np.unique(exact, return_counts=True)
    common = values[counts >= _OWN_LENGTH_MIN_SERIES]
    rounded = _LADDER[np.searchsorted(_LADDER, np.maximum(lengths, 1))]
    return np.where(np.isin(exact, common), exact, rounded).astype(np.int64)


def _ladder(limit: int = 1 << 26) -> np.ndarray:
    steps = [16]
    while steps[-1] < limit:
        steps.append(scipy.fft.next_fast_len(int(steps[-1] * 1.06) + 1, real=True))
    return np.asarray(steps, dtype=np.int64)


_LADDER = _ladder()


@dataclass(frozen=True, eq=False)
class Market(ReadOnlyArrays):
    """Series of split-adjusted closes, oldest first, with ids and optional dates.

    ``closes[offsets[s]:offsets[s + 1]]`` is series ``s``. ``center``/``scale`` are each series'
    mean and root-mean-square deviation, ``max_dev`` the largest absolute deviation from the
    mean, ``closes32`` the closes minus their series' mean in float32. ``spectra`` holds the rFFT
    of each centred series at length ``fft_len[s]`` (complex64, ``fft_len[s] // 2 + 1`` bins
    from ``spec_offsets[s]``; ``spec_offsets[-1]`` is the total), so one spectrum serves every
    pattern length. ``prefix1[prefix_offsets[s] + c]`` is the sum of the first
    ``c * PREFIX_STEP`` centred closes of series ``s`` (``closes32`` in float64), ``prefix2`` the
    sum of their squares (``c`` from 0 to ``n // PREFIX_STEP``), from which the screen bounds the
    spread of every window of any length. ``ssd_prefix`` (same offsets) is the sum, over the first
    ``c`` blocks of PREFIX_STEP centred closes, of each block's squared deviations from its own
    mean: the block-sum screen bounds a window's dot product with it.
    """

    ids: tuple[str, ...]
    closes: np.ndarray
    offsets: np.ndarray
    dates: np.ndarray | None
    center: np.ndarray
    scale: np.ndarray
    max_dev: np.ndarray
    closes32: np.ndarray
    fft_len: np.ndarray
    spec_offsets: np.ndarray
    spectra: np.ndarray
    prefix_offsets: np.ndarray
    prefix1: np.ndarray
    prefix2: np.ndarray
    ssd_prefix: np.ndarray

    @classmethod
    def from_series(
        cls,
        series: Sequence[np.ndarray],
        ids: Sequence[str],
        dates: Sequence[np.ndarray] | None = None,
    ) -> Market:
        """Build a market from one array of closes per series.

        Parameters
        ----------
        series : sequence of array_like of float
            Each series' split-adjusted closes, oldest first; finite, within ±``MAX_CLOSE``.
        ids : sequence of str
            A unique id per series (a stock code).
        dates : sequence of array_like of datetime64[D], optional
            Each series' trading days, strictly increasing, one per close.

        Returns
        -------
        Market
            The closes end to end with their per-series statistics and cached spectra.

        Raises
        ------
        ValueError
            When the lengths disagree, an id repeats, a close is not finite or too large, or
            dates do not increase.
        """
        ids = tuple(str(i) for i in ids)
        arrays = _checked_series(series, ids)
        lengths = np.fromiter((len(a) for a in arrays), dtype=np.int64, count=len(arrays))
        offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        closes = np.concatenate(arrays) if arrays else np.zeros(0)
        all_dates = None if dates is None else _checked_dates(dates, ids, arrays)
        return cls(
            ids=ids,
            closes=closes,
            offsets=offsets,
            dates=all_dates,
            **_series_statistics(arrays, closes.shape[0], offsets, fft_lengths(lengths)),
        )

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def lengths(self) -> np.ndarray:
        """Closes per series (int64)."""
        return np.diff(self.offsets)

    @property
    def size(self) -> int:
        """Number of closes in the market."""
        return int(self.offsets[-1])

    @property
    def nbytes(self) -> int:
        return sum(
            getattr(self, name).nbytes for name in _ARRAYS if getattr(self, name) is not None
        )

    def index_of(self, series_id: str) -> int:
        """The index of the series with this id; KeyError when there is none."""
        try:
            return self._index[series_id]
        except KeyError:
            raise KeyError(f"unknown series {series_id!r}") from None

    @property
    def _index(self) -> dict[str, int]:
        cached = self.__dict__.get("_index_cache")
        if cached is None:
            cached = {sid: i for i, sid in enumerate(self.ids)}
            object.__setattr__(self, "_index_cache", cached)
        return cached

    def series_closes(self, s: int) -> np.ndarray:
        """The closes of series ``s`` (a view, float64)."""
        return self.closes[self.offsets[s] : self.offsets[s + 1]]

    def series_dates(self, s: int) -> np.ndarray | None:
        """The trading days of series ``s`` (datetime64[D]), or None for a market without dates."""
        if self.dates is None:
            return None
        return self.dates[self.offsets[s] : self.offsets[s + 1]]

    def save(self, folder: str | os.PathLike, *, prefix: str = "") -> Path:
        """Write the market as ``.npy`` files plus ``meta.json`` into ``folder``.

        Parameters
        ----------
        folder : str or os.PathLike
            Created if missing; ``meta.json`` is written last, so a folder holding it is whole.
        prefix : str, optional
            Put before every file name (``"week."``), so that several markets share a folder.

        Returns
        -------
        pathlib.Path
            The folder.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in _ARRAYS:
            value = getattr(self, name)
            if value is not None:
                np.save(
                    folder / f"{prefix}{name}.npy", np.ascontiguousarray(value), allow_pickle=False
                )
        meta = {
            "format": FORMAT_VERSION,
            "ids": list(self.ids),
            "has_dates": self.dates is not None,
            "series": len(self.ids),
            "closes": self.size,
        }
        # meta.json last: a folder with a meta.json is complete.
        tmp = folder / f"{prefix}meta.json.tmp"
        tmp.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, folder / f"{prefix}meta.json")
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike, *, prefix: str = "") -> Market:
        """Open a market written by :meth:`save`.

        Parameters
        ----------
        folder : str or os.PathLike
            The folder written by :meth:`save`.
        prefix : str, optional
            The prefix it was saved with.

        Returns
        -------
        Market
            Its arrays memory-mapped read-only (shared by every process that opens them).

        Raises
        ------
        ValueError
            When the folder holds another snapshot format.
        """
        folder = Path(folder)
        meta = json.loads((folder / f"{prefix}meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(f"{folder}: snapshot format {meta.get('format')} is not supported")
        arrays = {}
        for name in _ARRAYS:
            if name == "dates" and not meta["has_dates"]:
                arrays[name] = None
                continue
            path = folder / f"{prefix}{name}.npy"
            if name in _DERIVED and not path.exists():
                continue
            arrays[name] = np.load(path, mmap_mode="r", allow_pickle=False)
        if any(name not in arrays for name in _DERIVED):
            arrays.update(_prefix_sums(arrays["closes32"], arrays["offsets"]))
        return cls(ids=tuple(meta["ids"]), **arrays)


def _checked_series(series: Sequence[np.ndarray], ids: tuple[str, ...]) -> list[np.ndarray]:
    if len(ids) != len(series):
        raise ValueError(f"{len(series)} series but {len(ids)} ids")
    if len(set(ids)) != len(ids):
        raise ValueError("series ids must be unique")
    arrays = [np.asarray(s, dtype=np.float64).ravel() for s in series]
    for sid, values in zip(ids, arrays, strict=True):
        if not np.all(np.isfinite(values)):
            raise ValueError(f"series {sid!r} has NaN or infinite closes")
        if values.size and np.max(np.abs(values)) > MAX_CLOSE:
            raise ValueError(f"series {sid!r} has closes beyond {MAX_CLOSE:g}")
    return arrays


def _checked_dates(
    dates: Sequence[np.ndarray], ids: tuple[str, ...], arrays: list[np.ndarray]
) -> np.ndarray:
    if len(dates) != len(arrays):
        raise ValueError(f"{len(arrays)} series but {len(dates)} date arrays")
    date_arrays = [np.asarray(d, dtype="datetime64[D]").ravel() for d in dates]
    for sid, days, values in zip(ids, date_arrays, arrays, strict=True):
        if len(days) != len(values):
            raise ValueError(f"series {sid!r}: {len(values)} closes but {len(days)} dates")
        if len(days) > 1 and not np.all(days[1:] > days[:-1]):
            raise ValueError(f"series {sid!r}: dates must be strictly increasing")
    return np.concatenate(date_arrays) if date_arrays else np.zeros(0, dtype="datetime64[D]")


def _series_statistics(
    arrays: list[np.ndarray], size: int, offsets: np.ndarray, fft_len: np.ndarray
) -> dict[str, np.ndarray]:
    """Each series' mean, spread, centred float32 closes and rFFT spectrum (Market's fields)."""
    count = len(arrays)
    center = np.zeros(count)
    scale = np.zeros(count)
    max_dev = np.zeros(count)
    closes32 = np.empty(size, dtype=np.float32)
    # Spectra of series sharing an FFT length lie side by side, so that a block of them is
    # one 2-D view (no gather at search time).
    storage = np.lexsort((np.arange(count), fft_len))
    bins = fft_len[storage] // 2 + 1
    spec_offsets = np.zeros(count + 1, dtype=np.int64)
    spec_offsets[storage] = np.cumsum(bins) - bins
    spec_offsets[-1] = int(bins.sum())
    spectra = np.empty(int(spec_offsets[-1]), dtype=np.complex64)
    for s, values in enumerate(arrays):
        if len(values):
            center[s] = values.mean()
            centred = values - center[s]
            scale[s] = np.sqrt(np.mean(centred**2))
            max_dev[s] = np.max(np.abs(centred))
            closes32[offsets[s] : offsets[s + 1]] = centred
        start = spec_offsets[s]
        spectra[start : start + fft_len[s] // 2 + 1] = scipy.fft.rfft(
            values - center[s], n=int(fft_len[s])
        )
    return {
        "center": center,
        "scale": scale,
        "max_dev": max_dev,
        "closes32": closes32,
        "fft_len": fft_len,
        "spec_offsets": spec_offsets,
        "spectra": spectra,
        **_prefix_sums(closes32, offsets),
    }


def _prefix_sums(closes32: np.ndarray, offsets: np.ndarray) -> dict[str, np.ndarray]:
    """Every ``PREFIX_STEP``-th prefix sum of each series' centred closes and of their squares,
    accumulated in float64 close by close (Market's ``prefix1``, ``prefix2``)."""
    lengths = np.diff(offsets)
    prefix_offsets = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths // PREFIX_STEP + 1, out=prefix_offsets[1:])
    prefix1 = np.empty(int(prefix_offsets[-1]))
    prefix2 = np.empty(int(prefix_offsets[-1]))
    ssd_prefix = np.empty(int(prefix_offsets[-1]))
    for s in range(lengths.size):
        values = np.asarray(closes32[offsets[s] : offsets[s + 1]], dtype=np.float64)
        first = prefix_offsets[s]
        prefix1[first] = prefix2[first] = ssd_prefix[first] = 0.0
        count = values.size // PREFIX_STEP
        if count:
            whole = slice(PREFIX_STEP - 1, count * PREFIX_STEP, PREFIX_STEP)
            prefix1[first + 1 : first + 1 + count] = np.cumsum(values)[whole]
            prefix2[first + 1 : first + 1 + count] = np.cumsum(values * values)[whole]
            blocks = values[: count * PREFIX_STEP].reshape(count, PREFIX_STEP)
            deviations = blocks - blocks.mean(axis=1, keepdims=True)
            ssd_prefix[first + 1 : first + 1 + count] = np.cumsum((deviations**2).sum(axis=1))
    return {
        "prefix_offsets": prefix_offsets,
        "prefix1": prefix1,
        "prefix2": prefix2,
        "ssd_prefix": ssd_prefix,
    }
