"""`validate_sample_table`: a dataset's sample table through its Great Expectations suite."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from omnivec2.datasets.spec import DatasetSpec
from omnivec2.validation.checks import (DENSE_DECODES, NAN_PLACED, NOT_DEGENERATE, PYTHON_CHECKS, REQUIRED_SPLITS,
                                        SOURCE_READ, Check, checks_for)
from omnivec2.validation.decode import (degenerate_rows, misplaced_nan_rows, source_problem_rows, undecodable_dense_rows,
                                        undecodable_rows)
from omnivec2.validation.gx_runner import CheckResult, gx_version, run_checks_with_result
from omnivec2.validation.report import (MAX_EXAMPLES, cell_value, source_report, class_balance, example_ids,
                                        example_values, failure_message, pixel_balance, row_counts)

# Checks whose failing cells say what is wrong (a value out of range or set, a shape): the message
# shows them beside the sample ids.
VALUE_CHECKS = ("expect_column_values_to_be_between", "expect_column_values_to_be_in_set",
                "expect_column_values_to_match_regex")


class ValidationFailed(ValueError):
    """The table failed its suite; `.report` is the full report, `.dataset` the dataset's name,
    `.gx_result` GX's own validation result (JSON dict, for the Data Docs)."""

    def __init__(self, dataset: str, report: dict, gx_result: dict | None = None) -> None:
        self.dataset = dataset
        self.report = report
        self.gx_result = gx_result
        super().__init__(failure_message(dataset, report["expectations"]))


@dataclass
class ValidationOutcome:
    valid: pd.DataFrame  # rows that pass every check
    quarantined: pd.DataFrame  # failing rows (quarantine mode) with a `reason` column
    report: dict  # JSON-serialisable
    gx_result: dict | None = None  # GX's validation result of the summaries (JSON dict): the Data Docs' input


def validate_sample_table(table: pd.DataFrame, spec: DatasetSpec, *, mode: str = "fail") -> ValidationOutcome:
    """Check every sample's summaries (GX) and payload bytes (Python) against `spec`.

    mode="fail": any failure raises `ValidationFailed`. mode="quarantine": rows failing a row-level
    check move to `quarantined` with their reasons; table-level failures (missing columns, no train
    or test samples, also after quarantine) still raise.
    """
    if mode not in ("fail", "quarantine"):
        raise ValueError(f"mode must be 'fail' or 'quarantine', not {mode!r}")
    table = table.reset_index(drop=True)
    checks = checks_for(spec, list(table.columns))
    # GX sees only the scalar summaries; byte columns (payload, dense targets) are replaced by
    # cheap stand-ins so the column-set check still sees them (dense: nulls stay null for not_null).
    summaries = table.assign(payload=table["payload"].notna()) if "payload" in table.columns else table
    dense = [t.name for t in spec.tasks if t.kind == "dense" and t.name in table.columns]
    summaries = summaries.assign(**{c: table[c].map(_stand_in) for c in dense})
    results, gx_result = run_checks_with_result(summaries, [c for c in checks if c.type not in PYTHON_CHECKS])
    results += [_decode_result(table, spec, c) for c in checks if c.type in PYTHON_CHECKS]
    entries = [_entry(table, r) for r in results]

    row_failures = [e for e in entries if not e["success"] and e["level"] == "row"]
    table_failures = [e for e in entries if not e["success"] and e["level"] == "table"]
    reasons = _row_reasons(table, results)
    bad = sorted(reasons) if mode == "quarantine" else []
    valid = table.drop(index=bad).reset_index(drop=True)
    quarantined = table.loc[bad].assign(reason=[reasons[i] for i in bad]).reset_index(drop=True)

    if mode == "quarantine" and not table_failures and bad:
        entries.append(_splits_left_entry(valid))

    report = {
        "dataset": spec.name,
        "modality": spec.modality,
        "mode": mode,
        "success": not row_failures and not table_failures,
        "great_expectations_version": gx_version(),
        "expectations": entries,
        "row_counts": row_counts(table, valid, quarantined),
        "classes": {t.name: list(t.classes) for t in spec.tasks if t.classes},  # names of the indices below
        "class_balance": class_balance(valid, spec),
        **({"pixel_balance": pixel_balance(valid, spec)} if any(t.kind == "dense" for t in spec.tasks) else {}),
        "quarantine_reasons": _reason_counts(quarantined),
        **source_report(table),
    }
    must_raise = any(not e["success"] and e["level"] == "table" for e in entries) or (row_failures and mode == "fail")
    if must_raise:
        raise ValidationFailed(spec.name, report, gx_result)
    return ValidationOutcome(valid=valid, quarantined=quarantined, report=report, gx_result=gx_result)


def _stand_in(value: object) -> bool | None:
    """A dense target's bytes -> True, a missing one -> None."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return True
    return None if value is None or value is pd.NA or (isinstance(value, float) and value != value) else True


def _decode_result(table: pd.DataFrame, spec: DatasetSpec, check: Check) -> CheckResult:
    if check.type == DENSE_DECODES:
        problems = undecodable_dense_rows(table, spec, check.column)
    elif check.type == NAN_PLACED:
        problems = misplaced_nan_rows(table, spec)
    elif check.type == SOURCE_READ:
        problems = source_problem_rows(table)
    elif check.type == NOT_DEGENERATE:
        problems = degenerate_rows(table, spec)
    else:
        problems = undecodable_rows(table)
    return CheckResult(check, not problems, len(table), tuple(sorted(problems)), {"problems": problems})


def _entry(table: pd.DataFrame, result: CheckResult) -> dict:
    check = result.check
    entry = {
        "expectation": check.type,
        "column": check.column,
        "level": "row" if check.row_level else "table",
        "kwargs": check.kwargs,
        "success": result.success,
        "element_count": result.element_count,
        "unexpected_count": len(result.unexpected_positions),
        "examples": example_ids(table, result.unexpected_positions),
    }
    if result.error:
        entry["error"] = result.error
    if check.type == SOURCE_READ and result.unexpected_positions:  # what is wrong with each file, in the message
        entry["problems"] = [result.details["problems"][p] for p in result.unexpected_positions[:MAX_EXAMPLES]]
    elif check.type in VALUE_CHECKS and result.unexpected_positions and check.column in table:
        # the failing examples' values, so that the message says what is wrong, not only where
        entry["values"] = example_values(table, result.unexpected_positions, check.column)
    if not check.row_level:
        entry["problem"] = _table_problem(check, result)
    return entry


def _table_problem(check: Check, result: CheckResult) -> str | None:
    if result.success:
        return None
    if check.type == "expect_table_columns_to_match_set":
        missing = (result.details.get("details") or {}).get("mismatched", {}).get("missing", [])
        return f"missing column(s) {sorted(missing)}"
    if check.type == "expect_column_distinct_values_to_contain_set":
        return f"no samples in split(s) {sorted(result.details.get('partial_missing_list') or [])}"
    return str(result.details)


def _splits_left_entry(valid: pd.DataFrame) -> dict:
    """After quarantine the remaining rows must still hold train and test samples."""
    missing = sorted(set(REQUIRED_SPLITS) - set(valid["split"].astype(str)))
    return {
        "expectation": "expect_column_distinct_values_to_contain_set",
        "column": "split",
        "level": "table",
        "kwargs": {"value_set": list(REQUIRED_SPLITS), "after_quarantine": True},
        "success": not missing,
        "element_count": int(len(valid)),
        "unexpected_count": 0,
        "examples": [],
        "problem": f"no samples left in split(s) {missing} after quarantine" if missing else None,
    }


def _row_reasons(table: pd.DataFrame, results: list[CheckResult]) -> dict[int, str]:
    """Row position -> '; '-joined reasons over every failing row-level check."""
    reasons: dict[int, list[str]] = {}
    for result in results:
        check = result.check
        if not check.row_level or result.success:
            continue
        problems = result.details.get("problems", {}) if check.type in PYTHON_CHECKS else {}
        for position in result.unexpected_positions:
            if check.type in PYTHON_CHECKS:
                detail = problems[position]
            else:
                value = table[check.column].iloc[position]
                detail = f"value {cell_value(value)!r}"
            reasons.setdefault(position, []).append(f"{check.type} on {check.column!r}: {detail}")
    return {position: "; ".join(texts) for position, texts in reasons.items()}


def _reason_counts(quarantined: pd.DataFrame) -> dict:
    counts: dict[str, int] = {}
    for reason in quarantined.get("reason", []):
        for part in reason.split("; "):
            key = part.split(":")[0]
            counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))
