"""The class-folder layout shared by `image_folder`, `audio_folder` and `video_class_folder`: one folder
per class, one file per sample, local or `s3://`.

Layouts:
* `<root>/<class>/<name>.<ext>` -> seeded stratified train/val/test splits (`val_fraction`,
  `test_fraction`), or the splits named by `val_list` / `test_list` (files under the root, one path
  `<class>/<name>.<ext>` per line, as Speech Commands ships `validation_list.txt` and
  `testing_list.txt` and UCF-101 `testlist01.txt`; every other file is train, less a stratified
  `val_fraction` of it as val when there is no `val_list`);
* `<root>/<split>/<class>/<name>.<ext>` with split folders `train`, `val`, `test` -> kept as given.

Files are listed by suffix (any case) with `listing.list_folder`: each must resolve inside the folder
(a symbolic link out of it is refused, not followed); hidden files and folders (`.DS_Store`,
`.ipynb_checkpoints/`) are ignored, and any other file becomes a row that validation refuses by name
(`listing.skipped_rows`: `fail` mode stops, `quarantine` counts and names it) rather than being dropped
unseen, unless `exclude` names it (Speech Commands' `_background_noise_/`, `LICENSE`, `README.md`:
patterns of paths or folder names, counted in the validation report's notes). A file that does not
decode is such a row too, its problem naming the file (`undecodable.decode_each`); each file is read
with the containment check made again on the open file. Classes: `source["classes"]`, else the task's declared `classes` (in task index order, matched
exactly then case-insensitively), else the sorted folder names. `sample_id` is
`<id_prefix>-<path below root without extension>` ("/" -> "-").
"""

from __future__ import annotations

from dataclasses import replace
from fnmatch import fnmatch
from typing import Callable

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import SourceError, class_indices, read_bytes, stratified_splits, target_name
from omnivec2.data.sources.limits import note
from omnivec2.data.sources.listing import Listing, list_folder, relative_id, skipped_rows, unsupported
from omnivec2.data.sources.splits import val_from_train
from omnivec2.data.sources.undecodable import decode_each
from omnivec2.datasets.spec import DatasetSpec

SPLIT_FOLDERS = ("train", "val", "test")
LIST_OPTIONS = {"val_list": "val", "test_list": "test"}


def read_class_folders(spec: DatasetSpec, source: dict, seed: int, suffixes: tuple[str, ...],
                       decode: Callable[[bytes, str], np.ndarray], what: str) -> pd.DataFrame:
    """Class folders -> sample table (see the module docstring). `decode(bytes, full path)` -> payload,
    raising ValueError naming the path; `what` names the files in messages ("image files")."""
    if "path" not in source:
        raise SourceError(f"dataset {spec.name!r}: source kind {source.get('kind')!r} needs 'path'")
    listing = _without_excluded(list_folder(spec, source["path"], source, suffixes), source.get("exclude") or [])
    if not listing.files:
        raise SourceError(f"dataset {spec.name!r}: no {what} ({', '.join(suffixes)}) under {source['path']!r}")
    relative = [r for r in listing.files if "/" in r]
    if not relative:
        raise SourceError(f"dataset {spec.name!r}: {source['path']}: {what} must sit in class folders "
                          f"(<class>/<file>); none does")
    lists = {str(source[option]).removeprefix("./") for option in LIST_OPTIONS if option in source}
    loose = [r for r in listing.files + listing.others if "/" not in r and r not in lists]
    parts = [r.split("/") for r in relative]
    given_splits = all(p[0] in SPLIT_FOLDERS and len(p) >= 3 for p in parts)
    labels = [p[1] if given_splits else p[0] for p in parts]
    targets = class_indices(spec, labels, source.get("classes"), str(source["path"]))  # else the task's classes
    listed = _listed_splits(spec, source, listing) if not given_splits else {}
    decoded = decode_each(spec, relative, lambda r: read_bytes(spec, listing.path(r), source, inside=listing.url),
                          lambda r, data: decode(data, listing.path(r)), what)
    kept = [relative[i] for i in decoded.kept]
    if given_splits:
        splits = [r.split("/")[0] for r in kept]
    elif lists:  # the splits the lists name, even an empty one
        splits = [listed.get(r, "train") for r in kept]
        if "val_list" not in source:  # UCF-101 ships test lists only
            splits = list(val_from_train(splits, targets[decoded.kept], seed, float(source.get("val_fraction", 0.1))))
    else:
        splits = list(stratified_splits(targets[decoded.kept], seed, val=source.get("val_fraction", 0.1),
                                        test=source.get("test_fraction", 0.2)))
    prefix = source.get("id_prefix", spec.name)
    sample_id = (lambda r: f"{prefix}-{relative_id(r).replace('/', '-')}")
    table = build_sample_table([sample_id(r) for r in kept], splits, decoded.values,
                               {target_name(spec): targets[decoded.kept]})
    given = (lambda r: r.split("/")[0] if given_splits and "/" in r else listed.get(r, "train"))
    skipped = [(sample_id(relative[i]), given(relative[i]), why) for i, why in decoded.problems.items()]
    skipped += [(f"{prefix}-{r.replace('/', '-')}", given(r), why) for r, why in unsupported(listing, suffixes)
                if "/" in r and r not in lists]
    skipped += [(f"{prefix}-{r}", "train", f"{listing.path(r)}: not in a class folder (<class>/<file>), not read")
                for r in loose]
    return skipped_rows(spec, table, skipped)


def _without_excluded(listing: Listing, patterns: list[str]) -> Listing:
    """The listing less the files `exclude` names: a pattern (`fnmatch`, e.g. `_background_noise_`,
    `LICENSE`, `*.txt`) matching a file's path below the root, or any folder on it. How many were left
    out, and which patterns matched, goes to the validation report as a note."""
    if not patterns:
        return listing
    patterns = [str(p).strip("/") for p in patterns]

    def excluded(relative: str) -> bool:
        parts = relative.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        return any(fnmatch(p, pattern) or fnmatch(part, pattern) for pattern in patterns
                   for p, part in zip(prefixes, parts))

    left = [r for r in listing.files + listing.others if excluded(r)]
    if left:
        note(f"{len(left)} file(s) left out by 'exclude' {patterns} (e.g. {left[0]})")
    return replace(listing, files=[r for r in listing.files if not excluded(r)],
                   others=[r for r in listing.others if not excluded(r)])


def _listed_splits(spec: DatasetSpec, source: dict, listing: Listing) -> dict[str, str]:
    """{relative path: "val" | "test"} from the `val_list` / `test_list` files (paths below the root,
    one per line, blank lines ignored). SourceError naming the list and the line for a path listed
    twice, in both lists, or naming no file of the folder (a typo would otherwise move nothing)."""
    known = set(listing.files) | set(listing.others)
    out: dict[str, str] = {}
    for option, split in LIST_OPTIONS.items():
        if option not in source:
            continue
        where = listing.path(str(source[option]))
        try:
            text = read_bytes(spec, where, source, inside=listing.url).decode("utf-8")
        except UnicodeDecodeError as error:
            raise SourceError(f"dataset {spec.name!r}: {where}: not UTF-8 text ({error})") from None
        for number, line in enumerate(text.splitlines(), start=1):
            path = line.strip().removeprefix("./")
            if not path:
                continue
            if path not in known:
                raise SourceError(f"dataset {spec.name!r}: {where}, line {number}: {path!r} is not a file of the "
                                  f"folder (paths are <class>/<file>, relative to {listing.url!r})")
            if path in out:
                raise SourceError(f"dataset {spec.name!r}: {where}, line {number}: {path!r} is listed for "
                                  f"{out[path]} already")
            out[path] = split
    return out
