"""`python -m benchmarks.gpu_check` on CPU at the tiny preset, as it runs on a lent GPU machine
without Kedro: the inputs are written first (a subset of the datasets, the preset's parameters),
then every section runs from them (the stages chained through checkpoints, stage 3 again with
overrides, MFU, DDP over gloo, resume, evaluation on the device) and is recorded."""

from __future__ import annotations

import json

import pytest
import torch

from benchmarks.gpu_check import load_workspace, main, parse_value

STAGES = ("pretrain_unimodal", "pretrain_multimodal", "train_multitask")


def test_every_section_runs_from_the_written_inputs_and_is_recorded(tmp_path):
    work, params, out = tmp_path / "work", tmp_path / "params.json", tmp_path / "out"
    assert main(["--dump-params", "--preset", "tiny", "--work-dir", str(work), "--params-json", str(params),
                 "--datasets", "tabular,image,time_series"]) == 0
    assert json.loads(params.read_text())["model"]["preset"] == "tiny"
    assert load_workspace(work, "tiny", params).modalities == ["tabular", "image", "time_series"]

    assert main(["--preset", "tiny", "--device", "cpu", "--steps", "3", "--stage3", "lr=5e-4", "--work-dir",
                 str(work), "--params-json", str(params), "--out", str(out)]) == 0
    sections = json.loads((out / "gpu_check.json").read_text())["sections"]
    assert list(sections) == [*STAGES, "train_multitask+lr=0.0005", "mfu", "ddp", "resume", "evaluation"]
    for name in (*STAGES, "train_multitask+lr=0.0005"):
        assert sections[name]["steps"] == 3 and sections[name]["all_losses_finite"], sections[name]
    assert set(sections["train_multitask"]["val"]) == {"val/tabular/cultivar", "val/image/digit",
                                                       "val/time_series/gesture"}
    assert sections["ddp"]["backend"] == "gloo" and sections["ddp"]["steps"] == 20
    assert sections["resume"]["resumed_at"] == 3 and sections["resume"]["steps"] == 10
    assert [row["name"].split("(")[1].split(",")[0] for row in sections["mfu"]["rows"]] == ["bf16", "fp32"]
    evaluation = sections["evaluation"]
    assert set(evaluation["tasks"]) == {"tabular/cultivar", "image/digit", "time_series/gesture"}
    assert all(0 <= task["accuracy"] <= 1 for task in evaluation["tasks"].values())
    assert len(evaluation["specialists"]) == 2 and all(r["steps"] == 20 for r in evaluation["specialists"].values())


def test_a_failing_section_is_recorded_and_the_exit_status_says_so(tmp_path):
    work, params, out = tmp_path / "work", tmp_path / "params.json", tmp_path / "out"
    main(["--dump-params", "--preset", "tiny", "--work-dir", str(work), "--params-json", str(params),
          "--datasets", "tabular,image"])
    assert main(["--preset", "tiny", "--device", "cpu", "--steps", "2", "--stage3", "lr=-1", "--skip",
                 "mfu,ddp,resume,evaluation", "--work-dir", str(work), "--params-json", str(params), "--out", str(out)]) == 1
    sections = json.loads((out / "gpu_check.json").read_text())["sections"]
    assert all("error" not in sections[stage] for stage in STAGES)
    assert "lr" in sections["train_multitask+lr=-1"]["error"]


def test_override_values_read_as_numbers_where_they_are_numbers():
    assert parse_value("5e-4") == 5e-4 and parse_value("300") == 300
    assert parse_value("fp32") == "fp32" and parse_value("true") is True


@pytest.mark.skipif(torch.cuda.is_available(), reason="the refusal is for a machine without a CUDA device")
def test_asking_for_cuda_without_a_cuda_device_is_one_clear_error(tmp_path, capsys):
    assert main(["--device", "cuda", "--work-dir", str(tmp_path), "--out", str(tmp_path)]) == 2
    assert "sees no CUDA device" in capsys.readouterr().err and not (tmp_path / "gpu_check.json").exists()
