"""Plain-Python payload check: the bytes must be exactly `prod(shape) * itemsize` long and match `nbytes`.

GX sees only the summary columns; this catches truncated or padded payloads whose summaries lie.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import parse_shape


def payload_problem(payload: object, dtype: object, shape: object, nbytes: object) -> str | None:
    """Why one payload cannot be decoded, or None when it can."""
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        return f"payload is {type(payload).__name__}, not bytes"
    try:
        expected = int(np.prod(parse_shape(shape))) * np.dtype(str(dtype)).itemsize
    except (TypeError, ValueError):
        return f"cannot interpret shape {shape!r} / dtype {dtype!r}"
    if len(payload) != expected:
        return f"payload holds {len(payload)} bytes, shape {shape} of {dtype} needs {expected}"
    if nbytes != len(payload):
        return f"nbytes says {nbytes}, payload holds {len(payload)} bytes"
    return None


def undecodable_rows(table: pd.DataFrame) -> dict[int, str]:
    """Row positions -> problem, for every payload that does not decode."""
    problems = {}
    columns = zip(table["payload"], table["dtype"], table["shape"], table["nbytes"])
    for position, (payload, dtype, shape, nbytes) in enumerate(columns):
        problem = payload_problem(payload, dtype, shape, nbytes)
        if problem is not None:
            problems[position] = problem
    return problems
