import numpy as np
import pytest

from omnivec2.inference.read_file import UnreadableFile, read_payload
from tests.default_suite import DATASETS


def test_npy_is_the_payload_for_any_modality(tmp_path):
    np.save(tmp_path / "x.npy", np.ones((8, 8), np.float32))
    assert read_payload(DATASETS["image"], tmp_path / "x.npy").shape == (8, 8)


def test_text_files_become_utf8_bytes(tmp_path):
    (tmp_path / "t.txt").write_text("héllo")
    assert bytes(read_payload(DATASETS["text"], tmp_path / "t.txt")) == "héllo".encode()


@pytest.mark.parametrize("name, content, message", [
    ("missing.npy", None, "no such file"),
    ("empty.npy", b"", "empty file"),
    ("pickled.npy", b"\x93NUMPY garbage", "cannot decode as .npy"),
    ("frame.webp", b"RIFF....", r"no reader for '.webp' files; save the payload as .npy \(float32 \[8, 8\]\)"),
    ("frame.bmp", b"BM....", "not a decodable BMP file"),
    ("broken.png", b"\x89PNG\r\n\x1a\nnope", "not a decodable PNG"),
])
def test_bad_files_name_modality_file_and_problem(tmp_path, name, content, message):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(UnreadableFile, match=rf"dataset 'image': .*{name}.*{message}"):
        read_payload(DATASETS["image"], tmp_path / name)


def test_pickled_object_arrays_are_refused(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(UnreadableFile, match="cannot decode as .npy.*allow_pickle"):
        read_payload(DATASETS["tabular"], tmp_path / "obj.npy")
