"""The final model in the MLflow model registry: the `@champion` alias, and back from a model URI to a
local checkpoint folder.

The model itself is logged and registered as an MLflow pyfunc by `omnivec2.serving.log_model`.
Evaluation then calls `promote_if_not_worse`: the new version takes the alias `champion` when it is
not worse than the version holding it, decided on each task's primary test metric (accuracy, mIoU,
retrieval rank-1, RMSE; signed so that higher is better, `signed_primary`):

    not worse  <=>  for every task both versions were scored on:  new >= champion - tolerance * |champion|

(`evaluation.champion_tolerance`, default 0.02: no shared task may lose more than 2 % of the champion's
figure). A first version, or one that shares no task with the champion (another dataset suite), takes
the alias. Every version carries its signed scores in the tag `primary_scores` (JSON) and the decision
in `champion_decision`, so the rule can be replayed from the registry alone.
"""

from __future__ import annotations

import json
from pathlib import Path

REGISTRY_PREFIX = "models:/"
CHAMPION = "champion"
SCORES_TAG, DECISION_TAG = "primary_scores", "champion_decision"
CHECKPOINT_ARTIFACT = "checkpoint"  # the pyfunc's artifact holding model.safetensors, config.json, tokenizers.json


def signed_primary(metrics: dict) -> dict[str, float]:
    """metrics.json -> {task: the model's primary metric, negated where lower is better}."""
    from omnivec2.evaluation.headline import PRIMARY

    scores = {}
    for task, entry in metrics["tasks"].items():
        name, higher = PRIMARY[entry["kind"]]
        value = entry["omnivec2"][name]
        scores[task] = float(value) if higher else -float(value)
    return scores


def not_worse(new: dict[str, float], champion: dict[str, float], tolerance: float) -> tuple[bool, str]:
    """The rule of the module docstring -> (decision, the reason in words)."""
    shared = sorted(set(new) & set(champion))
    if not shared:
        return True, "shares no task with the champion (another dataset suite): takes the alias"
    worse = [f"{t} {new[t]:.4g} < {champion[t]:.4g}" for t in shared
             if new[t] < champion[t] - tolerance * abs(champion[t])]
    if worse:
        return False, f"worse than the champion beyond tolerance {tolerance} on: " + "; ".join(worse)
    return True, f"not worse than the champion on any of the {len(shared)} shared tasks (tolerance {tolerance})"


def promote_if_not_worse(name: str, version: str, scores: dict[str, float], tolerance: float = 0.02) -> dict:
    """Tag version `version` of `name` with its `scores` and move `@champion` to it when it is not
    worse than the current champion -> {"champion": bool, "reason", "previous": version or None}."""
    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient(mlflow.get_tracking_uri())
    client.set_model_version_tag(name, version, SCORES_TAG, json.dumps(scores, sort_keys=True))
    try:
        current = client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:  # no version holds the alias yet
        current = None
    if current is None:
        promote, reason = True, "first version of the model: takes the alias"
    elif str(current.version) == str(version):
        promote, reason = True, "already the champion"
    else:
        promote, reason = not_worse(scores, json.loads(current.tags.get(SCORES_TAG, "{}")), tolerance)
    if promote:
        client.set_registered_model_alias(name, CHAMPION, version)
    client.set_model_version_tag(name, version, DECISION_TAG, reason)
    return {"champion": promote, "reason": reason, "previous": str(current.version) if current is not None else None}


def resolve_checkpoint(reference: str | Path, download_dir: str | Path | None = None) -> Path:
    """A checkpoint folder, a logged pyfunc model folder, or a model URI MLflow resolves
    (`models:/<name>@champion`, `models:/<name>/<version>`, `runs:/<run>/model`) -> a local folder
    with model.safetensors and config.json (and tokenizers.json for registered models)."""
    reference = str(reference)
    if reference.startswith((REGISTRY_PREFIX, "runs:/")):
        import mlflow

        local = mlflow.artifacts.download_artifacts(artifact_uri=reference,
                                                    dst_path=str(download_dir) if download_dir else None)
        return checkpoint_in(Path(local), reference)
    return checkpoint_in(Path(reference), reference)


def checkpoint_in(folder: Path, reference: str) -> Path:
    """The checkpoint folder itself, or the `checkpoint` artifact of the pyfunc model in `folder`."""
    if (folder / "MLmodel").is_file():
        import yaml

        flavor = (yaml.safe_load((folder / "MLmodel").read_text()).get("flavors") or {}).get("python_function") or {}
        artifact = (flavor.get("artifacts") or {}).get(CHECKPOINT_ARTIFACT)
        if artifact is None:
            raise FileNotFoundError(f"{reference}: an MLflow model without the omnivec2 {CHECKPOINT_ARTIFACT!r} artifact")
        folder = folder / artifact["path"]
    if not (folder / "config.json").is_file() or not (folder / "model.safetensors").is_file():
        raise FileNotFoundError(f"{reference}: not a checkpoint folder (needs model.safetensors and config.json)")
    return folder
