"""Sizes checked from a file's header before it is decoded: image pixels (decompression bombs), audio
length, and the decompressed size of an `.npz` archive (zip bombs)."""

from __future__ import annotations

import io

import numpy as np

from omnivec2.data.sources.errors import SourceError
from omnivec2.datasets.spec import DatasetSpec


# ----- safety at the boundaries: paths named inside users' files, and sizes of what gets decoded -----
# The defaults are far above any payload the modalities keep (at most a few MB). An archive's limit is
# a source parameter (`max_archive_bytes`); the image and audio limits are these module constants.
MAX_IMAGE_PIXELS = 50_000_000  # PIL's own bomb check warns at 89 MP and refuses only at 179 MP
MAX_AUDIO_SECONDS = 3600.0
MAX_ARCHIVE_BYTES = 4 << 30  # decompressed size of all arrays of one .npz


def check_image_pixels(name: str, width: int, height: int, limit: int | None = None) -> None:
    """Refuse an image whose header declares more than `limit` pixels (a decompression bomb: a few KB
    of PNG can declare gigapixels), before any pixel is decoded. ValueError naming the file."""
    limit = MAX_IMAGE_PIXELS if limit is None else int(limit)
    if int(width) * int(height) > limit:
        raise ValueError(f"{name}: image of {width}x{height} pixels is over the limit of {limit} pixels "
                         "(a decompression bomb?); raise omnivec2.data.sources.decode_bounds.MAX_IMAGE_PIXELS if it is genuine")


def open_image_checked(data: bytes, name: str, limit: int | None = None):
    """PIL image from bytes, its declared size checked against `limit` before decoding; use with `with`.
    PIL's own DecompressionBombError/Warning are turned into the same ValueError."""
    import warnings

    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ValueError(f"{name}: refused as a decompression bomb ({error})") from None
    try:
        check_image_pixels(name, *image.size, limit)
    except ValueError:
        image.close()
        raise
    return image


def check_audio_length(name: str, frames: int, rate: int, channels: int, limit_seconds: float | None = None) -> None:
    """Refuse audio whose header declares more than `limit_seconds` (ValueError naming the file)."""
    limit = MAX_AUDIO_SECONDS if limit_seconds is None else float(limit_seconds)
    if rate > 0 and frames / rate > limit:
        raise ValueError(f"{name}: {frames / rate:.0f} s of audio ({channels} channel(s) at {rate} Hz) is over "
                         f"the limit of {limit:.0f} s; raise omnivec2.data.sources.decode_bounds.MAX_AUDIO_SECONDS if it is genuine")


def check_npz_archive(spec: DatasetSpec, data: bytes, where: str, limit: int | None = None) -> None:
    """Before `np.load`: refuse an .npz whose arrays would decompress to more than `limit` bytes in all
    (zip bomb), judged from each member's declared size and its .npy header's shape and dtype."""
    import zipfile

    limit = MAX_ARCHIVE_BYTES if limit is None else int(limit)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return  # not a zip (a plain .npy or a damaged file): np.load reports it
    total = 0
    with archive:
        for info in archive.infolist():
            declared = info.file_size
            if info.filename.endswith(".npy"):
                try:
                    with archive.open(info) as member:
                        major, _ = np.lib.format.read_magic(member)
                        read_header = (np.lib.format.read_array_header_1_0 if major == 1
                                       else np.lib.format.read_array_header_2_0)
                        shape, _, dtype = read_header(member, max_header_size=1 << 16)
                    declared = max(declared, int(np.prod(shape, dtype=np.float64)) * dtype.itemsize)
                except (ValueError, OSError, zipfile.BadZipFile, EOFError):
                    pass  # np.load reports an unreadable member
            total += declared
            if total > limit:
                raise SourceError(f"dataset {spec.name!r}: {where} would decompress to over {limit} bytes "
                                  f"(member {info.filename!r}); refused (raise the source's max_archive_bytes)")
