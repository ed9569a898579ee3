"""Bringing a read series to a dataset's declared `[channels, length]`: missing values, then length.

* `missing`: "interpolate" (linear along time between the known values, the edges filled with the
  nearest known value; a channel with no known value becomes zeros) or "zero" (missing -> 0).
* `length_policy`: "resample" (each channel linearly resampled to `length` steps, first and last
  step kept, as the UEA literature does for its unequal-length sets) or "pad" (zero-padded at the
  end, or cropped keeping the start).
"""

from __future__ import annotations

import numpy as np

LENGTH_POLICIES = ("resample", "pad")
MISSING_POLICIES = ("interpolate", "zero")


def fill_missing(channel: np.ndarray, policy: str) -> np.ndarray:
    """One channel `[T]` with NaN where a value is missing -> `[T]` float64 without NaN."""
    values = np.asarray(channel, dtype=np.float64)
    known = ~np.isnan(values)
    if known.all():
        return values
    if policy == "zero" or not known.any():
        return np.where(known, values, 0.0)
    steps = np.arange(len(values))
    return np.interp(steps, steps[known], values[known])  # np.interp holds the edge values beyond the ends


def fit_channel(channel: np.ndarray, length: int, policy: str) -> np.ndarray:
    """One channel `[T]` (no NaN) -> `[length]`: linear resampling or zero-pad / crop at the end."""
    values = np.asarray(channel, dtype=np.float64)
    if len(values) == length:
        return values
    if policy == "pad":
        out = np.zeros(length)
        out[: min(length, len(values))] = values[:length]
        return out
    if len(values) == 1:
        return np.full(length, values[0])
    return np.interp(np.linspace(0.0, len(values) - 1, length), np.arange(len(values)), values)


def fit_series(channels: list[np.ndarray], length: int, length_policy: str, missing: str) -> np.ndarray:
    """Channels (each `[T_c]`, NaN where missing; lengths may differ) -> float32 `[C, length]`."""
    return np.stack([fit_channel(fill_missing(c, missing), length, length_policy) for c in channels]).astype(np.float32)
