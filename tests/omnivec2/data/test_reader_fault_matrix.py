"""Bad inputs tried on every source kind that reads files (`reader_fixtures.FILE_KINDS`) where they apply:
a file whose bytes do not decode, a file swapped for a symbolic link out of the dataset after it was
checked, a degenerate sample in each format, class names that differ only by case, a dataset too small
to split.

* A per-sample file that does not decode is set aside by name (`fail` mode stops naming it, `quarantine`
  keeps every other sample and caches none of it); a dataset's own file that does not decode stops
  the reading naming it (the file is the dataset: there is nothing to keep).
* A link swapped in after the listing, or between the read's check and its open, is refused naming the
  file: the read checks again, on the file it actually opened (`listing.read_inside`).
Each case adds itself to the count table (`fault_table`)."""

from __future__ import annotations

import os
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from omnivec2.data.sources import files, listing, load_source, named_paths
from tests.omnivec2.data.fault_table import record
from tests.omnivec2.data.reader_fixtures import (DATASET_FILES, FILE_KINDS, PER_SAMPLE_KINDS, data_file, molecules,
                                                 written)
from tests.omnivec2.data.skipped_files import assert_file_set_aside, assert_nothing_cached, cached_ids

TEXT_SUFFIXES = (".csv", ".ts", ".sdf", ".txt")


def damage(path) -> None:
    """Bytes that do not decode: invalid UTF-8 inside the fourth line of a text file, else garbage."""
    if path.suffix in TEXT_SUFFIXES:
        lines = path.read_bytes().split(b"\n")
        lines[3] = lines[3][:2] + b"\xff\xfe" + lines[3][2:]
        path.write_bytes(b"\n".join(lines))
    else:
        path.write_bytes(b"\x00\xffnot this format\xfe" * 3)


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_a_file_that_does_not_decode_is_set_aside_by_name_or_stops_the_reading(kind, tmp_path):
    spec, source = written(kind, tmp_path / "data")
    good = set(load_source(spec, source, 0)["sample_id"])
    victim = data_file(kind, tmp_path / "data")
    damage(victim)
    if kind in DATASET_FILES:  # the dataset's file: nothing to keep, the reading stops naming it
        error = assert_nothing_cached(spec, source, tmp_path / "cache")
        assert f"dataset {spec.name!r}: " in str(error) and str(victim) in str(error), str(error)
        record("file that does not decode", kind, "refused")
        return
    table = load_source(spec, source, 0)
    bad = table.loc[table["source_problem"].notna(), "sample_id"].tolist()
    assert len(bad) == 1 and bad[0] in good, bad  # the damaged sample, and only it
    assert_file_set_aside(spec, source, bad[0], rf"{victim}: ", tmp_path / "cache")
    cached = set(cached_ids(tmp_path / "cache", spec.name))
    record("file that does not decode", kind, "set aside", bad_rows_cached=len(cached & set(bad)),
           good_rows_lost=len(good - set(bad) - cached))


def swap_for_a_link_out(victim, outside) -> None:
    """`victim` becomes a symbolic link to a valid copy of itself outside the dataset folder."""
    outside.parent.mkdir(exist_ok=True)
    shutil.copy(victim, outside)
    victim.unlink()
    os.symlink(outside, victim)


MOMENTS = ("after the listing", "between the check and the open")


# a TU folder is not listed (its files are named by the dataset's name): only the read's check applies
@pytest.mark.parametrize("kind, moment", [(kind, moment) for kind in PER_SAMPLE_KINDS for moment in MOMENTS]
                         + [("tu", MOMENTS[1])])
def test_a_link_swapped_in_after_a_check_is_refused_at_the_read(kind, moment, tmp_path, monkeypatch):
    """The swap happens right after a containment check passed on the victim: at the listing (a folder's
    listing or the CSV that names the file; TU has none), or at the read's own check just before the
    open, so only the check on the open file can see it."""
    spec, source = written(kind, tmp_path / "data")
    victim = data_file(kind, tmp_path / "data")
    outside = tmp_path / "elsewhere" / victim.name
    real, swapped = listing.check_inside, []

    def check_then_swap(spec_, root, path, where=None):
        real(spec_, root, path, where)
        if not swapped and str(path) == str(victim):
            swap_for_a_link_out(victim, outside)
            swapped.append(path)

    if moment == "after the listing":
        monkeypatch.setattr(listing, "check_inside", check_then_swap)  # folder listings
        monkeypatch.setattr(named_paths, "check_inside", check_then_swap)  # files a CSV names
    else:
        monkeypatch.setattr(files, "check_inside", check_then_swap)  # read_bytes' own check, before its open
    error = assert_nothing_cached(spec, source, tmp_path / "cache")
    assert swapped, "the victim was never checked"
    assert f"dataset {spec.name!r}: '{victim}' resolves to '{outside}', outside the dataset folder" in str(error), str(error)
    assert "links out are not followed" in str(error)
    record(f"link swapped in {moment}", kind, "refused")


def make_degenerate(kind: str, root) -> None:
    """One sample of `written(kind, root)` made degenerate in its own format: a one-value image or frame,
    a silent clip, a still video, identical points, a constant series, a molecule or graph with no edges."""
    from PIL import Image

    from tests.omnivec2.modalities.test_audio import wav_bytes
    from tests.omnivec2.modalities.test_graph import molblock
    from tests.omnivec2.modalities.test_video import write_video

    victim = data_file(kind, root)
    if kind == "ts_file":
        lines = victim.read_text().split("\n")
        row = next(i for i, line in enumerate(lines) if line[:1].isdigit())
        values, label = lines[row].rsplit(":", 1)
        lines[row] = ",".join(["5.00"] * len(values.split(","))) + ":" + label
        victim.write_text("\n".join(lines))
    elif kind == "sdf":
        with victim.open("a") as handle:
            handle.write(molblock("lone", ["C"], [], {"ID": "lone", "class": "soluble"}))  # methane: one atom
    elif kind == "tu":
        for suffix, line in (("graph_indicator", "11"), ("graph_labels", "1"), ("node_labels", "2")):
            with (root / f"TOY_{suffix}.txt").open("a") as handle:
                handle.write(line + "\n")  # graph 11: one node, no edge in TOY_A.txt
    elif victim.suffix == ".png":
        pixels = np.array(Image.open(victim))
        Image.fromarray(np.full_like(pixels, 7)).save(victim)
    elif victim.suffix == ".npy":
        array = np.load(victim)
        np.save(victim, np.full_like(array, array.flat[0] if array.ndim == 2 and array.shape[-1] == 3 else 0.5))
    elif victim.suffix == ".off":
        victim.write_text("OFF\n4 0 0\n" + "0.5 0.5 0.5\n" * 4)
    elif victim.suffix == ".wav":
        victim.write_bytes(wav_bytes(np.zeros(800, np.int16), 16000))
    elif victim.suffix == ".avi":
        write_video(victim, np.full((4, 16, 20), 77, np.uint8), "FFV1")


def changed_ids(before, after) -> list[str]:
    """Sample ids that are new in `after` or whose payload bytes differ from `before`'s."""
    old = dict(zip(before["sample_id"], before["payload"]))
    return [i for i, payload in zip(after["sample_id"], after["payload"]) if old.get(i) != payload]


@pytest.mark.parametrize("kind", PER_SAMPLE_KINDS + ("ts_file", "sdf", "tu"))
def test_a_degenerate_sample_is_refused_where_its_tokenizer_cannot_describe_it_and_kept_finite_elsewhere(kind, tmp_path):
    from omnivec2.tokens.cache import build_token_cache, read_token_split
    from omnivec2.validation import ValidationFailed, validate_sample_table

    spec, source = written(kind, tmp_path / "data")
    good = load_source(spec, source, 0)
    make_degenerate(kind, tmp_path / "data")
    table = load_source(spec, source, 0)
    changed = changed_ids(good, table)
    assert len(changed) == 1, changed
    if callable(getattr(spec.tokenizer, "degenerate", None)):  # the point groups: refused with the reason
        with pytest.raises(ValidationFailed, match=f"payload_is_not_degenerate on column 'payload' failed for 1 of "
                                                   f"{len(table)} samples \\(e.g. {changed[0]}\\)"):
            validate_sample_table(table, spec)
        outcome = validate_sample_table(table, spec, mode="quarantine")
        assert outcome.quarantined["sample_id"].tolist() == changed
        assert "(zero extent)" in outcome.quarantined["reason"][0]
        build_token_cache(outcome.valid, spec, tmp_path / "cache")
        cached = set(cached_ids(tmp_path / "cache", spec.name))
        record("degenerate sample", kind, "set aside", bad_rows_cached=len(cached & set(changed)),
               good_rows_lost=len(set(good["sample_id"]) - set(changed) - cached))
        return
    validate_sample_table(table, spec)  # `fail` mode: a constant sample is valid for this tokenizer
    build_token_cache(table, spec, tmp_path / "cache")
    split = table.set_index("sample_id").loc[changed[0], "split"]
    tokens = read_token_split(tmp_path / "cache", spec.name, split)
    row = list(tokens.sample_ids).index(changed[0])
    assert np.isfinite(tokens.tokens[row]).all() and np.isfinite(tokens.tokens).all()
    assert sorted(cached_ids(tmp_path / "cache", spec.name)) == sorted(table["sample_id"])
    record("degenerate sample", kind, "kept (tokens finite)")


def add_label_variant(kind: str, root) -> tuple[str, str]:
    """A second spelling of one class name in `written(kind, root)`: a class folder copied under its name in
    capitals (folder kinds), or one row of the index relabelled so (depth). Returns (name, variant)."""
    if kind == "depth_folder":
        index = pd.read_csv(root / "index.csv", dtype=str)
        name = index.loc[0, "category"]
        index.loc[0, "category"] = name.upper()
        index.to_csv(root / "index.csv", index=False)
        return name, name.upper()
    name = sorted(p.name for p in root.iterdir() if p.is_dir())[0]
    shutil.copytree(root / name, root / name.upper())
    return name, name.upper()


@pytest.mark.parametrize("kind", ("point_folder", "thermal_folder", "depth_folder"))
def test_class_names_that_differ_only_by_case_are_refused_with_their_variants(kind, tmp_path):
    """(`image_folder`, `text_table`, `table` and `sdf` are tried in `test_reader_faults.py`.)"""
    spec, source = written(kind, tmp_path / "data")
    name, variant = add_label_variant(kind, tmp_path / "data")
    error = assert_nothing_cached(spec, source, tmp_path / "cache")
    assert (f"dataset {spec.name!r}: labels in " in str(error) and "differ only by case, surrounding whitespace or "
            f"Unicode normalisation: {sorted([name, variant])}" in str(error)), str(error)
    record("near-duplicate labels", kind, "refused")


def shrink_to_two(kind: str, root) -> None:
    """`written(kind, root)` cut to two samples, one per class where there are classes."""
    if kind in ("table", "regression_table"):
        path = root / DATASET_FILES[kind]
        pd.read_csv(path).head(2).to_csv(path, index=False)
    elif kind == "npy":
        arrays = np.load(root / "wine.npz")
        np.savez(root / "wine.npz", x=arrays["x"][:2], y=arrays["y"][:2])
    elif kind == "sdf":
        molecules(root, labels=("soluble", "insoluble"))
    elif kind == "tu":
        from tests.omnivec2.modalities.test_graph import write_tu

        write_tu(root, node_labels="2\n2\n4\n2\n3\n", copies=1)
    elif kind == "audio_folder":
        for clip in sorted(root.glob("*/*.wav")):
            if clip.stem != "0":
                clip.unlink()


@pytest.mark.parametrize("kind", ("audio_folder", "table", "regression_table", "npy", "sdf", "tu"))
def test_a_dataset_too_small_to_split_is_named_with_its_count(kind, tmp_path):
    """(`image_folder` and `text_table` are tried in `test_reader_faults.py`; the other kinds take their
    splits from the data: split folders, a split column, fold numbers, train and test files.)"""
    spec, source = written(kind, tmp_path / "data")
    shrink_to_two(kind, tmp_path / "data")
    error = assert_nothing_cached(spec, source, tmp_path / "cache")
    assert re.search(rf"dataset {spec.name!r}: 2 sample\(s\) cannot be split into train(, val)? and test parts",
                     str(error)), str(error)
    record("too few samples to split", kind, "refused")
