"""Label-preserving augmentation of cached tokens for supervised steps (`training.augment`).

Only what is label-preserving whatever the dataset is applied, chosen by the stream's learnable
tokenizer half (so every point-cloud dataset gets it, and nothing else changes):

* `mini_pointnet` (point clouds): one uniformly random rotation per sample, applied to every xyz triple
  of its tokens (group members relative to their centre, and the centre). Farthest-point sampling
  and kNN grouping commute with rotations, so this is exactly the tokens of the rotated cloud.

* log-mel patches (any stream with a `spectrogram_grid`): the patches are put back into the
  standardised spectrogram `[mels, frames]`, which is shifted along the mel axis by up to 1/20 of
  its bands (edges repeated; a stand-in for vocal-tract-length perturbation, since unseen voices
  move the formants) and then gets SpecAugment's masks (Park et al. 2019, without time warping):
  two frequency masks of up to 1/8 of the bands and two time masks of up to 1/10 of the frames,
  filled with 0, the standardised mean. Then it is patched again.

* ViT patches of images (any stream with a `pixel_grid`): each sample mirrored left to right with
  probability 1/2 (the patch columns reversed, and the pixel columns inside each patch), its dense
  targets (pixel labels per patch, same layout) mirrored with it. Only where the user names the
  dataset (or the kind `flip`): a mirrored digit or letter is another label, a mirrored chair is still
  a chair, and which of the two a dataset is, only its owner knows. Crops are not here: the token
  grid is fixed, and a crop of a digit may be another digit.

`training.augment` switches it on for every stream (`true`: flips excepted), or for those it lists:
by dataset name, or by kind (`rotation`, `spectrogram`, `flip`: every stream whose tokenizer has it).
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


def spectrogram_from_patches(tokens: torch.Tensor, grid: tuple[int, ...]) -> torch.Tensor:
    """Log-mel tokens `[B, R*C, pm*pf]` on the grid `(R, C, pm, pf)` -> spectrograms `[B, R*pm, C*pf]`."""
    r, c, pm, pf = grid
    return tokens.reshape(len(tokens), r, c, pm, pf).permute(0, 1, 3, 2, 4).reshape(len(tokens), r * pm, c * pf)


def patches_from_spectrogram(spectrogram: torch.Tensor, grid: tuple[int, ...]) -> torch.Tensor:
    """The inverse of `spectrogram_from_patches`: `[B, R*pm, C*pf]` -> `[B, R*C, pm*pf]`."""
    r, c, pm, pf = grid
    b = len(spectrogram)
    return spectrogram.reshape(b, r, pm, c, pf).permute(0, 1, 3, 2, 4).reshape(b, r * c, pm * pf)


def _band_masks(count: int, length: int, masks: int, widest: int, generator) -> torch.Tensor:
    """`masks` bands per row, each of a width uniform in [0, widest] at a uniform start -> `[count, length]` bool."""
    where = torch.arange(length)
    out = torch.zeros(count, length, dtype=torch.bool)
    for _ in range(masks):
        width = torch.randint(0, widest + 1, (count, 1), generator=generator)
        start = (torch.rand(count, 1, generator=generator) * (length - width + 1)).floor().long()
        out |= (where >= start) & (where < start + width)
    return out


def augment_spectrogram(tokens: torch.Tensor, grid: tuple[int, ...], generator: torch.Generator | None = None) -> torch.Tensor:
    """Log-mel tokens `[B, N, P]` on `grid` -> the tokens of their mel-shifted, SpecAugment-masked
    spectrograms, same shape (see the module docstring)."""
    spectrogram = spectrogram_from_patches(tokens, grid)  # [B, M, T]
    b, mels, frames = spectrogram.shape
    reach = mels // 20
    shift = torch.randint(-reach, reach + 1, (b, 1), generator=generator)
    rows = (torch.arange(mels) - shift).clamp(0, mels - 1).to(tokens.device)  # [B, M]: where each band comes from
    spectrogram = torch.gather(spectrogram, 1, rows.unsqueeze(-1).expand(b, mels, frames))
    hidden = (_band_masks(b, mels, 2, mels // 8, generator).unsqueeze(2)
              | _band_masks(b, frames, 2, frames // 10, generator).unsqueeze(1)).to(tokens.device)  # [B, M, T]
    return patches_from_spectrogram(spectrogram.masked_fill(hidden, 0.0), grid)


def flip_patch_grid(values: torch.Tensor, grid: tuple[int, ...], flipped: torch.Tensor) -> torch.Tensor:
    """Patch values `[B, R*C, ch*p*p]` in `ImagePatches`' layout (patches row-major, each holding its
    channels' p x p pixels row-major) on `grid` `(R, C, ch, p)`, `flipped` `[B]` bool -> the same with
    each flipped sample's image mirrored left to right; dense labels `[B, R*C, p*p]` take `(R, C, 1, p)`."""
    r, c, ch, p = grid
    b = len(values)
    image = values.reshape(b, r, c, ch, p, p)
    mirrored = image.flip(2).flip(5)  # the patch columns, and the pixel columns inside each patch
    return torch.where(flipped.to(values.device).view(b, 1, 1, 1, 1, 1), mirrored, image).reshape(values.shape)


AUGMENTATIONS = ("rotation", "spectrogram", "flip")  # what `training.augment` may list besides dataset names
NAMED_ONLY = ("flip",)  # kinds `augment: true` leaves out: label-preserving for some datasets only


def augmentation_kind(stream) -> str | None:
    """A stream's (`ModalityConfig`) label-preserving augmentation, one of `AUGMENTATIONS`, or None."""
    if stream.embedding == "mini_pointnet":
        return "rotation"
    if stream.spectrogram_grid:
        return "spectrogram"
    if stream.pixel_grid:
        return "flip"
    return None


def augment_batch(stream, tokens: torch.Tensor, targets: dict[str, torch.Tensor],
                  generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """A stream's (`ModalityConfig`) batch: tokens `[B, N, P]` and {task: targets `[B, ...]`} -> its
    augmented copy (the same tensors when its tokenizer has no label-preserving augmentation). Only
    a flip moves targets: a dense task's pixel labels are mirrored with their image."""
    kind = augmentation_kind(stream)
    if kind == "rotation":
        return rotate_point_groups(tokens, random_rotations(len(tokens), generator).to(tokens.device)), targets
    if kind == "spectrogram":
        return augment_spectrogram(tokens, stream.spectrogram_grid, generator), targets
    if kind == "flip":
        flipped = torch.rand(len(tokens), generator=generator) < 0.5
        r, c, _, p = stream.pixel_grid
        labels = {name: flip_patch_grid(t, (r, c, 1, p), flipped) if stream.task(name).kind == "dense" else t
                  for name, t in targets.items()}
        return flip_patch_grid(tokens, stream.pixel_grid, flipped), labels
    return tokens, targets
