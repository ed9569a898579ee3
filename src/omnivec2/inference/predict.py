"""Predict on one file: read it as ingestion would, run the payload checks ingestion runs (the same
Great Expectations expectations, from the same PayloadSpec), tokenize with the statistics the
model was trained with, and run single-stream inference for every task of its dataset."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from omnivec2.checkpoint import load_model
from omnivec2.data.sample_table import build_sample_table
from omnivec2.evaluation.metrics import predict_task
from omnivec2.inference.read_file import UnreadableFile, payload_from_bytes, read_payload
from omnivec2.datasets import DatasetSpec, TaskSpec
from omnivec2.modalities import get_modality

TOKENIZERS_FILE = "tokenizers.json"
PAYLOAD_COLUMNS = ("dtype", "shape", "nan_count", "inf_count", "nbytes", "min", "max")


class PredictionError(ValueError):
    """A file or model that cannot be predicted on; the message names the dataset, file and check."""


def stream_description(checkpoint: Path, cache_root: str | Path | None, dataset: str) -> dict:
    """How the model's stream `dataset` was tokenized: {"fit_stats", "modality", "settings"}, from
    `tokenizers.json` next to the weights (registered models carry it), else the token cache's manifest."""
    bundled = checkpoint / TOKENIZERS_FILE
    if bundled.is_file():
        entries = json.loads(bundled.read_text())
        if dataset in entries:
            return entries[dataset]
    if cache_root is not None:
        manifest = Path(cache_root) / dataset / "manifest.json"
        if manifest.is_file():
            data = json.loads(manifest.read_text())
            return {"fit_stats": data["fit_stats"], "modality": data["stream"]["modality"],
                    "settings": data["stream"]["settings"]}
    raise PredictionError(f"dataset {dataset!r}: no tokenizer statistics in {bundled} or under {cache_root}")


def tokenizer_stats(checkpoint: Path, cache_root: str | Path | None, dataset: str) -> dict:
    """The tokenizer fit statistics the model was trained with (see `stream_description`)."""
    return stream_description(checkpoint, cache_root, dataset)["fit_stats"]


def inference_spec(model, dataset: str, description: dict) -> DatasetSpec:
    """The dataset's spec as trained: its modality at its shape settings, its tasks from the model
    (a table's categorical columns and missing cells too: the layout its source gave at training, and
    its category names when the tokenizer statistics carry them)."""
    _, parts = get_modality(description["modality"]).resolve(description["settings"], f"dataset {dataset!r}, shape")
    stream = model.config.modality(dataset)
    if description["modality"] == "tabular":
        from omnivec2.modalities.tabular import with_layout
        from omnivec2.tokens.columns import fitted_categories

        categorical = tuple(c for c, size in enumerate(stream.column_vocab) if size > 0)
        parts = with_layout(parts, categorical, stream.missing_values)
        try:
            categories = fitted_categories(description["fit_stats"], categorical)
        except ValueError as error:
            raise PredictionError(f"dataset {dataset!r}: {error}") from None
        parts = replace(parts, tokenizer=replace(parts.tokenizer, categories=categories))
    tasks = tuple(TaskSpec(t.name, t.kind, t.num_classes, t.outputs_per_token, tuple(t.classes)) for t in stream.tasks)
    return DatasetSpec(name=dataset, modality=description["modality"], payload=parts.payload, tokenizer=parts.tokenizer,
                       embedding=parts.embedding, mask=parts.mask, tasks=tasks, norm_targets=parts.norm_targets,
                       reconstruction=parts.reconstruction, vocab_size=parts.vocab_size,
                       settings=dict(description["settings"]))


def validate_payload(spec: DatasetSpec, payload: np.ndarray, where: str) -> None:
    """The row-level payload expectations of the dataset's ingestion suite, on this one sample."""
    from omnivec2.validation.checks import checks_for
    from omnivec2.validation.decode import misplaced_nan_rows, payload_problem
    from omnivec2.validation.gx_runner import run_checks

    modality = spec.name
    placeholder = {t.name: np.zeros(1, np.int64) if t.kind != "dense" else [np.zeros((1, 1), np.uint8)] for t in spec.tasks}
    try:
        table = build_sample_table([where], ["test"], [payload], placeholder)
    except (TypeError, ValueError) as error:
        raise PredictionError(f"dataset {modality!r}: {where}: {error}") from None
    row = table.iloc[0]
    problem = payload_problem(row["payload"], row["dtype"], row["shape"], row["nbytes"])
    if problem:
        raise PredictionError(f"dataset {modality!r}: {where}: payload_decodes_to_shape_and_dtype failed: {problem}")
    misplaced = misplaced_nan_rows(table, spec).get(0)  # a table's NaN only in numeric cells that may be missing
    if misplaced:
        raise PredictionError(f"dataset {modality!r}: {where}: payload_nan_only_where_missing_is_allowed failed: {misplaced}")
    checks = [c for c in checks_for(spec, list(table.columns)) if c.column in PAYLOAD_COLUMNS]
    failed = [r for r in run_checks(table[list(PAYLOAD_COLUMNS)].reset_index(drop=True), checks) if not r.success]
    if failed:
        observed = {c: row[c].item() if hasattr(row[c], 'item') else row[c] for c in PAYLOAD_COLUMNS}
        raise PredictionError(f"dataset {modality!r}: {where}: {failed[0].check.describe()} failed "
                              f"(sample has {observed}, allowed {failed[0].check.kwargs})")


def predict_file(checkpoint: str | Path, dataset: str, path: str | Path, cache_root: str | Path | None = None) -> dict:
    """-> {"dataset", "file", "tasks": {task: {"prediction", "label", "probability"|...}}} (one file)."""
    return Predictor(checkpoint, cache_root).predict(dataset, path)


class Predictor:
    """A model loaded once, predicting on any number of files of its datasets."""

    def __init__(self, checkpoint: str | Path, cache_root: str | Path | None = None):
        from omnivec2.tracking.registry import resolve_checkpoint

        self.checkpoint, self.cache_root = str(checkpoint), cache_root
        self.folder = resolve_checkpoint(checkpoint)
        self.model = load_model(self.folder)
        self._specs: dict[str, tuple[DatasetSpec, dict]] = {}

    def spec(self, dataset: str) -> tuple[DatasetSpec, dict]:
        if dataset not in self._specs:
            trained = [m.name for m in self.model.config.modalities]
            if dataset not in trained:
                raise PredictionError(f"the model in {self.checkpoint} was not trained on dataset {dataset!r}; "
                                      f"it knows {trained}")
            description = stream_description(self.folder, self.cache_root, dataset)
            self._specs[dataset] = (inference_spec(self.model, dataset, description), description["fit_stats"])
        return self._specs[dataset]

    def predict(self, dataset: str, path: str | Path) -> dict:
        """One file -> {"dataset", "modality", "file", "checkpoint", "tasks": {task: answer}}."""
        spec, _ = self.spec(dataset)
        try:
            payload = read_payload(spec, path)
        except UnreadableFile as error:
            raise PredictionError(str(error)) from None
        return self.predict_payload(dataset, payload, str(path))

    def predict_bytes(self, dataset: str, data: bytes, suffix: str, name: str) -> dict:
        """A file's bytes (`suffix`: its format, e.g. "npy", "png"; `name`: what messages call it) -> as `predict`."""
        spec, _ = self.spec(dataset)
        try:
            payload = payload_from_bytes(spec, data, suffix, name)
        except UnreadableFile as error:
            raise PredictionError(str(error)) from None
        return self.predict_payload(dataset, payload, name)

    def predict_payload(self, dataset: str, payload: np.ndarray, path: str) -> dict:
        """A decoded payload (the modality's shape and dtype) -> checked, tokenized and predicted."""
        spec, stats = self.spec(dataset)
        validate_payload(spec, payload, str(path))
        tokens = spec.tokenizer.transform([payload], stats)  # [1, N, P]
        results = {}
        for task in self.model.config.modality(dataset).tasks:
            output = predict_task(self.model, dataset, task.name, torch.from_numpy(np.ascontiguousarray(tokens)))[0]
            if task.kind == "classification":
                probabilities = output.softmax(-1)
                index = int(probabilities.argmax())
                results[task.name] = {"prediction": index, "label": _label(task, index),
                                      "probability": round(float(probabilities.max()), 4)}
            elif task.kind == "regression":
                results[task.name] = {"prediction": float(output.reshape(-1)[0])}
            else:  # dense: per-token pixel classes [N, K]
                results[task.name] = {"prediction": output.argmax(-1).tolist(), "classes": list(task.classes)}
        return {"dataset": dataset, "modality": spec.modality, "file": str(path), "checkpoint": self.checkpoint,
                "tasks": results}


def _label(task, index: int) -> str:
    """The class name of a predicted index (the index itself when the dataset lists no names)."""
    return task.classes[index] if index < len(task.classes) else str(index)
