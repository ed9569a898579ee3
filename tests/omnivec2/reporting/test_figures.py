"""Report figures name the classes: confusion matrix axes carry the class names the model knows."""

from __future__ import annotations

import matplotlib.pyplot as plt

from omnivec2.checkpoint import load_model
from omnivec2.reporting.figures import confusion_matrices
from tests.omnivec2.evaluation.helpers import CLASSES, named_class_run


def test_confusion_matrix_ticks_are_the_class_names(tmp_path):
    _, cache_root, checkpoint = named_class_run(tmp_path)
    model = load_model(checkpoint)
    task = model.config.modality("wine").task("cultivar")
    figure = confusion_matrices(model, cache_root, [("wine", "cultivar", task.num_classes, task.classes),
                                                    ("wine", "cultivar", task.num_classes, ())])
    named, unnamed = figure.axes[:2]
    assert [t.get_text() for t in named.get_xticklabels()] == CLASSES
    assert [t.get_text() for t in named.get_yticklabels()] == CLASSES
    assert not set(CLASSES) & {t.get_text() for t in unnamed.get_xticklabels()}  # no names: indices
    plt.close(figure)
