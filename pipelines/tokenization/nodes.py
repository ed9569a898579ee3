"""Tokenization node: build (or reuse) a dataset's token cache and return its manifest."""

from __future__ import annotations

import pandas as pd

from omnivec2.data.sources.category_names import with_categories
from omnivec2.datasets import resolve_dataset, with_class_lists
from omnivec2.tokens.cache import build_token_cache
from pipelines.io import TokenCache


def tokenize(dataset: str, entry: dict, validated_samples: pd.DataFrame, classes: dict, categories: dict,
             token_cache: TokenCache) -> dict:
    """-> the manifest; its tasks carry their class count and names (inferred ones from `classes`,
    the ingestion's class lists), which size the model's heads, and a table's fit statistics carry
    its category names (`categories`, the ingestion's), which `omnivec2 predict` reads rows by."""
    spec = with_categories(with_class_lists(resolve_dataset(dataset, entry), classes), categories or {})
    manifest = build_token_cache(validated_samples, spec, token_cache.path)
    # The manifest pointer is versioned by DVC: keep it free of run-dependent fields.
    return {k: v for k, v in manifest.items() if k != "reused"} | {"cache_dir": token_cache.recorded}
