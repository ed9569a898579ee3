"""What crash-safe writers share (token cache, checkpoints): fsync of files and folders, a synced
write, whether the process that left a temporary folder is still alive, and the one sha256 helper
for files and folders."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def write_synced(path: Path, data: bytes) -> None:
    """Write `data` and fsync it before returning."""
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def replace_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a crash leaves the old file or the new one, never half of one."""
    path = Path(path)
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    write_synced(temp, data)
    os.replace(temp, path)
    fsync_dir(path.parent)


def fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def process_alive(pid: int) -> bool:
    """Whether `pid` exists (a temporary folder named after a dead writer may be removed)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sha256_file(path: Path) -> str:
    """The sha256 of one file's bytes (hex): checkpoint checksums, a checkpoint's identity, dvc.lock."""
    return _update(hashlib.sha256(), path).hexdigest()


def sha256_directory(path: Path) -> str:
    """One sha256 over every file under `path` (hex): each file's relative POSIX path, then its bytes,
    in sorted path order. An absent directory hashes like an empty one."""
    digest = hashlib.sha256()
    for f in sorted(Path(path).rglob("*")):
        if f.is_file():
            digest.update(f.relative_to(path).as_posix().encode())
            _update(digest, f)
    return digest.hexdigest()


def _update(digest, path: Path, chunk: int = 1 << 20):
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest
