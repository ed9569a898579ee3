"""Near-duplicate labels: names that differ only by case, surrounding whitespace or Unicode
normalisation (`"Cat"`, `"cat "`, `"ca\u0301t"` / `"cát"`) would otherwise become separate classes.

They are refused with the list of variants, unless the source sets `normalise_labels: true`: then each
group of variants becomes one label (the group's most frequent spelling, NFC-normalised and stripped;
ties go to the first in sorted order) and the merge is noted for the validation report.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

import numpy as np

from omnivec2.datasets.spec import DatasetSpec

SHOWN = 10  # groups of variants named in the message


def label_key(label: str) -> str:
    """The form two labels share when they are near-duplicates."""
    return unicodedata.normalize("NFKC", label).strip().casefold()


def merge_label_variants(spec: DatasetSpec, labels: np.ndarray, where: str) -> np.ndarray:
    """Labels `[B]` -> the same labels, with near-duplicate string names refused (SourceError listing
    every group of variants) or, under the source's `normalise_labels`, merged (a note says which)."""
    from omnivec2.data.sources.common import SourceError
    from omnivec2.data.sources.limits import note, option

    if labels.dtype.kind not in "OUS" or not len(labels):
        return labels
    counts = Counter(str(label) for label in labels)
    groups: dict[str, list[str]] = {}
    for name in sorted(counts):
        groups.setdefault(label_key(name), []).append(name)
    clashing = [names for names in groups.values() if len(names) > 1]
    if not clashing:
        return labels
    if not option("normalise_labels", False):
        listed = "; ".join(str(names) for names in clashing[:SHOWN]) + ("; ..." if len(clashing) > SHOWN else "")
        raise SourceError(f"dataset {spec.name!r}: labels in {where} differ only by case, surrounding whitespace or "
                          f"Unicode normalisation: {listed}; make each group one label, or set normalise_labels: true "
                          "in the dataset's source to merge them")
    canonical = {}
    for names in groups.values():
        best = max(names, key=lambda n: (counts[n], [-ord(c) for c in n]))  # most frequent, then sorted first
        merged = unicodedata.normalize("NFC", best).strip()
        canonical.update({name: merged for name in names})
        if len(names) > 1:
            note(f"labels {names} in {where} merged into {merged!r} (normalise_labels)")
    return np.array([canonical[str(label)] for label in labels], dtype=object)
