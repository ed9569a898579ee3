"""Reading a dataset folder without leaving it, and without dropping a file unseen.

* `check_inside`: the one containment check for every path a reader is about to read, whether it found
  the path by listing a folder or a user's CSV named it (`named_paths.contained_path`). Locally the path is
  resolved (`os.path.realpath`: symbolic links, `..`) and must stay below the resolved dataset root, so
  a link to a file or folder outside the dataset is refused, not followed. An object store has no links
  and no `..`: a key with a `..` segment is refused (a tool that normalises keys would read elsewhere).
* `read_inside`: reading a local file checks again, on the file actually opened, that it lies inside
  the root (a link swapped in after the listing is refused, not followed; `files.read_bytes(...,
  inside=root)` uses it, and checks object-store keys again).
* `list_folder`: the files below a dataset folder (hidden files and folders such as `.DS_Store` or
  `.ipynb_checkpoints/` aside), each checked, split into those with a suffix the reader decodes and
  the others.
* `skipped_rows`: the files a reader did not decode, as sample-table rows whose `source_problem` says
  why. Validation fails them by name (`fail` mode stops the run; `quarantine` sets them aside and counts
  and names them in its report), so no file is dropped without a word.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass

import numpy as np
import pandas as pd

from omnivec2.data.sources.errors import OutsideDatasetError
from omnivec2.datasets.spec import DatasetSpec

SKIPPED_LABEL = -1  # the label of a row that stands for a file not read (outside every class)


def is_local(path: str) -> bool:
    return "://" not in str(path) or str(path).startswith("file://")


def check_inside(spec: DatasetSpec, root: str, path: str, where: str | None = None) -> None:
    """Refuse `path` unless it resolves to `root` or below it; SourceError naming the file (and `where`
    it was listed, when given)."""
    listed = f" (listed in {where})" if where else ""
    if not is_local(path):
        relative = str(path)[len(str(root).rstrip("/")) + 1 :] if str(path).startswith(str(root)) else str(path)
        if ".." in relative.replace("\\", "/").split("/") or not str(path).startswith(str(root).rstrip("/") + "/"):
            raise OutsideDatasetError(f"dataset {spec.name!r}: {path!r}{listed} is not a key below {root!r} (a '..' "
                              "segment or another prefix); refused")
        return
    _refuse_outside(spec, path, os.path.realpath(_strip(str(path))), os.path.realpath(_strip(str(root))), listed)


def read_inside(spec: DatasetSpec, root: str, path: str, size: int) -> bytes:
    """At most `size` bytes of the local file `path`, refused unless the file actually opened lies inside
    `root`: the check is made on the open file (`/proc/self/fd`, else its device and inode against the
    resolved path's), so a symbolic link swapped in after the listing, or between a check and the
    open, is never followed out. SourceError naming the file; OSError as `open` raises it."""
    local = _strip(str(path))
    with open(local, "rb") as handle:
        _refuse_outside(spec, path, _opened_path(handle.fileno(), local), os.path.realpath(_strip(str(root))), "")
        return handle.read(size)


def _opened_path(fd: int, local: str) -> str:
    """The real path of the open file `fd` (opened from `local`)."""
    proc = f"/proc/self/fd/{fd}"
    if os.path.islink(proc):
        return os.readlink(proc)
    resolved = os.path.realpath(local)
    opened, named = os.fstat(fd), os.stat(resolved)
    if (opened.st_dev, opened.st_ino) != (named.st_dev, named.st_ino):
        return f"<not {resolved}: the file changed while it was opened>"
    return resolved


def _refuse_outside(spec: DatasetSpec, path: str, target: str, base: str, listed: str) -> None:
    if target != base and not target.startswith(base.rstrip(os.sep) + os.sep):
        raise OutsideDatasetError(f"dataset {spec.name!r}: {path!r}{listed} resolves to {target!r}, outside the dataset "
                          f"folder {base!r} (a symbolic link out of it?); refused, links out are not followed")


def _strip(path: str) -> str:
    return path[len("file://"):] if path.startswith("file://") else path


@dataclass
class Listing:
    fs: object
    root: str  # the folder, as the filesystem names it (no protocol), without a trailing "/"
    url: str  # the folder as the user gave it
    files: list[str]  # paths below root, relative, with a readable suffix
    others: list[str]  # paths below root, relative, with any other suffix

    def path(self, relative: str) -> str:
        """The full path or URI of a file below the folder (what `read_bytes` takes)."""
        prefix = self.url[: len(self.url) - len(self.root)] if "://" in self.url else ""
        return f"{prefix}{self.root}/{relative}"


def list_folder(spec: DatasetSpec, path: str, source: dict, suffixes: tuple[str, ...]) -> Listing:
    """Every non-hidden file below `path` (local or fsspec URI), checked to stay inside it, split by
    suffix (any case); SourceError if the folder cannot be listed or a file resolves outside it."""
    import fsspec

    from omnivec2.data.sources.errors import SourceError

    url = str(path).rstrip("/")
    try:
        fs, root = fsspec.core.url_to_fs(url, **(source.get("storage_options") or {}))
        root = root.rstrip("/")
        found = sorted(fs.find(root))
    except Exception as error:  # missing bucket, permissions, bad protocol
        raise SourceError(f"dataset {spec.name!r}: cannot list {url!r} ({type(error).__name__}: {error})") from error
    listing = Listing(fs, root, url, [], [])
    for full in found:
        relative = full[len(root) + 1 :]
        if not relative or any(part.startswith(".") and part not in (".", "..") for part in relative.split("/")):
            continue  # hidden files and folders
        check_inside(spec, url, listing.path(relative))
        (listing.files if relative.lower().endswith(suffixes) else listing.others).append(relative)
    return listing


def unsupported(listing: Listing, suffixes: tuple[str, ...]) -> list[tuple[str, str]]:
    """(relative path, why) for each file of the listing the reader does not decode."""
    return [(r, f"{listing.path(r)}: not read, a reader of {', '.join(suffixes)} files skips it") for r in listing.others]


def skipped_rows(spec: DatasetSpec, table: pd.DataFrame, skipped: list[tuple[str, str, str]]) -> pd.DataFrame:
    """`table` plus one row per (sample id, split, problem) of `skipped`: no payload (empty bytes of
    shape `0`), every task's label `SKIPPED_LABEL`, and the problem in the `source_problem` column
    (None for the rows read). Validation refuses those rows by name (see the module docstring)."""
    if not skipped:
        return table
    rows = [{"sample_id": sample_id, "split": split,
             **{task.name: SKIPPED_LABEL for task in spec.tasks if task.kind == "classification"},
             "payload": b"", "dtype": np.dtype(spec.payload.dtype).name, "shape": "0", "nbytes": 0,
             "min": np.nan, "max": np.nan, "nan_count": 0, "inf_count": 0, "source_problem": problem}
            for sample_id, split, problem in skipped]
    out = pd.concat([table.assign(source_problem=None), pd.DataFrame(rows)], ignore_index=True)
    for column in table.columns:  # keep the read rows' dtypes (concat widens ints next to NaN columns)
        if table[column].dtype.kind in "iu" and not out[column].isna().any():
            out[column] = out[column].astype(table[column].dtype)
    return out


def relative_id(relative: str) -> str:
    """A relative file path -> an id (the path without its suffix)."""
    return posixpath.splitext(relative)[0]
