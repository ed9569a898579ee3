"""The pyarrow token cache: exact round trip, reuse, rebuilds, corruption, crash safety, refusal."""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from omnivec2.data.sample_table import decode_payloads, summarise
from omnivec2.data.sources import load_source
from tests.default_suite import DATASETS
from omnivec2.tokens import build as build_module
from omnivec2.tokens.cache import (
    CorruptCacheError,
    UnvalidatedTableError,
    build_token_cache,
    read_token_split,
)
from omnivec2.tokens.patches import TimePatches
from omnivec2.tokens.shards import read_shard, write_shard


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {name: load_source(DATASETS[name], DATASETS[name].source, seed=0) for name in ("tabular", "imu")}


def with_payload(table: pd.DataFrame, row: int, array: np.ndarray) -> pd.DataFrame:
    table = table.copy()
    for column, value in {"payload": array.tobytes(), **summarise(array)}.items():
        table.at[row, column] = value
    return table


def mtimes(directory) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in sorted(directory.rglob("*"))}


@pytest.mark.parametrize("name", ["tabular", "imu"])
def test_round_trip_is_exact(tmp_path, tables, name):
    spec, table = DATASETS[name], tables[name]
    manifest = build_token_cache(table, spec, tmp_path)
    train = table[table["split"] == "train"]
    stats = spec.tokenizer.fit(decode_payloads(train))
    assert manifest["fit_stats"] == json.loads(json.dumps(stats))
    for split in ("train", "val", "test"):
        rows = table[table["split"] == split].sort_values("sample_id")
        cached = read_token_split(tmp_path, name, split)
        expected = spec.tokenizer.transform(decode_payloads(rows), stats)
        assert cached.tokens.dtype == np.float32 and cached.tokens.shape == expected.shape
        np.testing.assert_array_equal(cached.tokens, expected)
        assert cached.sample_ids == rows["sample_id"].tolist()
        np.testing.assert_array_equal(cached.targets[spec.tasks[0].name], rows[spec.tasks[0].name].to_numpy())
        assert manifest["splits"][split]["rows"] == len(rows)
    n, p = manifest["token_shape"]
    schema = read_shard(tmp_path / name / "train" / "part-00000.arrow").schema
    assert schema.field("tokens").type == pa.list_(pa.float32(), n * p)
    assert schema.field("sample_id").type == pa.string()


def test_manifest_contents(tmp_path, tables):
    manifest = build_token_cache(tables["tabular"], DATASETS["tabular"], tmp_path)
    on_disk = json.loads((tmp_path / "tabular" / "manifest.json").read_text())
    assert on_disk == manifest and "reused" not in on_disk
    assert on_disk["dataset"] == "tabular" and on_disk["format_version"] == 3
    assert on_disk["stream"]["modality"] == "tabular" and on_disk["stream"]["settings"]["columns"] == 13
    assert on_disk["tasks"] == [{"name": "cultivar", "kind": "classification", "num_classes": 3,
                                 "classes": ["class_0", "class_1", "class_2"]}]
    assert on_disk["token_shape"] == [13, 2]
    assert on_disk["tokenizer"]["config"] == {"kind": "table_columns", "categorical": [], "missing": False}
    assert {"source_hash", "cache_key", "schema", "fit_stats"} <= set(on_disk)
    assert [f["name"] for f in on_disk["schema"]] == ["sample_id", "cultivar", "tokens"]
    assert all(len(s["sha256"]) == 64 for s in on_disk["splits"].values())


def test_second_build_reuses_without_touching_files(tmp_path, tables):
    first = build_token_cache(tables["tabular"], DATASETS["tabular"], tmp_path)
    before = mtimes(tmp_path)
    shuffled = tables["tabular"].sample(frac=1.0, random_state=1)  # row order does not matter
    second = build_token_cache(shuffled, DATASETS["tabular"], tmp_path)
    assert second["reused"] is True and "reused" not in first
    assert {k: v for k, v in second.items() if k != "reused"} == first
    assert mtimes(tmp_path) == before


def test_rebuild_when_data_changes(tmp_path, tables):
    first = build_token_cache(tables["tabular"], DATASETS["tabular"], tmp_path)
    changed = with_payload(tables["tabular"], 0, np.arange(13, dtype=np.float32))
    second = build_token_cache(changed, DATASETS["tabular"], tmp_path)
    assert "reused" not in second
    assert second["source_hash"] != first["source_hash"] and second["cache_key"] != first["cache_key"]
    split = changed.at[0, "split"]
    cached = read_token_split(tmp_path, "tabular", split)
    row = cached.sample_ids.index(changed.at[0, "sample_id"])
    expected = DATASETS["tabular"].tokenizer.transform([np.arange(13, dtype=np.float32)], second["fit_stats"])
    np.testing.assert_array_equal(cached.tokens[row], expected[0])


def test_rebuild_when_tokenizer_config_changes(tmp_path, tables):
    spec = DATASETS["imu"]
    first = build_token_cache(tables["imu"], spec, tmp_path)
    other = dataclasses.replace(spec, tokenizer=TimePatches(patch=20))
    second = build_token_cache(tables["imu"], other, tmp_path)
    assert "reused" not in second and second["source_hash"] == first["source_hash"]
    assert second["tokenizer"]["config_hash"] != first["tokenizer"]["config_hash"]
    assert read_token_split(tmp_path, "imu", "test").tokens.shape == (40, 5, 120)


def test_flipped_byte_is_detected_and_rebuilt(tmp_path, tables):
    build_token_cache(tables["tabular"], DATASETS["tabular"], tmp_path)
    shard = tmp_path / "tabular" / "train" / "part-00000.arrow"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(CorruptCacheError, match=r"train/part-00000\.arrow: sha256 .* does not match the manifest"):
        read_token_split(tmp_path, "tabular", "train")
    read_token_split(tmp_path, "tabular", "test")  # the other shards are intact
    rebuilt = build_token_cache(tables["tabular"], DATASETS["tabular"], tmp_path)
    assert "reused" not in rebuilt
    assert read_token_split(tmp_path, "tabular", "train").tokens.shape == (124, 13, 2)


def test_missing_manifest_and_row_mismatch_are_errors(tmp_path, tables):
    with pytest.raises(CorruptCacheError, match="no token-cache manifest"):
        read_token_split(tmp_path, "tabular", "train")
    build_token_cache(tables["tabular"], DATASETS["tabular"], tmp_path)
    manifest_path = tmp_path / "tabular" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["splits"]["val"]["rows"] += 1
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(CorruptCacheError, match="18 rows of 26 token values, manifest says 19 rows of 13x2"):
        read_token_split(tmp_path, "tabular", "val")


def _dead_pid() -> int:
    pid = 999_999
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


def test_leftover_temp_dir_from_a_crash_is_ignored_and_removed(tmp_path, tables):
    leftover = tmp_path / f".tabular.tmp-{_dead_pid()}"
    (leftover / "train").mkdir(parents=True)
    (leftover / "train" / "part-00000.arrow").write_bytes(b"half a shard")
    (leftover / "manifest.json").write_text("{not json")
    with pytest.raises(CorruptCacheError):  # never read in place of the real cache
        read_token_split(tmp_path, "tabular", "train")
    build_token_cache(tables["tabular"], DATASETS["tabular"], tmp_path)
    assert not leftover.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tabular"]
    assert read_token_split(tmp_path, "tabular", "train").tokens.shape == (124, 13, 2)


def test_crash_mid_build_keeps_the_old_cache(tmp_path, tables, monkeypatch):
    first = build_token_cache(tables["tabular"], DATASETS["tabular"], tmp_path)
    old_train = read_token_split(tmp_path, "tabular", "train").tokens.copy()
    calls = []

    def crash_on_second_shard(table, path):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        write_shard(table, path)

    monkeypatch.setattr(build_module, "write_shard", crash_on_second_shard)
    changed = with_payload(tables["tabular"], 0, np.arange(13, dtype=np.float32))
    with pytest.raises(OSError, match="disk full"):
        build_token_cache(changed, DATASETS["tabular"], tmp_path)
    monkeypatch.undo()
    assert json.loads((tmp_path / "tabular" / "manifest.json").read_text()) == first
    np.testing.assert_array_equal(read_token_split(tmp_path, "tabular", "train").tokens, old_train)
    build_token_cache(changed, DATASETS["tabular"], tmp_path)  # the next build cleans up and succeeds
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tabular"]


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda t: with_payload(t, 4, np.r_[np.nan, np.ones(12)].astype(np.float32)), "NaN values"),
        (lambda t: with_payload(t, 4, np.r_[np.inf, np.ones(12)].astype(np.float32)), "infinite values"),
        (lambda t: with_payload(t, 4, np.ones(12, np.float32)), r"shape not matching \(13,\)"),
        (lambda t: t.assign(payload=[b if i != 4 else b[:-4] for i, b in enumerate(t["payload"])]), "does not decode"),
        (lambda t: t.assign(sample_id=["wine-00004" if i == 3 else s for i, s in enumerate(t["sample_id"])]), "duplicated sample_id"),
    ],
)
def test_refuses_unvalidated_bad_data_and_writes_nothing(tmp_path, tables, corrupt, message):
    with pytest.raises(UnvalidatedTableError, match=rf"dataset 'tabular': refusing to tokenize .*{message}.*wine-00004"):
        build_token_cache(corrupt(tables["tabular"]), DATASETS["tabular"], tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_refuses_a_table_without_required_columns(tmp_path, tables):
    with pytest.raises(UnvalidatedTableError, match=r"lacks column\(s\) \['nan_count'\]"):
        build_token_cache(tables["tabular"].drop(columns="nan_count"), DATASETS["tabular"], tmp_path)


@pytest.mark.parametrize("column, value, what", [
    ("max", 1.0e6, "values above"),
    ("nbytes", 10**9, "a payload over"),
    ("min", -5.0, "values below"),
])
def test_the_cache_refuses_out_of_range_or_oversized_payloads(tmp_path, column, value, what):
    from omnivec2.data.sources import load_source
    from tests.default_suite import default_dataset
    from omnivec2.tokens.cache import UnvalidatedTableError, build_token_cache

    spec = default_dataset("image")
    table = load_source(spec, spec.source, 0)
    table.loc[3, column] = value
    with pytest.raises(UnvalidatedTableError, match=what):
        build_token_cache(table, spec, tmp_path)
    assert not (tmp_path / "image").exists()


def test_a_cache_in_an_older_format_is_refused_with_the_way_to_rebuild_it(tmp_path, tables):
    build_token_cache(tables["tabular"], DATASETS["tabular"], tmp_path)
    path = tmp_path / "tabular" / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "format_version": 1}))
    with pytest.raises(CorruptCacheError, match=r"tabular/manifest.json: token cache in format 1, .* reads format 3; "
                                                r"rebuild it with `kedro run --pipeline tokenization`"):
        read_token_split(tmp_path, "tabular", "train")
