"""`paired_with` implies the retrieval evaluation: the default suite's rgb/to_infrared protocol comes
from its entry (the one written by hand before, unchanged), and a user's pair declared in YAML alone
gets retrieval metrics from the evaluation node."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from omnivec2.checkpoint import save_checkpoint
from omnivec2.data.sample_table import build_sample_table
from omnivec2.datasets import resolve_datasets
from omnivec2.datasets.pairing import retrieval_protocols
from omnivec2.evaluation.evaluate import evaluate_checkpoint
from omnivec2.model import OmniVec2, preset
from omnivec2.tokens.cache import build_token_cache
from omnivec2.training.stage_runner import stream_config
from tests.default_suite import DATASETS

# conf/base/parameters_evaluation.yml's `retrieval` block before the protocol was derived
HAND_WRITTEN = {"to_infrared": {"query": "rgb", "gallery": "infrared", "match": "object", "query_marker": "-rgb",
                                "gallery_marker": "-ir", "components": 16}}

USER_YAML = """
photos:
  modality: image
  shape: {size: 8, channels: 1, patch: 4}
  source: {kind: npy, path: /unused/photos.npz}
  tasks:
    scene: {classes: [beach, forest, town]}
  paired_with: sketches          # same sample ids: no markers needed
sketches:
  modality: depth
  shape: {size: 8, patch: 4}
  source: {kind: npy, path: /unused/sketches.npz}
  tasks:
    scene: {classes: [beach, forest, town]}
"""


def paired_run(specs: dict, root: Path) -> tuple[OmniVec2, Path]:
    """USER_YAML's photos and sketches, 60 views of 3 scenes (36 train, 6 val, 18 test) with the same
    ids in both datasets (row i of one is row i of the other), cached under `root`/tokens; a tiny
    untrained network over both, saved under `root`/checkpoint -> (the network, the checkpoint)."""
    rng = np.random.default_rng(0)
    scenes = np.arange(60) % 3
    ids = [f"view{i:02d}" for i in range(60)]
    splits = ["train"] * 36 + ["val"] * 6 + ["test"] * 18
    manifests = []
    for name, offset in (("photos", 0.0), ("sketches", 0.5)):
        frames = [np.clip(offset + 0.1 * s + rng.normal(0, 0.05, (8, 8)), 0, 1).astype(np.float32) for s in scenes]
        table = build_sample_table(ids, splits, frames, {"scene": scenes})
        manifests.append(build_token_cache(table, specs[name], root / "tokens"))
    torch.manual_seed(0)
    model = OmniVec2(preset("tiny").with_modalities([stream_config(m) for m in manifests]))
    return model, save_checkpoint(root / "checkpoint", model)


def test_the_default_suite_derives_the_protocol_that_was_written_by_hand():
    assert retrieval_protocols(DATASETS) == HAND_WRITTEN


def test_hand_written_entries_add_replace_or_drop_derived_protocols():
    extra = {"query": "infrared", "gallery": "rgb", "match": "object", "query_marker": "-ir", "gallery_marker": "-rgb"}
    assert set(retrieval_protocols(DATASETS, {"to_rgb": extra})) == {"to_infrared", "to_rgb"}
    assert retrieval_protocols(DATASETS, {"to_infrared": None}) == {}
    assert retrieval_protocols(DATASETS, {"to_infrared": {**HAND_WRITTEN["to_infrared"], "components": 4}})[
        "to_infrared"]["components"] == 4


def user_block(**pairing) -> dict:
    block = yaml.safe_load(USER_YAML)
    if pairing:
        block["photos"]["paired_with"] = {"dataset": "sketches", **pairing}
    return block


def test_a_user_pair_gets_a_protocol_with_equal_ids_and_the_shared_task():
    assert retrieval_protocols(resolve_datasets(user_block())) == {
        "to_sketches": {"query": "photos", "gallery": "sketches", "match": "scene", "query_marker": "",
                        "gallery_marker": "", "components": 16}}
    assert retrieval_protocols(resolve_datasets(user_block(retrieval=False))) == {}


@pytest.mark.parametrize("pairing, message", [
    ({"match": "colour"}, r"paired_with 'sketches': match 'colour' is not a classification task of both datasets "
                          r"\(shared: \['scene'\]\); name one of them in paired_with.match, or leave it out"),
    ({"components": 0}, r"paired_with.components must be a positive integer, got 0"),
    ({"gallery_mark": "-s"}, r"paired_with.*gallery_mark.*gallery_marker"),  # did-you-mean
    ({"retrieval": "yes"}, r"paired_with.retrieval must be true or false"),
])
def test_bad_pairings_fail_before_anything_runs_naming_dataset_key_and_value(pairing, message):
    with pytest.raises(ValueError, match=r"dataset 'photos'.*" + message):
        resolve_datasets(user_block(**pairing))


def test_a_pair_without_a_shared_classification_task_gets_instance_retrieval():
    block = user_block()
    block["sketches"]["tasks"] = {"style": {"classes": ["pencil", "ink"]}}
    assert retrieval_protocols(resolve_datasets(block))["to_sketches"]["match"] is None


def test_the_evaluation_node_reports_retrieval_for_a_pair_declared_in_yaml(tmp_path):
    from pipelines.evaluation.nodes import evaluate
    from pipelines.io.location import TokenCache

    block = user_block()
    specs = resolve_datasets(block)
    _, checkpoint = paired_run(specs, tmp_path)
    metrics = evaluate({"checkpoint": str(checkpoint)}, TokenCache(tmp_path / "tokens"), {"seed": 0}, {}, block)
    entry = metrics["tasks"]["photos/to_sketches"]
    assert entry["kind"] == "retrieval" and entry["gallery"] == "sketches"
    assert entry["test_samples"] == entry["gallery_samples"] == 18 and entry["train_pairs"] == 36
    for side in ("omnivec2", "classical"):
        assert 0.0 <= entry[side]["rank1"] <= 1.0 and 0.0 < entry[side]["map"] <= 1.0
    assert entry["classical"]["chance_rank1"] == pytest.approx(1 / 3)
    assert {"photos/scene", "sketches/scene"} <= set(metrics["tasks"])

    # without a shared task: a query's relevant item is its own paired row (one of 18 test frames)
    instance = {**retrieval_protocols(specs)["to_sketches"], "match": None}
    alone = evaluate_checkpoint(checkpoint, tmp_path / "tokens", 0, {"to_sketches": instance})["tasks"]["photos/to_sketches"]
    assert alone["test_samples"] == 18 and alone["classical"]["chance_rank1"] == pytest.approx(1 / 18)
    assert 0.0 <= alone["omnivec2"]["rank1"] <= 1.0


def test_the_contrastive_term_pairs_what_paired_with_pairs():
    from omnivec2.datasets.pairing import dataset_pairs

    assert dataset_pairs(DATASETS) == [{"a": "rgb", "b": "infrared", "marker_a": "-rgb", "marker_b": "-ir"}]
    assert dataset_pairs(resolve_datasets(yaml.safe_load(USER_YAML))) == [
        {"a": "photos", "b": "sketches", "marker_a": "", "marker_b": ""}]


def test_stage_3_settings_get_the_paired_datasets_only_when_the_term_is_on_and_none_are_written():
    from omnivec2.datasets.pairing import with_contrastive_pairs

    off = {"contrastive_weight": 0.0}
    assert with_contrastive_pairs(off, DATASETS) is off
    written = {"contrastive_weight": 1.0, "contrastive_pairs": [{"a": "x", "b": "y", "marker_a": "", "marker_b": ""}]}
    assert with_contrastive_pairs(written, DATASETS) is written
    filled = with_contrastive_pairs({"contrastive_weight": 1.0, "lr": 1e-3}, DATASETS)
    assert filled == {"contrastive_weight": 1.0, "lr": 1e-3,
                      "contrastive_pairs": [{"a": "rgb", "b": "infrared", "marker_a": "-rgb", "marker_b": "-ir"}]}
    unpaired = {name: spec for name, spec in DATASETS.items() if spec.paired_with is None and name != "infrared"}
    with pytest.raises(ValueError, match=r"contrastive_weight is 1.0, but no dataset is paired with another \(datasets: "):
        with_contrastive_pairs({"contrastive_weight": 1.0}, unpaired)
