"""Real 3-D meshes from Debian's `inventor-data` (Open Inventor 2.1 sample models, LGPL-2+).

The package installs 97 `.iv` scene files under `/usr/share/inventor/data/models/<folder>/`.
`ivfix -a -f -n -t -p in.iv out.iv` (Debian `inventor-clients`) flattens each scene to ASCII
with independent faces and no normals, texture coordinates or vertex-property nodes; this
module parses every `Coordinate3` point list and `IndexedFaceSet` coordIndex of that output
into one triangle mesh per model, normalised to the unit sphere (centre of the bounding box at
the origin, farthest vertex at radius 1). A model's category is its folder (`misc` for files
at the top level). `scenes/chesschairs.iv` is the one file ivfix cannot flatten; models with
fewer than `MIN_TRIANGLES` triangles or no area are left out, and so is a model whose geometry
repeats an earlier one (same sorted triangle areas: simple/faceSet and simple/text are
simple/cube, simple/sphere is geography/coasts' globe), which leaves 92 meshes in 15 categories.

`load_meshes()` runs ivfix once per model and keeps the parsed meshes as one `.npz` in the
system temp dir, keyed by the model files' names, sizes and mtimes and the parser version, so
later calls read the cache in a few milliseconds. Model order (and so `Mesh.index`) is the
sorted relative path, hence deterministic.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omnivec2.data.sources.common import SourceError
from omnivec2.durable_files import replace_atomically
from omnivec2.data.embedded.inventor_catalog import CATEGORIES, EXPECTED_MESHES  # noqa: F401  (re-exported)

DEFAULT_ROOT = "/usr/share/inventor/data/models"
APT_HINT = "apt-get install -y inventor-data inventor-clients"
PARSER_VERSION = 3
MIN_TRIANGLES = 8
TOP_LEVEL_CATEGORY = "misc"

# Node openings (`DEF name Type {`), closings, `USE name`, and the two array fields we need.
_TOKEN = re.compile(
    r"(?:DEF\s+(?P<def>\S+)\s+)?(?P<node>[A-Za-z][A-Za-z0-9_]*)\s*\{"
    r"|(?P<close>\})"
    r"|USE\s+(?P<use>\S+)"
    r"|\b(?P<field>point|coordIndex)\s*\[(?P<values>[^\]]*)\]"
    r'|"(?:[^"\\]|\\.)*"'  # strings may hold braces: skip them
)
_SCOPING = {"Separator", "TransformSeparator", "Switch", "Array", "MultipleCopy", "WWWAnchor", "LevelOfDetail", "LOD"}


@dataclass(frozen=True)
class Mesh:
    """One model: vertices `[V, 3]` float64 (unit sphere, all used), triangles `[F, 3]` int64 into them."""

    name: str  # relative path without suffix, e.g. "chess/king"
    category: str
    vertices: np.ndarray
    triangles: np.ndarray

    def areas(self) -> np.ndarray:
        """Triangle areas `[F]`."""
        a, b, c = (self.vertices[self.triangles[:, i]] for i in range(3))
        return 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)


def parse_inventor_ascii(text: str, name: str = "<text>") -> tuple[np.ndarray, np.ndarray]:
    """ASCII Open Inventor (as written by ivfix) -> (vertices `[V, 3]` float64, triangles `[F, 3]` int64).

    Each IndexedFaceSet indexes the Coordinate3 in effect where it stands (Separators scope it,
    `DEF`/`USE` reuse it); polygons are fanned into triangles. Raises ValueError naming `name`
    for unparsable numbers or indices outside the coordinates.
    """
    stack: list[tuple[str, str | None, object]] = []  # (node type, DEF name, saved coordinates)
    defined: dict[str, np.ndarray] = {}
    current: np.ndarray | None = None
    all_vertices: list[np.ndarray] = []
    all_triangles: list[np.ndarray] = []
    offset = 0
    registered: dict[int, int] = {}  # id(coordinate array) -> its offset in all_vertices
    for match in _TOKEN.finditer(text):
        if match.group("node"):
            stack.append((match.group("node"), match.group("def"), current))
        elif match.group("close"):
            if not stack:
                raise ValueError(f"{name}: unbalanced '}}' at character {match.start()}")
            node, def_name, saved = stack.pop()
            if node in _SCOPING:
                current = saved
            elif node == "Coordinate3" and def_name:
                defined[def_name] = current
        elif match.group("use"):
            if match.group("use") in defined:
                current = defined[match.group("use")]
        elif match.group("field"):
            node = stack[-1][0] if stack else ""
            values = _numbers(match.group("values"), name)
            if match.group("field") == "point" and node == "Coordinate3":
                if values.size % 3:
                    raise ValueError(f"{name}: Coordinate3 point list of {values.size} numbers is not a multiple of 3")
                current = values.reshape(-1, 3)
            elif match.group("field") == "coordIndex" and node == "IndexedFaceSet":
                if current is None:
                    raise ValueError(f"{name}: IndexedFaceSet before any Coordinate3")
                triangles = _fan(values.astype(np.int64))
                if triangles.size and (triangles.min() < 0 or triangles.max() >= len(current)):
                    raise ValueError(f"{name}: coordIndex outside the {len(current)} coordinates")
                if id(current) not in registered:
                    registered[id(current)] = offset
                    all_vertices.append(current)
                    offset += len(current)
                all_triangles.append(triangles + registered[id(current)])
    if not all_triangles:
        return np.zeros((0, 3)), np.zeros((0, 3), np.int64)
    return np.concatenate(all_vertices), np.concatenate(all_triangles)


def _numbers(text: str, name: str) -> np.ndarray:
    try:
        return np.array(text.replace(",", " ").split(), dtype=np.float64)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


def _fan(indices: np.ndarray) -> np.ndarray:
    """coordIndex with -1 separators `[L]` -> triangles `[F, 3]` (polygon fans; degenerate ones kept)."""
    if indices.size == 0:
        return np.zeros((0, 3), np.int64)
    if indices[-1] != -1:
        indices = np.append(indices, -1)
    ends = np.flatnonzero(indices == -1)
    starts = np.r_[0, ends[:-1] + 1]
    out = []
    for start, end in zip(starts, ends):
        polygon = indices[start:end]
        if len(polygon) >= 3:
            out.append(np.stack([np.full(len(polygon) - 2, polygon[0]), polygon[1:-1], polygon[2:]], axis=1))
    return np.concatenate(out) if out else np.zeros((0, 3), np.int64)


def normalise(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Used vertices centred on their bounding box and scaled so the farthest lies at radius 1."""
    used = vertices[np.unique(triangles)]
    centre = (used.min(axis=0) + used.max(axis=0)) / 2
    radius = np.linalg.norm(used - centre, axis=1).max()
    return (vertices - centre) / max(radius, 1e-12)


def model_files(root: str | Path = DEFAULT_ROOT) -> list[Path]:
    """Every `.iv` file under `root`, sorted by relative path."""
    root = Path(root)
    if not root.is_dir():
        raise SourceError(f"inventor meshes: {root} does not exist; install the models with `{APT_HINT}`")
    return sorted(root.rglob("*.iv"), key=lambda p: p.relative_to(root).as_posix())


def load_meshes(root: str | Path = DEFAULT_ROOT, cache_dir: str | Path | None = None) -> list[Mesh]:
    """All usable meshes under `root`, flattened with ivfix and parsed once, then read from the cache."""
    root = Path(root)
    files = model_files(root)
    key = _cache_key(root, files)
    cache = Path(cache_dir or Path(tempfile.gettempdir()) / "omnivec2-inventor") / f"meshes-{key[:16]}.npz"
    if cache.is_file():
        try:
            return _read_cache(cache)
        except (OSError, ValueError, KeyError):
            pass  # rebuilt below
    meshes = _flatten_and_parse(root, files)
    _write_cache(cache, meshes)
    return meshes


def _cache_key(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256(f"parser={PARSER_VERSION};min={MIN_TRIANGLES}".encode())
    for path in files:
        stat = path.stat()
        digest.update(f"{path.relative_to(root).as_posix()}:{stat.st_size}:{int(stat.st_mtime)}\n".encode())
    return digest.hexdigest()


def _flatten_and_parse(root: Path, files: list[Path]) -> list[Mesh]:
    ivfix = shutil.which("ivfix")
    if ivfix is None:
        raise SourceError(f"inventor meshes: the `ivfix` program is missing; install it with `{APT_HINT}`")
    meshes, seen = [], set()
    with tempfile.TemporaryDirectory(prefix="omnivec2-ivfix-") as work:
        for path in files:
            relative = path.relative_to(root).with_suffix("").as_posix()
            out = Path(work) / "flat.iv"
            done = subprocess.run(
                [ivfix, "-a", "-f", "-n", "-t", "-p", str(path), str(out)],
                cwd=path.parent, capture_output=True, timeout=120,
            )
            if done.returncode != 0 or not out.is_file():
                continue  # scenes/chesschairs.iv: ivfix cannot flatten it
            try:
                vertices, triangles = parse_inventor_ascii(out.read_text(errors="replace"), relative)
            except ValueError:
                continue
            if len(triangles) < MIN_TRIANGLES:
                continue
            used, triangles = np.unique(triangles, return_inverse=True)
            vertices, triangles = normalise(vertices[used], triangles.reshape(-1, 3)), triangles.reshape(-1, 3)
            mesh = Mesh(relative, _category(relative), vertices, triangles)
            if mesh.areas().sum() <= 1e-6:
                continue
            signature = _signature(mesh)
            if signature in seen:
                continue  # the same geometry under another name: instance labels could not tell them apart
            seen.add(signature)
            meshes.append(mesh)
    if not meshes:
        raise SourceError(f"inventor meshes: no usable mesh under {root}")
    return meshes


def _signature(mesh: Mesh) -> tuple:
    """Rotation- and scale-invariant fingerprint: triangle count and sorted relative areas."""
    areas = mesh.areas()
    return (len(areas), np.round(np.sort(areas / areas.sum()), 5).tobytes())


def _category(relative: str) -> str:
    return relative.split("/")[0] if "/" in relative else TOP_LEVEL_CATEGORY


def _write_cache(path: Path, meshes: list[Mesh]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {
        "names": np.array([m.name for m in meshes]),
        "categories": np.array([m.category for m in meshes]),
        "vertex_counts": np.array([len(m.vertices) for m in meshes]),
        "triangle_counts": np.array([len(m.triangles) for m in meshes]),
        "vertices": np.concatenate([m.vertices for m in meshes]),
        "triangles": np.concatenate([m.triangles for m in meshes]),
    }
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    replace_atomically(path, buffer.getvalue())  # readers see the old file or the whole new one


def _read_cache(path: Path) -> list[Mesh]:
    with np.load(path, allow_pickle=False) as data:
        v_ends = np.cumsum(data["vertex_counts"])
        f_ends = np.cumsum(data["triangle_counts"])
        vertices = np.split(data["vertices"], v_ends[:-1])
        triangles = np.split(data["triangles"], f_ends[:-1])
        return [
            Mesh(str(n), str(c), v, t)
            for n, c, v, t in zip(data["names"], data["categories"], vertices, triangles)
        ]


def categories(meshes: list[Mesh]) -> list[str]:
    """Sorted distinct categories: class index = position in this list."""
    return sorted({m.category for m in meshes})
