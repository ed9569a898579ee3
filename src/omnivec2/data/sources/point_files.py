"""`point_folder`: a user's point sets, one folder per class (ModelNet layout), local or `s3://`.

    <path>/<class>/[train|val|test/]<name>.off | .ply | .npy

* `.off` (ModelNet): `OFF`, counts `nv nf ne` (ModelNet's `OFF490 518 0` variant too), vertex
  lines, face lines `n i j k ...` (fanned into triangles).
* `.ply`: ASCII or binary PLY (binary, the default of Open3D and PCL, through `plyfile`) with
  `element vertex` (properties x, y, z anywhere among them) and optionally `element face`
  (`property list ... vertex_indices`).
* `.npy`: an array `[n, >=3]`; the first three columns are xyz.

Meshes with faces are sampled uniformly on their surface (area-weighted, seeded by the seed and
the file's relative path); vertex-only sets are resampled deterministically (`mesh_sampling.resample`).
Every cloud is centred and scaled into the unit sphere, `points` points each (default 1024).
Without split folders the split is stratified by class from `seed`. `sample_id` is the path
relative to `<path>` without the suffix. A file that is empty, truncated or not decodable becomes a
row validation refuses, its problem naming the file (and the face or vertex line at fault;
`undecodable`); one of more than `max_points` vertices stops the reading (SourceLimitError). Files are listed with `listing.list_folder` (links out of the folder
refused); other files, and files outside a class folder, become rows validation refuses by name.
"""

from __future__ import annotations

import io
import zlib

import numpy as np
import pandas as pd

from omnivec2.data.sample_table import build_sample_table
from omnivec2.data.sources.common import SourceError, class_indices, read_bytes, stratified_splits, target_name
from omnivec2.data.sources.limits import SourceLimitError, current_dataset, limit
from omnivec2.data.sources.listing import list_folder, skipped_rows, unsupported
from omnivec2.data.sources.undecodable import decode_each
from omnivec2.data.embedded.mesh_sampling import resample, sample_surface, to_unit_sphere, triangle_areas
from omnivec2.datasets.spec import DatasetSpec

SUFFIXES = (".off", ".ply", ".npy")
SPLIT_FOLDERS = ("train", "val", "test")


def parse_off(data: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """OFF bytes -> (vertices `[V, 3]` float64, triangles `[F, 3]` int64); ValueError naming `name`."""
    lines = [l.split("#")[0].strip() for l in data.decode("ascii", errors="strict").splitlines()]
    lines = [l for l in lines if l]
    if not lines or not lines[0].startswith("OFF"):
        raise ValueError(f"{name}: not an OFF file (no 'OFF' header)")
    head = lines[0][3:].split() or (lines[1].split() if len(lines) > 1 else [])
    body = lines[1:] if lines[0][3:].split() else lines[2:]
    try:
        nv, nf = int(head[0]), int(head[1])
        _check_points(name, nv, f"header declares {nv} vertices")
        if len(body) < nv + nf:
            raise ValueError(f"{len(body)} data lines, header promises {nv} vertices and {nf} faces (truncated?)")
        vertices = _vertices([l.split() for l in body[:nv]])
        triangles = _fan_faces([l.split() for l in body[nv : nv + nf]], nv)
    except SourceLimitError:
        raise
    except (ValueError, IndexError) as error:
        raise ValueError(f"{name}: {error}") from None
    return vertices, triangles


def parse_ply(data: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """PLY bytes, ASCII or binary (either byte order) -> (vertices `[V, 3]`, triangles `[F, 3]`, possibly
    empty). The header's vertex count is checked against `max_points` before the body is read."""
    if not data.startswith(b"ply"):
        raise ValueError(f"{name}: not a PLY file (no 'ply' magic)")
    end = data.find(b"end_header")
    if end < 0:
        raise ValueError(f"{name}: PLY header without 'end_header'")
    header = data[:end].decode("ascii", errors="strict")
    elements, fmt = [], None
    for line in header.splitlines():
        words = line.split()
        if words[:1] == ["format"]:
            fmt = words[1] if len(words) > 1 else None
        elif words[:1] == ["element"] and len(words) == 3:
            elements.append([words[1], int(words[2]), []])
        elif words[:1] == ["property"] and elements:
            elements[-1][2].append(words[-1])
    for element, count, _ in elements:
        if element == "vertex":
            _check_points(name, count, f"header declares {count} vertices")
    if fmt in ("binary_little_endian", "binary_big_endian"):
        return _parse_binary_ply(data, name)
    if fmt != "ascii":
        raise ValueError(f"{name}: PLY format {fmt!r} is not one of ascii, binary_little_endian, binary_big_endian")
    body = data[end + len(b"end_header"):].decode("ascii", errors="strict")
    rows = [l.split() for l in body.splitlines() if l.strip()]
    vertices, triangles, at = None, np.zeros((0, 3), np.int64), 0
    try:
        for element, count, properties in elements:
            chunk = rows[at : at + count]
            if len(chunk) < count:
                raise ValueError(f"{len(chunk)} {element} lines, header promises {count} (truncated?)")
            at += count
            if element == "vertex":
                columns = tuple(properties.index(axis) for axis in ("x", "y", "z"))
                vertices = _vertices(chunk, columns)
            elif element == "face":
                triangles = _fan_faces(chunk, len(vertices) if vertices is not None else 0)
    except (ValueError, IndexError) as error:
        raise ValueError(f"{name}: {error}") from None
    if vertices is None:
        raise ValueError(f"{name}: PLY without an 'element vertex'")
    return vertices, triangles


def _parse_binary_ply(data: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Binary PLY (what Open3D, PCL and most scanners write) through `plyfile`; faces from the list
    property `vertex_indices` (or `vertex_index`) fanned into triangles."""
    from plyfile import PlyData

    try:
        ply = PlyData.read(io.BytesIO(data))
    except Exception as error:  # plyfile's parse errors, a truncated body (struct, numpy)
        raise ValueError(f"{name}: not a readable binary PLY ({type(error).__name__}: {error})") from None
    names = [element.name for element in ply.elements]
    if "vertex" not in names:
        raise ValueError(f"{name}: PLY without an 'element vertex'")
    vertex = ply["vertex"].data
    missing = [axis for axis in ("x", "y", "z") if axis not in (vertex.dtype.names or ())]
    if missing:
        raise ValueError(f"{name}: the PLY's vertices lack the properties {missing}")
    vertices = np.stack([vertex[axis].astype(np.float64) for axis in ("x", "y", "z")], axis=1)
    triangles = np.zeros((0, 3), np.int64)
    if "face" in names:
        faces = ply["face"].data
        key = next((k for k in ("vertex_indices", "vertex_index") if k in (faces.dtype.names or ())), None)
        if key is not None:
            triangles = _binary_triangles(faces[key], len(vertices), name)
    return vertices, triangles


def _binary_triangles(polygons, nv: int, name: str) -> np.ndarray:
    """A PLY face list property (an object array of index arrays) -> triangles `[F, 3]`: stacked at
    once when every face is a triangle (a scan's millions of faces), else fanned face by face."""
    if len(polygons) and all(len(p) == 3 for p in polygons):
        triangles = np.stack(polygons).astype(np.int64)
        bad = np.flatnonzero(((triangles < 0) | (triangles >= nv)).any(axis=1))
        if bad.size == 0:
            return triangles
    rows = [[str(len(polygon)), *map(str, polygon)] for polygon in polygons]
    try:
        return _fan_faces(rows, nv)  # names the first bad face
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


def _check_points(name: str, count: int, what: str) -> None:
    """SourceLimitError naming the dataset and file past the source's `max_points` (a limit stops the
    reading: see `undecodable`)."""
    if count > limit("max_points"):
        raise SourceLimitError(f"dataset {current_dataset() or '?'!r}: {name}: {what}, over the "
                               f"source's max_points ({limit('max_points')}); raise it if the cloud is genuine")


def _fan_faces(rows: list[list[str]], nv: int) -> np.ndarray:
    """Face rows `n i j k ...` -> triangles `[F, 3]`; ValueError naming the face (1-based) and its line."""
    out = []
    for number, row in enumerate(rows, start=1):
        where = f"face {number} ({' '.join(row)!r})"
        try:
            n = int(row[0])
            polygon = [int(i) for i in row[1 : 1 + n]]
        except (ValueError, IndexError):
            raise ValueError(f"{where} is not a vertex count followed by integer indices") from None
        if len(polygon) != n:
            raise ValueError(f"{where} lists fewer than {n} indices")
        outside = [i for i in polygon if i < 0 or i >= nv]
        if outside:
            raise ValueError(f"{where} uses vertex index {outside[0]}, outside the {nv} vertices (0..{nv - 1})")
        out += [(polygon[0], polygon[j], polygon[j + 1]) for j in range(1, n - 1)]
    return np.array(out, dtype=np.int64).reshape(-1, 3)


def _vertices(rows: list[list[str]], columns: tuple[int, int, int] = (0, 1, 2)) -> np.ndarray:
    """Vertex rows -> `[V, 3]` float64; ValueError naming the vertex (1-based) that is not three numbers."""
    out = np.empty((len(rows), 3), dtype=np.float64)
    for number, row in enumerate(rows, start=1):
        try:
            out[number - 1] = [float(row[c]) for c in columns]
        except (ValueError, IndexError):
            raise ValueError(f"vertex {number} ({' '.join(row)!r}) is not three numbers") from None
    return out


def read_point_file(data: bytes, name: str, points: int, rng: np.random.Generator) -> np.ndarray:
    """One file's bytes -> cloud `[points, 3]` float32 in the unit sphere; ValueError naming `name`."""
    if not data:
        raise ValueError(f"{name}: empty file")
    suffix = name[name.rfind("."):].lower()
    if suffix == ".npy":
        try:
            array = np.load(io.BytesIO(data), allow_pickle=False)
        except Exception as error:
            raise ValueError(f"{name}: not a readable .npy array ({error})") from None
        if array.ndim != 2 or array.shape[1] < 3 or array.shape[0] == 0 or array.dtype.kind not in "fiu":
            raise ValueError(f"{name}: expected a numeric array [n, >=3], got {array.dtype} {array.shape}")
        vertices, triangles = array[:, :3].astype(np.float64), np.zeros((0, 3), np.int64)
    else:
        try:
            vertices, triangles = (parse_off if suffix == ".off" else parse_ply)(data, name)
        except UnicodeDecodeError as error:
            raise ValueError(f"{name}: not ASCII text ({error.reason})") from None
    if len(vertices) == 0:
        raise ValueError(f"{name}: no vertices")
    _check_points(name, len(vertices), f"{len(vertices)} points")
    if not np.isfinite(vertices).all():
        raise ValueError(f"{name}: non-finite coordinates")
    if len(triangles) and triangle_areas(vertices, triangles).sum() > 0:
        cloud = sample_surface(vertices, triangles, points, rng)
    else:
        cloud = resample(vertices, points)
    return np.clip(to_unit_sphere(cloud), -1.0, 1.0).astype(np.float32)


def load_point_folder(spec: DatasetSpec, source: dict, seed: int) -> pd.DataFrame:
    """Payload float32 `[points, 3]`; class = first folder level, split = optional second level."""
    if "path" not in source:
        raise SourceError(f"dataset {spec.name!r}: a point_folder source needs 'path'")
    path = str(source["path"]).rstrip("/")
    points = int(source.get("points", spec.payload.shape[0] or 1024))
    listing = list_folder(spec, path, source, SUFFIXES)  # each file checked to stay inside the folder
    relative = [r for r in listing.files if "/" in r]
    skipped = [(r, "train", f"{listing.path(r)}: not in a class folder (<class>/<file>), not read")
               for r in listing.files if "/" not in r] + [(r, "train", why) for r, why in unsupported(listing, SUFFIXES)]
    if not relative:
        raise SourceError(f"dataset {spec.name!r}: no {'/'.join(SUFFIXES)} files in class folders under {path!r}")
    seeded = (lambda rel: np.random.default_rng([seed, zlib.crc32(rel.encode())]))
    decoded = decode_each(spec, relative, lambda rel: read_bytes(spec, listing.path(rel), source, inside=listing.url),
                          lambda rel, data: read_point_file(data, listing.path(rel), points, seeded(rel)),
                          "point files")
    skipped += [(relative[i][: relative[i].rfind(".")], _given_split(relative[i]) or "train", why)
                for i, why in decoded.problems.items()]
    # classes from every class folder (a class whose files all fail keeps its index), targets of the kept files
    targets = class_indices(spec, [rel.split("/")[0] for rel in relative], source.get("classes"), path)[decoded.kept]
    relative, clouds = [relative[i] for i in decoded.kept], decoded.values
    ids = [rel[: rel.rfind(".")] for rel in relative]
    given_splits = [_given_split(rel) for rel in relative]
    if all(s is not None for s in given_splits):
        splits = np.array(given_splits, dtype=object)
        if "val" not in set(splits):  # ModelNet has train/test only: a stratified val from train
            train = np.flatnonzero(splits == "train")
            inner = stratified_splits(targets[train], seed, val=0.0, test=source.get("val_fraction", 0.1))
            splits[train[inner == "test"]] = "val"
    else:
        splits = stratified_splits(targets, seed)
    table = build_sample_table(ids, list(splits), clouds, {target_name(spec): targets})
    return skipped_rows(spec, table, skipped)


def _given_split(relative: str) -> str | None:
    """The split folder of `<class>/<split>/<name>`, None without one."""
    parts = relative.split("/")
    return parts[1] if len(parts) > 2 and parts[1] in SPLIT_FOLDERS else None
