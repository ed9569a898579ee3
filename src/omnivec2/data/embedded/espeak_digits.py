"""`espeak_digits`: spoken digits 0-9 synthesised offline by espeak-ng, split by voice.

Each clip is one English digit word spoken by one espeak-ng voice (a language/accent voice plus a
voice variant that changes formants, pitch range and breathiness) at one speed (words per minute)
and pitch (0-99). The default grid is 12 voices x 10 digits x 3 speeds x 2 pitches = 720 clips;
the seed jitters each take's speed (+-8 wpm) and pitch (+-6), so a seed fixes the data exactly.
Splits are by voice (test and val voices never appear in training).

A take (one voice, speed and pitch) speaks the ten words in one espeak-ng call with 600 ms SSML
breaks between them, written at 22.05 kHz into a temporary folder, read with `wave` and cut at
silences longer than 0.25 s (each word thereby trimmed of silence); a take that does not split
into ten is synthesised word by word instead. Words are resampled to the dataset's rate (16 kHz)
by polyphase filtering (`wav.resample`), trimmed again of the filter's faint onset and tail, and
cropped or zero-padded to the payload length (1.0 s). espeak-ng is deterministic for a given
voice, speed, pitch and text.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import SourceError, target_name
from omnivec2.data.sources.wav import fit_length, read_wav, resample, trim_silence
from omnivec2.datasets.spec import DatasetSpec

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
TRAIN_VOICES = ("en-us", "en-gb+f3", "en-gb-scotland+m3", "en-gb-x-rp+f2", "en-gb-x-gbclan+Andy", "en+klatt", "en+whisperf")
VAL_VOICES = ("en-gb+m7", "en-us+f5")
TEST_VOICES = ("en-us-nyc+f4", "en-029+m4", "en-gb-x-gbcwmd+Alicia")
SPEEDS = (130, 160, 190)  # words per minute (espeak-ng default 175)
PITCHES = (35, 65)  # 0-99 (default 50)
JITTER = {"speed": 8, "pitch": 6}
PROGRAM = "espeak-ng"
BREAK_MS = 600  # SSML pause between the words of a take
SILENCE = 1e-3  # |sample| below this is silence (trimming and splitting)
MIN_GAP_S = 0.25  # silences this long separate words (within-word stop closures are < 0.2 s)


def espeak_program(spec: DatasetSpec) -> str:
    """Path of the espeak-ng executable, or a SourceError saying how to install it."""
    path = shutil.which(PROGRAM)
    if path is None:
        raise SourceError(
            f"dataset {spec.name!r}: the 'espeak_digits' source needs the program {PROGRAM!r}, which is not on PATH; "
            "install the Debian package 'espeak-ng' (apt-get install -y espeak-ng)"
        )
    return path


def clip_grid(source: dict, seed: int) -> pd.DataFrame:
    """One row per clip: voice, split, digit, speed, pitch, in a fixed order.

    The seed jitters the speed and pitch of each (voice, speed, pitch) take; the ten digits of a
    take share them (they are synthesised in one espeak-ng call).
    """
    voices = {
        "train": source.get("train_voices", TRAIN_VOICES),
        "val": source.get("val_voices", VAL_VOICES),
        "test": source.get("test_voices", TEST_VOICES),
    }
    rng = np.random.default_rng(seed)
    rows = []
    for split, names in voices.items():
        for voice in names:
            for speed in source.get("speeds", SPEEDS):
                for pitch in source.get("pitches", PITCHES):
                    take_speed = int(speed + rng.integers(-JITTER["speed"], JITTER["speed"] + 1))
                    take_pitch = int(np.clip(pitch + rng.integers(-JITTER["pitch"], JITTER["pitch"] + 1), 0, 99))
                    for digit in range(len(WORDS)):
                        rows.append({"voice": voice, "split": split, "digit": digit, "speed": take_speed, "pitch": take_pitch})
    return pd.DataFrame(rows)


def speak(program: str, spec: DatasetSpec, voice: str, speed: int, pitch: int, text: str, path: Path, ssml: bool) -> tuple[np.ndarray, int]:
    """One espeak-ng call -> (waveform float32 `[T]`, sample rate)."""
    command = [program, "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(path), *(["-m"] if ssml else []), text]
    done = subprocess.run(command, capture_output=True, timeout=60)
    if done.returncode != 0 or not path.is_file():
        raise SourceError(
            f"dataset {spec.name!r}: {' '.join(command)} failed ({done.returncode}): {done.stderr.decode(errors='replace')[:200]}"
        )
    try:
        return read_wav(path.read_bytes(), str(path))
    except ValueError as error:
        raise SourceError(f"dataset {spec.name!r}: {error}") from None


def split_words(wave_: np.ndarray, rate: int, threshold: float = SILENCE, min_gap: float = MIN_GAP_S) -> list[np.ndarray]:
    """A take `[T]` -> the sounds between silences longer than `min_gap` seconds (each trimmed)."""
    loud = np.flatnonzero(np.abs(wave_) >= threshold)
    if loud.size == 0:
        return []
    cuts = np.flatnonzero(np.diff(loud) > min_gap * rate)
    starts, ends = np.r_[loud[0], loud[cuts + 1]], np.r_[loud[cuts], loud[-1]]
    return [wave_[a : b + 1] for a, b in zip(starts, ends)]


def take_words(program: str, spec: DatasetSpec, voice: str, speed: int, pitch: int, folder: Path) -> tuple[list[np.ndarray], int]:
    """The ten digit words of one take -> (ten trimmed waveforms, sample rate).

    One call speaks all ten with long SSML breaks between them (~10x faster than ten calls); if
    the take does not split into exactly ten sounds, each word is synthesised on its own instead.
    """
    path = folder / f"take-{voice}-{speed}-{pitch}.wav"
    text = "<speak>" + "".join(f'{word}. <break time="{BREAK_MS}ms"/>' for word in WORDS) + "</speak>"
    wave_, rate = speak(program, spec, voice, speed, pitch, text, path, ssml=True)
    words = split_words(wave_, rate)
    if len(words) == len(WORDS):
        return words, rate
    words = [trim_silence(speak(program, spec, voice, speed, pitch, w, path, ssml=False)[0]) for w in WORDS]
    return words, rate


def synthesise(program: str, spec: DatasetSpec, grid: pd.DataFrame, folder: Path, workers: int = 2) -> list[tuple[np.ndarray, int]]:
    """Every clip of the grid (takes of ten digits, `workers` espeak-ng processes at a time) -> (wave, rate) in grid order."""
    takes = grid[["voice", "speed", "pitch"]].drop_duplicates().itertuples(index=False)
    takes = list(takes)

    def run(take) -> dict:
        words, rate = take_words(program, spec, take.voice, take.speed, take.pitch, folder)
        return {(take.voice, take.speed, take.pitch, digit): (w, rate) for digit, w in enumerate(words)}

    clips: dict = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for found in pool.map(run, takes):
            clips.update(found)
    return [clips[(r.voice, r.speed, r.pitch, r.digit)] for r in grid.itertuples()]


def load_espeak_digits_source(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Waveforms float32 `[L]` (L = the payload length, at the dataset's `sample_rate`); target `digit` 0-9.

    `sample_id` is `espeak-<voice>-<digit>-s<speed>-p<pitch>` (unique: the grid never repeats a
    voice/digit/speed/pitch; a clash after jitter is made unique with `-<n>`).
    """
    program = espeak_program(spec)
    rate, length = int(spec.settings["sample_rate"]), int(spec.payload.shape[0])
    grid = clip_grid(source, seed)
    with tempfile.TemporaryDirectory(prefix="omnivec2-espeak-") as folder:
        clips = synthesise(program, spec, grid, Path(folder), int(source.get("workers", 2)))
    waves = [fit_length(trim_silence(resample(wave_, clip_rate, rate)), length) for wave_, clip_rate in clips]
    ids = [f"espeak-{r.voice}-{r.digit}-s{r.speed}-p{r.pitch}" for r in grid.itertuples()]
    ids = _unique(ids)
    return build_sample_table(ids, grid["split"].tolist(), waves, {target_name(spec): grid["digit"].to_numpy(np.int64)})


def _unique(ids: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for sample_id in ids:
        count = seen.get(sample_id, 0)
        seen[sample_id] = count + 1
        out.append(sample_id if count == 0 else f"{sample_id}-{count}")
    return out
