"""Audio file bytes -> a mono float32 clip at the dataset's rate and length, for every audio reader
(`audio_folder`, `esc50`, `omnivec2 predict`).

Integer-PCM WAV (the espeak-ng clips, ESC-50) is read by Python's `wave` (`wav.read_wav`, unchanged:
the embedded suite's token cache was built from its bytes). Everything `wave` cannot open goes to
libsndfile through `soundfile`: WAV of float or WAVE_FORMAT_EXTENSIBLE samples, FLAC (LibriSpeech,
most Hugging Face audio sets), Ogg Vorbis and Opus, MP3 (Common Voice), AIFF. Its samples are
clipped to [-1, 1] (float formats may exceed full scale), averaged to mono, resampled
(`wav.resample`) and cropped or zero-padded (`wav.fit_length`). A clip whose header declares more
than `decode_bounds.MAX_AUDIO_SECONDS` is refused before it is decoded.
"""

from __future__ import annotations

import io

import numpy as np

from omnivec2.data.sources.decode_bounds import check_audio_length
from omnivec2.data.sources.wav import NotPcmWav, fit_length, read_wav, resample

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff")


def read_audio(data: bytes, name: str) -> tuple[np.ndarray, int]:
    """Audio file bytes -> (mono waveform float32 `[T]` in [-1, 1], sample rate); ValueError naming
    `name` for bytes no decoder reads (empty, truncated, another format) or that hold no frames."""
    try:
        return read_wav(data, name)
    except NotPcmWav as not_pcm:
        return _read_libsndfile(data, name, not_pcm.reason)


def decode_clip(data: bytes, name: str, rate: int, length: int) -> np.ndarray:
    """Audio file bytes -> mono float32 `[length]` at `rate` Hz (ValueError naming `name` if undecodable)."""
    wave_, clip_rate = read_audio(data, name)
    return fit_length(resample(wave_, clip_rate, rate), length)


def _read_libsndfile(data: bytes, name: str, why_not_wav: str) -> tuple[np.ndarray, int]:
    import soundfile

    try:
        info = soundfile.info(io.BytesIO(data))
        check_audio_length(name, info.frames, info.samplerate, info.channels)  # before decoding the frames
        samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (RuntimeError, TypeError) as error:  # soundfile.LibsndfileError is a RuntimeError
        raise ValueError(f"{name}: not a readable audio file (wave: {why_not_wav}; libsndfile: {error})") from None
    if samples.size == 0 or rate <= 0:
        raise ValueError(f"{name}: audio file holds no frames")
    return np.clip(samples.mean(axis=1), -1.0, 1.0).astype(np.float32), int(rate)
