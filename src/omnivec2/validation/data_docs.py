"""Great Expectations Data Docs of the validations that ingestion ran: one expectation suite and one
validation result per dataset, rendered by GX's own site builder into static HTML.

The results come from `validate_sample_table` (`ValidationOutcome.gx_result`, also on
`ValidationFailed`), so the docs show exactly what was checked, without validating again. GX renders
them in a throw-away file-backed context; the site is returned as files (path relative to the site
-> bytes) for the caller to write. It builds offline; the pages load their CSS and scripts from a
CDN, so without network they show unstyled (all the text and tables are in the HTML).

Only the checks that GX evaluates appear (the payload decoding checks are Python and are in the
JSON report, `validation/<dataset>.json`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

SITE = "local_site"


def build_data_docs(results: dict[str, dict | None]) -> dict[str, bytes]:
    """`results`: dataset name -> its GX validation result (JSON dict; None: nothing was checked by
    GX) -> the Data Docs site: {"index.html": ..., "validations/<dataset>/...html": ...,
    "expectations/<dataset>.html": ..., "static/...": ...}."""
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.data_context.types.resource_identifiers import (ExpectationSuiteIdentifier,
                                                                             ValidationResultIdentifier)

    with tempfile.TemporaryDirectory(prefix="omnivec2-gx-") as tmp:
        context = gx.get_context(mode="file", project_root_dir=tmp)
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        for dataset, result in sorted(results.items()):
            if result is None:
                continue
            _check_result(dataset, result)
            expectations = [entry["expectation_config"] for entry in result["results"]]
            context.suites.add(gx.ExpectationSuite(name=dataset, expectations=expectations,
                                                   meta={"omnivec2_dataset": dataset}))
            meta = {**result.get("meta", {})}
            meta["active_batch_definition"] = {**meta.get("active_batch_definition", {}), "data_asset_name": dataset}
            validation = ExpectationSuiteValidationResult(
                success=result["success"], results=result["results"], suite_name=dataset,
                suite_parameters=result.get("suite_parameters"), statistics=result.get("statistics"), meta=meta)
            run_time = (meta.get("run_id") or {}).get("run_time")
            key = ValidationResultIdentifier(ExpectationSuiteIdentifier(name=dataset),
                                             RunIdentifier(run_name="ingestion", run_time=run_time), "sample_table")
            context.validation_results_store.set(key, validation)
        context.build_data_docs(site_names=[SITE])
        site = Path(tmp) / "gx" / "uncommitted" / "data_docs" / SITE
        if not (site / "index.html").is_file():
            raise RuntimeError(f"Great Expectations built no Data Docs index in {site}")
        return {path.relative_to(site).as_posix(): path.read_bytes() for path in sorted(site.rglob("*")) if path.is_file()}


def validation_pages(files: dict[str, bytes]) -> dict[str, str]:
    """Each dataset's validation page in a site from `build_data_docs`: {dataset: relative path}."""
    pages = {}
    for name in sorted(files):
        parts = name.split("/")
        if parts[0] == "validations" and name.endswith(".html"):
            pages[parts[1]] = name
    return pages


def _check_result(dataset: str, result: dict) -> None:
    missing = [key for key in ("success", "results") if key not in result]
    if missing:
        raise ValueError(f"dataset {dataset!r}: the Great Expectations result lacks {missing}; expected "
                         "ValidationOutcome.gx_result (a validation result's to_json_dict())")
