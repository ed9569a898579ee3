"""A tiny untrained model over one tabular dataset whose classes were inferred (so they have names),
with its token cache and checkpoint: what evaluation and the report read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from omnivec2.checkpoint import save_checkpoint
from omnivec2.data.sample_table import build_sample_table
from omnivec2.datasets import resolve_dataset, with_class_lists
from omnivec2.model import OmniVec2, preset
from omnivec2.tokens.cache import build_token_cache
from omnivec2.training.stage_runner import stream_config

CLASSES = ["barbera", "barolo", "grignolino"]
ENTRY = {"modality": "tabular", "shape": {"columns": 3},
         "source": {"kind": "table", "path": "/unused.csv", "target_column": "cultivar"},
         "tasks": {"cultivar": {"kind": "classification"}}}


def named_class_run(root: Path) -> tuple[dict, Path, Path]:
    """-> (the manifest, the cache root, the checkpoint) of dataset `wine`, task `cultivar` (CLASSES)."""
    spec = with_class_lists(resolve_dataset("wine", ENTRY), {"cultivar": CLASSES})
    rng = np.random.default_rng(0)
    labels = np.arange(60) % 3
    splits = ["train"] * 30 + ["val"] * 10 + ["test"] * 20
    rows = [rng.normal(label, 0.3, 3).astype(np.float32) for label in labels]
    table = build_sample_table([f"w{i:02d}" for i in range(60)], splits, rows, {"cultivar": labels})
    manifest = build_token_cache(table, spec, root / "tokens")
    torch.manual_seed(0)
    model = OmniVec2(preset("tiny").with_modalities([stream_config(manifest)]))
    return manifest, root / "tokens", save_checkpoint(root / "checkpoint", model)
