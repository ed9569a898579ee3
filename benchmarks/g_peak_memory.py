"""(g) Peak memory per stage.

Each stage's loop (the preset's model, batch and the whole token cache, as a Ray worker holds
them) runs for a few steps in a fresh Python process, so `ru_maxrss` is that stage's own peak.
Baseline, in the same process: the resident size after the imports (torch, the library), before
the model and data exist. Memory is not noisy, so the figures are single measurements; the ratio
is peak / baseline, and the peak above the baseline is given against the bytes that must be held
(token data + parameters + gradients + two AdamW moments).
"""

from __future__ import annotations

import json
import subprocess
import sys

from benchmarks.report import Row
from benchmarks.workspace import PROJECT, STAGES, stage_loop_config

STEPS = 5


def _rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(loop_config: dict) -> dict:
    """Runs in the fresh process: baseline RSS, then the stage's trainer and STEPS steps."""
    import torch  # noqa: F401  the baseline includes the imports a worker has

    from omnivec2.training import trainer as _  # noqa: F401

    baseline = _rss_mb()
    from benchmarks.workspace import build_trainer

    trainer = build_trainer(loop_config)
    for _ in range(STEPS):
        trainer.train_step()
    data = sum(d.tokens.nbytes + sum(t.nbytes for t in d.targets.values()) for d in trainer.data.values())
    params = sum(p.numel() * p.element_size() for p in trainer.objective.parameters())
    return {"baseline_mb": baseline, "peak_mb": _peak_mb(), "data_mb": data / 2**20, "param_mb": params / 2**20}


def run(ctx) -> list[Row]:
    rows = []
    for stage in STAGES:
        config = stage_loop_config(ctx.workspace, ctx.preset, stage)
        out = subprocess.run([sys.executable, "-m", "benchmarks.g_peak_memory"], input=json.dumps(config),
                             capture_output=True, text=True, cwd=PROJECT, timeout=600)
        if out.returncode:
            raise RuntimeError(f"stage {stage}: memory probe failed: {out.stderr[-2000:]}")
        m = json.loads(out.stdout.strip().splitlines()[-1])
        held = m["data_mb"] + 4 * m["param_mb"]  # weights, gradients, two AdamW moments
        rows.append(Row("g", f"peak memory, {stage} ({STEPS} steps, batch {config['train']['batch_size']})",
                        m["peak_mb"], m["baseline_mb"], "MiB RSS", m["peak_mb"] / m["baseline_mb"],
                        "peak / after-imports RSS",
                        note=(f"{m['peak_mb'] - m['baseline_mb']:.0f} MiB above the baseline for {held:.0f} MiB "
                              f"that must be held (tokens {m['data_mb']:.0f}, 4x params {4 * m['param_mb']:.0f})"),
                        extra=m))
    return rows


if __name__ == "__main__":
    print(json.dumps(child(json.loads(sys.stdin.read()))))
