"""`omnivec2 retrieval-depth`: a retrieval protocol's Rank-1 at every depth of the single-stream pass,
by a frame-level CCA (the pipeline's protocol) and a token-level one."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from omnivec2.datasets import resolve_datasets
from omnivec2.datasets.pairing import retrieval_protocols
from omnivec2.evaluation.evaluate import evaluate_checkpoint
from omnivec2.evaluation.retrieval_depth import depth_table, retrieval_by_depth, token_cca_retrieval
from tests.omnivec2.datasets.test_pairing import USER_YAML, paired_run


def test_token_cca_matches_frames_whose_patches_agree_place_by_place_and_not_noise():
    rng = np.random.default_rng(0)
    frames, tokens = 30, 9  # a 3x3 grid
    camera_a, camera_b = rng.standard_normal((4, 12)), rng.standard_normal((4, 7))  # per-patch sensors

    def views(latent):
        """Patch contents `[S, N, 4]` -> the two cameras' tokens `[S, N, 12]`, `[S, N, 7]`, noisy."""
        return (latent @ camera_a + 0.1 * rng.standard_normal((*latent.shape[:2], 12)),
                np.tanh(latent @ camera_b) + 0.1 * rng.standard_normal((*latent.shape[:2], 7)))

    train_q, train_g = views(rng.standard_normal((120, tokens, 4)))  # 120 other scenes fit the map
    test_q, test_g = views(rng.standard_normal((frames, tokens, 4)))
    ids = np.arange(frames)
    aligned = token_cca_retrieval(train_q, train_g, test_q, test_g, ids, ids, components=4)
    assert aligned["rank1"] > 0.9
    shuffled = token_cca_retrieval(train_q, train_g[rng.permutation(120)], test_q, test_g, ids, ids, components=4)
    assert shuffled["rank1"] < 0.3  # unpaired train rows teach no map
    with pytest.raises(ValueError, match="one grid on both sides"):
        token_cca_retrieval(train_q, train_g[:, :4], test_q, test_g[:, :4], ids, ids, components=4)


def test_retrieval_by_depth_reads_the_pipelines_two_figures_at_its_ends(tmp_path):
    """On a paired cache, the `tokens` depth's frame Rank-1 is the classical baseline's and the `g`
    depth's is OmniVec2's: the diagnostic runs the pipeline's protocol, at more depths."""
    specs = resolve_datasets(yaml.safe_load(USER_YAML))
    model, checkpoint = paired_run(specs, tmp_path)
    protocol = retrieval_protocols(specs)["to_sketches"]
    result = retrieval_by_depth(model, tmp_path / "tokens", protocol)
    pipeline = evaluate_checkpoint(checkpoint, tmp_path / "tokens", 0, {"to_sketches": protocol})["tasks"]
    entry = pipeline["photos/to_sketches"]
    assert result["depths"]["tokens"]["frame"] == pytest.approx(entry["classical"]["rank1"])
    assert result["depths"]["g"]["frame"] == pytest.approx(entry["omnivec2"]["rank1"])
    assert result["chance"] == pytest.approx(1 / 3)
    assert all(0.0 <= r["frame"] <= 1.0 and 0.0 <= r["token"] <= 1.0 for r in result["depths"].values())
    table = depth_table("to_sketches", protocol, result)
    assert table.startswith("## photos/to_sketches (gallery sketches)") and "| g |" in table and "Chance: 0.333" in table


def test_the_command_outside_a_project_says_what_it_needs(tmp_path, capsys):
    from omnivec2.cli import run_retrieval_depth

    assert run_retrieval_depth(None, None, None, project=tmp_path) == 2
    assert "run it in the project" in capsys.readouterr().err
