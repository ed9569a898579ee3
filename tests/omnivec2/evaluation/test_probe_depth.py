"""`omnivec2 probe-depth`: a task's linear probe at every depth of the single-stream pass, on every
token side by side and on their mean."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml

from omnivec2.datasets import resolve_datasets
from omnivec2.evaluation.evaluate import evaluate_checkpoint
from omnivec2.evaluation.linear_probe import linear_probes
from omnivec2.evaluation.probe_depth import pooled, probe_by_depth, probe_table, probed_tasks
from tests.default_suite import DATASETS
from tests.omnivec2.datasets.test_pairing import USER_YAML, paired_run
from tests.omnivec2.model.helpers import example_tokens, tiny_model


def test_probe_by_depth_reads_the_pipelines_figures_at_its_ends(tmp_path):
    """The `tokens` depth read flattened is the classical baseline of `evaluate_checkpoint`; `f` and `g`
    read pooled are the report's linear probes of the same network: the diagnostic runs the
    pipeline's fits, at more depths."""
    specs = resolve_datasets(yaml.safe_load(USER_YAML))
    model, checkpoint = paired_run(specs, tmp_path)
    tasks = probed_tasks(model)
    assert tasks == ["photos/scene", "sketches/scene"]
    result = probe_by_depth(model, tmp_path / "tokens", tasks)
    classical = evaluate_checkpoint(checkpoint, tmp_path / "tokens", 0)["tasks"]
    probes = linear_probes({"final": checkpoint}, checkpoint, tmp_path / "tokens")["stages"]["final"]
    blocks = [f"f{i}" for i in range(1, len(model.f.blocks) + 1)]
    for task in tasks:
        entry = result[task]
        assert (entry["kind"], entry["metric"], entry["higher_is_better"]) == ("classification", "accuracy", True)
        assert entry["chance"] == pytest.approx(1 / 3)  # 18 test rows, 6 of each scene
        assert list(entry["depths"]) == ["tokens", "embedding", *blocks, "f", "g"]
        assert entry["depths"]["tokens"]["flattened"] == pytest.approx(classical[task]["classical"]["accuracy"])
        assert entry["depths"]["f"]["pooled"] == pytest.approx(probes[task]["f"]["accuracy"])
        assert entry["depths"]["g"]["pooled"] == pytest.approx(probes[task]["g"]["accuracy"])
    table = probe_table("photos/scene", result["photos/scene"])
    assert table.startswith("## photos/scene (classification)") and "| g |" in table
    assert "flattened, accuracy ↑" in table and "Chance (the test split's most frequent class): 0.333" in table


def test_the_pooled_readout_leaves_the_padding_out():
    model = tiny_model(0, key_padding_mask=True)
    tokens = torch.from_numpy(example_tokens(DATASETS["text"], 4)).float()
    pad = model.token_padding("text", tokens)
    assert pad is not None and pad.any() and not pad.all(dim=1).any()
    features = np.random.default_rng(0).standard_normal((*tokens.shape[:2], 6)).astype(np.float32)
    changed = features.copy()
    changed[pad.numpy()] = 1e3  # whatever sits at the padding tokens
    assert np.allclose(pooled(model, "text", tokens, features), pooled(model, "text", tokens, changed))
    keep = (~pad).numpy()
    first = features[0][keep[0]].mean(0)
    assert np.allclose(pooled(model, "text", tokens, features)[0, 0], first, atol=1e-6)


def test_tasks_are_checked_against_the_model():
    model = tiny_model(0)
    assert "depth/category" in probed_tasks(model) and "depth/object_mask" not in probed_tasks(model)
    assert probed_tasks(model, ["image/digit"]) == ["image/digit"]
    with pytest.raises(ValueError, match=r"\['depth/object_mask'\] are not classification or regression tasks"):
        probed_tasks(model, ["depth/object_mask"])


def test_the_command_outside_a_project_says_what_it_needs(tmp_path, capsys):
    from omnivec2.cli import run_probe_depth

    assert run_probe_depth(None, None, None, None, project=tmp_path) == 2
    assert "run it in the project" in capsys.readouterr().err
