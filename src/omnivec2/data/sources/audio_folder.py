"""`audio_folder`: labelled clips in class folders (`<class>/<clip>` or `<split>/<class>/<clip>`),
local or `s3://`: the layout of Speech Commands, GTZAN and most audio classification sets.

The layouts, listing, splits (`val_list` / `test_list` for Speech Commands' `validation_list.txt`
and `testing_list.txt`), classes and sample ids are `class_folders`'. Each clip (WAV, FLAC, Ogg,
MP3, AIFF: `audio_decode`) is averaged to mono, resampled to the dataset's `sample_rate` and cropped
(start kept) or zero-padded to `sample_rate * seconds`. A clip that does not decode is a row
validation refuses by name.
"""

from __future__ import annotations

import pandas as pd

from omnivec2.data.sources.audio_decode import AUDIO_SUFFIXES, decode_clip
from omnivec2.data.sources.class_folders import read_class_folders
from omnivec2.datasets.spec import DatasetSpec


def load_audio_folder(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Audio class folders -> sample table of waveforms float32 `[L]` (L = the payload length)."""
    rate, length = int(spec.settings["sample_rate"]), int(spec.payload.shape[0])
    return read_class_folders(spec, {"kind": "audio_folder", **source}, seed, AUDIO_SUFFIXES,
                              lambda data, path: decode_clip(data, path, rate, length), "audio clips")
