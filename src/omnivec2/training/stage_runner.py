"""From pipeline parameters to a launched stage: model config from the cache manifests, chaining
each stage to the previous stage's checkpoint, and the skip switch (ablation: no stage 1 / 2)."""

from __future__ import annotations

from pathlib import Path

from omnivec2.config_checks import check_keys, did_you_mean
from omnivec2.datasets import resolve_datasets
from omnivec2.datasets.pairing import with_contrastive_pairs
from omnivec2.model.config import ModalityConfig, ModelConfig, TaskConfig, preset
from omnivec2.tokens.patches import pixel_grid
from omnivec2.tokens.spectrogram import spectrogram_grid
from omnivec2.training.augment import AUGMENTATIONS
from omnivec2.training.config import STAGES, TrainConfig
from omnivec2.training.stage_launch import StageLaunch


# The keys a stage's and the model's parameter blocks may have; anything else is a typo that would
# otherwise be ignored silently (e.g. `trainng:`), so it is refused naming the key.
STAGE_KEYS = ("enabled", "training", "modalities")
MODEL_KEYS = ("preset", "overrides", "modalities")


def project_path(path: str | Path) -> Path:
    """Relative paths in the parameters are relative to the project root (where kedro/dvc run);
    Ray workers change their working directory, so everything they get is made absolute here."""
    path = Path(path)
    return path if path.is_absolute() else (Path.cwd() / path).resolve()


def model_config_from_manifests(model_params: dict, manifests: list[dict]) -> ModelConfig:
    """The preset, its overrides, and one ModalityConfig per cached dataset (from its manifest)."""
    check_keys("model", model_params, MODEL_KEYS)
    try:
        base = preset(model_params.get("preset", "cpu"), **(model_params.get("overrides") or {}))
    except (TypeError, ValueError) as error:
        where = "model.overrides" if "option" in str(error) else "model.preset"
        raise ValueError(f"{where}: {error}") from None
    stream_overrides = model_params.get("modalities") or {}
    unknown = set(stream_overrides) - {m["dataset"] for m in manifests}
    if unknown:
        raise ValueError(f"model.modalities names {sorted(unknown)}, which are not among the cached datasets "
                         f"{sorted(m['dataset'] for m in manifests)}")
    return base.with_modalities([stream_config(m, **stream_overrides.get(m["dataset"], {})) for m in manifests])


def stream_config(manifest: dict, **overrides) -> ModalityConfig:
    """A token cache's manifest (token shape, stream description, tasks) -> the network's ModalityConfig."""
    n, p = manifest["token_shape"]
    stream = manifest["stream"]
    tokenizer = manifest.get("tokenizer", {}).get("config", {})
    tasks = tuple(TaskConfig(t["name"], t["kind"], t["num_classes"], t.get("outputs_per_token", 1),
                             tuple(t.get("classes") or ()), t.get("ignore_index")) for t in manifest["tasks"])
    fields = dict(name=manifest["dataset"], modality=stream["modality"], num_tokens=n, token_dim=p,
                  embedding=stream["embedding"], mask_ratio=stream["mask_ratio"], mask_strategy=stream["mask_strategy"],
                  tube_period=stream["tube_period"], norm_targets=stream["norm_targets"],
                  reconstruction=stream["reconstruction"], vocab_size=stream["vocab_size"], tasks=tasks,
                  column_vocab=tuple(stream.get("column_vocab", ())), missing_values=stream.get("missing_values", False),
                  own_vocabulary=stream.get("own_vocabulary", False),
                  spectrogram_grid=spectrogram_grid(tokenizer),
                  pixel_grid=pixel_grid(tokenizer, (n, p), stream.get("settings") or {}))
    fixed = {"name", "modality", "num_tokens", "token_dim", "tasks", "column_vocab", "missing_values",
             "own_vocabulary", "spectrogram_grid", "pixel_grid"}  # the cache's
    unknown = set(overrides) - set(fields) | (fixed & set(overrides))
    if unknown:
        raise ValueError(f"model.modalities.{manifest['dataset']}: cannot override {sorted(unknown)}")
    return ModalityConfig(**{**fields, **overrides})


def train_config(stage: str, stage_params: dict) -> TrainConfig:
    """The stage's TrainConfig from its parameter block (ValueError naming the stage and the key)."""
    check_keys(stage, stage_params, STAGE_KEYS)
    try:
        return TrainConfig.from_dict({"stage": stage, **(stage_params.get("training") or {})})
    except (TypeError, ValueError) as error:
        raise ValueError(f"{stage}: {error}") from None


def stage_launch(stage: str, stage_params: dict, model_params: dict, cache_root: str | Path, manifests: list[dict],
                 previous: dict | None, tracking: dict | None, ray_params: dict) -> StageLaunch:
    """Everything a Ray worker needs, with absolute paths, checked once here on the driver."""
    from omnivec2.durable_files import sha256_directory
    from omnivec2.training.code_key import training_code_key
    from omnivec2.training.faults import fault_config
    from omnivec2.training.launch import check_ray_params

    train = train_config(stage, stage_params)
    check_ray_params(ray_params)
    selected = stage_params.get("modalities")
    if selected is not None and (isinstance(selected, str) or not isinstance(selected, (list, tuple))):
        raise ValueError(f"{stage}.modalities must be a list of modality names, got {selected!r}")
    if selected:
        unknown = set(selected) - {m["dataset"] for m in manifests}
        if unknown:
            raise ValueError(f"{stage}.modalities names {sorted(unknown)}, which have no token cache")
        manifests = [m for m in manifests if m["dataset"] in selected]
    config = model_config_from_manifests(model_params, manifests)
    init = previous.get("checkpoint") if previous else None
    init = str(project_path(init)) if init else None
    return StageLaunch(
        model=config.to_dict(), train=train, cache_root=_storage_path(str(cache_root)),
        modalities=tuple(m.name for m in config.modalities),
        cache_key=tuple(sorted(m.get("cache_key", "") for m in manifests)),
        # An absent checkpoint hashes like an empty folder; the launch's input check then names it.
        init_checkpoint=init, init_checkpoint_sha=sha256_directory(Path(init)) if init else None,
        tracking=tracking, num_workers=int(ray_params.get("num_workers", 1)),
        log_level=str(ray_params.get("log_level", "WARNING")), fault=fault_config(ray_params),
        code_key=training_code_key())


def skipped_stage(stage: str, previous: dict | None) -> dict:
    """A disabled stage passes the previous checkpoint through unchanged (or none: train from scratch)."""
    return {"stage": stage, "skipped": True, "checkpoint": previous.get("checkpoint") if previous else None,
            "visits": {}, "history": []}


def run_training_stage(stage: str, stage_params: dict, model_params: dict, ray_params: dict, cache_dir: str,
                       manifests: list[dict], previous: dict | None, tracking: dict | None,
                       output_dir: str | Path, storage_path: str) -> dict:
    """Train one stage on Ray (or pass through when disabled) into `output_dir`, with Ray Train's
    runs under `storage_path` (a directory or a URI); returns the stage summary with its history."""
    from omnivec2.training.launch import run_stage_on_ray

    if not stage_params.get("enabled", True):
        return skipped_stage(stage, previous)
    cache_uri = ray_params.get("token_cache_uri")
    if cache_uri:  # shared storage: workers on other nodes read the cache from there, not from this disk
        from omnivec2.tokens.remote import upload_token_cache

        upload_token_cache(project_path(cache_dir), cache_uri, [m["dataset"] for m in manifests])
    ray_params = {**ray_params, "storage_path": _storage_path(str(storage_path))}
    launch = stage_launch(stage, stage_params, model_params, cache_uri or cache_dir, manifests, previous, tracking,
                          ray_params)
    summary = run_stage_on_ray(launch, project_path(output_dir), ray_params)
    return {**summary, "checkpoint": str(output_dir)}


def _storage_path(path: str) -> str:
    """Ray Train storage: an absolute local directory, or a URI (s3://...) passed through."""
    return path if "://" in path else str(project_path(path))


# How a stage ran rather than what it produced: kept out of the stage summary that later stages
# depend on (DVC deps), so that re-running a stage with the same result does not re-run what follows.
RUN_RECORD_KEYS = ("train_seconds", "validation_seconds", "finish_seconds", "wall_seconds", "resumed_at_steps")


def split_summary(summary: dict):
    """Stage summary -> (the result: summary without the per-step history and without RUN_RECORD_KEYS,
    history as a DataFrame for curves, the run record: timings and resumes)."""
    import pandas as pd

    history = pd.DataFrame(summary.get("history") or [], columns=None)
    if history.empty:
        history = pd.DataFrame({"step": [], "loss": []})
    result = {k: v for k, v in summary.items() if k != "history" and k not in RUN_RECORD_KEYS}
    record = {"stage": summary.get("stage"), **{k: summary[k] for k in RUN_RECORD_KEYS if k in summary}}
    return result, history, record


def check_training_parameters(params: dict) -> None:
    """Every training stage's, the model's and Ray's parameters at once, without a token cache: meant
    for the start of a run (a hook's before_pipeline_run), so that a typo in stage 3's block stops
    `kedro run` before stages 1 and 2 train rather than after. Raises ValueError naming the key."""
    from omnivec2.training.launch import check_ray_params  # local: it loads the Ray worker (seconds)

    model_params = params.get("model") or {}
    check_keys("model", model_params, MODEL_KEYS)
    try:
        preset(model_params.get("preset", "cpu"), **(model_params.get("overrides") or {}))
    except (TypeError, ValueError) as error:
        raise ValueError(f"{'model.overrides' if 'option' in str(error) else 'model.preset'}: {error}") from None
    configs = {stage: train_config(stage, params[stage]) for stage in STAGES if params.get(stage) is not None}
    if params.get("datasets"):
        specs = resolve_datasets(params["datasets"])
        names = set(specs)
        if params.get("train_multitask") is not None:  # the contrastive term on, and nothing paired
            with_contrastive_pairs(params["train_multitask"].get("training") or {}, specs)
        for stage, config in configs.items():
            if unknown := set(() if isinstance(config.augment, bool) else config.augment) - names - set(AUGMENTATIONS):
                known = names | set(AUGMENTATIONS)
                raise ValueError(f"{stage}: training.augment names {sorted(unknown)}, which are neither configured "
                                 f"datasets nor augmentation kinds{did_you_mean(unknown, known)}; datasets: "
                                 f"{sorted(names)}, kinds: {list(AUGMENTATIONS)}")
    if params.get("ray") is not None:
        check_ray_params({"storage_path": "unset", **params["ray"]})
