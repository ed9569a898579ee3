"""UCR/UEA `.ts` files with `@timeStamps true`: each channel is a list of `(time,value)` pairs.

    (2007-01-01 00:00:00,241.97),(2007-01-01 00:00:02,?):(0,1.5),(3,2.0):label

Times are numbers or date-times (ISO 8601, as sktime writes them: they contain `:`, so channels are
split at `:` outside parentheses only); a value may be `?` or `NaN`; pairs may be out of order.
A sample is brought to `[channels, length]` on its own time axis, the sorted union of its channels'
time stamps (a channel has no value at a stamp of another channel: that value is missing):
* `missing`: "interpolate" (linear in time between the channel's known values, edges held; no known
  value: zeros) or "zero";
* `length_policy`: "resample" (linear in time at `length` evenly spaced instants from the first to
  the last stamp: irregular sampling becomes regular) or "pad" (the stamps as steps, zero-padded at
  the end or cropped keeping the start).
A file whose stamps are 0, 1, 2, ... in every channel reads exactly as the same file without stamps.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

from omnivec2.data.sources.series_shape import fit_channel

PAIR = re.compile(r"\(([^()]*)\)")


class TimedChannel(NamedTuple):
    """One channel of a timestamped sample: `times` float64 `[T]` ascending (numbers as written,
    date-times as seconds since 1970), `values` float32 `[T]` (NaN where missing)."""

    times: np.ndarray
    values: np.ndarray


def split_fields(line: str) -> list[str]:
    """A data line -> its `:`-separated fields, ignoring `:` inside parentheses (date-times)."""
    fields, depth, start = [], 0, 0
    for index, char in enumerate(line):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ":" and depth == 0:
            fields.append(line[start:index])
            start = index + 1
    return fields + [line[start:]]


def parse_times(texts: list[str]) -> np.ndarray:
    """Time stamps as written -> float64 `[T]`: numbers, else ISO date-times in seconds since 1970."""
    import pandas as pd

    try:
        return np.array(texts, dtype=np.float64)
    except ValueError:
        pass
    try:
        stamps = pd.to_datetime(pd.Series(texts), format="ISO8601")
    except (ValueError, TypeError) as error:
        raise ValueError(f"time stamps must all be numbers or all date-times ({error})") from None
    return stamps.to_numpy(dtype="datetime64[ns]").astype(np.int64) / 1e9


def parse_timed_channel(field: str) -> TimedChannel:
    """`(t,v),(t,v),...` -> TimedChannel sorted by time; ValueError for another layout, a repeated
    stamp or an unreadable value."""
    pairs = PAIR.findall(field)
    if not pairs or PAIR.sub("", field).replace(",", "").strip():
        raise ValueError(f"expected '(time,value)' pairs separated by ',', got {field.strip()[:60]!r}")
    split = [pair.rpartition(",") for pair in pairs]
    if any(not comma for _, comma, _ in split):
        raise ValueError(f"a pair without ',' between time and value in {field.strip()[:60]!r}")
    times = parse_times([t.strip() for t, _, _ in split])
    values = np.array([v.strip().replace("?", "nan") for _, _, v in split], dtype=np.float32)
    order = np.argsort(times, kind="stable")
    times, values = times[order], values[order]
    repeated = np.flatnonzero(np.diff(times) == 0)
    if len(repeated):
        raise ValueError(f"time stamp {split[order[repeated[0]]][0].strip()!r} appears twice in one channel")
    return TimedChannel(times, values)


def fit_timed_series(channels: list[TimedChannel], length: int, length_policy: str, missing: str) -> np.ndarray:
    """A timestamped sample (C channels) -> float32 `[C, length]` (see the module docstring)."""
    grid = np.unique(np.concatenate([c.times for c in channels]))  # [S] the sample's time axis
    rows = []
    for channel in channels:
        on_grid = np.full(len(grid), np.nan)
        on_grid[np.searchsorted(grid, channel.times)] = channel.values
        known = ~np.isnan(on_grid)
        if missing == "interpolate" and known.any():
            on_grid = np.interp(grid, grid[known], on_grid[known])  # in time; edges held
        on_grid = np.where(np.isnan(on_grid), 0.0, on_grid)
        if length_policy == "resample" and len(grid) > 1:
            rows.append(np.interp(np.linspace(grid[0], grid[-1], length), grid, on_grid))
        else:
            rows.append(fit_channel(on_grid, length, length_policy))  # pad / crop, or one stamp repeated
    return np.stack(rows).astype(np.float32)
