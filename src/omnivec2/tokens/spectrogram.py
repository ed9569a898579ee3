"""Deterministic audio tokenizer: log-mel filter bank (`torch.stft` + a hand-written mel bank) -> AST-style patches.

No torchaudio (there is no CPU build here): the mel filter bank is HTK-style triangles on the mel
scale `m = 2595 log10(1 + f / 700)`, peak 1, built with numpy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

LOG_FLOOR = 1e-6  # added to mel energies before the log: silence -> log(1e-6)


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(n_mels: int, n_fft: int, sample_rate: int, f_min: float, f_max: float) -> np.ndarray:
    """Triangular filters `[n_mels, n_fft // 2 + 1]` float32; filter k peaks (value 1) at centre k.

    Centres are `n_mels` points equally spaced in mel between f_min and f_max (exclusive of the
    two edges); each triangle falls to 0 at its neighbours' centres.
    """
    edges = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))  # [n_mels + 2]
    bins = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)  # FFT bin frequencies [F]
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None] - lower) / (centre - lower)
    falling = (upper - bins[None]) / (upper - centre)
    return np.clip(np.minimum(rising, falling), 0.0, None).astype(np.float32)


def mel_centres(n_mels: int, f_min: float, f_max: float) -> np.ndarray:
    """Centre frequency (Hz) of each mel filter `[n_mels]`."""
    return mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))[1:-1]


@dataclass(frozen=True)
class LogMelPatches:
    """Waveforms `[T]` -> log-mel `[n_mels, frames]` -> tokens `[(n_mels/pm)*(frames/pf), pm*pf]`.

    25 ms Hann windows every 10 ms (n_fft 400, hop 160 at 16 kHz, no centring); the frame count is
    cropped or padded (with silence's value) to `frames`. Log energies are standardised with the
    training split's global mean and standard deviation (as AST does). Patches are taken row-major
    over (mel band group, time group): token index = band_group * (frames / pf) + time_group, and
    within a token the values are `[pm mel bins, pf frames]` row-major.
    """

    sample_rate: int = 16000
    n_fft: int = 400
    hop: int = 160
    n_mels: int = 64
    f_min: float = 20.0
    f_max: float = 8000.0
    frames: int = 96
    patch_mels: int = 16
    patch_frames: int = 8

    def config(self) -> dict:
        return {"kind": "log_mel_patches", **asdict(self)}

    def log_mel(self, samples: Sequence[np.ndarray]) -> np.ndarray:
        """Waveforms (equal lengths) -> log-mel energies `[B, n_mels, frames]` float32."""
        import torch

        waves = torch.from_numpy(np.stack([np.asarray(s, dtype=np.float32) for s in samples]))  # [B, T]
        if waves.shape[1] < self.n_fft:
            waves = torch.nn.functional.pad(waves, (0, self.n_fft - waves.shape[1]))
        window = torch.hann_window(self.n_fft, periodic=True)
        spec = torch.stft(waves, self.n_fft, self.hop, window=window, center=False, return_complex=True)
        power = spec.real ** 2 + spec.imag ** 2  # [B, F, frames]
        bank = torch.from_numpy(mel_filterbank(self.n_mels, self.n_fft, self.sample_rate, self.f_min, self.f_max))
        mel = torch.log(torch.einsum("mf,bft->bmt", bank, power) + LOG_FLOOR).numpy()
        have = mel.shape[2]
        if have >= self.frames:
            return np.ascontiguousarray(mel[:, :, : self.frames], dtype=np.float32)
        pad = np.full((mel.shape[0], self.n_mels, self.frames - have), np.log(LOG_FLOOR), np.float32)
        return np.concatenate([mel, pad], axis=2).astype(np.float32)

    def fit(self, train_samples: Sequence[np.ndarray]) -> dict:
        mel = self.log_mel(train_samples).astype(np.float64)
        return {"mean": float(mel.mean()), "std": float(max(mel.std(), 1e-6))}

    def transform(self, samples: Sequence[np.ndarray], stats: dict) -> np.ndarray:
        mel = (self.log_mel(samples) - np.float32(stats["mean"])) / np.float32(stats["std"])  # [B, M, T]
        b, pm, pf = mel.shape[0], self.patch_mels, self.patch_frames
        if self.n_mels % pm or self.frames % pf:
            raise ValueError(f"{self.n_mels}x{self.frames} log-mel is not divisible into {pm}x{pf} patches")
        patches = mel.reshape(b, self.n_mels // pm, pm, self.frames // pf, pf).transpose(0, 1, 3, 2, 4)
        return patches.reshape(b, (self.n_mels // pm) * (self.frames // pf), pm * pf).astype(np.float32)


def spectrogram_grid(config: dict) -> tuple[int, ...]:
    """A token cache's tokenizer config (the manifest's `tokenizer.config`) -> the patch grid of its
    log-mel tokens `(n_mels / pm, frames / pf, pm, pf)`; `()` for any other tokenizer."""
    if config.get("kind") != "log_mel_patches":
        return ()
    pm, pf = int(config["patch_mels"]), int(config["patch_frames"])
    return int(config["n_mels"]) // pm, int(config["frames"]) // pf, pm, pf
