"""The token grid at every depth of the single-stream pass (A removed, as at test time), for the
diagnostics that ask where along the network something is kept or lost (`retrieval_depth`,
`probe_depth`).

The depths, each `[S, N, D]`:

* `tokens`: the cached input tokens (what the classical baseline reads);
* `embedding`: x = tokenizer(tokens) + position + type, the input of f;
* `f1` ... `fL`: the residual stream after each block of f (before its final LayerNorm);
* `f`: z = FC(f(x));
* `g`: o = Fuse(g(z), z), what the heads read.
"""

from __future__ import annotations

import numpy as np
import torch

from omnivec2.evaluation.device import model_device
from omnivec2.model.omnivec2 import OmniVec2, Stream


@torch.no_grad()
def depth_tokens(model: OmniVec2, stream: str, tokens: torch.Tensor, batch_size: int = 256) -> dict[str, np.ndarray]:
    """tokens `[S, N, P]` -> {depth: `[S, N, D_depth]`} for `tokens`, `embedding`, `f1`..`fL`, `f`, `g`
    (see the module docstring), single stream."""
    model.eval()
    device, parts = model_device(model), {}
    for i in range(0, len(tokens), batch_size):
        batch = Stream(stream, tokens[i : i + batch_size].to(device))
        pad = model.padding(batch)
        x = model.embed(stream, batch.tokens)
        depths = {"tokens": batch.tokens.flatten(2).float(), "embedding": x}
        for number, block in enumerate(model.f.blocks, start=1):
            x = block(x, pad)
            depths[f"f{number}"] = x
        z = model.reduce(model.f.norm(x))
        depths["f"], depths["g"] = z, model.encode_g(z, z, pad)
        for name, value in depths.items():
            parts.setdefault(name, []).append(value.cpu())
    return {name: torch.cat(chunks).numpy() for name, chunks in parts.items()}
