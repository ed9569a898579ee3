"""Label-preserving augmentation of cached tokens for supervised steps (`training.augment`).

Only what is label-preserving whatever the dataset is applied, chosen by the stream's learnable
tokenizer half (so every point-cloud dataset gets it, and nothing else changes):

* `mini_pointnet` (point clouds): one uniformly random rotation per sample, applied to every xyz triple
  of its tokens (group members relative to their centre, and the centre). Farthest-point sampling
  and kNN grouping commute with rotations, so this is exactly the tokens of the rotated cloud.

Image flips and crops are not here: a flipped digit or a mirrored object is another label. Audio
SpecAugment would need the patch grid of the cached spectrogram tokens: not done yet.
"""

from __future__ import annotations

import torch


def random_rotations(count: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """`count` rotation matrices `[count, 3, 3]`, uniform on SO(3) (QR of a Gaussian, signs fixed)."""
    q, r = torch.linalg.qr(torch.randn(count, 3, 3, generator=generator))
    q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)  # Haar-uniform on O(3)
    flip = torch.where(torch.linalg.det(q) < 0, -1.0, 1.0)  # reflections -> rotations
    return q * torch.stack([torch.ones_like(flip), torch.ones_like(flip), flip], dim=-1).unsqueeze(-2)


def rotate_point_groups(tokens: torch.Tensor, rotations: torch.Tensor) -> torch.Tensor:
    """tokens `[B, G, k*3 + 3]` (xyz triples), rotations `[B, 3, 3]` -> the rotated tokens, same shape."""
    b, g, width = tokens.shape
    xyz = tokens.reshape(b, g * width // 3, 3)
    return (xyz @ rotations.transpose(1, 2).to(tokens.dtype)).reshape(b, g, width)


def augment_tokens(embedding: str, tokens: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A stream's batch `[B, N, P]` -> its augmented copy (the same tensor when its tokenizer has none)."""
    if embedding == "mini_pointnet":
        return rotate_point_groups(tokens, random_rotations(len(tokens), generator).to(tokens.device))
    return tokens
