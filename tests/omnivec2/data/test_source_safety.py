"""Safety at the boundaries of users' data: paths listed in index/label files stay inside the dataset
folder, and images, audio and archives are size-checked from their headers before being decoded."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib

import numpy as np
import pandas as pd
import pytest

from omnivec2.data.sources import SourceError, load_source
from omnivec2.data.sources.image_files import decode_frame
from omnivec2.data.sources.image_decode import decode_image
from omnivec2.data.sources.wav import read_wav
from tests.default_suite import default_dataset
from tests.omnivec2.data.fault_table import record


def escape_cases(tmp_path):
    """(modality, source, the file listing the path) for each reader that takes paths from a user's file."""
    (tmp_path / "meta").mkdir()
    pd.DataFrame({"filename": ["../../../etc/passwd"], "fold": [1], "target": [0]}).to_csv(tmp_path / "meta/esc50.csv", index=False)
    pd.DataFrame({"name": ["../../etc/passwd"], "category": ["office"]}).to_csv(tmp_path / "index.csv", index=False)
    pd.DataFrame({"path": ["clips/../../../etc/passwd"], "digit": [1], "direction": [0]}).to_csv(tmp_path / "labels.csv", index=False)
    return [
        ("audio", {"kind": "esc50", "path": str(tmp_path)}, "meta/esc50.csv", "../../../etc/passwd"),
        ("depth", {"kind": "depth_folder", "path": str(tmp_path)}, "index.csv", "../../etc/passwd.png"),
        ("video", {"kind": "video_folder", "path": str(tmp_path)}, "labels.csv", "clips/../../../etc/passwd"),
    ]


@pytest.mark.parametrize("case", range(3))
def test_a_listed_path_that_climbs_out_of_the_dataset_is_refused(tmp_path, case):
    modality, source, listing, name = escape_cases(tmp_path)[case]
    expected = (f"dataset {modality!r}: {tmp_path}/{listing} names {name!r}, which is outside "
                f"'{tmp_path}")
    with pytest.raises(SourceError, match=re.escape(expected) + ".*must stay inside the dataset folder"):
        load_source(default_dataset(modality), source, 0)
    record("path in a CSV that climbs out ('..')", source["kind"], "refused")  # refused while reading: nothing cached


def test_an_absolute_path_in_a_label_csv_needs_an_explicit_opt_in(tmp_path):
    pd.DataFrame({"path": ["/etc/passwd"], "digit": [1], "direction": [0]}).to_csv(tmp_path / "labels.csv", index=False)
    spec = default_dataset("video")
    with pytest.raises(SourceError, match=re.escape(f"{tmp_path}/labels.csv names '/etc/passwd', an absolute path or "
                                                    f"URI outside '{tmp_path}'; list files relative to it")):
        load_source(spec, {"kind": "video_folder", "path": str(tmp_path)}, 0)
    with pytest.raises(SourceError, match="/etc/passwd: no decodable video frames"):  # opted in: read, then not a video
        load_source(spec, {"kind": "video_folder", "path": str(tmp_path), "allow_absolute_paths": True}, 0)


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares `width` x `height` grey pixels (the bytes of a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("width, height, message", [
    (10_000, 6_000, "image of 10000x6000 pixels is over the limit of 50000000 pixels (a decompression bomb?)"),
    (100_000, 100_000, "refused as a decompression bomb"),
])
def test_image_bombs_are_refused_before_decoding(width, height, message):
    data = png_declaring(width, height)
    assert len(data) < 200
    with pytest.raises(ValueError, match=re.escape(f"frame.png: {message}")):
        decode_frame(data, "frame.png")
    with pytest.raises(SourceError, match=re.escape(message)):
        decode_image(default_dataset("xray"), data, "xray/a.png", 1.0)


def wav_declaring(seconds: float, rate: int = 16_000) -> bytes:
    """A WAV header declaring `seconds` of 16-bit mono audio, followed by 1 KB of it."""
    size = int(seconds * rate) * 2
    header = (b"RIFF" + struct.pack("<I", 36 + size) + b"WAVE" + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
              + b"data" + struct.pack("<I", size))
    return header + b"\0" * 1024


def test_audio_longer_than_the_limit_is_refused_from_its_header():
    with pytest.raises(ValueError, match=re.escape("long.wav: 7200 s of audio (1 channel(s) at 16000 Hz) is over "
                                                   "the limit of 3600 s")):
        read_wav(wav_declaring(7200), "long.wav")
    wave_, rate = read_wav(wav_declaring(0.01), "short.wav")
    assert rate == 16_000 and len(wave_) == 160


def npz_with_a_lying_header(shape) -> bytes:
    """An .npz whose `x.npy` header declares `shape` float64 but holds a few bytes (a zip bomb's effect)."""
    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False, "shape": shape})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x.npy", member.getvalue() + b"\0" * 64)
    return buffer.getvalue()


def test_archives_that_would_decompress_past_the_limit_are_refused(tmp_path):
    spec = default_dataset("tabular")
    (tmp_path / "bomb.npz").write_bytes(npz_with_a_lying_header((100_000, 100_000)))
    with pytest.raises(SourceError, match=re.escape(f"dataset 'tabular': '{tmp_path}/bomb.npz' would decompress to "
                                                    f"over {4 << 30} bytes (member 'x.npy')")):
        load_source(spec, {"kind": "npy", "path": str(tmp_path / "bomb.npz")}, 0)
    # a genuine archive, compressed 1000:1, against a lowered limit
    np.savez_compressed(tmp_path / "zeros.npz", x=np.zeros((1000, 13), np.float32), y=np.zeros(1000, np.int64))
    assert (tmp_path / "zeros.npz").stat().st_size < 10_000
    with pytest.raises(SourceError, match="would decompress to over 20000 bytes"):
        load_source(spec, {"kind": "npy", "path": str(tmp_path / "zeros.npz"), "max_archive_bytes": 20_000}, 0)


def test_a_missing_file_names_the_modality_and_the_path(tmp_path):
    with pytest.raises(SourceError, match=re.escape(f"dataset 'tabular': cannot read '{tmp_path}/wine.csv' "
                                                    "(FileNotFoundError")):
        load_source(default_dataset("tabular"), {"kind": "table", "path": str(tmp_path / "wine.csv"),
                                              "target_column": "cultivar"}, 0)
