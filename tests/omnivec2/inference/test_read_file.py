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


def test_images_and_audio_come_to_the_dataset_shape(tmp_path):
    import wave

    from PIL import Image

    from omnivec2.datasets import resolve_dataset

    Image.new("RGB", (40, 32), (255, 255, 255)).save(tmp_path / "photo.JPG")
    pixels = read_payload(DATASETS["image"], tmp_path / "photo.JPG")  # the default image dataset: 8x8 grey
    assert pixels.shape == (8, 8) and pixels.dtype == np.float32 and np.abs(pixels - 1.0).max() < 0.01
    with wave.open(str(tmp_path / "clip.wav"), "wb") as handle:
        handle.setnchannels(2)
        handle.setsampwidth(2)
        handle.setframerate(44100)
        handle.writeframes(np.zeros((22050, 2), "<i2").tobytes())
    clips = resolve_dataset("clips", {"modality": "audio", "shape": {"sample_rate": 8000, "seconds": 2.0},
                                      "source": {"kind": "esc50", "path": "unused"}, "tasks": {"sound": {"num_classes": 2}}})
    assert read_payload(clips, tmp_path / "clip.wav").shape == (16000,)  # 0.5 s at 8 kHz, padded to 2 s
