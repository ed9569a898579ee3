import json

import pytest

from omnivec2.ablations import screen
from omnivec2.ablations.screen import RunStore, compare, parse_assignment, screen_table, with_assignments


def test_assignments_parse_as_yaml_and_set_nested_paths_on_a_copy():
    assert parse_assignment("model.overrides.head_pooling=flatten") == ("model.overrides.head_pooling", "flatten")
    assert parse_assignment("train_multitask.training.steps=400") == ("train_multitask.training.steps", 400)
    assert parse_assignment("a.b=[1, 2]") == ("a.b", [1, 2])
    params = {"model": {"preset": "cpu", "overrides": {"head_norm": "batch"}}}
    changed = with_assignments(params, [("model.overrides.head_pooling", "flatten"), ("model.modalities.x.a", 1)])
    assert changed["model"]["overrides"] == {"head_norm": "batch", "head_pooling": "flatten"}
    assert changed["model"]["modalities"] == {"x": {"a": 1}}
    assert params == {"model": {"preset": "cpu", "overrides": {"head_norm": "batch"}}}  # the original is untouched


@pytest.mark.parametrize("text", ["head_pooling", "=flatten", "model..x=1"])
def test_a_malformed_assignment_says_what_is_expected(text):
    with pytest.raises(ValueError, match="expected <dotted.parameter.path>=<value>"):
        parse_assignment(text)


def test_an_assignment_through_a_value_is_refused():
    with pytest.raises(ValueError, match="'preset' holds 'cpu', not a mapping"):
        with_assignments({"model": {"preset": "cpu"}}, [("model.preset.size", 1)])


def runs(scores_by_seed):
    return [{"seed": s, "scores": scores} for s, scores in scores_by_seed.items()]


def test_differences_are_paired_by_seed_and_judged_against_their_spread():
    reference = runs({0: {"a": 0.5, "b": 0.7}, 1: {"a": 0.6, "b": 0.9}, 2: {"a": 0.7, "b": 0.8}})
    variant = runs({2: {"a": 0.81, "b": 0.8}, 0: {"a": 0.6, "b": 0.6}, 1: {"a": 0.7, "b": 1.0}})
    rows = {r["task"]: r for r in compare(reference, variant)}
    # a: +0.10, +0.10, +0.11 per seed: better although the two systems' spreads (0.1) overlap
    assert rows["a"]["difference"]["mean"] == pytest.approx(0.1033, abs=1e-4) and rows["a"]["verdict"] == "better"
    assert rows["b"]["verdict"] == "within seed noise"  # -0.1, +0.1, 0
    assert rows["mean over tasks"]["reference"]["values"] == pytest.approx([0.6, 0.75, 0.75])
    assert {r["verdict"] for r in compare(reference[:1], variant)} == {"one seed: not judged"}
    table = screen_table({"assignments": [("x.y", 1)], "seeds": [0, 1, 2], "rows": list(rows.values()),
                          "fingerprints": {"reference": "r", "variant": "v"},
                          "reference": [{"seconds": 100.0}, {"seconds": 110.0}], "variant": [{"seconds": 52.0}]})
    assert "| a | 0.600 ± 0.100 | 0.703 ± 0.105 | +0.103 ± 0.006 | better |" in table
    assert "reference 105 s, variant 52 s (0.50x)" in table


def test_retrieval_is_compared_outside_the_mean_and_only_where_every_paired_run_scored_it():
    reference = [{"seed": s, "scores": {"a": 0.5}, "retrieval": {"rgb/to_infrared": r}}
                 for s, r in ((0, 0.05), (1, 0.10), (2, 0.06))]
    variant = [{"seed": s, "scores": {"a": 0.7}, "retrieval": {"rgb/to_infrared": r}}
               for s, r in ((0, 0.30), (1, 0.35), (2, 0.31))]
    rows = {r["task"]: r for r in compare(reference, variant)}
    assert list(rows) == ["a", "mean over tasks", "rgb/to_infrared (Rank-1)"]
    assert rows["mean over tasks"]["variant"]["mean"] == pytest.approx(0.7)  # Rank-1 is not averaged in
    assert rows["rgb/to_infrared (Rank-1)"]["difference"]["mean"] == pytest.approx(0.25)
    assert rows["rgb/to_infrared (Rank-1)"]["verdict"] == "better"
    older = [{"seed": r["seed"], "scores": r["scores"]} for r in reference]  # stored before retrieval was scored
    assert [r["task"] for r in compare(older, variant)] == ["a", "mean over tasks"]


def test_a_screen_scores_the_retrieval_protocols_whose_two_datasets_it_trains(monkeypatch, tmp_path):
    seen = []

    def fake_retrieval(model, cache_root, protocol, seed):
        seen.append((protocol["query"], seed))
        return {"omnivec2": {"rank1": 0.25, "map": 0.4}, "classical": {"rank1": 0.3, "map": 0.5}}

    monkeypatch.setattr(screen, "evaluate_retrieval", fake_retrieval)
    monkeypatch.setattr(screen, "score", lambda model, test, modalities: {f"{m}/t": 1.0 for m in modalities})
    protocols = {"to_infrared": {"query": "rgb", "gallery": "infrared"},
                 "to_depth": {"query": "rgb", "gallery": "depth"}}  # depth is not screened: left out
    fields = screen.screen_scores(object(), {}, ["infrared", "rgb"], tmp_path, protocols, retrieval_seed=3)
    assert fields == {"scores": {"infrared/t": 1.0, "rgb/t": 1.0}, "retrieval": {"rgb/to_infrared": 0.25}}
    assert seen == [("rgb", 3)]


def test_stored_runs_are_reused_and_a_line_cut_short_is_run_again(tmp_path):
    store = RunStore(tmp_path, "abc")
    calls = []
    record, reused = store.get_or_run(0, lambda: calls.append(0) or {"scores": {"t": 0.5}, "retrieval": {"r": 0.1}})
    assert not reused and record["scores"] == {"t": 0.5} and record["retrieval"] == {"r": 0.1}
    with store.path.open("a") as out:
        out.write('{"seed": 1, "scores": {"t"')  # a crash mid-line
    again = RunStore(tmp_path, "abc")
    assert again.get_or_run(0, lambda: calls.append(1) or {"scores": {"t": 0.0}})[1] and calls == [0]
    assert again.get_or_run(1, lambda: {"scores": {"t": 0.25}})[0]["scores"] == {"t": 0.25}
    assert [json.loads(line)["seed"] for line in again.path.read_text().splitlines()] == [0, 1]


def test_a_change_that_changes_nothing_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(screen, "run_plan", lambda params, manifests: {"config": {}, "stages": {}})
    monkeypatch.setattr(screen, "fingerprint", lambda plan, manifests: "same")
    with pytest.raises(ValueError, match="leaves the run as it is"):
        screen.run_screen({}, [("model.overrides.head_norm", "batch")], [0], tmp_path, [], tmp_path)


def test_the_fingerprint_changes_with_the_training_code_and_the_thread_count(monkeypatch):
    import torch

    from omnivec2.model.config import preset

    plan = {"config": preset("tiny"), "stages": {"train_multitask": {"steps": 4}}}
    manifests = [{"dataset": "image", "source_hash": "s", "tokenizer": {"config_hash": "t"}}]
    first = screen.fingerprint(plan, manifests)
    assert screen.fingerprint(plan, manifests) == first
    monkeypatch.setattr(screen, "training_code_key", lambda: "other code")
    assert screen.fingerprint(plan, manifests) != first
    monkeypatch.undo()
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(threads + 1)
        assert screen.fingerprint(plan, manifests) != first
    finally:
        torch.set_num_threads(threads)
    assert screen.fingerprint({**plan, "stages": {"train_multitask": {"steps": 5}}}, manifests) != first


def test_a_dataset_parameter_is_refused_before_any_plan_is_built(monkeypatch):
    monkeypatch.setattr(screen, "run_plan", lambda params, manifests: pytest.fail("no plan for a refused change"))
    with pytest.raises(ValueError, match=r"datasets\.text\.tokenizer\.prune_vocabulary: a dataset's parameters "
                                         r"change its token cache"):
        screen.screen_plans({}, [("datasets.text.tokenizer.prune_vocabulary", True)], [])


def test_table_names_keep_the_stage_so_one_option_in_two_stages_writes_two_tables():
    assert screen.table_name([("model.overrides.head_norm", "batch")]) == "head_norm-batch"
    assert screen.table_name([("train_multitask.training.augment", ["audio", "imu"])]) == "train_multitask-augment-audio+imu"
    stage1 = screen.table_name([("pretrain_unimodal.training.weight_decay_groups", True)])
    stage3 = screen.table_name([("train_multitask.training.weight_decay_groups", True)])
    assert stage1 == "pretrain_unimodal-weight_decay_groups-True" and stage1 != stage3
    assert screen.table_name([("train_multitask.training.lr", 3e-4), ("model.overrides.cross_gate", True)]) == \
        "train_multitask-lr-0.0003_cross_gate-True"


def test_the_cli_reports_a_refused_change_as_one_line_not_a_traceback(monkeypatch, tmp_path, capsys):
    from omnivec2 import cli

    manifest = tmp_path / "text.json"
    manifest.write_text(json.dumps({"dataset": "text"}))
    monkeypatch.setattr(cli, "catalog_path", lambda name, project=None, env=None: str(
        manifest if name.endswith("_token_manifest") else tmp_path))
    monkeypatch.setattr(cli, "project_config", lambda project, env: {"parameters": {"datasets": {"text": {}}}})
    monkeypatch.setattr("omnivec2.datasets.resolve_datasets", lambda datasets: datasets)
    code = cli.run_screen(["datasets.text.tokenizer.prune_vocabulary=true"], [], [0], None, None, None,
                          project=tmp_path)
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("omnivec2 screen: error: --set datasets.text.tokenizer.prune_vocabulary")
    assert "Traceback" not in err and not (tmp_path / cli.SCREENS).exists()
