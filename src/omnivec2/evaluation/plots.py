"""Figures for the report: training curves of the three stages; learning curves of stage 3's tasks
next to their specialists'."""

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


def multitask_curves(history: pd.DataFrame) -> dict[str, list[list[float]]]:
    """Stage 3's history -> {task: [[visits so far, validation metric], ...]} from its `val/<task>`
    entries (none when the stage did not validate)."""
    curves = {}
    for column in [c for c in history.columns if c.startswith("val/")]:
        task = column[4:]
        points = history[[f"visits/{task}", column]].dropna()
        curves[task] = [[float(v), float(m)] for v, m in points.itertuples(index=False)]
    return curves


def learning_curves(curves: dict[str, dict[str, list]], columns: int = 4):
    """{"multitask": {task: [[visits, metric]]}, "single_task": {task: [[steps, metric]]}} -> one panel
    per task: the validation metric against the steps that trained the task, OmniVec2 in stage 3
    (after pretraining, sharing its steps with other tasks) against its specialist (from scratch)."""
    tasks = sorted(set(curves.get("multitask", {})) | set(curves.get("single_task", {})))
    rows = max(1, -(-len(tasks) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 2.8 * rows), squeeze=False)
    for ax, task in zip(axes.flat, tasks):
        for system, style in (("multitask", "-o"), ("single_task", "--s")):
            points = curves.get(system, {}).get(task)
            if points:
                x, y = zip(*points)
                ax.plot(x, y, style, ms=3, label="OmniVec2" if system == "multitask" else "single-task")
        ax.set_title(task, fontsize=8)
        ax.set_xlabel("visits (steps on this task)", fontsize=7)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(tasks):]:
        ax.axis("off")
    fig.tight_layout()
    return fig
