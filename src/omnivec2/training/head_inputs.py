"""What each task head reads, over a whole split, from one forward pass per stream: the features the
end-of-stage head passes (precise statistics, refitted output layers) both work on.

Single stream, eval mode, as evaluation sees them: for a pooled head its `reduce` of the stream's
final features (`[S, D]` mean, or `[S, N * D]` flattened), for a dense head every token (`[S * N, D]`),
before the head's normalisation.
"""

from __future__ import annotations

import torch

from omnivec2.model.omnivec2 import OmniVec2, Stream, head_key
from omnivec2.training.data import ModalityData


@torch.no_grad()
def head_inputs(model: OmniVec2, data: dict[str, ModalityData], tasks: list[str],
                batch_size: int = 256, fitted_readout: bool = False) -> dict[str, torch.Tensor]:
    """`tasks`: "<stream>/<task>" keys; `data`: {stream: its rows, tokens [S, N, P]} -> {task: its
    head's input over every row, float32 on the CPU}; with `fitted_readout`, what the heads' fitted
    read-outs read instead (`[S, N * D]`, `head_pooling: select`). The model is left in the mode it was in."""
    was_training, device = model.training, next(model.parameters()).device
    model.eval()
    by_stream: dict[str, list[str]] = {}
    for key in tasks:
        by_stream.setdefault(key.split("/")[0], []).append(key)
    parts: dict[str, list[torch.Tensor]] = {key: [] for key in tasks}
    for stream, keys in by_stream.items():
        tokens = data[stream].tokens
        for i in range(0, len(tokens), batch_size):
            batch = Stream(stream, tokens[i : i + batch_size].to(device))
            features, padding = model.forward_stream(batch), model.padding(batch)
            for key in keys:
                head = model.heads[head_key(stream, key.split("/")[1])]
                reader = head.readout if fitted_readout else head
                parts[key].append(reader.reduce(features, padding).float().cpu())
    model.train(was_training)
    return {key: torch.cat(chunks) for key, chunks in parts.items() if chunks}
