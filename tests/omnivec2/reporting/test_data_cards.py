"""Data cards show classes by name: the class balance of the validation report (keyed by index) and
the sample previews, with the names the token cache was built with (inferred ones included)."""

from __future__ import annotations

import matplotlib.pyplot as plt

from omnivec2.data.sources import load_source
from omnivec2.datasets import resolve_dataset
from omnivec2.reporting.data_cards import card_markdown, data_card, with_manifest_classes
from omnivec2.reporting.previews import sample_preview
from tests.omnivec2.evaluation.helpers import CLASSES, ENTRY, named_class_run

VALIDATION = {"row_counts": {"total": 60, "valid": 60, "quarantined": 0},
              "class_balance": {"train": {"cultivar": {"0": 10, "1": 10, "2": 10}}, "test": {"cultivar": {"0": 7}}}}


def test_class_balance_and_tasks_are_shown_by_class_name(tmp_path):
    manifest, cache_root, _ = named_class_run(tmp_path)
    spec = with_manifest_classes(resolve_dataset("wine", ENTRY), manifest)  # the entry infers its classes
    card = data_card(spec, VALIDATION, manifest, cache_root)
    assert card["class_balance"] == {"train": {"cultivar": dict.fromkeys(CLASSES, 10)}, "test": {"cultivar": {"barbera": 7}}}
    assert card["tasks"] == [{"name": "cultivar", "kind": "classification", "classes": 3, "names": CLASSES}]
    assert "| train | cultivar | barbera: 10, barolo: 10, grignolino: 10 |" in card_markdown(card, None)


def test_sample_previews_are_titled_with_the_class_name():
    spec = resolve_dataset("wine", {"modality": "tabular", "source": {"kind": "sklearn_wine"},
                                    "tasks": {"cultivar": {"classes": ["barolo", "grignolino", "barbera"]}}})
    figure = sample_preview(spec, load_source(spec, spec.source, seed=0), "cultivar")
    titles = {ax.get_title().split("\n")[1] for ax in figure.axes}
    assert titles == {"cultivar=barolo", "cultivar=grignolino", "cultivar=barbera"}
    plt.close(figure)
