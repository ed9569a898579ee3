"""The UCR 2018 archive's `.tsv` files (`<Name>_TRAIN.tsv`, `<Name>_TEST.tsv`), read by `ts_file`.

One univariate series per line, tab-separated, the class label first, no header. The archive pads
the shorter series of its variable-length sets with `NaN` at the end: trailing `NaN` are padding
and are dropped (the source's `length_policy` then brings every series to the declared length),
while a `NaN` inside a series is a missing value, left to the source's `missing` policy.
"""

from __future__ import annotations

import numpy as np

from omnivec2.data.sources.common import is_number


def parse_tsv(text: str, name: str, channels: int | None = None) -> tuple[list[list[np.ndarray]], list[str]]:
    """Text of a UCR `.tsv` file -> (series, labels `[B]`), as `ts_file.parse_ts` returns them: each
    sample a list of one channel, float32 `[T]` (its own length, trailing padding removed); `name` is
    used in errors. ValueError naming the file and line of the problem, or when `channels` is not 1."""
    if channels is not None and channels != 1:
        raise ValueError(f"{name}: a UCR .tsv file holds univariate series (1 channel); the dataset declares "
                         f"{channels} channels (multivariate series come as .ts files)")
    series, labels = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        label, *fields = raw.rstrip("\r\n").split("\t")
        if not fields or not label.strip():
            raise ValueError(f"{name}, line {number}: expected '<label>\\t<value>\\t<value>...', got {raw[:60]!r}")
        try:
            values = np.array([field.strip() for field in fields], dtype=np.float32)
        except ValueError:
            bad = next(field for field in fields if not is_number(field))
            raise ValueError(f"{name}, line {number}: value {bad!r} is not a number") from None
        known = np.flatnonzero(~np.isnan(values))
        if not len(known):
            raise ValueError(f"{name}, line {number}: the series has no values (all NaN)")
        series.append([values[: known[-1] + 1]])
        labels.append(label.strip())
    if not series:
        raise ValueError(f"{name}: no samples")
    return series, labels
