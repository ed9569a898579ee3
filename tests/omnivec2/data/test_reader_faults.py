"""Bad users' files against every source kind that reads them (`reader_fixtures.FILE_KINDS`): nothing
escapes the dataset folder, nothing is dropped without a word, degenerate samples and oversized inputs
are refused, and each refusal names the dataset and the file (line, face) and leaves the token cache
without anything from the bad file. Validation's own table-level corpus is `validation/test_bad_inputs.py`."""

from __future__ import annotations

import os
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from omnivec2.data.sources import SourceError, check_source, load_source, read_source
from omnivec2.datasets import with_class_lists
from omnivec2.data.sources.common import stratified_splits
from omnivec2.data.sources.listing import check_inside
from omnivec2.tokens.cache import build_token_cache
from omnivec2.validation import ValidationFailed, validate_sample_table
from tests.default_suite import default_dataset
from tests.omnivec2.data.fault_table import record
from tests.omnivec2.data.skipped_files import assert_file_set_aside, assert_nothing_cached, cached_ids
from tests.omnivec2.data.reader_fixtures import (CSV_LISTED_KINDS, FILE_KINDS, LISTING_KINDS, data_file, written, molecules,
                                                 pictures, points, texts, wine, with_classes_inferred)


# ----- item 4 for every kind: per-file and per-dataset byte limits (the shared read path) -------------
@pytest.mark.parametrize("kind", FILE_KINDS)
def test_a_file_over_max_file_bytes_is_refused_by_name(kind, tmp_path):
    spec, source = written(kind, tmp_path / "data")
    error = assert_nothing_cached(spec, {**source, "max_file_bytes": 8}, tmp_path / "cache")
    assert re.search(rf"dataset {spec.name!r}: '{tmp_path}/data/[^']+' holds \d+ bytes, over the source's "
                     r"max_file_bytes \(8\); raise it if the file is genuine", str(error)), str(error)
    record("file over max_file_bytes", kind, "refused")


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_a_dataset_over_max_dataset_bytes_is_refused_at_the_file_that_crosses_it(kind, tmp_path):
    spec, source = written(kind, tmp_path / "data")
    total = sum(p.stat().st_size for p in (tmp_path / "data").rglob("*") if p.is_file())
    error = assert_nothing_cached(spec, {**source, "max_dataset_bytes": total - 1}, tmp_path / "cache")
    assert re.search(rf"dataset {spec.name!r}: reading '{tmp_path}/data/[^']+' brings the dataset to \d+ bytes, "
                     rf"over the source's max_dataset_bytes \({total - 1}\)", str(error)), str(error)
    load_source(spec, {**source, "max_dataset_bytes": total}, 0)  # every byte counted once: the total passes
    record("dataset over max_dataset_bytes", kind, "refused")


# ----- item 1: nothing escapes the dataset folder ------------------------------------------------------
@pytest.mark.parametrize("kind", LISTING_KINDS + CSV_LISTED_KINDS + ("tu",))
def test_a_file_linked_from_outside_the_dataset_is_refused_not_followed(kind, tmp_path):
    spec, source = written(kind, tmp_path / "data")
    victim = data_file(kind, tmp_path / "data")
    outside = tmp_path / "elsewhere" / victim.name
    outside.parent.mkdir()
    shutil.move(victim, outside)  # a valid file, outside the root: it would load as a normal sample
    os.symlink(outside, victim)
    error = assert_nothing_cached(spec, source, tmp_path / "cache")
    assert f"dataset {spec.name!r}: '{victim}'" in str(error) and (
        f"resolves to '{outside}', outside the dataset folder '{tmp_path}/data" in str(error)), str(error)
    assert "links out are not followed" in str(error)
    record("file linked from outside", kind, "refused")


def test_a_class_folder_linked_from_outside_is_refused(tmp_path):
    spec, source = pictures(tmp_path / "data")
    pictures(tmp_path / "elsewhere", classes=("bird",))
    os.symlink(tmp_path / "elsewhere" / "bird", tmp_path / "data" / "bird")
    with pytest.raises(SourceError, match=re.escape(f"'{tmp_path}/data/bird' resolves to "
                                                    f"'{tmp_path}/elsewhere/bird', outside the dataset folder")):
        load_source(spec, source, 0)
    record("class folder linked from outside", "image_folder", "refused")


@pytest.mark.parametrize("path", ["s3://bucket/data/cat/../../secret.png", "s3://bucket/other/cat/0.png",
                                  "s3://bucket/data-2/cat/0.png"])
def test_object_store_keys_outside_the_prefix_or_with_dot_dot_are_refused(path):
    with pytest.raises(SourceError, match=re.escape(f"dataset 'image': {path!r} (listed in index.csv) is not a key "
                                                    "below 's3://bucket/data'")):
        check_inside(default_dataset("image"), "s3://bucket/data", path, "index.csv")
    check_inside(default_dataset("image"), "s3://bucket/data", "s3://bucket/data/cat/0..png")  # a name, not a segment


# ----- item 2: nothing dropped without a word ------------------------------------------------------------
@pytest.mark.parametrize("kind", LISTING_KINDS)
def test_a_file_the_reader_skips_is_named_by_validation_and_never_cached(kind, tmp_path):
    spec, source = written(kind, tmp_path / "data")
    good = load_source(spec, source, 0)
    klass = sorted(p for p in (tmp_path / "data").iterdir() if p.is_dir())[0]
    (klass / "notes.txt").write_text("labels by hand")
    (tmp_path / "data" / "README.md").write_text("a file outside every class folder")
    table = load_source(spec, source, 0)
    assert len(table) == len(good) + 2
    error = assert_nothing_cached(spec, source, tmp_path / "cache", ValidationFailed)
    assert re.search(rf"validation failed for dataset {spec.name!r}: source_file_was_read on column 'source_problem' "
                     rf"failed for 2 of {len(table)} samples \(e.g. .*notes.txt", str(error)), str(error)
    outcome = validate_sample_table(table, spec, mode="quarantine")
    assert outcome.valid["sample_id"].tolist() == good["sample_id"].tolist()
    problems = outcome.report["source_problems"]
    assert len(problems) == 2 and any(p.startswith(f"{klass}/notes.txt: not read") for p in problems.values()), problems
    assert any("README.md" in p for p in problems.values()) and outcome.report["row_counts"]["quarantined"] == 2
    build_token_cache(outcome.valid, spec, tmp_path / "kept")
    assert cached_ids(tmp_path / "kept", spec.name) == sorted(good["sample_id"])
    record("file of another format (not read)", kind, "set aside")


@pytest.mark.parametrize("write, variants, expected", [
    (lambda root: pictures(root, classes=("cat", "Cat ", "dog")), "['Cat ', 'cat']", "photos"),
    (lambda root: texts(root, ("negative", "Positive", "positive ") * 4), "['Positive', 'positive ']", "text"),
    (lambda root: molecules(root, ("soluble", "Soluble", "insoluble") * 3), "['Soluble', 'soluble']", "small_molecules"),
], ids=["image_folder", "text_table", "sdf"])
def test_near_duplicate_labels_are_refused_with_their_variants_or_merged_when_asked(write, variants, expected, tmp_path):
    spec, source = write(tmp_path)
    spec = with_classes_inferred(spec)
    with pytest.raises(SourceError, match=re.escape(f"dataset {expected!r}: labels in ") + ".*" + re.escape(
            f"differ only by case, surrounding whitespace or Unicode normalisation: {variants}; make each group one "
            "label, or set normalise_labels: true")):
        load_source(spec, source, 0)
    table, names = read_source(spec, {**source, "normalise_labels": True}, 0)
    report = validate_sample_table(table, with_class_lists(spec, names)).report
    assert any(note.startswith(f"labels {variants} in ") for note in report["source_notes"]), report["source_notes"]
    assert table[spec.tasks[0].name].nunique() == 2  # one class per group of variants
    record("near-duplicate labels", source["kind"], "refused")


def test_near_duplicate_labels_in_unicode_normal_forms_are_one_label(tmp_path):
    spec, source = wine(tmp_path)
    frame = pd.read_csv(tmp_path / "wine.csv")
    frame.loc[:4, "target"] = "class_0"
    frame.loc[5:9, "target"] = "cl\N{LATIN SMALL LETTER A WITH ACUTE}ss_0"
    frame.loc[10:14, "target"] = "cla\N{COMBINING ACUTE ACCENT}ss_0"  # the same text, decomposed
    frame.to_csv(tmp_path / "wine.csv", index=False)
    spec = with_classes_inferred(spec)
    with pytest.raises(SourceError, match="Unicode normalisation: \\['cla\u0301ss_0', 'cl\u00e1ss_0'\\]"):
        load_source(spec, source, 0)
    record("near-duplicate labels", "table", "refused")


def test_a_json_line_that_is_not_valid_unicode_is_refused_with_its_line(tmp_path):
    spec, _ = texts(tmp_path)
    lines = ['{"text": "fine", "label": "positive"}'] * 3 + ['{"text": "lone \\ud800 half", "label": "negative"}']
    (tmp_path / "texts.jsonl").write_text("\n".join(lines) + "\n")
    source = {"kind": "text_table", "path": str(tmp_path / "texts.jsonl")}
    error = assert_nothing_cached(spec, source, tmp_path / "cache")
    assert str(error) == (f"dataset 'text': '{tmp_path}/texts.jsonl' line 4, field 'text': text is not valid Unicode "
                          "(a lone surrogate U+D800 at character 5); fix or remove the line")
    record("text that is not valid Unicode", "text_table", "refused")


@pytest.mark.parametrize("write, count", [(lambda root: pictures(root, per_class=1), 2),
                                          (lambda root: texts(root, ("negative", "positive")), 2)],
                         ids=["image_folder", "text_table"])
def test_a_dataset_too_small_to_split_is_named_with_its_counts(write, count, tmp_path):
    spec, source = write(tmp_path)
    with pytest.raises(SourceError, match=re.escape(f"dataset {spec.name!r}: {count} sample(s) cannot be split into "
                                                    "train, val and test parts with val_fraction 0.1 and test_fraction 0.2")):
        load_source(spec, source, 0)
    with pytest.raises(SourceError, match=re.escape("dataset 'tiny': 3 sample(s) cannot be split into train, val and "
                                                    "test parts with val_fraction 0.1 and test_fraction 0.9")):
        stratified_splits([0, 1, 0], 0, val=0.1, test=0.9, dataset="tiny")
    record("too few samples to split", source["kind"], "refused")


# ----- item 3: degenerate samples and parse errors that name their place ------------------------------------
def test_a_point_cloud_of_identical_points_is_refused_by_validation(tmp_path):
    spec, source = points(tmp_path / "data")
    good = load_source(spec, source, 0)
    np.save(tmp_path / "data" / "chair" / "train" / "dot.npy", np.ones((50, 3)))
    table = load_source(spec, source, 0)
    error = assert_nothing_cached(spec, source, tmp_path / "cache", ValidationFailed)
    assert (f"payload_is_not_degenerate on column 'payload' failed for 1 of {len(table)} samples (e.g. chair/train/dot)"
            in str(error)), str(error)
    outcome = validate_sample_table(table, spec, mode="quarantine")
    assert outcome.quarantined["reason"].tolist() == [
        "payload_is_not_degenerate on 'payload': all 1024 points are identical (zero extent): no shape for the point "
        "groups to describe"]
    build_token_cache(outcome.valid, spec, tmp_path / "kept")
    assert cached_ids(tmp_path / "kept", spec.name) == sorted(good["sample_id"])
    record("degenerate sample", "point_folder", "set aside")


def test_an_off_face_with_an_out_of_range_vertex_names_the_face(tmp_path):
    spec, source = points(tmp_path / "data")
    path = tmp_path / "data" / "chair" / "train" / "chair_train_1.off"
    path.write_text("OFF\n4 2 0\n0 0 0\n1 0 0\n0 1 0\n0 0 1\n3 0 1 2\n3 0 1 7\n")
    assert_file_set_aside(spec, source, "chair/train/chair_train_1", re.escape(
        f"{path}: face 2 ('3 0 1 7') uses vertex index 7, outside the 4 vertices (0..3)"), tmp_path / "cache")
    path.write_text("OFF\n4 1 0\n0 0 0\n1 0 x\n0 1 0\n0 0 1\n3 0 1 2\n")
    assert_file_set_aside(spec, source, "chair/train/chair_train_1", re.escape(f"{path}: vertex 2 ('1 0 x') is not three numbers"))
    record("parse error (face, vertex)", "point_folder", "set aside", 0, 0)


# ----- item 4: frames, characters, nodes and points --------------------------------------------------------
@pytest.mark.parametrize("kind, setting, message", [
    ("video_folder", {"max_frames": 3}, r"/data/clip0.avi has 4 frames \(by its header\), over the source's max_frames \(3\)"),
    ("video_class_folder", {"max_frames": 3}, r"/data/ApplyEyeMakeup/0.avi has 4 frames \(by its header\), over the "
                                              r"source's max_frames \(3\)"),
    ("text_table", {"max_line_chars": 10}, r"/texts.csv' record 1 has 13 characters, over the source's max_line_chars \(10\)"),
    ("ts_file", {"max_line_chars": 100}, r".*/train.ts, line \d+ has \d+ characters, over the source's max_line_chars \(100\)"),
    ("tu", {"max_nodes": 2}, r"TOY_graph_indicator.txt: graph 1 has 3 nodes, over the source's max_nodes \(2\)"),
    ("sdf", {"max_nodes": 2}, r".*/all.sdf, molecule at line 1 has 3 atoms, over the source's max_nodes \(2\)"),
    ("point_folder", {"max_points": 3}, r"chair_test_1.off: header declares 4 vertices, over the source's max_points \(3\)"),
    ("point_folder", {"max_points": 10}, r"chair_test_3.npy: 300 points, over the source's max_points \(10\)"),
])
def test_counts_over_their_limit_are_refused_naming_the_file(kind, setting, message, tmp_path):
    spec, source = written(kind, tmp_path / "data")
    error = assert_nothing_cached(spec, {**source, **setting}, tmp_path / "cache")
    assert re.search(message, str(error)) and f"dataset {spec.name!r}" in str(error), str(error)
    check_source("datasets.x", spec.modality, {**source, **setting})  # a declared setting of the kind
    record(f"over {next(iter(setting))}", kind, "refused")


def test_a_misspelt_limit_is_refused_with_a_suggestion():
    with pytest.raises(ValueError, match="did you mean 'max_file_byte' -> 'max_file_bytes'"):
        check_source("datasets.photos", "image", {"kind": "image_folder", "path": "x", "max_file_byte": 10})


@pytest.mark.parametrize("kind", LISTING_KINDS)
def test_an_object_key_with_dot_dot_segments_in_a_listed_bucket_is_refused(kind, tmp_path, s3):
    """S3 has no folders: a key `data/cat/../../secret.png` lists under `data/` but a tool that
    normalises keys would read `secret.png` outside the dataset prefix, so the listing refuses it."""
    spec, local = written(kind, tmp_path / "local")
    bucket = s3.bucket("dotdot")
    s3.upload_folder(tmp_path / "local", bucket, prefix="data")
    victim = data_file(kind, tmp_path / "local")
    key = f"data/{victim.parent.relative_to(tmp_path / 'local').as_posix()}/../../secret{victim.suffix}"
    s3.client.put_object(Bucket=bucket, Key=key, Body=victim.read_bytes())
    source = {**local, "path": f"s3://{bucket}/data", "storage_options": s3.options}
    error = assert_nothing_cached(spec, source, tmp_path / "cache")
    assert f"dataset {spec.name!r}: 's3://{bucket}/{key}' is not a key below 's3://{bucket}/data'" in str(error), str(error)
    s3.client.delete_object(Bucket=bucket, Key=key)
    assert len(load_source(spec, source, 0)) == len(load_source(spec, local, 0))
    record("object key with '..'", kind, "refused")
