"""The final model in the MLflow model registry, and back: register a checkpoint folder logged to a
run, and resolve `models:/<name>/<version|latest>` to a local checkpoint folder."""

from __future__ import annotations

import json
from pathlib import Path

REGISTRY_PREFIX = "models:/"


def register_checkpoint(checkpoint_dir: str | Path, name: str, run_id: str, artifact_path: str = "model",
                        tokenizer_stats: dict | None = None) -> str:
    """Log `checkpoint_dir` (model.safetensors + config.json, and `tokenizers.json` from
    `tokenizer_stats`: {modality: fit statistics}, which inference needs) under the run's
    `artifact_path` and register it as a new version of `name`, tagged with the model config -> the version."""
    import tempfile

    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient(mlflow.get_tracking_uri())
    files = [p for p in Path(checkpoint_dir).iterdir() if p.name in ("model.safetensors", "config.json")]
    for path in files:
        client.log_artifact(run_id, str(path), artifact_path=artifact_path)
    if tokenizer_stats is not None:
        with tempfile.TemporaryDirectory() as scratch:
            stats_file = Path(scratch) / "tokenizers.json"
            stats_file.write_text(json.dumps(tokenizer_stats))
            client.log_artifact(run_id, str(stats_file), artifact_path=artifact_path)
    try:
        client.create_registered_model(name, description="OmniVec2 multitask model (omnivec2 train_multitask)")
    except MlflowException as error:
        if "RESOURCE_ALREADY_EXISTS" not in str(error.error_code):
            raise
    source = f"{client.get_run(run_id).info.artifact_uri}/{artifact_path}"
    config = json.loads((Path(checkpoint_dir) / "config.json").read_text())
    summary = {"modalities": ",".join(m["name"] for m in config.get("modalities", [])),
               "dim_f": str(config.get("dim_f")), "depth_f": str(config.get("depth_f"))}
    version = client.create_model_version(name, source, run_id=run_id, tags=summary)
    return str(version.version)


def resolve_checkpoint(reference: str | Path, download_dir: str | Path | None = None) -> Path:
    """A checkpoint folder path, or `models:/<name>/<version>` / `models:/<name>/latest` (downloaded
    from the registry's artifact store) -> a local folder with model.safetensors and config.json."""
    reference = str(reference)
    if not reference.startswith(REGISTRY_PREFIX):
        path = Path(reference)
        if not (path / "config.json").is_file() or not (path / "model.safetensors").is_file():
            raise FileNotFoundError(f"{path}: not a checkpoint folder (needs model.safetensors and config.json)")
        return path
    import mlflow
    from mlflow.tracking import MlflowClient

    name, _, version = reference[len(REGISTRY_PREFIX):].partition("/")
    client = MlflowClient(mlflow.get_tracking_uri())
    if version in ("", "latest"):
        versions = client.search_model_versions(f"name='{name}'")
        if not versions:
            raise LookupError(f"no registered model named {name!r} in {mlflow.get_tracking_uri()}")
        version = str(max(int(v.version) for v in versions))
    source = client.get_model_version(name, version).source
    local = mlflow.artifacts.download_artifacts(artifact_uri=source, dst_path=str(download_dir) if download_dir else None)
    return Path(local)
