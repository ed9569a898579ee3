"""Audio: espeak-ng spoken digits (split by voice), the ESC-50 reader, the log-mel tokenizer, bad input."""

from __future__ import annotations

import io
import wave

import numpy as np
import pandas as pd
import pytest

from omnivec2.data.sample_table import decode_payload
from omnivec2.data.sources import SourceError, load_source
from omnivec2.data.embedded import espeak_digits
from omnivec2.data.sources.wav import read_wav, resample
from omnivec2.datasets import TaskSpec, resolve_dataset
from omnivec2.validation import validate_sample_table
from tests.default_suite import DATASETS
from omnivec2.tokens.spectrogram import LOG_FLOOR, LogMelPatches, hz_to_mel, mel_centres, mel_filterbank
from tests.s3_server import upload_folder  # the `s3` fixture comes from tests/conftest.py
from tests.omnivec2.data.skipped_files import assert_file_set_aside

SPEC = DATASETS["audio"]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return load_source(SPEC, SPEC.source, seed=0)


# ----- default source -------------------------------------------------------------------------------
def test_default_source_counts_and_voice_split(table):
    assert len(table) == 720 and table["sample_id"].is_unique
    assert table["split"].value_counts().to_dict() == {"train": 420, "test": 180, "val": 120}
    assert (table["digit"].value_counts() == 72).all() and set(table["digit"]) == set(range(10))
    assert (table["shape"] == "16000").all() and (table["dtype"] == "float32").all()
    voice = table["sample_id"].str.extract(r"^espeak-(.+)-\d-s\d+-p\d+$")[0]
    voices = {split: set(voice[table["split"] == split]) for split in ("train", "val", "test")}
    assert voices["test"] == set(espeak_digits.TEST_VOICES) and len(voices["train"]) == 7
    assert not voices["test"] & voices["train"] and not voices["val"] & voices["train"]


def test_default_source_is_deterministic_for_a_seed(table):
    again = load_source(SPEC, SPEC.source, seed=0)
    assert again["sample_id"].tolist() == table["sample_id"].tolist()
    assert (again["payload"] == table["payload"]).all()
    other = espeak_digits.clip_grid({}, seed=1)
    assert (other[["speed", "pitch"]].to_numpy() != espeak_digits.clip_grid({}, 0)[["speed", "pitch"]].to_numpy()).any()


def test_clips_are_speech_starting_at_zero_and_within_one_second(table):
    clip = decode_payload(table.iloc[0])
    assert abs(clip[0]) >= 1e-3  # leading silence trimmed
    assert 0.05 < np.abs(clip).max() <= 1.0
    assert np.all(clip[-100:] == 0.0)  # padded: every digit word is shorter than 1 s


def test_take_falls_back_to_word_by_word_when_it_does_not_split_in_ten(monkeypatch, tmp_path):
    monkeypatch.setattr(espeak_digits, "split_words", lambda wave_, rate: [wave_])  # a take that will not split
    words, rate = espeak_digits.take_words(espeak_digits.espeak_program(SPEC), SPEC, "en-us", 160, 50, tmp_path)
    assert len(words) == 10 and rate == 22050 and all(0.1 < len(w) / rate < 1.0 for w in words)


def test_missing_espeak_names_program_and_package(monkeypatch):
    monkeypatch.setattr(espeak_digits.shutil, "which", lambda name: None)
    with pytest.raises(SourceError, match=r"'audio'.*'espeak-ng'.*apt-get install -y espeak-ng"):
        load_source(SPEC, SPEC.source, seed=0)


# ----- tokenizer --------------------------------------------------------------------------------------
def test_mel_scale_and_filter_bank_by_hand():
    assert hz_to_mel(700.0) == pytest.approx(2595.0 * np.log10(2.0))
    bank = mel_filterbank(64, 400, 16000, 20.0, 8000.0)
    assert bank.shape == (64, 201) and bank.min() == 0.0 and bank.max() <= 1.0
    assert (bank.sum(axis=1) > 0).all()  # no empty filter at 64 bins over 201 FFT bins


def test_log_mel_tokens_shape_layout_and_a_hand_checked_value():
    tokenizer = LogMelPatches()
    silence = np.zeros(16000, np.float32)
    tokens = tokenizer.transform([silence], {"mean": 0.0, "std": 1.0})
    assert tokens.shape == (1, 48, 128) and tokens.dtype == np.float32
    np.testing.assert_allclose(tokens, np.log(LOG_FLOOR), rtol=1e-6)  # silence: log(0 + floor) everywhere

    t = np.arange(16000) / 16000.0
    tone = (0.5 * np.sin(2 * np.pi * 1000.0 * t)).astype(np.float32)
    mel = tokenizer.log_mel([tone])[0]  # [64, 96]
    nearest = int(np.argmin(np.abs(mel_centres(64, 20.0, 8000.0) - 1000.0)))
    assert abs(int(mel.mean(axis=1).argmax()) - nearest) <= 1
    tokens = tokenizer.transform([tone], {"mean": 0.0, "std": 1.0})[0]  # token = band group * 12 + time group
    band, within = divmod(nearest, 16)
    np.testing.assert_allclose(tokens[band * 12 + 3].reshape(16, 8)[within], mel[nearest, 24:32], rtol=1e-6)


def test_fit_standardises_with_train_statistics(table):
    tokenizer = SPEC.tokenizer
    train = [decode_payload(r) for r in table[table["split"] == "train"].head(40).to_dict("records")]
    stats = tokenizer.fit(train)
    tokens = tokenizer.transform(train, stats)
    assert abs(tokens.mean()) < 1e-3 and tokens.std() == pytest.approx(1.0, rel=1e-3)


# ----- ESC-50 reader ----------------------------------------------------------------------------------
def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    """int16 samples `[T]` or `[T, C]` -> WAV bytes."""
    samples = samples.reshape(len(samples), -1)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(samples.shape[1])
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()


def write_esc50(root, rows: list[tuple[str, int, int, bytes]]) -> None:
    (root / "audio").mkdir(parents=True)
    (root / "meta").mkdir()
    for filename, _, _, data in rows:
        (root / "audio" / filename).write_bytes(data)
    meta = pd.DataFrame([(f, fold, target, "x") for f, fold, target, _ in rows], columns=["filename", "fold", "target", "category"])
    meta.to_csv(root / "meta" / "esc50.csv", index=False)


def esc50_rows() -> list[tuple[str, int, int, bytes]]:
    t = np.arange(2 * 44100) / 44100.0
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 440 * t)], axis=1) * 16384
    mono8k = np.full(4000, 8192)  # 0.5 s at 8 kHz -> 0.5 s at 16 kHz, then zero padding
    return [(f"1-{i}-A-{i}.wav", 1 + i % 5, i % 10, wav_bytes(stereo if i % 2 else mono8k, 44100 if i % 2 else 8000)) for i in range(10)]


def test_esc50_folder_reads_folds_resamples_and_mixes(tmp_path):
    write_esc50(tmp_path, esc50_rows())
    table = load_source(SPEC, {"kind": "esc50", "path": str(tmp_path)}, seed=0).set_index("sample_id")
    assert table.loc["1-4-A-4", "split"] == "test" and table.loc["1-3-A-3", "split"] == "val"
    assert table.loc["1-0-A-0", "split"] == "train" and table.loc["1-7-A-7", "digit"] == 7
    mono = decode_payload(table.loc["1-0-A-0"])  # 0.5 s at 8 kHz -> 8000 samples at 16 kHz, then zeros
    np.testing.assert_allclose(mono[50:7950], 0.25, atol=5e-4)  # the filter rings for a few samples at each end
    assert np.all(mono[8000:] == 0.0)
    stereo = decode_payload(table.loc["1-1-A-1"])  # 44.1 kHz stereo -> 16 kHz mono, first 1.0 s
    expected = 0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000.0)
    np.testing.assert_allclose(stereo[100:], expected[100:], atol=1e-3)


def test_esc50_folder_from_s3(tmp_path, s3):
    client, options = s3
    write_esc50(tmp_path, esc50_rows())
    upload_folder(client, tmp_path, "esc50")
    local = load_source(SPEC, {"kind": "esc50", "path": str(tmp_path)}, seed=0)
    remote = load_source(SPEC, {"kind": "esc50", "path": "s3://esc50/", "storage_options": options}, seed=0)
    assert remote.drop(columns="payload").equals(local.drop(columns="payload"))
    assert (remote["payload"] == local["payload"]).all()
    with pytest.raises(SourceError, match=r"cannot read 's3://esc50/meta/missing\.csv'"):
        load_source(SPEC, {"kind": "esc50", "path": "s3://esc50", "meta": "meta/missing.csv", "storage_options": options}, seed=0)


def test_esc50_with_a_user_spec_of_fifty_classes(tmp_path):
    rows = [(f"c{i}.wav", 5 if i < 2 else 1, 10 + i, wav_bytes(np.full(800, 100), 16000)) for i in range(4)]
    write_esc50(tmp_path, rows)
    with pytest.raises(SourceError, match=r"label 10 .* outside the task's 10 classes"):
        load_source(SPEC, {"kind": "esc50", "path": str(tmp_path)}, seed=0)
    from dataclasses import replace

    esc = replace(SPEC, name="esc50", tasks=(TaskSpec("category", "classification", 50),))
    table = load_source(esc, {"kind": "esc50", "path": str(tmp_path)}, seed=0)
    assert table["category"].tolist() == [10, 11, 12, 13] and (table["split"] == "test").sum() == 2


def test_esc50_at_its_real_shape_five_second_stereo_clips_at_44k1_into_sixteen_khz(tmp_path):
    t = np.arange(5 * 44100) / 44100.0
    tone = np.sin(2 * np.pi * 440 * t) * 16384
    chirp = np.sin(2 * np.pi * 12000 * t) * 8192  # above 8 kHz: filtered out, not folded to 4 kHz
    clips = {"1-100-A-0.wav": np.stack([tone, tone], axis=1), "2-100-A-17.wav": np.stack([tone + chirp, -tone], axis=1),
             "4-100-A-33.wav": np.stack([tone[: 3 * 44100], tone[: 3 * 44100]], axis=1),  # short: zero-padded
             "5-100-A-49.wav": np.stack([tone, tone], axis=1)}
    write_esc50(tmp_path, [(name, int(name[0]), int(name.rsplit("-", 1)[1][:-4]), wav_bytes(x, 44100)) for name, x in clips.items()])
    spec = resolve_dataset("esc50", {"modality": "audio", "shape": {"sample_rate": 16000, "seconds": 5.0},
                                     "source": {"kind": "esc50", "path": str(tmp_path)},
                                     "tasks": {"category": {"num_classes": 50}}})
    table = load_source(spec, spec.source, seed=0).set_index("sample_id")
    assert table["category"].tolist() == [0, 17, 33, 49] and table["split"].tolist() == ["train", "train", "val", "test"]
    assert (table["shape"] == "80000").all() and validate_sample_table(table.reset_index(), spec).report["success"]
    waves = {name: decode_payload(row) for name, row in table.iterrows()}
    assert {len(w) for w in waves.values()} == {80000}  # exactly sample_rate * seconds
    spectrum = np.abs(np.fft.rfft(waves["1-100-A-0"])) / 40000  # bins of 0.2 Hz
    assert np.fft.rfftfreq(80000, 1 / 16000)[spectrum.argmax()] == 440.0 and spectrum.max() == pytest.approx(0.5, rel=0.01)
    mixed = np.abs(np.fft.rfft(waves["2-100-A-17"])) / 40000  # (tone + chirp - tone) / 2: only the chirp's alias could be left
    assert mixed.max() < 1e-3
    assert np.all(waves["4-100-A-33"][48000:] == 0.0) and np.abs(waves["4-100-A-33"][:47900]).max() > 0.45


@pytest.mark.parametrize("content, problem", [
    (b"", "not a readable PCM WAV file"),
    (b"RIFF\x10\x00\x00\x00WAVEfmt ", r"not a readable audio file \(wave: fmt chunk and/or data chunk missing; libsndfile"),
], ids=["empty", "truncated header"])
def test_an_esc50_clip_that_does_not_decode_is_named_and_set_aside(tmp_path, content, problem):
    write_esc50(tmp_path, esc50_rows())
    (tmp_path / "audio" / "1-2-A-2.wav").write_bytes(content)
    assert_file_set_aside(SPEC, {"kind": "esc50", "path": str(tmp_path)}, "1-2-A-2",
                          rf"{tmp_path}/audio/1-2-A-2\.wav: {problem}")


@pytest.mark.parametrize("damage, message", [
    (lambda root: (root / "audio" / "1-2-A-2.wav").unlink(), r"cannot read .*1-2-A-2\.wav"),
    (lambda root: (root / "meta" / "esc50.csv").write_text("filename,target\nx.wav,1\n"), r"lacks column\(s\) \['fold'\]"),
    (lambda root: (root / "meta" / "esc50.csv").write_text(""), r"cannot parse .*esc50\.csv"),
])
def test_esc50_bad_files_raise_source_errors_naming_the_file(tmp_path, damage, message):
    write_esc50(tmp_path, esc50_rows())
    damage(tmp_path)
    with pytest.raises(SourceError, match=r"dataset 'audio': .*" + message):
        load_source(SPEC, {"kind": "esc50", "path": str(tmp_path)}, seed=0)


def test_wav_reader_truncated_frames_and_resampling():
    data = wav_bytes(np.array([0, 16384, -16384, 32767]), 8000)
    samples, rate = read_wav(data[:-1], "x.wav")  # a truncated last frame is dropped
    assert rate == 8000 and samples.tolist() == [0.0, 0.5, -0.5]
    three = wav_bytes(np.array([[8192, 16384, 24576]] * 4), 8000)  # any channel count is averaged
    assert read_wav(three, "x.wav")[0].tolist() == [0.5] * 4


@pytest.mark.parametrize("rate, target, samples, length", [(44100, 16000, 220500, 80000), (48000, 16000, 238001, 79334),
                                                         (8000, 22050, 4001, 11028)])
def test_resampling_keeps_the_duration_rounding_up(rate, target, samples, length):
    t = np.arange(samples) / rate
    out = resample(np.sin(2 * np.pi * 440 * t).astype(np.float32), rate, target)
    assert len(out) == length and out.dtype == np.float32 and np.abs(out).max() <= 1.0


def test_resampling_filters_what_the_new_rate_cannot_hold_instead_of_aliasing_it():
    t = np.arange(44100) / 44100.0
    above = 0.5 * np.sin(2 * np.pi * 12000 * t)  # above 16 kHz's Nyquist: folds to 4 kHz if merely interpolated
    out = resample(above.astype(np.float32), 44100, 16000)
    assert np.sqrt(np.mean(out[200:-200] ** 2)) < 1e-3  # linear interpolation leaves 0.28 at 4 kHz
