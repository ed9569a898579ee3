"""Evaluate a checkpoint on every task's test split, next to a classical baseline on the same split."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import torch

from omnivec2.checkpoint import load_model
from omnivec2.evaluation.baselines import classical_baseline
from omnivec2.evaluation.chance import majority_share
from omnivec2.evaluation.dense_baseline import dense_baseline
from omnivec2.evaluation.metrics import per_class_metrics, predict_task, task_metrics
from omnivec2.evaluation.retrieval import cca_retrieval, retrieval_rows, shared_embedding, token_embedding
from omnivec2.evaluation.two_stream import two_stream_metrics
from omnivec2.parallel_fits import run_fits
from omnivec2.tokens.cache import read_token_split


def evaluate_checkpoint(checkpoint_dir: str | Path, cache_root: str | Path, seed: int = 0,
                        retrieval: dict | None = None, classical_max_iter: int = 2000,
                        pairs: list[dict] = (), device: torch.device | str = "cpu") -> dict:
    """-> {"tasks": {"<modality>/<task>": {kind, test_samples, omnivec2: {...}, classical: {...}}}}, plus
    OmniVec2's `per_class_recall` (classification) or `per_class_iou` (dense) keyed by class name, and
    for classification the test split's `chance` accuracy (its most frequent class's share).

    `retrieval`: {name: {query, gallery, match, query_marker, gallery_marker, components}}, each
    evaluated as task `<query>/<name>` when both modalities are in the model. `pairs`: paired datasets
    {a, b, marker_a, marker_b}; their tasks also get `two_stream` (see `two_stream_metrics`). The
    network's forward passes run on `device` (`evaluation.device`), the baselines' fits on the CPU."""
    model = load_model(checkpoint_dir).to(device)
    tasks, classical, sizes = {}, {}, {}  # classical: task -> its baseline's fit and score, run side by side below
    for modality in model.config.modalities:
        train = read_token_split(cache_root, modality.name, "train")
        test = read_token_split(cache_root, modality.name, "test")
        tokens = torch.from_numpy(test.tokens.copy())
        for task in modality.tasks:
            key = f"{modality.name}/{task.name}"
            output = predict_task(model, modality.name, task.name, tokens)
            target = torch.from_numpy(test.targets[task.name].copy())
            tasks[key] = {
                "kind": task.kind,
                "test_samples": len(test.sample_ids),
                "omnivec2": task_metrics(task.kind, output, target, task.num_classes, task.ignore_index),
                **per_class_metrics(task.kind, output, target, task.num_classes, task.classes, task.ignore_index),
            }
            if task.kind == "classification":
                tasks[key]["chance"] = {"accuracy": majority_share(test.targets[task.name])}
            fit = classical_fit(task, train, test, seed, classical_max_iter)
            if fit is not None:
                classical[key], sizes[key] = fit, train.tokens.size
    for key, metrics in zip(classical, run_fits(list(classical.values()), costs=[sizes[k] for k in classical])):
        tasks[key]["classical"] = metrics
    present = {m.name for m in model.config.modalities}
    for pair in pairs:
        if {pair["a"], pair["b"]} <= present:
            for key, entry in two_stream_metrics(model, cache_root, pair).items():
                tasks[key]["two_stream"] = entry
    for name, protocol in (retrieval or {}).items():
        if {protocol["query"], protocol["gallery"]} <= present:
            tasks[f"{protocol['query']}/{name}"] = evaluate_retrieval(model, cache_root, protocol, seed)
    return {"tasks": dict(sorted(tasks.items()))}


def classical_fit(task, train, test, seed: int = 0, max_iter: int = 2000):
    """A task (`TaskConfig`) and its stream's train and test `TokenSplit`s -> a callable fitting and
    scoring its classical baseline (`classical_baseline`, or `dense_baseline` for dense tasks), for
    `run_fits`; None for a kind without one (embedding)."""
    if task.kind in ("classification", "regression"):
        return partial(classical_baseline, task.kind, train.tokens, train.targets[task.name], test.tokens,
                       test.targets[task.name], seed, max_iter)
    if task.kind == "dense":
        return partial(dense_baseline, train.tokens, train.targets[task.name], test.tokens, test.targets[task.name],
                       task.num_classes, seed, task.ignore_index)
    return None


def evaluate_retrieval(model, cache_root: str | Path, protocol: dict, seed: int) -> dict:
    """One cross-modal retrieval protocol (see `retrieval`) on OmniVec2's shared embedding and on raw tokens."""
    splits = {(side, split): read_token_split(cache_root, protocol[side], split)
              for side in ("query", "gallery") for split in ("train", "test")}
    rows = retrieval_rows(splits, protocol)
    q_rows, g_rows, test_rows, query_ids, gallery_ids = (rows.train_query, rows.train_gallery, rows.test_query,
                                                          rows.query_ids, rows.gallery_ids)
    components = int(protocol.get("components", 16))

    embeddings = {"omnivec2": token_embedding, "pooled": shared_embedding, "classical": None}

    def features(side: str, split: str, embed) -> np.ndarray:
        tokens = splits[side, split].tokens
        if side == "query" and split == "test":
            tokens = tokens[test_rows]
        return embed(model, protocol[side], torch.from_numpy(tokens.copy())) if embed else tokens

    results = {}
    for label, embed in embeddings.items():
        results[label] = cca_retrieval(features("query", "train", embed)[q_rows], features("gallery", "train", embed)[g_rows],
                                       features("query", "test", embed), features("gallery", "test", embed),
                                       query_ids, gallery_ids, components, seed)
    pooled = results.pop("pooled")
    results["omnivec2"].update(rank1_pooled=pooled["rank1"], map_pooled=pooled["map"])
    return {"kind": "retrieval", "test_samples": len(query_ids), "gallery": protocol["gallery"],
            "gallery_samples": len(gallery_ids), "train_pairs": len(q_rows), **results}
