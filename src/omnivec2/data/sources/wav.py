"""PCM WAV bytes -> mono float32 waveforms at a target rate, with Python's `wave` module (no audio libraries).

Used by the audio sources (espeak-ng clips, ESC-50 folders). Integer PCM of 8, 16, 24 or 32 bits;
stereo (or more channels) is averaged to mono; other rates are resampled by linear interpolation.
"""

from __future__ import annotations

import io
import wave

import numpy as np

from omnivec2.data.sources.common import check_audio_length


def read_wav(data: bytes, name: str) -> tuple[np.ndarray, int]:
    """WAV file bytes -> (mono waveform float32 `[T]` in [-1, 1), sample rate).

    Raises ValueError naming `name` for anything that is not a non-empty integer-PCM WAV
    (empty or truncated file, compressed or float format, no frames).
    """
    try:
        with wave.open(io.BytesIO(data), "rb") as handle:
            channels, width, rate = handle.getnchannels(), handle.getsampwidth(), handle.getframerate()
            check_audio_length(name, handle.getnframes(), rate, channels)  # before reading the frames
            frames = handle.readframes(handle.getnframes())
    except (wave.Error, EOFError) as error:
        raise ValueError(f"{name}: not a readable PCM WAV file ({error or type(error).__name__})") from None
    if width not in (1, 2, 3, 4):
        raise ValueError(f"{name}: unsupported sample width of {width} bytes")
    usable = len(frames) // (width * channels) * width * channels  # a truncated last frame is dropped
    if usable == 0 or rate <= 0:
        raise ValueError(f"{name}: WAV file holds no audio frames")
    samples = _pcm_to_float(frames[:usable], width).reshape(-1, channels)
    return samples.mean(axis=1).astype(np.float32), rate


def _pcm_to_float(frames: bytes, width: int) -> np.ndarray:
    """Little-endian PCM bytes -> float32 in [-1, 1) (8-bit WAV is unsigned, the others signed)."""
    if width == 1:
        return (np.frombuffer(frames, np.uint8).astype(np.float32) - 128.0) / 128.0
    if width == 3:  # no numpy dtype: widen each 3-byte sample to int32 by hand
        raw = np.frombuffer(frames, np.uint8).reshape(-1, 3).astype(np.int32)
        values = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        values = np.where(values >= 1 << 23, values - (1 << 24), values)
        return (values / float(1 << 23)).astype(np.float32)
    dtype = {2: "<i2", 4: "<i4"}[width]
    return (np.frombuffer(frames, dtype).astype(np.float64) / float(1 << (8 * width - 1))).astype(np.float32)


def resample_linear(wave_: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    """Waveform `[T]` at `rate` -> `[round(T * target_rate / rate)]` at `target_rate`, linear interpolation."""
    if rate == target_rate:
        return wave_.astype(np.float32)
    length = max(1, int(round(len(wave_) * target_rate / rate)))
    times = np.arange(length, dtype=np.float64) * (rate / target_rate)
    return np.interp(times, np.arange(len(wave_)), wave_).astype(np.float32)


def fit_length(wave_: np.ndarray, length: int) -> np.ndarray:
    """Crop (keep the start) or zero-pad at the end to exactly `length` samples: `[T]` -> `[length]`."""
    out = np.zeros(length, dtype=np.float32)
    out[: min(length, len(wave_))] = wave_[:length]
    return out


def trim_silence(wave_: np.ndarray, threshold: float = 1e-3) -> np.ndarray:
    """Drop leading and trailing samples whose magnitude is below `threshold` (all-silent -> unchanged)."""
    loud = np.flatnonzero(np.abs(wave_) >= threshold)
    return wave_[loud[0] : loud[-1] + 1] if loud.size else wave_
