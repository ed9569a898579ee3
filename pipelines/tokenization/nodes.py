"""Tokenization node: build (or reuse) a dataset's token cache and return its manifest."""

from __future__ import annotations

import pandas as pd

from omnivec2.datasets import resolve_dataset
from omnivec2.tokens.cache import build_token_cache
from omnivec2.training.stage_runner import project_path


def tokenize(dataset: str, entry: dict, validated_samples: pd.DataFrame, cache_dir: str) -> dict:
    manifest = build_token_cache(validated_samples, resolve_dataset(dataset, entry), project_path(cache_dir))
    # The manifest pointer is versioned by DVC: keep it free of run-dependent fields.
    return {k: v for k, v in manifest.items() if k != "reused"} | {"cache_dir": cache_dir}
