"""(g) Peak memory per stage.

One fresh Python process runs each stage's loop in turn (the preset's model and batch, and the
whole token cache, as a Ray worker holds them) for a few steps. Before each stage the kernel's
high-water mark is reset (`/proc/self/clear_refs` 5), so the `VmHWM` read after it is that stage's
own peak. Baseline, in the same process: the resident size after the imports (torch, the
library), before any model or data exist. Memory is not noisy, so the figures are single
measurements; the ratio is peak / baseline, and the note compares the peak above the baseline
with the bytes that must be held (token data + parameters + gradients + two AdamW moments).
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys

from benchmarks.report import Row
from benchmarks.workspace import PROJECT, STAGES, stage_launch

STEPS = 5


def _status_mb(field: str) -> float:
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(configs: dict[str, dict]) -> dict:
    """Runs in the fresh process: baseline RSS, then each stage's trainer and STEPS steps."""
    import torch  # noqa: F401  the baseline includes the imports a worker has

    from benchmarks.workspace import build_trainer
    from omnivec2.training.stage_launch import StageLaunch
    import omnivec2.training.trainer  # noqa: F401

    gc.collect()
    out = {"baseline_mb": _status_mb("VmRSS")}
    for stage, config in configs.items():
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # reset VmHWM to the current RSS
        trainer = build_trainer(StageLaunch.from_dict(config))
        for _ in range(STEPS):
            trainer.train_step()
        data = sum(d.tokens.nbytes + sum(t.nbytes for t in d.targets.values()) for d in trainer.data.values())
        params = sum(p.numel() * p.element_size() for p in trainer.objective.parameters())
        out[stage] = {"peak_mb": _status_mb("VmHWM"), "data_mb": data / 2**20, "param_mb": params / 2**20}
        del trainer
        gc.collect()
    return out


def run(ctx) -> list[Row]:
    configs = {stage: stage_launch(ctx.workspace, ctx.preset, stage).to_dict() for stage in STAGES}
    proc = subprocess.run([sys.executable, "-m", "benchmarks.g_peak_memory"], input=json.dumps(configs),
                          capture_output=True, text=True, cwd=PROJECT, timeout=1800)
    if proc.returncode:
        raise RuntimeError(f"the memory probe failed: {proc.stderr[-2000:]}")
    m = json.loads(proc.stdout.strip().splitlines()[-1])
    base = m["baseline_mb"]
    rows = []
    for stage in STAGES:
        s = m[stage]
        held = s["data_mb"] + 4 * s["param_mb"]  # weights, gradients, two AdamW moments
        rows.append(Row("g", f"peak memory, {stage} ({STEPS} steps, batch {configs[stage]['train']['batch_size']})",
                        s["peak_mb"], base, "MiB RSS", s["peak_mb"] / base, "peak / after-imports RSS",
                        note=(f"{s['peak_mb'] - base:.0f} MiB above the baseline for {held:.0f} MiB that must be "
                              f"held (tokens {s['data_mb']:.0f}, 4x params {4 * s['param_mb']:.0f})"),
                        extra={**s, "baseline_mb": base}))
    return rows


if __name__ == "__main__":
    print(json.dumps(child(json.loads(sys.stdin.read()))))
