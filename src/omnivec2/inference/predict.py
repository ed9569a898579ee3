"""Predict on one file: read it as ingestion would, run the payload checks ingestion runs (the same
Great Expectations expectations, from the same PayloadSpec), tokenize with the statistics the
model was trained with, and run single-stream inference for every task of its modality."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from omnivec2.checkpoint import load_model
from omnivec2.data.sample_table import build_sample_table
from omnivec2.evaluation.metrics import predict_task
from omnivec2.inference.read_file import UnreadableFile, read_payload
from omnivec2.modalities import get_modality

TOKENIZERS_FILE = "tokenizers.json"
PAYLOAD_COLUMNS = ("dtype", "shape", "nan_count", "inf_count", "nbytes", "min", "max")


class PredictionError(ValueError):
    """A file or model that cannot be predicted on; the message names modality, file and check."""


def tokenizer_stats(checkpoint: Path, cache_root: str | Path | None, modality: str) -> dict:
    """The tokenizer fit statistics the model was trained with: `tokenizers.json` next to the
    weights (registered models carry it), else the token cache's manifest."""
    bundled = checkpoint / TOKENIZERS_FILE
    if bundled.is_file():
        stats = json.loads(bundled.read_text())
        if modality in stats:
            return stats[modality]
    if cache_root is not None:
        manifest = Path(cache_root) / modality / "manifest.json"
        if manifest.is_file():
            return json.loads(manifest.read_text())["fit_stats"]
    raise PredictionError(f"modality {modality!r}: no tokenizer statistics in {bundled} or under {cache_root}")


def validate_payload(modality: str, payload: np.ndarray, where: str) -> None:
    """The row-level payload expectations of the modality's ingestion suite, on this one sample."""
    from omnivec2.validation.checks import checks_for
    from omnivec2.validation.decode import payload_problem
    from omnivec2.validation.gx_runner import run_checks

    spec = get_modality(modality)
    placeholder = {t.name: np.zeros(1, np.int64) if t.kind != "dense" else [np.zeros((1, 1), np.uint8)] for t in spec.tasks}
    try:
        table = build_sample_table([where], ["test"], [payload], placeholder)
    except (TypeError, ValueError) as error:
        raise PredictionError(f"modality {modality!r}: {where}: {error}") from None
    row = table.iloc[0]
    problem = payload_problem(row["payload"], row["dtype"], row["shape"], row["nbytes"])
    if problem:
        raise PredictionError(f"modality {modality!r}: {where}: payload_decodes_to_shape_and_dtype failed: {problem}")
    checks = [c for c in checks_for(spec, list(table.columns)) if c.column in PAYLOAD_COLUMNS]
    failed = [r for r in run_checks(table[list(PAYLOAD_COLUMNS)].reset_index(drop=True), checks) if not r.success]
    if failed:
        observed = {c: row[c].item() if hasattr(row[c], 'item') else row[c] for c in PAYLOAD_COLUMNS}
        raise PredictionError(f"modality {modality!r}: {where}: {failed[0].check.describe()} failed "
                              f"(sample has {observed}, allowed {failed[0].check.kwargs})")


def predict_file(checkpoint: str | Path, modality: str, path: str | Path, cache_root: str | Path | None = None) -> dict:
    """-> {"modality", "file", "tasks": {task: {"prediction": ..., "probabilities"|"value"|"label_map"}}}."""
    from omnivec2.tracking.registry import resolve_checkpoint

    try:
        spec = get_modality(modality)
    except KeyError as error:
        raise PredictionError(str(error)) from None
    folder = resolve_checkpoint(checkpoint)
    model = load_model(folder)
    if modality not in {m.name for m in model.config.modalities}:
        raise PredictionError(f"the model in {checkpoint} was not trained on modality {modality!r}")
    try:
        payload = read_payload(spec, path)
    except UnreadableFile as error:
        raise PredictionError(str(error)) from None
    validate_payload(modality, payload, str(path))
    tokens = spec.tokenizer.transform([payload], tokenizer_stats(folder, cache_root, modality))  # [1, N, P]
    results = {}
    for task in model.config.modality(modality).tasks:
        output = predict_task(model, modality, task.name, torch.from_numpy(np.ascontiguousarray(tokens)))[0]
        if task.kind == "classification":
            probabilities = output.softmax(-1)
            results[task.name] = {"prediction": int(probabilities.argmax()),
                                  "probability": round(float(probabilities.max()), 4)}
        elif task.kind == "regression":
            results[task.name] = {"prediction": float(output.reshape(-1)[0])}
        else:  # dense: per-token pixel classes [N, K]
            results[task.name] = {"prediction": output.argmax(-1).tolist()}
    return {"modality": modality, "file": str(path), "checkpoint": str(checkpoint), "tasks": results}
