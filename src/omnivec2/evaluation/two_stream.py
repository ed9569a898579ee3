"""Two-stream inference: a test sample that comes with its paired row (the RGB and infrared frames of
one scene) is predicted with the cross-attention A that stage 3 trained, attending to its partner,
and reported next to single-stream inference (A removed, the paper's test protocol) on the same rows.

Pairs are the datasets' `paired_with` entries (`omnivec2.datasets.pairing.dataset_pairs`); rows pair
by sample id as in retrieval (`pair_rows`), so only test rows whose partner is in the partner's test
split count.
"""

from __future__ import annotations

from pathlib import Path

import torch

from omnivec2.evaluation.device import model_device
from omnivec2.evaluation.metrics import predict_task, task_metrics
from omnivec2.evaluation.retrieval import pair_rows
from omnivec2.model.omnivec2 import OmniVec2, Stream
from omnivec2.tokens.cache import read_token_split

SCORED_KINDS = ("classification", "regression", "dense")  # the kinds `task_metrics` scores


@torch.no_grad()
def predict_paired(model: OmniVec2, a: str, b: str, tokens_a: torch.Tensor, tokens_b: torch.Tensor,
                   batch_size: int = 256) -> dict[tuple[str, str], torch.Tensor]:
    """Row i of `tokens_a` [S, N_a, P_a] is paired with row i of `tokens_b` [S, N_b, P_b] -> every
    scored task's head output of both streams with A on, {(stream, task): [S, ...]}; eval mode."""
    model.eval()
    device, outputs = model_device(model), {}
    for i in range(0, len(tokens_a), batch_size):
        streams = Stream(a, tokens_a[i : i + batch_size].to(device)), Stream(b, tokens_b[i : i + batch_size].to(device))
        for stream, features in zip(streams, model.forward_pair(*streams, use_cross=True)):
            for task in model.config.modality(stream.modality).tasks:
                if task.kind in SCORED_KINDS:
                    outputs.setdefault((stream.modality, task.name), []).append(
                        model.predict(stream.modality, task.name, features, model.padding(stream), stream.tokens).cpu())
    return {key: torch.cat(parts) for key, parts in outputs.items()}


def two_stream_metrics(model: OmniVec2, cache_root: str | Path, pair: dict) -> dict[str, dict]:
    """`pair` {a, b, marker_a, marker_b} -> {"<stream>/<task>": {"partner", "test_samples",
    "two_stream": metrics, "single_stream": metrics}} for every scored task of both streams, over the
    test rows paired across the two test splits. {} when the model has no A (nothing to switch on)."""
    if model.cross is None:
        return {}
    a, b = pair["a"], pair["b"]
    splits = {a: read_token_split(cache_root, a, "test"), b: read_token_split(cache_root, b, "test")}
    rows = dict(zip((a, b), pair_rows(splits[a].sample_ids, splits[b].sample_ids, pair["marker_a"], pair["marker_b"])))
    tokens = {s: torch.from_numpy(splits[s].tokens[rows[s]].copy()) for s in (a, b)}
    results = {}
    for (stream, task_name), output in predict_paired(model, a, b, tokens[a], tokens[b]).items():
        task = model.config.modality(stream).task(task_name)
        target = torch.from_numpy(splits[stream].targets[task_name][rows[stream]].copy())
        single = predict_task(model, stream, task_name, tokens[stream])
        score = lambda out: task_metrics(task.kind, out, target, task.num_classes, task.ignore_index)
        results[f"{stream}/{task_name}"] = {"partner": b if stream == a else a, "test_samples": len(target),
                                            "two_stream": score(output), "single_stream": score(single)}
    return results
