"""Tokenization node: build (or reuse) a modality's token cache and return its manifest."""

from __future__ import annotations

import pandas as pd

from omnivec2.modalities import get_modality
from omnivec2.tokens.cache import build_token_cache
from omnivec2.training.stage_runner import project_path


def tokenize(modality: str, validated_samples: pd.DataFrame, cache_dir: str) -> dict:
    manifest = build_token_cache(validated_samples, get_modality(modality), project_path(cache_dir))
    # The manifest pointer is versioned by DVC: keep it free of run-dependent fields.
    return {k: v for k, v in manifest.items() if k != "reused"} | {"cache_dir": cache_dir}
