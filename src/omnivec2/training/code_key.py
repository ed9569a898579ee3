"""A digest of the code that decides what a training stage computes, part of a stage's run name.

Why: a stage re-run with the same configuration resumes its Ray Train run (after a crash, that is
the point), and a finished run "resumes" at its last step. Without the code in the run's identity, a
`dvc repro` after a change to the training code (which DVC rightly re-runs) would hand back the
checkpoint the old code made. Measured: a change to how stage 3 ends its training was re-run by DVC
and returned the previous code's stage-3 weights unchanged.

The files are those the DVC training stages depend on (`dvc.yaml`): the model, the training code and
the checkpoint format.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import omnivec2

PACKAGE = Path(omnivec2.__file__).parent
TRAINING_CODE = ("model", "training", "checkpoint.py")


@functools.cache
def training_code_key() -> str:
    """sha256 (first 16 hex digits) over the relative paths and bytes of the package's training code
    (`TRAINING_CODE`'s .py files, sorted)."""
    digest = hashlib.sha256()
    for part in TRAINING_CODE:
        root = PACKAGE / part
        for path in sorted(root.rglob("*.py")) if root.is_dir() else [root]:
            digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
