"""The ablation grid's progress file: one JSON line per finished run, reused when the grid is rerun.

A grid is dozens of runs; an interrupted `kedro run --pipeline ablations` picks up where it stopped.
A line is reused only when its ``grid`` fingerprint matches the current grid (model config, stage
settings, steps, modalities, the token caches' source data, tokenizer config and shard bytes, the
training and grid code, and torch's thread count), so a changed config, cache or recipe reruns
everything instead of mixing results from two setups.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import torch

from omnivec2.durable_files import replace_atomically
from omnivec2.model.config import ModelConfig
from omnivec2.training.code_key import training_code_key

GRID_CODE = ("runner.py", "variants.py")  # how a grid run trains and what its variants change


def grid_fingerprint(config: ModelConfig, settings: dict, steps: dict, modalities: list[str],
                     manifests: list[dict], threads: int | None = None) -> str:
    """sha256 over everything a run's scores depend on except its variant and seed: the settings, the
    caches, the code that trains and runs the grid, and the torch threads a run uses (`threads`, by
    default this process's; they change float rounding, as in the screen's fingerprint)."""
    blob = json.dumps({"config": asdict(config), "settings": settings, "steps": steps,
                       "modalities": sorted(modalities), "code": [training_code_key(), grid_code_key()],
                       "threads": threads or torch.get_num_threads(),
                       "caches": cache_identities([m for m in manifests if m["dataset"] in modalities])},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def grid_code_key() -> str:
    """sha256 (first 16 hex digits) over `GRID_CODE`'s bytes: a grid run of older code is not reused."""
    digest = hashlib.sha256()
    for name in GRID_CODE:
        digest.update(name.encode() + b"\0" + (Path(__file__).parent / name).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cache_identities(manifests: list[dict]) -> list[tuple]:
    """What a run's scores depend on in each token cache, sorted: (dataset, source hash, tokenizer
    config hash, each split's shard sha256). The shards' bytes count as well as their recipe: the
    same source and tokenizer give byte-identical shards on one machine but not across CPUs (float
    rounding in the tokenizers), and a run trained on another machine's tokens is no pair for one
    trained here. A new on-disk format changes the bytes too, so it reruns what it touches."""
    return sorted((m["dataset"], m.get("source_hash"), (m.get("tokenizer") or {}).get("config_hash"),
                   shard_digests(m)) for m in manifests)


def shard_digests(manifest: dict) -> tuple:
    """((split, shard sha256), ...) of one cache's manifest, by split name."""
    return tuple(sorted((split, entry.get("sha256")) for split, entry in (manifest.get("splits") or {}).items()))


class GridProgress:
    """Finished runs keyed by (kind, variant, seed), persisted to `path` line by line."""

    def __init__(self, path: Path, grid: str):
        self.path, self.grid = Path(path), grid
        self.done: dict[tuple, dict] = {}
        self.discarded = 0
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    self.discarded += 1  # a line cut short by a crash
                    continue
                if entry.get("grid") == grid:
                    self.done[self._key(entry)] = entry
                else:
                    self.discarded += 1
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Rewrite with only the reusable lines, so the file always describes one grid.
        replace_atomically(self.path, "".join(json.dumps(e) + "\n" for e in self.done.values()).encode())

    @staticmethod
    def _key(entry: dict) -> tuple:
        return entry.get("kind", "variant"), entry.get("variant") or entry.get("modality"), entry["seed"]

    def get(self, kind: str, name: str, seed: int) -> dict | None:
        """The finished run's record without the bookkeeping fields, or None."""
        entry = self.done.get((kind, name, seed))
        return None if entry is None else {k: v for k, v in entry.items() if k not in ("grid", "kind")}

    def get_or_run(self, kind: str, name: str, seed: int, run) -> dict:
        """The finished run's record, or `run()`'s, which is then appended to the file."""
        if (record := self.get(kind, name, seed)) is None:
            record = run()
            self.add(kind, record)
        return record

    def add(self, kind: str, record: dict) -> None:
        entry = {**record, "kind": kind, "grid": self.grid}
        self.done[self._key(entry)] = entry
        with self.path.open("a") as out:
            out.write(json.dumps(entry) + "\n")
            out.flush()
