"""Runs `Check`s through Great Expectations 1.x on a dataframe of per-sample summaries.

One ephemeral context per process (created on first use; importing GX costs ~3 s), one suite
and validation definition per distinct list of checks (cached), so a validation costs ~0.05 s.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from omnivec2.validation.checks import Check

_STATE: dict[str, Any] = {}
_DEFINITIONS: dict[str, Any] = {}
# Row positions, mapped back to sample ids by the caller.
_RESULT_FORMAT = {"result_format": "COMPLETE"}


@dataclass(frozen=True)
class CheckResult:
    check: Check
    success: bool
    element_count: int
    unexpected_positions: tuple[int, ...]  # row positions (row-level checks)
    details: dict  # GX's observed value / details (table-level checks), JSON-serialisable
    error: str | None = None  # GX raised while evaluating the expectation


def gx_version() -> str:
    import great_expectations as gx

    return gx.__version__


def _batch_definition() -> Any:
    if "batch" not in _STATE:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        asset = context.data_sources.add_pandas("omnivec2").add_dataframe_asset("sample_table")
        _STATE["context"] = context
        _STATE["batch"] = asset.add_batch_definition_whole_dataframe("whole_table")
    return _STATE["batch"]


def _gx_expectation(check: Check, index: int) -> Any:
    import great_expectations.expectations as gxe

    cls = getattr(gxe, "".join(part.capitalize() for part in check.type.split("_")))
    column = {"column": check.column} if check.column else {}
    return cls(**column, **check.kwargs, meta={"omnivec2_check": index})


def _definition(checks: list[Check]) -> Any:
    """The (cached) ValidationDefinition for this exact list of checks."""
    key = hashlib.sha256(
        json.dumps([[c.type, c.column, c.kwargs] for c in checks], sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    if key not in _DEFINITIONS:
        import great_expectations as gx

        batch = _batch_definition()
        context = _STATE["context"]
        suite = context.suites.add(gx.ExpectationSuite(name=f"omnivec2-{key}"))
        for index, check in enumerate(checks):
            suite.add_expectation(_gx_expectation(check, index))
        _DEFINITIONS[key] = context.validation_definitions.add(
            gx.ValidationDefinition(data=batch, suite=suite, name=f"omnivec2-{key}")
        )
    return _DEFINITIONS[key]


def run_checks(frame: pd.DataFrame, checks: list[Check]) -> list[CheckResult]:
    """Evaluate `checks` on `frame` (positional index expected); results in the order of `checks`."""
    return run_checks_with_result(frame, checks)[0]


def run_checks_with_result(frame: pd.DataFrame, checks: list[Check]) -> tuple[list[CheckResult], dict | None]:
    """`run_checks`, plus GX's own validation result as a JSON dict (None without checks): what its
    Data Docs render (`omnivec2.validation.data_docs`)."""
    if not checks:
        return [], None
    frame = frame.reset_index(drop=True)
    outcome = _definition(checks).run(batch_parameters={"dataframe": frame}, result_format=_RESULT_FORMAT)
    results: list[CheckResult | None] = [None] * len(checks)
    for gx_result in outcome.results:
        index = int(gx_result.expectation_config.meta["omnivec2_check"])
        raw = gx_result.to_json_dict()
        result = raw.get("result") or {}
        error = (raw.get("exception_info") or {}).get("exception_message") if not raw["success"] else None
        positions = tuple(int(p) for p in result.get("unexpected_index_list") or ())
        details = {k: v for k, v in result.items() if k in ("observed_value", "details", "missing_count", "partial_missing_list")}
        results[index] = CheckResult(
            checks[index], bool(raw["success"]), int(result.get("element_count", len(frame))), positions, details, error
        )
    return [r for r in results if r is not None], outcome.to_json_dict()
