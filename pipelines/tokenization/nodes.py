"""Tokenization node: build (or reuse) a dataset's token cache and return its manifest."""

from __future__ import annotations

import pandas as pd

from omnivec2.datasets import resolve_dataset, with_class_lists
from omnivec2.tokens.cache import build_token_cache
from pipelines.io import TokenCache


def tokenize(dataset: str, entry: dict, validated_samples: pd.DataFrame, classes: dict, token_cache: TokenCache) -> dict:
    """-> the manifest; its tasks carry their class count and names (inferred ones from `classes`,
    the ingestion's class lists), which size the model's heads."""
    spec = with_class_lists(resolve_dataset(dataset, entry), classes)
    manifest = build_token_cache(validated_samples, spec, token_cache.path)
    # The manifest pointer is versioned by DVC: keep it free of run-dependent fields.
    return {k: v for k, v in manifest.items() if k != "reused"} | {"cache_dir": token_cache.recorded}
