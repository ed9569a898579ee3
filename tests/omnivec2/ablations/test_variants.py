import pytest

from omnivec2.ablations.runner import summarise
from omnivec2.ablations.variants import VARIANTS, stage_steps, variant_by_name

STEPS = {"pretrain_unimodal": 10, "pretrain_multimodal": 20, "train_multitask": 30}


def test_skipped_stages_give_their_steps_to_the_next_stage_that_runs():
    assert stage_steps(VARIANTS[0], STEPS) == STEPS
    assert stage_steps(variant_by_name("no pretraining"), STEPS) == {"train_multitask": 60}
    assert stage_steps(variant_by_name("stage 1 only"), STEPS) == {"pretrain_unimodal": 10, "train_multitask": 50}
    assert all(sum(stage_steps(v, STEPS).values()) == 60 for v in VARIANTS)  # equal compute


def test_unknown_variant_names_the_choices():
    with pytest.raises(ValueError, match="unknown ablation variant 'bigger'.*'without A'"):
        variant_by_name("bigger")


def run(variant, seed, a, b):
    return {"variant": variant, "seed": seed, "scores": {"m/a": a, "m/b": b}}


def test_summary_and_verdicts_pair_seeds_with_the_full_model():
    full, worse, same = VARIANTS[0].name, "without A", "unified tokenizer"
    runs = [run(full, s, 0.8 + 0.01 * s, 0.6) for s in range(3)]
    runs += [run(worse, s, 0.5 + 0.01 * s, 0.5) for s in range(3)]  # 0.2 lower on every seed
    runs += [run(same, s, 0.8 + 0.05 * (-1) ** s, 0.6) for s in range(3)]  # noise around the full model
    rows, directions = summarise(runs)
    row = next(r for r in rows if r["variant"] == worse and r["task"] == "m/a")
    assert row["mean"] == pytest.approx(0.51) and row["std"] == pytest.approx(0.01) and row["seeds"] == 3
    verdicts = {d["variant"]: d for d in directions}
    assert verdicts[worse]["verdict"] == "reproduces" and verdicts[worse]["full_minus_variant"] == pytest.approx(0.2)
    assert verdicts[same]["verdict"].startswith("inconclusive")
