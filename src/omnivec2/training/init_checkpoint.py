"""The previous stage's checkpoint on Ray Train's storage: the driver publishes it, every worker fetches it.

Stages 2 and 3 start from the previous stage's weights. The driver holds them (the previous stage's
output folder, versioned by DVC); Ray workers on other machines do not. So before the launch the
driver copies that folder into the run storage (``ray.storage_path``: an absolute directory, shared
by the nodes on a real cluster, or ``s3://...``), at

    <storage_path>/init_checkpoints/<sha256 of the folder, 16 hex>/

content-addressed: a re-run publishes nothing new and two stages or runs never write the same
place with different bytes. ``checksums.json`` goes last, so a folder without it is incomplete
and is published again. Each worker downloads it into a temporary folder, checks every file
against its checksums and the whole folder against the driver's digest
(``StageLaunch.init_checkpoint_sha``), loads the weights and removes the copy.

Filesystems are pyarrow's, resolved from the storage path as Ray Train resolves it (so an
``s3://bucket/prefix?endpoint_override=...`` URI and the ``AWS_*`` environment both work).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from omnivec2.checkpoint import CHECKSUMS, verify_checkpoint
from omnivec2.durable_files import sha256_directory

PREFIX = "init_checkpoints"


def _filesystem(location: str):
    """(pyarrow filesystem, path inside it) for an absolute directory or a URI."""
    import pyarrow.fs

    if "://" not in location:
        return pyarrow.fs.LocalFileSystem(), str(Path(location).resolve())
    return pyarrow.fs.FileSystem.from_uri(location)


def storage_location(storage_path: str, *parts: str) -> str:
    """`storage_path` joined with `parts`, keeping a URI's query string (``?endpoint_override=...``) at the end."""
    base, query = (storage_path.split("?", 1) + [""])[:2] if "://" in storage_path else (storage_path, "")
    joined = "/".join([base.rstrip("/"), *parts])
    return f"{joined}?{query}" if query else joined


def publish_checkpoint(local_dir: str | Path, storage_path: str, digest: str | None = None) -> str:
    """Copy the checkpoint folder `local_dir` (checked already) to the run storage; return where it is.
    Nothing is copied when a complete copy with the same checksums is there."""
    import pyarrow.fs

    local_dir = Path(local_dir)
    digest = digest or sha256_directory(local_dir)
    location = storage_location(storage_path, PREFIX, digest[:16])
    fs, target = _filesystem(location)
    manifest = local_dir / CHECKSUMS
    if manifest.is_file() and _read(fs, f"{target}/{CHECKSUMS}") == manifest.read_bytes():
        return location
    fs.create_dir(target, recursive=True)
    local = pyarrow.fs.LocalFileSystem()
    files = sorted(p for p in local_dir.rglob("*") if p.is_file())
    for f in sorted(files, key=lambda p: p.name == CHECKSUMS):  # the manifest last
        relative = f.relative_to(local_dir).as_posix()
        if "/" in relative:
            fs.create_dir(f"{target}/{relative.rsplit('/', 1)[0]}", recursive=True)
        pyarrow.fs.copy_files(str(f), f"{target}/{relative}", source_filesystem=local, destination_filesystem=fs)
    return location


def fetch_checkpoint(location: str, expected_sha: str | None, into: str | Path | None = None) -> Path:
    """Download a published checkpoint into `into` (default: a new temporary folder) and check it:
    each file against checksums.json, the folder against `expected_sha` (the driver's digest).
    Raises FileNotFoundError naming the location when nothing is there, ValueError on a mismatch."""
    import pyarrow.fs

    fs, source = _filesystem(location)
    if fs.get_file_info(f"{source}/{CHECKSUMS}").type == pyarrow.fs.FileType.NotFound and \
            fs.get_file_info(source).type != pyarrow.fs.FileType.Directory:
        raise FileNotFoundError(f"the previous stage's checkpoint is not in the run storage at {location}; "
                                "the driver publishes it there before the launch")
    target = Path(into) if into is not None else Path(tempfile.mkdtemp(prefix="omnivec2-init-")) / "checkpoint"
    target.mkdir(parents=True, exist_ok=True)
    try:
        pyarrow.fs.copy_files(source, str(target), source_filesystem=fs,
                              destination_filesystem=pyarrow.fs.LocalFileSystem())
        verify_checkpoint(target)
        actual = sha256_directory(target)
        if expected_sha and actual != expected_sha:
            raise ValueError(f"the previous stage's checkpoint at {location} has digest {actual[:16]}..., "
                             f"the driver published {expected_sha[:16]}...: the storage copy was altered")
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target


def _read(fs, path: str) -> bytes | None:
    try:
        with fs.open_input_stream(path) as stream:
            return stream.read()
    except (FileNotFoundError, OSError):
        return None
