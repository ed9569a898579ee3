"""TU graph-kernel benchmark text files (Morris et al. 2020: MUTAG, PROTEINS, NCI1, ...), local or `s3://`.

In `<folder>/`: `<DS>_A.txt` (one edge per line, `i, j`, 1-based node ids over the whole dataset,
each undirected edge listed in both directions), `<DS>_graph_indicator.txt` (line i: the graph of
node i, 1-based), `<DS>_graph_labels.txt` (line g: the label of graph g), optional
`<DS>_node_labels.txt` (line i: an integer node label -> node category, 0..15) and
`<DS>_edge_labels.txt` (line e: the label of edge e of `_A` -> bond type label + 1, 1..4).

Source keys (kind `tu`): `path` (the folder), `name` (`<DS>`), optional `classes` (default: the sorted
label values), `storage_options`;
splits are stratified 70/10/20 from the seed (TU sets have no official split).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from omnivec2.data.sources.limits import SourceLimitError, limit
from omnivec2.tokens.graph import NUM_BOND_TYPES, NUM_CATEGORIES, encode_graph

if TYPE_CHECKING:
    from omnivec2.datasets.spec import DatasetSpec


def _numbers(text: str, name: str, columns: int) -> np.ndarray:
    """Comma/space separated integers, `columns` per line -> `[lines, columns]` int64 (ValueError names the line)."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.replace(",", " ").split()
        try:
            values = [int(float(f)) for f in fields]
        except ValueError:
            raise ValueError(f"{name}, line {number}: expected {columns} integer(s), got {line[:40]!r}") from None
        if len(values) != columns:
            raise ValueError(f"{name}, line {number}: expected {columns} integer(s), got {line[:40]!r}")
        rows.append(values)
    if not rows:
        raise ValueError(f"{name}: empty file")
    return np.asarray(rows, dtype=np.int64)


def parse_tu(files: dict[str, str], name: str) -> tuple[list[np.ndarray], np.ndarray]:
    """{suffix: text} of one dataset (`A`, `graph_indicator`, `graph_labels`, optional `node_labels`,
    `edge_labels`) -> (payloads `[n_g, n_g]` float32, graph labels `[G]` int64)."""
    edges = _numbers(files["A"], f"{name}_A.txt", 2) - 1
    graph_of = _numbers(files["graph_indicator"], f"{name}_graph_indicator.txt", 1)[:, 0] - 1
    labels = _numbers(files["graph_labels"], f"{name}_graph_labels.txt", 1)[:, 0]
    nodes, graphs = len(graph_of), len(labels)
    if graph_of.min() < 0 or graph_of.max() >= graphs:
        raise ValueError(f"{name}_graph_indicator.txt: graph ids {graph_of.min() + 1}..{graph_of.max() + 1}, "
                         f"{name}_graph_labels.txt has {graphs} graphs")
    if edges.min() < 0 or edges.max() >= nodes:
        line = int(np.argmax((edges < 0).any(axis=1) | (edges >= nodes).any(axis=1))) + 1
        raise ValueError(f"{name}_A.txt, line {line}: node id outside 1..{nodes}")
    categories = np.zeros(nodes, np.int64)
    if "node_labels" in files:
        categories = _numbers(files["node_labels"], f"{name}_node_labels.txt", 1)[:, 0]
        if len(categories) != nodes or categories.min() < 0 or categories.max() >= NUM_CATEGORIES:
            raise ValueError(f"{name}_node_labels.txt: needs {nodes} labels in 0..{NUM_CATEGORIES - 1}")
    bonds = np.ones(len(edges), np.int64)
    if "edge_labels" in files:
        bonds = _numbers(files["edge_labels"], f"{name}_edge_labels.txt", 1)[:, 0] + 1
        if len(bonds) != len(edges) or bonds.min() < 1 or bonds.max() > NUM_BOND_TYPES:
            raise ValueError(f"{name}_edge_labels.txt: needs {len(edges)} labels in 0..{NUM_BOND_TYPES - 1}")
    if (graph_of[edges[:, 0]] != graph_of[edges[:, 1]]).any():
        line = int(np.argmax(graph_of[edges[:, 0]] != graph_of[edges[:, 1]])) + 1
        raise ValueError(f"{name}_A.txt, line {line}: edge between two graphs")
    if (np.diff(graph_of) < 0).any():
        raise ValueError(f"{name}_graph_indicator.txt: nodes are not grouped by graph")
    starts = np.searchsorted(graph_of, np.arange(graphs))
    payloads = []
    for g in range(graphs):
        members = np.flatnonzero(graph_of == g)
        if not len(members):
            raise ValueError(f"{name}_graph_indicator.txt: graph {g + 1} has no nodes")
        if len(members) > limit("max_nodes"):
            raise ValueError(f"{name}_graph_indicator.txt: graph {g + 1} has {len(members)} nodes, over the source's "
                             f"max_nodes ({limit('max_nodes')}); raise it if the graph is genuine")
        inside = graph_of[edges[:, 0]] == g
        local = edges[inside] - starts[g]
        payloads.append(encode_graph(categories[members],
                                     [(int(u), int(v), int(b)) for (u, v), b in zip(local, bonds[inside])]))
    return payloads, labels


def load_tu_source(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Payload float32 `[n, n]` per graph; `sample_id` `<name>-<graph number, 1-based>`."""
    from omnivec2.data.sample_table import build_sample_table
    from omnivec2.data.sources.common import SourceError, class_indices, read_bytes, stratified_splits, target_name
    from omnivec2.data.sources.errors import OutsideDatasetError

    if "path" not in source or "name" not in source:
        raise SourceError(f"dataset {spec.name!r}: a tu source needs 'path' (the folder) and 'name'")
    folder, name = str(source["path"]).rstrip("/"), source["name"]
    files = {}
    for suffix in ("A", "graph_indicator", "graph_labels", "node_labels", "edge_labels"):
        path = f"{folder}/{name}_{suffix}.txt"
        try:
            data = read_bytes(spec, path, source, inside=folder)  # no link out of the folder
        except (SourceLimitError, OutsideDatasetError):
            raise
        except SourceError:
            if suffix in ("node_labels", "edge_labels"):
                continue  # optional files
            raise
        try:
            files[suffix] = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise SourceError(f"dataset {spec.name!r}: {path!r} is not UTF-8 text ({error})") from None
    try:
        payloads, labels = parse_tu(files, f"{folder}/{name}")
    except ValueError as error:
        raise SourceError(f"dataset {spec.name!r}: {error}") from None
    classes = source.get("classes") or sorted(set(labels.tolist()))  # e.g. MUTAG's -1 / 1 -> 0 / 1
    targets = class_indices(spec, labels, classes, f"{folder}/{name}_graph_labels.txt")
    ids = [f"{name.lower()}-{g + 1:05d}" for g in range(len(labels))]
    return build_sample_table(ids, list(stratified_splits(targets, seed)), payloads, {target_name(spec): targets})
