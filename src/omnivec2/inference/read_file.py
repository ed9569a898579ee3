"""One user file -> one payload of a modality, with the decoders ingestion uses for its formats.

`.npy` works for every modality (the payload itself, shape and dtype as the modality declares);
the native formats: `.png`, `.jpg`, `.gif`, `.bmp`, `.tif`, `.dcm` (image and X-ray, decoded as the
`image_folder` source does), `.wav`, `.flac`, `.ogg`, `.mp3`, `.aiff` (audio, as `audio_folder`),
`.txt` (text), `.off`/`.ply` (point cloud), `.sdf`/`.mol` (graph), `.avi`, `.mp4`, `.mkv`, `.mov`,
`.webm`, `.mpg` (video), `.csv` (tabular: one row, categories by name, empty cells missing; see
`omnivec2.inference.table_row`).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from omnivec2.data.sources import SOURCES
from omnivec2.data.sources.audio_decode import AUDIO_SUFFIXES, decode_clip
from omnivec2.data.sources.common import SourceError
from omnivec2.data.sources.dicom_decode import DICOM_SUFFIXES
from omnivec2.data.sources.image_decode import IMAGE_SUFFIXES
from omnivec2.data.sources.video_folder import VIDEO_SUFFIXES, decode_video
from omnivec2.datasets.spec import DatasetSpec

MAX_FILE_BYTES = 256 * 1024 * 1024  # a single sample larger than this is refused before decoding


class UnreadableFile(ValueError):
    """The file cannot become a payload of the modality (message names both)."""


def read_payload(spec: DatasetSpec, path: str | Path) -> np.ndarray:
    path = Path(path)
    where = f"dataset {spec.name!r}: {path}"
    if not path.is_file():
        raise UnreadableFile(f"{where}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise UnreadableFile(f"{where}: empty file")
    if size > MAX_FILE_BYTES:
        raise UnreadableFile(f"{where}: {size} bytes is over the {MAX_FILE_BYTES}-byte limit for one sample")
    return payload_from_bytes(spec, path.read_bytes(), path.suffix, str(path))


def payload_from_bytes(spec: DatasetSpec, data: bytes, suffix: str, name: str) -> np.ndarray:
    """A file's bytes (its `suffix`, e.g. ".npy" or "png", says the format; `name` is what messages
    call it) -> the payload, as `read_payload` decodes a file (the serving endpoint's base64 payloads)."""
    suffix = "." + suffix.lower().lstrip(".") if suffix else ""
    where = f"dataset {spec.name!r}: {name}"
    if not data:
        raise UnreadableFile(f"{where}: empty payload")
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableFile(f"{where}: {len(data)} bytes is over the {MAX_FILE_BYTES}-byte limit for one sample")
    try:
        return _decode(spec, data, suffix, name)
    except UnreadableFile:
        raise
    except SourceError as error:  # ingestion's decoders already name modality and file
        raise UnreadableFile(str(error)) from None
    except Exception as error:  # every decoder failure becomes one clear message
        raise UnreadableFile(f"{where}: cannot decode as {suffix or 'an extensionless file'} ({error})") from None


def _decode(spec: DatasetSpec, data: bytes, suffix: str, name: str) -> np.ndarray:
    shape = spec.payload.shape
    if suffix == ".npy":
        return np.load(io.BytesIO(data), allow_pickle=False)
    if suffix in IMAGE_SUFFIXES + DICOM_SUFFIXES and spec.modality in SOURCES["image_folder"].modalities:
        from omnivec2.data.sources.image_folder import decode_picture, intensity_scale

        return decode_picture(spec, data, name, intensity_scale(spec, {}))
    if suffix in AUDIO_SUFFIXES and spec.modality == "audio":
        return decode_clip(data, name, int(spec.settings["sample_rate"]), int(shape[0]))
    if suffix == ".txt":
        from omnivec2.data.sources.text_table import text_payload

        return text_payload(data.decode("utf-8"))
    if suffix in (".off", ".ply"):
        from omnivec2.data.sources.point_files import read_point_file

        return read_point_file(data, name, int(shape[0]), np.random.default_rng(0))
    if suffix in (".sdf", ".mol"):
        from omnivec2.data.sources.sdf import parse_sdf

        molecules = parse_sdf(data.decode("utf-8", errors="strict"), name)
        if len(molecules) != 1:
            raise UnreadableFile(f"dataset {spec.name!r}: {name}: holds {len(molecules)} molecules, predict takes one")
        return molecules[0].payload(name)
    if suffix == ".csv" and spec.modality == "tabular":
        from omnivec2.inference.table_row import read_table_row

        layout = spec.tokenizer  # TableColumns: categorical positions and names, whether numeric cells may be missing
        categorical = tuple(getattr(layout, "categorical", ()))
        try:
            return read_table_row(data, name, int(shape[0]), categorical, bool(getattr(layout, "missing", False)),
                                  dict(zip(categorical, getattr(layout, "categories", ()))))
        except ValueError as error:
            raise UnreadableFile(f"dataset {spec.name!r}: {error}") from None
    if suffix in VIDEO_SUFFIXES:
        return decode_video(spec, data, name, *(int(d) for d in shape))
    raise UnreadableFile(f"dataset {spec.name!r}: {name}: no reader for {suffix!r} files; "
                         f"save the payload as .npy ({spec.payload.dtype} {list(shape)})")
