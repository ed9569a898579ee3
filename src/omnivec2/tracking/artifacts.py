"""Small MLflow helpers for nodes: metrics, JSON/dir artifacts, the run context handed to Ray loops."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Mapping
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any


def json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):  # numpy arrays/scalars, torch tensors
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=str)
    if isinstance(obj, Path):
        return str(obj)
    to_json = getattr(obj, "to_json_dict", None)  # Great Expectations results
    if callable(to_json):
        return to_json()
    return str(obj)


def _active_run_id() -> str | None:
    if "mlflow" not in sys.modules:  # no active run is possible without mlflow imported
        return None
    import mlflow

    run = mlflow.active_run()
    return run.info.run_id if run is not None else None


def stage_tracking_context() -> dict[str, str] | None:
    """``{"tracking_uri", "run_id"}`` of the active MLflow run, or None when no run is active.

    A plain dict, so it can travel in a Ray ``train_loop_config`` to a ``WorkerMetricLogger``.
    """
    run_id = _active_run_id()
    if run_id is None:
        return None
    import mlflow

    return {"tracking_uri": mlflow.get_tracking_uri(), "run_id": run_id}


def log_json_artifact(obj: Any, artifact_path: str, run_id: str | None = None) -> bool:
    """Write ``obj`` as JSON to the run's artifact ``artifact_path`` (e.g. ``validation/image.json``).

    Uses ``run_id`` or else the active run; returns False (and logs nothing) when there is neither.
    """
    run_id = run_id or _active_run_id()
    if run_id is None:
        return False
    import mlflow
    from mlflow.tracking import MlflowClient

    target = PurePosixPath(artifact_path)
    with tempfile.TemporaryDirectory(prefix="omnivec2-artifact-") as tmp:
        local = Path(tmp) / target.name
        local.write_text(json.dumps(obj, indent=2, sort_keys=True, default=json_default))
        parent = str(target.parent)
        MlflowClient(mlflow.get_tracking_uri()).log_artifact(
            run_id, str(local), artifact_path=None if parent in ("", ".") else parent
        )
    return True


def log_dir_artifacts(path: str | Path, artifact_path: str | None = None, run_id: str | None = None) -> bool:
    """Log every file under ``path`` to the run's ``artifact_path``; False when no run (or no dir)."""
    run_id = run_id or _active_run_id()
    local = Path(path)
    if run_id is None or not local.is_dir():
        return False
    import mlflow
    from mlflow.tracking import MlflowClient

    MlflowClient(mlflow.get_tracking_uri()).log_artifacts(run_id, str(local), artifact_path=artifact_path)
    return True


def log_files_artifacts(files: Mapping[str, bytes], artifact_path: str, run_id: str | None = None) -> bool:
    """Log ``files`` ({path relative to ``artifact_path``: bytes}, e.g. a static site) to the run's
    ``artifact_path``; False (nothing logged) when there is no run."""
    run_id = run_id or _active_run_id()
    if run_id is None:
        return False
    with tempfile.TemporaryDirectory(prefix="omnivec2-artifact-") as tmp:
        for name, content in files.items():
            local = Path(tmp) / name
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(content)
        return log_dir_artifacts(tmp, artifact_path, run_id)


def _flat_numbers(metrics: Mapping[str, Any], prefix: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.update(_flat_numbers(value, name))
            continue
        if isinstance(value, bool):
            value = float(value)
        try:
            number = float(value.item() if hasattr(value, "item") else value)
        except (TypeError, ValueError):
            continue  # strings, lists, None: not metrics
        if not math.isnan(number):
            out[name] = number
    return out


def log_metrics_flat(
    metrics: Mapping[str, Any], prefix: str = "", step: int | None = None, run_id: str | None = None
) -> int:
    """Log a nested dict of numbers as ``prefix.a.b`` metrics; non-numbers and NaN are skipped.

    Uses ``run_id`` or else the active run; returns how many metrics were logged (0 without a run).
    """
    run_id = run_id or _active_run_id()
    if run_id is None:
        return 0
    import mlflow
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    from omnivec2.tracking.tags import _clean_key

    flat = _flat_numbers(metrics, prefix)
    now = int(time.time() * 1000)
    entries = [Metric(key=_clean_key(k), value=v, timestamp=now, step=step or 0) for k, v in flat.items()]
    client = MlflowClient(mlflow.get_tracking_uri())
    for start in range(0, len(entries), 1000):
        client.log_batch(run_id, metrics=entries[start : start + 1000])
    return len(entries)


def log_figure_artifact(figure: Any, artifact_file: str, run_id: str | None = None) -> bool:
    """Save a matplotlib figure as the run's artifact ``artifact_file`` (e.g. ``plots/curves.png``)."""
    run_id = run_id or _active_run_id()
    if run_id is None:
        return False
    import mlflow
    from mlflow.tracking import MlflowClient

    MlflowClient(mlflow.get_tracking_uri()).log_figure(run_id, figure, artifact_file)
    return True
