import numpy as np
import pytest
import torch

from omnivec2.data.sample_table import build_sample_table
from omnivec2.datasets import resolve_dataset, with_class_lists
from omnivec2.evaluation.two_stream import predict_paired, two_stream_metrics
from omnivec2.model import OmniVec2, preset
from omnivec2.model.omnivec2 import Stream
from omnivec2.reporting.two_stream_table import two_stream_table
from omnivec2.tokens.cache import build_token_cache
from omnivec2.training.stage_runner import stream_config


def paired_cache(root, rows: int = 24):
    """Two small tables whose ids pair as `s<i>-a` / `s<i>-b`; the second lacks test scene 0, so one test
    row of each side has no partner. -> the manifests."""
    manifests = []
    for side, width in (("a", 3), ("b", 5)):
        entry = {"modality": "tabular", "shape": {"columns": width},
                 "source": {"kind": "table", "path": "/unused.csv", "target_column": "kind"},
                 "tasks": {"kind": {"kind": "classification"}}}
        spec = with_class_lists(resolve_dataset(f"side_{side}", entry), {"kind": ["x", "y"]})
        rng = np.random.default_rng(len(side) + width)
        labels = np.arange(rows) % 2
        splits = ["train"] * (rows // 2) + ["val"] * (rows // 4) + ["test"] * (rows - rows // 2 - rows // 4)
        keep = [i for i in range(rows) if not (side == "b" and i == rows // 2 + rows // 4)]
        table = build_sample_table([f"s{i}-{side}" for i in keep], [splits[i] for i in keep],
                                   [rng.normal(labels[i], 0.5, width).astype(np.float32) for i in keep],
                                   {"kind": labels[keep]})
        manifests.append(build_token_cache(table, spec, root / "tokens"))
    return manifests


PAIR = {"a": "side_a", "b": "side_b", "marker_a": "-a", "marker_b": "-b"}


def model_over(manifests, **switches) -> OmniVec2:
    torch.manual_seed(0)
    return OmniVec2(preset("tiny", **switches).with_modalities([stream_config(m) for m in manifests]))


def test_with_the_gate_closed_two_stream_equals_single_stream_on_the_paired_rows(tmp_path):
    manifests = paired_cache(tmp_path)
    results = two_stream_metrics(model_over(manifests, cross_gate=True), tmp_path / "tokens", PAIR)
    assert set(results) == {"side_a/kind", "side_b/kind"}
    for key, partner in (("side_a/kind", "side_b"), ("side_b/kind", "side_a")):
        entry = results[key]
        assert entry["partner"] == partner
        assert entry["test_samples"] == 5  # 6 test rows, scene 18 has no partner
        assert entry["two_stream"] == entry["single_stream"]


def test_an_open_a_makes_the_partner_change_the_prediction(tmp_path):
    manifests = paired_cache(tmp_path)
    model = model_over(manifests)
    a, b = torch.randn(4, 3, 1), torch.randn(4, 5, 1)
    other_b = torch.randn(4, 5, 1)
    first = predict_paired(model, "side_a", "side_b", a, b)[("side_a", "kind")]
    second = predict_paired(model, "side_a", "side_b", a, other_b)[("side_a", "kind")]
    single = model.predict("side_a", "kind", model.forward_stream(Stream("side_a", a)))
    assert first.shape == (4, 2)
    assert not torch.allclose(first, second) and not torch.allclose(first, single)


def test_a_model_without_a_has_no_two_stream_entry(tmp_path):
    manifests = paired_cache(tmp_path)
    assert two_stream_metrics(model_over(manifests, cross_attention=False), tmp_path / "tokens", PAIR) == {}


def test_the_report_table_shows_both_protocols_and_their_difference():
    metrics = {"tasks": {
        "rgb/object": {"kind": "classification", "two_stream": {
            "partner": "infrared", "test_samples": 92, "single_stream": {"accuracy": 0.25}, "two_stream": {"accuracy": 0.5}}},
        "image/digit": {"kind": "classification"}}}
    table = two_stream_table(metrics)
    assert "| rgb/object | infrared | 92 | accuracy ↑ | 0.250 | 0.500 | +0.250 |" in table
    assert "image/digit" not in table
    assert two_stream_table({"tasks": {"image/digit": {"kind": "classification"}}}) is None
    with pytest.raises(KeyError):
        two_stream_table({"tasks": {"x/y": {"kind": "classification", "two_stream": {"partner": "z", "test_samples": 1,
                                                                                   "single_stream": {}, "two_stream": {}}}}})
