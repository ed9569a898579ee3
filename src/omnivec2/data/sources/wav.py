"""PCM WAV bytes -> mono float32 waveforms at a target rate: read by Python's `wave`, resampled by scipy.

Used by the audio sources through `audio_decode`, which sends what `wave` refuses to libsndfile.
Integer PCM of 8, 16, 24 or 32 bits; any channel count is averaged to mono; other rates are resampled
by polyphase filtering (`resample`), then clips are cropped or zero-padded to the dataset's length
(`fit_length`).
"""

from __future__ import annotations

import io
import math
import wave

import numpy as np

from omnivec2.data.sources.common import check_audio_length


class NotPcmWav(ValueError):
    """Python's `wave` does not open these bytes (not RIFF/WAVE, or a float or extensible format):
    another decoder may (`audio_decode.read_audio`). `reason` is `wave`'s own message."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: not a readable PCM WAV file ({reason})")
        self.reason = reason


def read_wav(data: bytes, name: str) -> tuple[np.ndarray, int]:
    """WAV file bytes -> (mono waveform float32 `[T]` in [-1, 1), sample rate).

    Raises ValueError naming `name` for anything that is not a non-empty integer-PCM WAV
    (empty or truncated file, no frames), `NotPcmWav` for bytes `wave` refuses (another format, or a
    WAV of float or extensible samples).
    """
    try:
        with wave.open(io.BytesIO(data), "rb") as handle:
            channels, width, rate = handle.getnchannels(), handle.getsampwidth(), handle.getframerate()
            check_audio_length(name, handle.getnframes(), rate, channels)  # before reading the frames
            frames = handle.readframes(handle.getnframes())
    except wave.Error as error:
        raise NotPcmWav(name, str(error)) from None
    except EOFError as error:
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


def resample(wave_: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    """Waveform `[T]` at `rate` -> `[ceil(T * target_rate / rate)]` at `target_rate`, polyphase.

    `scipy.signal.resample_poly` with up/down = the two rates divided by their gcd (44.1 -> 16 kHz:
    160/441); its Kaiser-windowed FIR low-pass removes what lies above the lower Nyquist frequency
    instead of folding it back. Clipped to [-1, 1]: the filter rings at full-scale edges.
    """
    if rate == target_rate:
        return wave_.astype(np.float32)
    from scipy.signal import resample_poly

    common = math.gcd(int(rate), int(target_rate))
    out = resample_poly(wave_.astype(np.float64), int(target_rate) // common, int(rate) // common)
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def fit_length(wave_: np.ndarray, length: int) -> np.ndarray:
    """Crop (keep the start) or zero-pad at the end to exactly `length` samples: `[T]` -> `[length]`."""
    out = np.zeros(length, dtype=np.float32)
    out[: min(length, len(wave_))] = wave_[:length]
    return out


def trim_silence(wave_: np.ndarray, threshold: float = 1e-3) -> np.ndarray:
    """Drop leading and trailing samples whose magnitude is below `threshold` (all-silent -> unchanged)."""
    loud = np.flatnonzero(np.abs(wave_) >= threshold)
    return wave_[loud[0] : loud[-1] + 1] if loud.size else wave_
