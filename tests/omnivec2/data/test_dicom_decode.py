"""DICOM radiographs in `image_folder` and `omnivec2 predict`: the rescale, the VOI window, MONOCHROME1
inversion, RLE-compressed pixels and the first frame; a file that is not DICOM or holds no image is named."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, RLELossless, generate_uid

from omnivec2.data.sample_table import decode_payload
from omnivec2.data.sources import load_source
from omnivec2.data.sources.dicom_decode import decode_dicom
from omnivec2.datasets import resolve_dataset
from omnivec2.inference.read_file import read_payload
from omnivec2.validation import validate_sample_table
from tests.omnivec2.data.skipped_files import assert_file_set_aside

SCALE = 6.0  # the X-ray default intensity_scale


def dicom(pixels: np.ndarray, photometric: str = "MONOCHROME2", bits: int = 12, syntax=ExplicitVRLittleEndian,
          **tags) -> bytes:
    """A DX (digital X-ray) file of `pixels` (`[h, w]` or `[frames, h, w]`, unsigned) as a modality writes one."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"  # Digital X-Ray Image Storage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    data = Dataset()
    data.file_meta = meta
    data.SOPClassUID, data.SOPInstanceUID, data.Modality = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID, "DX"
    data.Rows, data.Columns = pixels.shape[-2:]
    if pixels.ndim == 3:
        data.NumberOfFrames = pixels.shape[0]
    data.SamplesPerPixel, data.PhotometricInterpretation = 1, photometric
    data.BitsAllocated, data.BitsStored, data.HighBit, data.PixelRepresentation = 16, bits, bits - 1, 0
    for key, value in tags.items():
        setattr(data, key, value)
    data.PixelData = pixels.astype("<u2").tobytes()
    if syntax != ExplicitVRLittleEndian:
        data.compress(syntax)
    buffer = io.BytesIO()
    data.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


RAMP = np.tile(np.linspace(0, 4095, 40).round().astype(np.uint16), (32, 1))  # 12 bits, dark left, bright right


def test_twelve_stored_bits_span_the_unit_range_and_monochrome1_is_inverted():
    bright = decode_dicom(dicom(np.full((8, 8), 4095)), "a.dcm", 1, 4, 4, SCALE)
    np.testing.assert_allclose(bright, SCALE, rtol=1e-6)
    ramp = decode_dicom(dicom(RAMP), "b.dcm", 1, 32, 40, 1.0)
    np.testing.assert_allclose(ramp, RAMP / 4095, atol=1e-6)
    inverted = decode_dicom(dicom(RAMP, "MONOCHROME1"), "c.dcm", 1, 32, 40, 1.0)
    np.testing.assert_allclose(inverted, 1 - RAMP / 4095, atol=1e-6)


def test_the_first_voi_window_maps_onto_the_unit_range_after_the_rescale():
    # stored s -> value 2 s - 1000; window centre 1000, width 1001: values 500..1500 -> 0..1, s 750..1250
    stored = np.array([[0, 750, 1000, 1250, 4000]], np.uint16)
    out = decode_dicom(dicom(stored, RescaleSlope=2, RescaleIntercept=-1000, WindowCenter=[1000, 40],
                             WindowWidth=[1001, 400]), "w.dcm", 1, 1, 5, 1.0)
    np.testing.assert_allclose(out[0], [0.0, 0.0005, 0.5005, 1.0, 1.0], atol=1e-3)
    step = decode_dicom(dicom(stored, WindowCenter=1000, WindowWidth=1), "s.dcm", 1, 1, 5, 1.0)  # no slope to divide by
    np.testing.assert_allclose(step[0], stored[0] / 4095, atol=1e-6)  # read through the stored bits instead


def test_rle_compressed_and_multi_frame_files_give_their_first_frame():
    frames = np.stack([RAMP, 4095 - RAMP])
    np.testing.assert_allclose(decode_dicom(dicom(frames), "m.dcm", 1, 32, 40, 1.0), RAMP / 4095, atol=1e-6)
    np.testing.assert_allclose(decode_dicom(dicom(RAMP, syntax=RLELossless), "r.dcm", 1, 32, 40, 1.0), RAMP / 4095,
                               atol=1e-6)
    rgb = decode_dicom(dicom(RAMP), "g.dcm", 3, 16, 20, 1.0)  # a colour dataset gets the grey replicated
    assert rgb.shape == (3, 16, 20) and np.array_equal(rgb[0], rgb[2])


def chest(path):
    return resolve_dataset("chest", {"modality": "xray", "shape": {"size": [16, 20], "patch": 4},
                                     "source": {"kind": "image_folder", "path": str(path)},
                                     "tasks": {"finding": {"classes": ["normal", "opacity"]}}})


def write_chest(root) -> None:
    for c, finding in enumerate(("normal", "opacity")):
        (root / finding).mkdir(parents=True)
        for i in range(5):
            (root / finding / f"patient{i}.dcm").write_bytes(dicom(RAMP // (1 + c + i), "MONOCHROME1" if i % 2 else "MONOCHROME2"))


def test_an_image_folder_of_dicom_files_is_read_resized_and_scaled(tmp_path):
    write_chest(tmp_path)
    spec = chest(tmp_path)
    table = load_source(spec, spec.source, 0).set_index("sample_id")
    assert len(table) == 10 and set(table["shape"]) == {"16x20"}
    pixels = decode_payload(table.loc["chest-normal-patient0"])
    assert pixels.shape == (16, 20) and pixels[:, 0].max() < 0.3 and pixels[:, -1].min() > 0.9 * SCALE
    assert validate_sample_table(table.reset_index(), spec).report["success"]
    np.testing.assert_array_equal(read_payload(spec, tmp_path / "opacity" / "patient3.dcm"),
                                  decode_payload(table.loc["chest-opacity-patient3"]))


@pytest.mark.parametrize("content, problem", [
    (b"not a dicom file" * 10, r"not a readable DICOM file"),
    ("no pixels", r"the DICOM file holds no image \(no PixelData\)"),
    ("truncated", r"its pixels \(transfer syntax Explicit VR Little Endian\) do not decode"),
], ids=["not DICOM", "no pixels", "truncated pixels"])
def test_a_dicom_file_without_an_image_is_named_and_set_aside(tmp_path, content, problem):
    write_chest(tmp_path)
    if content == "no pixels":  # a structured report beside the images, say
        data = pydicom.dcmread(io.BytesIO(dicom(RAMP)))
        del data.PixelData
        buffer = io.BytesIO()
        data.save_as(buffer)
        content = buffer.getvalue()
    elif content == "truncated":
        content = dicom(RAMP)[:-500]
    (tmp_path / "opacity" / "patient9.dcm").write_bytes(content)
    assert_file_set_aside(chest(tmp_path), chest(tmp_path).source, "chest-opacity-patient9",
                          rf"{tmp_path}/opacity/patient9\.dcm: {problem}", cache=tmp_path / "cache")
