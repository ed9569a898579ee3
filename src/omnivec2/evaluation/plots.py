"""Figures for the report: training curves of the three stages."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def training_curves(histories: dict[str, pd.DataFrame]):
    """One panel per stage: total loss and per-item losses (window means) against the step."""
    stages = [s for s, h in histories.items() if h is not None and len(h)]
    fig, axes = plt.subplots(1, max(1, len(stages)), figsize=(7 * max(1, len(stages)), 4.5), squeeze=False)
    for ax, stage in zip(axes[0], stages):
        history = histories[stage]
        for column in [c for c in history.columns if c == "loss" or c.startswith("loss/")]:
            points = history[["step", column]].dropna()
            ax.plot(points["step"], points[column], label=column, lw=2 if column == "loss" else 1)
        ax.set_title(stage)
        ax.set_xlabel("step")
        ax.set_yscale("log")
        # With a dozen modalities or tasks the legend would cover the curves: put it under the axes.
        ax.legend(fontsize=6, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    fig.tight_layout()
    return fig
