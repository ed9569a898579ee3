"""(b) Model FLOPs utilisation: achieved FLOP/s of whole training steps against the machine's
peak measured in the same run with a large matmul (interleaved with the steps).

The step is `StageTrainer.train_step` of stage 3 (train_multitask, the longest stage: pairs of
tasks through f, A and g, losses balanced, AdamW) on a fixed set of plans drawn by the stage's own
sampler, so every repetition does the same work. FLOPs per plan are counted by
`torch.utils.flop_counter` (matmuls and attention; element-wise work and AdamW are not counted,
as in the usual MFU definition).
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import torch

from benchmarks.report import Row, Target, not_measured
from benchmarks.timing import interleaved, large_matmul, median, ratio
from benchmarks.workspace import build_trainer, stage_launch

CPU_TARGET = Target(">=", 0.50)
GPU_TARGET = Target(">=", 0.40)
PLANS = 4
STAGE = "train_multitask"


def fixed_plan_trainer(launch, plans: int, device: str = "cpu"):
    """A StageTrainer whose `plan()` cycles through `plans` plans drawn once from its real sampler."""
    trainer = build_trainer(launch, device=device)
    drawn = [trainer.plan() for _ in range(plans)]
    cycle = itertools.cycle(drawn)
    trainer.plan = lambda: next(cycle)  # instance attribute: train_step calls self.plan()
    return trainer, drawn


def plan_flops(trainer, plan) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    items, use_cross = plan
    counter = FlopCounterMode(display=False)
    with counter:
        total, _ = trainer.module(items, use_cross=use_cross)
        total.backward()
    trainer.optimizer.zero_grad(set_to_none=True)
    return float(counter.get_total_flops())


def measure(ctx, preset: str, batch_size: int | None, precision: str, device: str, target: Target, why: str = "") -> Row:
    training = {"precision": precision}
    if batch_size:
        training["batch_size"] = batch_size
    config = stage_launch(ctx.workspace, ctx.preset, STAGE, training, model_overrides=None)
    if preset != ctx.model_preset:
        from omnivec2.model.config import preset as model_preset

        fields = model_preset(preset).to_dict()
        config = replace(config, model={**config.model, **{k: v for k, v in fields.items() if k != "modalities"}})
    plans_drawn = 2 if ctx.quick else PLANS
    trainer, plans = fixed_plan_trainer(config, plans_drawn, device)
    flops = sum(plan_flops(trainer, p) for p in plans) / len(plans)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    matmul, matmul_flops = large_matmul(ctx.matmul_size if device == "cpu" else 8192, device, dtype)
    step = trainer.train_step if device == "cpu" else (lambda: (trainer.train_step(), torch.cuda.synchronize()))
    seconds = interleaved({"step": step, "matmul": matmul},
                          rounds=ctx.rounds(3 * PLANS if preset != "base" else PLANS), warmup=plans_drawn)
    achieved, peak = flops / median(seconds["step"]), matmul_flops / median(seconds["matmul"])
    batch = config.train.batch_size
    return Row("b", f"MFU, stage-3 training step, preset {preset} ({precision}, batch {batch}, {device})",
               achieved / 1e9, peak / 1e9, "GFLOP/s", ratio(achieved, peak), "step FLOP/s / matmul peak FLOP/s",
               target, note=why, extra={"flops_per_step": flops, "seconds": seconds})


def run(ctx) -> list[Row]:
    rows = [measure(ctx, ctx.model_preset, None, "fp32", "cpu", CPU_TARGET,
                    "the preset's own stage-3 step (default batch)")]
    if ctx.model_preset != "base" and not ctx.quick:
        # base on 2 cores: the stage's batch of 256 would take minutes per step; 16 keeps it bounded.
        rows.append(measure(ctx, "base", 16, "fp32", "cpu", CPU_TARGET,
                            "base widths on CPU, batch 16 (256 would take minutes per step); fp32: bf16 "
                            "matmuls on this CPU are not the path a GPU takes"))
    if torch.cuda.is_available():
        rows.append(measure(ctx, "base", None, "bf16", "cuda", GPU_TARGET, "bf16 autocast at base"))
    else:
        rows.append(not_measured("b", "MFU at base, bf16, on a GPU",
                                 "no GPU on this machine (none was lent to this task)", GPU_TARGET))
    return rows
