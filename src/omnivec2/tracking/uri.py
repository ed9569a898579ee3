"""Where MLflow runs are stored: tracking URIs that survive a change of working directory.

Ray workers run with their own working directory, so a relative ``sqlite:///mlflow.db`` would
open a different (empty) database in each worker. Everything here returns absolute URIs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

DEFAULT_DB_NAME = "mlflow.db"
DEFAULT_EXPERIMENT = "omnivec2"
_SQLITE_PREFIX = "sqlite:///"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def resolve_tracking_uri(uri: str | None, project_root: Path) -> str:
    """Return an absolute MLflow tracking URI.

    Precedence: the environment variable ``MLFLOW_TRACKING_URI`` (when set and non-empty), then
    ``uri``, then ``sqlite:///<project_root>/mlflow.db``. Relative sqlite paths (and bare local
    paths) are resolved against ``project_root``; ``http(s)://``, ``databricks`` and absolute
    sqlite URIs pass through unchanged.
    """
    env_uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    chosen = env_uri or (uri or "").strip()
    root = Path(project_root).expanduser().resolve()
    if not chosen:
        return f"{_SQLITE_PREFIX}{root / DEFAULT_DB_NAME}"
    if chosen.startswith(_SQLITE_PREFIX):
        rest = chosen[len(_SQLITE_PREFIX) :]
        path_part, sep, query = rest.partition("?")
        if not path_part or path_part == ":memory:" or path_part.startswith("/"):
            return chosen  # absolute (sqlite:////abs/path.db) or in-memory
        absolute = (root / path_part).resolve()
        return f"{_SQLITE_PREFIX}{absolute}{sep}{query}"
    if _SCHEME.match(chosen) or chosen.startswith("databricks"):
        return chosen  # http://, https://, file://, postgresql://, databricks://, ...
    if chosen.startswith("file:"):
        return chosen
    # A bare path means MLflow's file store (disabled by default since MLflow 3.x); keep it absolute.
    return (root / chosen).resolve().as_uri()


def sqlite_db_path(tracking_uri: str) -> Path | None:
    """The database file of an absolute sqlite tracking URI, else None."""
    if not tracking_uri.startswith(_SQLITE_PREFIX):
        return None
    path_part = tracking_uri[len(_SQLITE_PREFIX) :].partition("?")[0]
    if not path_part.startswith("/"):
        return None
    return Path(path_part)


def _artifact_root(root: str | None, experiment_name: str) -> str | None:
    if not root:
        return None
    safe = re.sub(r"[^\w.\-]+", "_", experiment_name).strip("._") or "experiment"
    return f"{root.rstrip('/')}/{safe}"


def default_artifact_location(tracking_uri: str, experiment_name: str) -> str | None:
    """Artifact root for a new experiment.

    For an embedded sqlite store MLflow would otherwise put artifacts under ``./mlruns`` of
    whatever the working directory happens to be; pin them next to the database instead
    (``<db dir>/mlartifacts/<experiment>``). For a tracking server, let the server decide.
    """
    db = sqlite_db_path(tracking_uri)
    if db is None:
        return None
    safe = re.sub(r"[^\w.\-]+", "_", experiment_name).strip("._") or "experiment"
    return (db.parent / "mlartifacts" / safe).as_uri()


def ensure_experiment(tracking_uri: str, experiment_name: str = DEFAULT_EXPERIMENT,
                      artifact_location: str | None = None) -> str:
    """Point MLflow at ``tracking_uri`` and make ``experiment_name`` current; return its id.

    A new experiment on an embedded sqlite store keeps its artifacts next to the database
    (``default_artifact_location``), whatever the working directory, unless ``artifact_location``
    names a root for them (``s3://bucket/prefix``: the experiment's artifacts go to
    ``<root>/<experiment>``, through boto3 with MLFLOW_S3_ENDPOINT_URL and the AWS_* variables).
    An existing experiment keeps the location it was created with.
    """
    db = sqlite_db_path(tracking_uri)
    if db is None:
        return _ensure_experiment(tracking_uri, experiment_name, artifact_location)
    # Two runs opening a new sqlite store at once (two `dvc queue` workers) would both create its
    # tables and one fails half-way through a migration: the first to come creates it, the other waits.
    from filelock import FileLock

    db.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(db) + ".lock", timeout=300):
        return _ensure_experiment(tracking_uri, experiment_name, artifact_location)


def _ensure_experiment(tracking_uri: str, experiment_name: str, artifact_location: str | None) -> str:
    import mlflow

    # mlflow.set_tracking_uri also exports MLFLOW_TRACKING_URI; undo that, or the next
    # resolve_tracking_uri in this process (a second Kedro session, a notebook, a test) would take
    # this URI for one the user set.
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(tracking_uri)
    if previous is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = previous
    client = mlflow.tracking.MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is None:
        try:
            experiment_id = client.create_experiment(
                experiment_name,
                artifact_location=_artifact_root(artifact_location, experiment_name)
                or default_artifact_location(tracking_uri, experiment_name),
            )
        except Exception:  # created concurrently by another process: look it up again
            experiment = client.get_experiment_by_name(experiment_name)
            if experiment is None:
                raise
            experiment_id = experiment.experiment_id
    else:
        experiment_id = experiment.experiment_id
        if experiment.lifecycle_stage == "deleted":
            client.restore_experiment(experiment_id)
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id
