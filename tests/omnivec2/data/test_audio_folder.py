"""The `audio_folder` source and `audio_decode`: clips in the formats people have (integer and float
WAV, FLAC, Ogg, MP3, AIFF) at their own rates and channel counts -> mono clips at the declared rate and
length; class-folder layouts with Speech Commands' split lists; clips it cannot read are named."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile

from omnivec2.data.sample_table import decode_payload
from omnivec2.data.sources import SourceError, load_source
from omnivec2.data.sources.audio_decode import read_audio
from omnivec2.datasets import resolve_dataset
from omnivec2.inference.read_file import read_payload
from omnivec2.validation import validate_sample_table
from tests.omnivec2.data.skipped_files import assert_file_set_aside

RATE = 16000
FORMATS = {  # suffix: (soundfile format, subtype, largest sample error of a 0.5-amplitude tone after decoding)
    "wav": ("WAV", "PCM_16", 1e-4), "flac": ("FLAC", "PCM_24", 1e-4), "aiff": ("AIFF", "PCM_16", 1e-4),
    "ogg": ("OGG", "VORBIS", None), "mp3": ("MP3", "MPEG_LAYER_III", None),
}


def words(path, seconds: float = 0.5):
    """An audio dataset of `seconds`-long clips at 16 kHz with two classes, reading `path`."""
    return resolve_dataset("words", {"modality": "audio", "shape": {"sample_rate": RATE, "seconds": seconds},
                                     "source": {"kind": "audio_folder", "path": str(path)},
                                     "tasks": {"word": {"classes": ["yes", "no"]}}})


def tone(frequency: float, rate: int, seconds: float, channels: int = 1, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    wave_ = amplitude * np.sin(2 * np.pi * frequency * t)
    return np.repeat(wave_[:, None], channels, axis=1).astype(np.float32)


def encoded(samples: np.ndarray, rate: int, suffix: str, subtype: str | None = None) -> bytes:
    fmt, default_subtype, _ = FORMATS.get(suffix, ("WAV", "FLOAT", None))
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format=fmt, subtype=subtype or default_subtype)
    return buffer.getvalue()


def peak_hz(wave_: np.ndarray, rate: int) -> float:
    return float(np.fft.rfftfreq(len(wave_), 1 / rate)[np.abs(np.fft.rfft(wave_)).argmax()])


@pytest.mark.parametrize("suffix", list(FORMATS))
def test_each_format_becomes_a_mono_clip_at_the_declared_rate(suffix):
    data = encoded(tone(440.0, 44100, 0.5, channels=2), 44100, suffix)
    wave_, rate = read_audio(data, f"clip.{suffix}")
    assert rate == 44100 and wave_.dtype == np.float32 and wave_.ndim == 1
    assert abs(len(wave_) - 22050) <= 1200  # MP3 and Vorbis pad by up to a frame
    assert peak_hz(wave_, rate) == pytest.approx(440.0, abs=3.0)
    assert np.abs(wave_).max() == pytest.approx(0.5, abs=0.05)
    tolerance = FORMATS[suffix][2]
    if tolerance is not None:  # lossless: the samples themselves
        np.testing.assert_allclose(wave_, tone(440.0, 44100, 0.5)[:, 0], atol=tolerance)


def test_float_and_extensible_wav_that_python_wave_refuses_are_read_and_clipped_to_full_scale():
    loud = tone(1000.0, 8000, 0.25, amplitude=1.5)
    for subtype in ("FLOAT", "DOUBLE"):
        wave_, rate = read_audio(encoded(loud, 8000, "wav", subtype), "loud.wav")
        assert rate == 8000 and wave_.max() == 1.0 and wave_.min() == -1.0
    buffer = io.BytesIO()
    soundfile.write(buffer, tone(1000.0, 8000, 0.25, channels=4), 8000, format="WAVEX", subtype="PCM_24")
    wave_, _ = read_audio(buffer.getvalue(), "surround.wav")
    np.testing.assert_allclose(wave_, tone(1000.0, 8000, 0.25)[:, 0], atol=1e-6)


@pytest.mark.parametrize("content, problem", [
    (b"fLaC" + bytes(60), r"not a readable audio file \(wave: file does not start with RIFF id; libsndfile: "),
    (b"ID3" + bytes(60), r"not a readable audio file"),
    (b"", r"not a readable PCM WAV file"),
], ids=["damaged FLAC", "MP3 tag without frames", "empty"])
def test_bytes_no_decoder_reads_are_named(content, problem):
    with pytest.raises(ValueError, match=r"^clip\.x: " + problem):
        read_audio(content, "clip.x")


def write_words(root, layout: str = "classes") -> None:
    """Two words x 5 clips at their own formats, rates and lengths (`classes`: <word>/<clip>;
    `splits`: <split>/<word>/<clip>)."""
    formats = ("wav", "flac", "ogg", "wav", "flac")
    for c, word in enumerate(("yes", "no")):
        for i, suffix in enumerate(formats):
            split = ("train", "train", "train", "val", "test")[i]
            folder = root / (f"{split}/{word}" if layout == "splits" else word)
            folder.mkdir(parents=True, exist_ok=True)
            rate = (8000, 22050, 44100, 16000, 48000)[i]
            (folder / f"clip{i}.{suffix}").write_bytes(encoded(tone(300.0 + 200 * c, rate, 0.3 + 0.1 * i), rate, suffix))


def test_class_folders_become_clips_of_the_declared_length_with_stratified_splits(tmp_path):
    write_words(tmp_path)
    spec = words(tmp_path)
    table = load_source(spec, spec.source, 0).set_index("sample_id")
    assert len(table) == 10 and set(table["shape"]) == {str(RATE // 2)}
    assert table.loc["words-no-clip1", "word"] == 1 and table.loc["words-yes-clip4", "word"] == 0
    assert sorted(table["split"].value_counts().to_dict().items()) == [("test", 2), ("train", 7), ("val", 1)]
    for sample_id, row in table.iterrows():
        wave_ = decode_payload(row)
        assert wave_.shape == (RATE // 2,) and wave_.dtype == np.float32
        expected = 300.0 if "-yes-" in sample_id else 500.0
        assert peak_hz(wave_, RATE) == pytest.approx(expected, abs=4.0), sample_id
    clip0 = decode_payload(table.loc["words-yes-clip0"])  # 0.3 s at 8 kHz -> 0.3 s at 16 kHz, then zeros
    assert np.abs(clip0[:4700]).max() > 0.45 and not clip0[4900:].any()
    assert validate_sample_table(table.reset_index(), spec).report["success"]


def test_split_folders_are_kept_as_given(tmp_path):
    write_words(tmp_path, "splits")
    spec = words(tmp_path)
    table = load_source(spec, spec.source, 0).set_index("sample_id")
    assert table.loc["words-val-no-clip3", "split"] == "val" and table.loc["words-test-yes-clip4", "split"] == "test"
    assert (table["split"] == "train").sum() == 6


def speech_commands(root) -> dict:
    """Speech Commands' layout: word folders, and split lists at the root naming `<word>/<clip>` paths."""
    write_words(root)
    (root / "validation_list.txt").write_text("yes/clip3.wav\nno/clip3.wav\n")
    (root / "testing_list.txt").write_text("./yes/clip4.flac\nno/clip4.flac\n\n")
    return {"kind": "audio_folder", "path": str(root), "val_list": "validation_list.txt",
            "test_list": "testing_list.txt"}


def test_speech_commands_split_lists_name_the_val_and_test_clips_and_are_not_read_as_clips(tmp_path):
    source = speech_commands(tmp_path)
    table = load_source(words(tmp_path), source, 0).set_index("sample_id")
    assert len(table) == 10 and "source_problem" not in table.columns  # no row for the lists themselves
    assert sorted(table.index[table["split"] == "val"]) == ["words-no-clip3", "words-yes-clip3"]
    assert sorted(table.index[table["split"] == "test"]) == ["words-no-clip4", "words-yes-clip4"]


@pytest.mark.parametrize("line, problem", [
    ("yes/clip9.wav", r"line 2: 'yes/clip9\.wav' is not a file of the folder"),
    ("yes/clip3.wav", r"line 2: 'yes/clip3\.wav' is listed for val already"),
])
def test_a_split_list_naming_a_missing_or_twice_listed_clip_is_refused_with_its_line(tmp_path, line, problem):
    source = speech_commands(tmp_path)
    (tmp_path / "testing_list.txt").write_text(f"no/clip4.flac\n{line}\n")
    with pytest.raises(SourceError, match=rf"dataset 'words': {tmp_path}/testing_list\.txt, {problem}"):
        load_source(words(tmp_path), source, 0)


def test_a_clip_that_does_not_decode_is_named_and_set_aside(tmp_path):
    write_words(tmp_path)
    (tmp_path / "no" / "clip2.ogg").write_bytes(b"OggS" + bytes(100))
    assert_file_set_aside(words(tmp_path), {"kind": "audio_folder", "path": str(tmp_path)}, "words-no-clip2",
                          rf"{tmp_path}/no/clip2\.ogg: not a readable audio file", cache=tmp_path / "cache")


def test_predict_reads_the_same_formats_as_the_folder(tmp_path):
    write_words(tmp_path)
    spec = words(tmp_path)
    table = load_source(spec, spec.source, 0).set_index("sample_id")
    for name in ("yes/clip1.flac", "no/clip2.ogg"):
        np.testing.assert_array_equal(read_payload(spec, tmp_path / name),
                                      decode_payload(table.loc[f"words-{name.split('.')[0].replace('/', '-')}"]))


def test_without_a_val_list_val_is_drawn_from_what_the_test_list_leaves(tmp_path):
    source = {**speech_commands(tmp_path), "val_fraction": 0.25}
    del source["val_list"]
    (tmp_path / "validation_list.txt").unlink()
    table = load_source(words(tmp_path), source, 0).set_index("sample_id")
    assert sorted(table.index[table["split"] == "test"]) == ["words-no-clip4", "words-yes-clip4"]
    assert sorted(table.loc[table["split"] == "val", "word"]) == [0, 1]  # 25% of 8, stratified: one per word
    assert (table["split"] == "train").sum() == 6


def test_exclude_leaves_out_speech_commands_noise_folder_and_root_files_with_a_note(tmp_path):
    source = speech_commands(tmp_path)
    (tmp_path / "_background_noise_").mkdir()
    (tmp_path / "_background_noise_" / "white_noise.wav").write_bytes(encoded(tone(50.0, 16000, 2.0), 16000, "wav"))
    (tmp_path / "LICENSE").write_text("CC-BY-4.0\n")
    (tmp_path / "README.md").write_text("# Speech Commands\n")
    with pytest.raises(SourceError, match=r"label '_background_noise_' in .* is not one of the classes \['yes', 'no'\]"):
        load_source(words(tmp_path), source, 0)
    kept = {**source, "exclude": ["_background_noise_", "LICENSE", "*.md"]}
    table = load_source(words(tmp_path), kept, 0)
    assert len(table) == 10 and "source_problem" not in table.columns
    assert set(table["source_note"]) == {"3 file(s) left out by 'exclude' ['_background_noise_', 'LICENSE', '*.md'] "
                                         "(e.g. _background_noise_/white_noise.wav)"}
