"""More users' datasets for the tiny run, declared in YAML alone, each in a format of issue 11's item 4
that `user_datasets`' six do not hold, at a shape other than the default suite's:

* `clips`: a video folder + `labels.csv` (Kinetics style) of AVI clips, 20-30 frames of 40x48, read
  as 8 frames of 16x16 (2-frame tubelets of 4x4): a bright square moving left or right.
* `shapes`: a ModelNet-style `<class>/<split>/` tree of `.off`, ASCII `.ply` and `.npy` point sets,
  sampled to 256 points in 16 groups of 8.
* `rooms`: NYUv2-style depth frames, uint16 PNG (mm) and `.npy` (metres), with label maps, at 32x32
  in 8x8 patches; a scene class and a dense task of its own name (`furniture`).
* `molecules`: one SDF file mixing V2000 and V3000 records, at most 8 atoms (16 tokens, 2
  eigenvectors).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

CLIP_CLASSES = ["left", "right"]
SHAPE_CLASSES = ["box", "spike"]
ROOM_CLASSES = ["office", "kitchen"]
ROOM_MASK = ["floor", "furniture"]
MOLECULE_CLASSES = ["insoluble", "soluble"]


def write_clips(root: Path, per_class: int = 12) -> None:
    from tests.omnivec2.modalities.test_video import write_video

    root.mkdir(parents=True)
    rng = np.random.default_rng(5)
    rows = []
    for c, motion in enumerate(CLIP_CLASSES):
        for i in range(per_class):
            count = int(rng.integers(20, 31))
            frames = rng.integers(0, 40, (count, 40, 48)).astype(np.uint8)
            for t in range(count):
                x = 4 + (t if motion == "right" else 30 - t)
                frames[t, 14:26, x:x + 12] = 220
            name = f"{motion}_{i:02d}.avi"
            write_video(root / name, frames, "MJPG")
            rows.append({"path": name, "motion": motion})
    pd.DataFrame(rows).to_csv(root / "labels.csv", index=False)


def _box(rng: np.random.Generator) -> np.ndarray:
    """Points on the faces of a unit cube `[300, 3]`."""
    points = rng.uniform(-1, 1, (300, 3))
    face = rng.integers(0, 3, 300)
    points[np.arange(300), face] = np.sign(rng.uniform(-1, 1, 300))
    return points


def write_shapes(root: Path, per_split: tuple[tuple[str, int], ...] = (("train", 9), ("test", 3))) -> None:
    """Boxes (.off meshes, .npy samples) and spikes (thin tetrahedra: .ply meshes, .npy samples)."""
    rng = np.random.default_rng(6)
    for cls in SHAPE_CLASSES:
        for split, count in per_split:
            folder = root / cls / split
            folder.mkdir(parents=True)
            for i in range(count):
                stretch = 1 + 0.2 * rng.random()
                if i % 2:
                    np.save(folder / f"{cls}_{i}.npy", (_box(rng) if cls == "box" else _spike_points(rng)) * stretch)
                elif cls == "box":
                    corners = [(x * stretch, y, z) for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]
                    faces = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
                    (folder / f"{cls}_{i}.off").write_text(
                        f"OFF\n8 6 0\n" + "".join(f"{x} {y} {z}\n" for x, y, z in corners)
                        + "".join(f"4 {' '.join(map(str, f))}\n" for f in faces))
                else:
                    tip = 4 * stretch
                    vertices = [(0, 0, tip), (0.3, 0, 0), (-0.15, 0.26, 0), (-0.15, -0.26, 0)]
                    faces = [(0, 1, 2), (0, 2, 3), (0, 3, 1), (1, 3, 2)]
                    (folder / f"{cls}_{i}.ply").write_text(
                        "ply\nformat ascii 1.0\nelement vertex 4\nproperty float x\nproperty float y\n"
                        "property float z\nelement face 4\nproperty list uchar int vertex_indices\nend_header\n"
                        + "".join(f"{x} {y} {z}\n" for x, y, z in vertices)
                        + "".join(f"3 {a} {b} {c}\n" for a, b, c in faces))


def _spike_points(rng: np.random.Generator) -> np.ndarray:
    height = rng.uniform(0, 4, 300)
    radius = 0.3 * (1 - height / 4) * rng.uniform(0, 1, 300)
    angle = rng.uniform(0, 2 * np.pi, 300)
    return np.stack([radius * np.cos(angle), radius * np.sin(angle), height], axis=1)


def write_rooms(root: Path, count: int = 30) -> None:
    """Offices have a low wide desk, kitchens a tall narrow cupboard; even frames PNG (mm), odd .npy (m)."""
    from PIL import Image

    rng = np.random.default_rng(7)
    (root / "depth").mkdir(parents=True)
    (root / "labels").mkdir()
    rows = []
    for i in range(count):
        kind = ROOM_CLASSES[i % 2]
        depth = rng.uniform(3.0, 6.0, (48, 64))
        labels = np.zeros((48, 64), np.uint16)
        top, bottom, left, right = (28, 44, 8, 56) if kind == "office" else (6, 44, 24, 40)
        depth[top:bottom, left:right] = rng.uniform(1.0, 1.5)
        labels[top:bottom, left:right] = 5 + i  # NYUv2 label ids: any positive id is an object
        name = f"room{i:03d}"
        if i % 2 == 0:
            Image.fromarray((depth * 1000).astype(np.uint16)).save(root / "depth" / f"{name}.png")
            Image.fromarray(labels.astype(np.uint8)).save(root / "labels" / f"{name}.png")
        else:
            np.save(root / "depth" / f"{name}.npy", depth)
            np.save(root / "labels" / f"{name}.npy", labels)
        rows.append({"name": name, "category": kind})
    pd.DataFrame(rows).to_csv(root / "index.csv", index=False)


def write_molecules(path: Path, count: int = 40) -> None:
    """Alcohols (an O) are soluble, nitriles and alkanes not; every third record is V3000."""
    from tests.omnivec2.modalities.test_graph import molblock, molblock_v3000

    rng = np.random.default_rng(8)
    records = []
    for i in range(count):
        carbons = int(rng.integers(2, 6))
        soluble = i % 2 == 0
        atoms = ["C"] * carbons + (["O"] if soluble else ["N"] if i % 4 == 1 else ["C"])
        bonds = [(k, k + 1, 3 if (k == carbons and atoms[-1] == "N") else 1) for k in range(1, len(atoms))]
        write = molblock_v3000 if i % 3 == 0 else molblock
        records.append(write(f"m{i}", atoms, bonds, {"ID": f"m{i:02d}", "class": MOLECULE_CLASSES[soluble]}))
    path.write_text("".join(records))


def declare(data: Path) -> dict:
    """Write the files under `data` and return their `datasets:` entries."""
    write_clips(data / "clips")
    write_shapes(data / "shapes")
    write_rooms(data / "rooms")
    write_molecules(data / "molecules.sdf")
    return {
        "clips": {"modality": "video", "shape": {"frames": 8, "size": 16, "tubelet": 2, "patch": 4},
                  "source": {"kind": "video_folder", "path": str(data / "clips")},
                  "tasks": {"motion": {"kind": "classification", "classes": CLIP_CLASSES}}},
        "shapes": {"modality": "point_cloud", "shape": {"points": 256, "groups": 16, "group_size": 8},
                   "source": {"kind": "point_folder", "path": str(data / "shapes")},
                   "tasks": {"form": {"kind": "classification", "classes": SHAPE_CLASSES}}},
        "rooms": {"modality": "depth", "shape": {"size": 32, "patch": 8},
                  "source": {"kind": "depth_folder", "path": str(data / "rooms"), "max_depth": 8.0},
                  "tasks": {"scene": {"kind": "classification", "classes": ROOM_CLASSES},
                            "furniture": {"kind": "dense", "classes": ROOM_MASK}}},
        "molecules": {"modality": "graph", "shape": {"max_nodes": 8, "max_tokens": 16, "eigenvectors": 2},
                      "source": {"kind": "sdf", "path": str(data / "molecules.sdf"), "label_property": "class",
                                 "id_property": "ID"},
                      "tasks": {"solubility": {"kind": "classification", "classes": MOLECULE_CLASSES}}},
    }
