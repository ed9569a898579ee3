"""Run tags (code and data versions) and MLflow-safe, secret-free parameter dictionaries."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from omnivec2.durable_files import sha256_file

MAX_PARAM_VALUE_LENGTH = 6000  # mlflow.utils.validation.MAX_PARAM_VAL_LENGTH
MAX_KEY_LENGTH = 250  # mlflow.utils.validation.MAX_ENTITY_KEY_LENGTH

# A key (any segment of the dotted path) containing one of these is dropped with its subtree.
SECRET_SUBSTRINGS = (
    "secret",
    "password",
    "passwd",
    "credential",
    "key_id",
    "access_key",
    "api_key",
    "apikey",
    "private_key",
)
# "token" is matched as a whole word (api_token, hf_token, sessionToken), not as a prefix:
# this project's parameters are full of tokenizer / tokenization / num_tokens keys.
SECRET_WORDS = ("token",)
# Whole keys that hold credentials in fsspec/s3fs storage_options (`key`, `secret`, `token`).
SECRET_KEYS = ("key",)

_INVALID_KEY_CHARS = re.compile(r"[^/\w.\- :]")


def is_secret_key(key: str) -> bool:
    """True when a parameter key looks like it holds a credential."""
    lowered = str(key).lower()
    if any(s in lowered for s in SECRET_SUBSTRINGS) or lowered in SECRET_KEYS:
        return True
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(key)).lower()
    return any(w in re.split(r"[^a-z0-9]+", words) for w in SECRET_WORDS)


def _as_mapping(value: Any) -> Mapping | None:
    if isinstance(value, Mapping):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    dump = getattr(value, "model_dump", None)  # pydantic v2 (typed Kedro params)
    if callable(dump) and not isinstance(value, type):
        try:
            result = dump()
        except Exception:
            return None
        return result if isinstance(result, Mapping) else None
    return None


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        try:
            return json.dumps(value, default=str)
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def flatten_params(d: Mapping[str, Any] | None, prefix: str = "") -> dict[str, str]:
    """Flatten nested parameters into ``{"a.b.c": "value"}`` for ``mlflow.log_params``.

    Values are stringified (lists as JSON) and truncated to MLflow's 6000-character limit; keys are
    made valid MLflow names. Any key whose segment looks like a secret (see ``is_secret_key``) is
    dropped together with everything below it.
    """
    out: dict[str, str] = {}
    if d is None:
        return out
    mapping = _as_mapping(d)
    if mapping is None:
        raise TypeError(f"flatten_params expects a mapping, got {type(d).__name__}")
    for raw_key, value in mapping.items():
        key = str(raw_key)
        if is_secret_key(key):
            continue
        full = f"{prefix}.{key}" if prefix else key
        nested = _as_mapping(value)
        if nested is not None:
            if nested:
                out.update(flatten_params(nested, full))
            else:
                out[_clean_key(full)] = "{}"
            continue
        out[_clean_key(full)] = _to_text(value)[:MAX_PARAM_VALUE_LENGTH]
    return out


def _clean_key(key: str) -> str:
    return _INVALID_KEY_CHARS.sub("_", key)[:MAX_KEY_LENGTH]


def _git(project_root: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=project_root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout.strip()


def run_tags(project_root: Path, command: str) -> dict[str, str]:
    """Tags that identify what produced a run: git commit and state, dvc.lock hash, kedro command.

    Never raises: outside a git repository (or before the first commit) ``git.commit`` is
    ``"unknown"``, and without a ``dvc.lock`` ``dvc.lock.sha256`` is ``"none"``.
    """
    root = Path(project_root)
    commit = _git(root, "rev-parse", "--verify", "-q", "HEAD") or "unknown"
    if commit == "unknown":
        dirty = "unknown"
    else:
        status = _git(root, "status", "--porcelain")
        dirty = "unknown" if status is None else str(bool(status)).lower()
    lock = root / "dvc.lock"
    try:
        lock_hash = sha256_file(lock) if lock.is_file() else "none"
    except OSError:
        lock_hash = "none"
    tags = {
        "git.commit": commit,
        "git.dirty": dirty,
        "dvc.lock.sha256": lock_hash,
        "kedro.command": command,
    }
    if commit != "unknown":
        tags["mlflow.source.git.commit"] = commit  # shown as "Git Commit" in the MLflow UI
    return tags
