"""`video_class_folder`: videos in class folders (`<class>/<video>` or `<split>/<class>/<video>`),
local or `s3://`: the layout of UCF-101 and HMDB-51, whose split files (`testlist01.txt`: one
`<class>/<video>` per line) are `test_list` (and `val_list`).

The layouts, listing, splits, classes and sample ids are `class_folders'`; the folder names label the
dataset's first task. Each video is decoded as `video_folder` decodes one (`decode_video`: grey,
resized to the payload's `[H, W]`, `T` frames taken evenly, `max_frames` refused); one that does not
decode is a row validation refuses by name. Payload uint8 `[T, H, W]`.
"""

from __future__ import annotations

import pandas as pd

from omnivec2.data.sources.class_folders import read_class_folders
from omnivec2.data.sources.video_folder import VIDEO_SUFFIXES, decode_video
from omnivec2.datasets.spec import DatasetSpec


def load_video_class_folder(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Video class folders -> sample table of clips uint8 `[T, H, W]`."""
    shape = tuple(int(d) for d in spec.payload.shape)
    return read_class_folders(spec, {"kind": "video_class_folder", **source}, seed, VIDEO_SUFFIXES,
                              lambda data, path: decode_video(spec, data, path, *shape), "videos")
