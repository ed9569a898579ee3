"""(a) Backbone block throughput: omnivec2's transformer f against `torch.nn.TransformerEncoderLayer`.

Both stacks have the preset's width, depth and heads, pre-norm, GELU, MLP ratio 4, no dropout and a
final LayerNorm; one training step (forward + backward + AdamW) on x `[B, N, D]` with B the stage
batch size and N the largest token count of the default data. Figure: tokens/s (B*N per step).
"""

from __future__ import annotations

import torch
from torch import nn

from benchmarks.report import Row, Target
from benchmarks.timing import interleaved, large_matmul, median, ratio

TARGET = Target(">=", 1.0)


def reference_stack(dim: int, depth: int, heads: int, mlp_ratio: float = 4.0) -> nn.Module:
    layer = nn.TransformerEncoderLayer(dim, heads, int(dim * mlp_ratio), dropout=0.0, activation="gelu",
                                       batch_first=True, norm_first=True)
    # enable_nested_tensor only matters for padded inference; off so both run the same dense path.
    return nn.TransformerEncoder(layer, depth, norm=nn.LayerNorm(dim), enable_nested_tensor=False)


def train_step(module: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor):
    """A closure: one forward + backward + AdamW step of `module` on x [B, N, D]."""

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        module(x).square().mean().backward()
        optimizer.step()

    return step


def step_flops(module: nn.Module, x: torch.Tensor) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        module(x).square().mean().backward()
    module.zero_grad(set_to_none=True)
    return float(counter.get_total_flops())


def run(ctx) -> list[Row]:
    from omnivec2.model.blocks import Transformer
    from omnivec2.model.config import preset

    config = preset(ctx.model_preset)
    batch = ctx.params["pretrain_unimodal"]["training"]["batch_size"]
    tokens = max(m["token_shape"][0] for m in ctx.workspace.manifests)
    dim, depth, heads = config.dim_f, config.depth_f, config.heads_f
    torch.manual_seed(0)
    ours, ref = Transformer(dim, depth, heads, config.mlp_ratio), reference_stack(dim, depth, heads, config.mlp_ratio)
    x = torch.randn(batch, tokens, dim)
    steps = {
        "omnivec2": train_step(ours, torch.optim.AdamW(ours.parameters(), lr=1e-4), x),
        "reference": train_step(ref, torch.optim.AdamW(ref.parameters(), lr=1e-4), x),
    }
    matmul, matmul_flops = large_matmul(ctx.matmul_size)
    steps["matmul"] = matmul
    seconds = interleaved(steps, rounds=ctx.rounds(7), warmup=1 if ctx.quick else 2)
    per_s = {k: batch * tokens / median(v) for k, v in seconds.items() if k != "matmul"}
    peak = matmul_flops / median(seconds["matmul"])
    flops = {"omnivec2": step_flops(ours, x), "reference": step_flops(ref, x)}
    mfu = {k: flops[k] / median(seconds[k]) / peak for k in flops}
    shape = f"D={dim}, depth {depth}, {heads} heads, B={batch}, N={tokens}"
    return [Row("a", f"block f fwd+bwd+AdamW ({shape})", per_s["omnivec2"], per_s["reference"], "tokens/s",
                ratio(per_s["omnivec2"], per_s["reference"]), "omnivec2 / nn.TransformerEncoderLayer", TARGET,
                note=f"fraction of matmul peak: omnivec2 {mfu['omnivec2']:.0%}, reference {mfu['reference']:.0%}",
                extra={"seconds": seconds, "flops": flops, "peak_flops": peak})]
