"""The token cache on shared storage (``s3://bucket/prefix``): upload it once, read it through a local mirror.

Ray workers on other machines cannot read the driver's token cache; with
``ray.token_cache_uri`` set, the training stage uploads each modality's cache directory there
(`upload_token_cache`, manifest last, skipped when the remote manifest is already identical) and hands
the workers the URI. `read_token_split` given a URI calls `mirror_modality`, which downloads
``<uri>/<modality>/`` (manifest + shards) into a local directory keyed by the URI and the manifest's
sha256 and reads that: the shard checksums are then verified exactly as for a local cache.

Endpoint, region and credentials come from the environment (``omnivec2.orchestration.storage``), or
from ``storage_options`` passed explicitly.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from omnivec2.tokens.shards import MANIFEST, shard_path

MIRROR_ENV = "OMNIVEC2_TOKEN_MIRROR"  # where mirrors go; default <tmp>/omnivec2-token-mirror


def is_remote(root: str | Path) -> bool:
    text = str(root)
    return "://" in text and not text.startswith("file://")


def _fs(uri: str, storage_options: dict | None):
    import fsspec

    return fsspec.core.url_to_fs(uri, **(storage_options or {}))


def mirror_modality(uri: str, modality: str, storage_options: dict | None = None) -> Path:
    """Download ``<uri>/<modality>/`` once per manifest version; return the local root holding it."""
    fs, base = _fs(uri, storage_options)
    remote = f"{base.rstrip('/')}/{modality}"
    manifest_bytes = fs.cat_file(f"{remote}/{MANIFEST}")
    digest = hashlib.sha256(uri.encode() + b"\0" + manifest_bytes).hexdigest()[:20]
    mirrors = Path(os.environ.get(MIRROR_ENV) or Path(tempfile.gettempdir()) / "omnivec2-token-mirror")
    root = mirrors / digest
    if (root / modality / MANIFEST).is_file():  # complete: the manifest is the last file put in place
        return root
    mirrors.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{modality}-", dir=mirrors))
    try:
        manifest = json.loads(manifest_bytes)
        for split in manifest["splits"]:
            target = shard_path(staging / modality, manifest, split)  # refuses names outside the cache
            entry = manifest["splits"][split]
            target.parent.mkdir(parents=True, exist_ok=True)
            fs.get_file(f"{remote}/{entry['file']}", str(target))
        (staging / modality / MANIFEST).write_bytes(manifest_bytes)
        root.mkdir(exist_ok=True)
        try:
            os.rename(staging / modality, root / modality)  # atomic; another worker may have won the race
        except OSError:
            if not (root / modality / MANIFEST).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root


def upload_token_cache(local_root: str | Path, uri: str, modalities: list[str],
                       storage_options: dict | None = None) -> list[str]:
    """Copy ``<local_root>/<modality>/`` to ``<uri>/<modality>/`` for each modality whose remote manifest
    differs; shards first, manifest last. Returns the modalities uploaded."""
    fs, base = _fs(uri, storage_options)
    uploaded = []
    for modality in modalities:
        local = Path(local_root) / modality
        manifest_bytes = (local / MANIFEST).read_bytes()
        remote = f"{base.rstrip('/')}/{modality}"
        try:
            if fs.cat_file(f"{remote}/{MANIFEST}") == manifest_bytes:
                continue
        except FileNotFoundError:
            pass
        for entry in json.loads(manifest_bytes)["splits"].values():
            fs.put_file(str(local / entry["file"]), f"{remote}/{entry['file']}")
        fs.pipe_file(f"{remote}/{MANIFEST}", manifest_bytes)
        uploaded.append(modality)
    fs.invalidate_cache()
    return uploaded
