"""A token-cache build killed mid-write (SIGKILL of a forked process), and damaged caches on disk:
the next read refuses with a message naming the file, the next build cleans up and rebuilds, and
nothing half-written is ever read as valid."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal

import numpy as np
import pytest

from omnivec2.data.sources import load_source
from tests.default_suite import DATASETS
from omnivec2.tokens import build as build_module
from omnivec2.tokens.cache import CorruptCacheError, build_token_cache, read_token_split

SPEC = DATASETS["tabular"]


@pytest.fixture(scope="module")
def table():
    return load_source(SPEC, SPEC.source, seed=0)


def changed(table):
    table = table.copy()
    table["split"] = table["split"].where(table.index % 7 != 0, "val")  # another cache key, same validity
    return table


def build_and_die(table, root, where: str) -> int:
    """Build in a forked child that SIGKILLs itself at `where`; returns the child's pid."""

    def child():
        if where == "half-written shard":
            real_write = build_module.write_shard

            def write_half(arrow, path):
                real_write(arrow, path)
                data = open(path, "rb").read()
                open(path, "wb").write(data[: len(data) // 2])
                os.kill(os.getpid(), signal.SIGKILL)

            build_module.write_shard = write_half
        else:  # between the two renames of the swap: the old cache set aside, the new one not yet in place
            real_rename = os.rename

            def rename_then_die(src, dst):
                real_rename(src, dst)
                if ".old-" in str(dst):
                    os.kill(os.getpid(), signal.SIGKILL)

            build_module.os.rename = rename_then_die
        build_token_cache(table, SPEC, root)

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(60)
    assert process.exitcode == -signal.SIGKILL
    return process.pid


def test_a_build_killed_while_writing_a_shard_leaves_the_old_cache_readable(tmp_path, table):
    build_token_cache(table, SPEC, tmp_path)
    before = read_token_split(tmp_path, "tabular", "train").tokens.copy()
    pid = build_and_die(changed(table), tmp_path, "half-written shard")
    leftover = tmp_path / f".tabular.tmp-{pid}"
    assert leftover.is_dir() and not (leftover / "manifest.json").exists()  # the half shard is there ...
    np.testing.assert_array_equal(read_token_split(tmp_path, "tabular", "train").tokens, before)  # ... unread
    manifest = build_token_cache(changed(table), SPEC, tmp_path)  # the next build removes it and succeeds
    assert not leftover.exists() and "reused" not in manifest
    assert read_token_split(tmp_path, "tabular", "val").tokens.shape[0] == manifest["splits"]["val"]["rows"]


def test_a_first_build_killed_mid_write_leaves_no_cache_and_a_clear_error(tmp_path, table):
    build_and_die(table, tmp_path, "half-written shard")
    with pytest.raises(CorruptCacheError, match=r"tabular/manifest.json: no token-cache manifest .*interrupted"):
        read_token_split(tmp_path, "tabular", "train")
    build_token_cache(table, SPEC, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tabular"]


def test_a_build_killed_between_the_renames_is_refused_then_rebuilt(tmp_path, table):
    build_token_cache(table, SPEC, tmp_path)
    pid = build_and_die(changed(table), tmp_path, "swap")
    assert not (tmp_path / "tabular").exists() and (tmp_path / f".tabular.old-{pid}").is_dir()
    with pytest.raises(CorruptCacheError, match="no token-cache manifest"):
        read_token_split(tmp_path, "tabular", "train")
    build_token_cache(changed(table), SPEC, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tabular"]
    read_token_split(tmp_path, "tabular", "train")


@pytest.mark.parametrize("damage, message", [
    ("truncate shard", r"train/part-00000\.arrow: sha256 .* does not match the manifest"),
    ("delete shard", r"train/part-00000\.arrow: shard listed in the manifest is missing"),
    ("truncate manifest", r"manifest\.json: manifest is not valid JSON"),
    ("escape manifest", r"manifest\.json: shard path '\.\./\.\./etc/passwd' of split 'train' is outside the cache"),
])
def test_a_damaged_cache_is_refused_naming_the_file_and_rebuilt(tmp_path, table, damage, message):
    build_token_cache(table, SPEC, tmp_path)
    shard, manifest = tmp_path / "tabular/train/part-00000.arrow", tmp_path / "tabular/manifest.json"
    if damage == "truncate shard":
        shard.write_bytes(shard.read_bytes()[:-100])
    elif damage == "delete shard":
        shard.unlink()
    elif damage == "truncate manifest":
        manifest.write_text(manifest.read_text()[:200])
    else:
        data = json.loads(manifest.read_text())
        data["splits"]["train"]["file"] = "../../etc/passwd"
        manifest.write_text(json.dumps(data))
    with pytest.raises(CorruptCacheError, match=message):
        read_token_split(tmp_path, "tabular", "train")
    rebuilt = build_token_cache(table, SPEC, tmp_path)
    assert "reused" not in rebuilt
    assert read_token_split(tmp_path, "tabular", "train").tokens.shape == (124, 13, 2)
