"""Paths that a user's index or label CSV names: relative to the dataset folder and kept inside it."""

from __future__ import annotations

from omnivec2.data.sources.errors import OutsideDatasetError
from omnivec2.data.sources.listing import check_inside
from omnivec2.datasets.spec import DatasetSpec


def is_absolute_name(name: str) -> bool:
    """A name in a user's CSV that is an absolute path or a URI (not relative to the dataset folder)."""
    text = str(name).strip()
    return text.startswith(("/", "\\")) or "://" in text or (len(text) > 1 and text[1] == ":")


def contained_path(spec: DatasetSpec, root: str, name: str, where: str, allow_outside: bool = False) -> str:
    """`<root>/<name>` for a file that a user's index/label CSV names, refusing names that would leave
    `root`: `..` segments that climb out, absolute paths and URIs (unless `allow_outside`), and files
    that resolve outside it through a symbolic link (`listing.check_inside`, the check folder listings use)."""
    import posixpath

    text = str(name).strip()
    if is_absolute_name(text):
        if allow_outside:
            return text
        raise OutsideDatasetError(f"dataset {spec.name!r}: {where} names {text!r}, an absolute path or URI outside "
                          f"{root!r}; list files relative to it")
    normal = posixpath.normpath(text.replace("\\", "/"))
    if normal in (".", "") or normal == ".." or normal.startswith("../"):
        raise OutsideDatasetError(f"dataset {spec.name!r}: {where} names {text!r}, which is outside {root!r}; "
                          "paths in it must stay inside the dataset folder")
    path = f"{str(root).rstrip('/')}/{normal}"
    check_inside(spec, str(root), path, where)  # a symbolic link out of the folder, too
    return path
