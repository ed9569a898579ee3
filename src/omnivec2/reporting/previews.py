"""A picture of a few samples per modality, drawn from the validated sample table's payloads.

Each modality names how its payload is best seen (`PREVIEWS`; a spectrogram for audio, a 3-D
scatter for point clouds, a false-colour image for a cube...). A modality without an entry gets
the fallback chosen from its payload's shape, so a user's own modality still has a card picture;
`register_preview` adds a better one.
"""

from __future__ import annotations

from typing import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from omnivec2.data.sample_table import decode_payload  # noqa: E402
from omnivec2.reporting.data_cards import class_name  # noqa: E402

SAMPLES = 4


def _image(ax, payload: np.ndarray) -> None:
    if payload.ndim == 3 and payload.shape[0] == 3:  # [3, H, W] RGB
        ax.imshow(np.clip(payload.transpose(1, 2, 0), 0, 1))
    else:
        ax.imshow(payload, cmap="gray" if payload.max() > payload.min() else None)


def _thermal(ax, payload: np.ndarray) -> None:
    ax.imshow(payload, cmap="inferno")


def _depth(ax, payload: np.ndarray) -> None:
    ax.imshow(np.where(payload > 0, payload, np.nan), cmap="viridis")


def _video(ax, payload: np.ndarray) -> None:
    """[T, H, W] -> four frames side by side."""
    frames = payload[np.linspace(0, len(payload) - 1, 4).astype(int)]
    ax.imshow(np.concatenate(list(frames), axis=1), cmap="gray")


def _spectrogram(ax, payload: np.ndarray) -> None:
    ax.specgram(payload + 1e-9, NFFT=400, Fs=16000, noverlap=240, cmap="magma")  # +1e-9: no log of 0 in silence
    ax.set_xlim(0, len(payload) / 16000)
    ax.set_ylim(0, 8000)


def _series(ax, payload: np.ndarray) -> None:
    """[C, T] -> one line per channel."""
    for channel in np.atleast_2d(payload):
        ax.plot(channel, lw=0.8)


def _bars(ax, payload: np.ndarray) -> None:
    ax.bar(np.arange(payload.size), payload.reshape(-1))


def _points(ax, payload: np.ndarray) -> None:
    """[N, 3] -> x/z projection coloured by y (a 2-D axes keeps the figure one kind)."""
    ax.scatter(payload[:, 0], payload[:, 2], c=payload[:, 1], s=1, cmap="viridis")
    ax.set_aspect("equal")


def _false_colour(ax, payload: np.ndarray) -> None:
    """[H, W, B] cube with its bands spread over 400-700 nm -> the bands nearest 650 / 550 / 450 nm as
    R / G / B (bands 25 / 15 / 5 of the default 31)."""
    last = payload.shape[-1] - 1
    rgb = payload[..., [round((nm - 400) / 300 * last) for nm in (650, 550, 450)]]
    ax.imshow(np.clip(rgb / max(float(rgb.max()), 1e-6), 0, 1))


def _text(ax, payload: np.ndarray) -> None:
    text = bytes(payload.astype(np.uint8)).decode("utf-8", errors="replace")
    ax.text(0.02, 0.5, "\n".join(text[i : i + 38] for i in range(0, min(len(text), 152), 38)), fontsize=6,
            va="center", family="monospace")


def _matrix(ax, payload: np.ndarray) -> None:
    ax.imshow(payload, cmap="coolwarm")


PREVIEWS: dict[str, Callable] = {
    "audio": _spectrogram, "video": _video, "point_cloud": _points, "hyperspectral": _false_colour,
    "infrared": _thermal, "depth": _depth, "text": _text, "graph": _matrix, "tabular": _bars,
}


def register_preview(modality: str, draw: Callable) -> None:
    """`draw(ax, payload)` becomes `modality`'s card picture."""
    PREVIEWS[modality] = draw


def _fallback(payload: np.ndarray) -> Callable:
    if payload.ndim == 1:
        return _bars
    if payload.ndim == 2 and payload.shape[0] <= 16 and payload.shape[1] > 4 * payload.shape[0]:
        return _series
    return _image


def sample_preview(spec, table: pd.DataFrame, target: str | None):
    """A row of `SAMPLES` samples of a dataset (`spec`: its DatasetSpec; the first train rows of
    distinct classes where it can), titled with the class name where the task has names -> Figure."""
    rows = table[table["split"] == "train"]
    if target is not None and target in rows and rows[target].nunique() > 1:
        rows = rows.drop_duplicates(target)
    rows = rows.head(SAMPLES).to_dict("records")
    names = next((task.classes for task in spec.tasks if task.name == target), ())
    fig, axes = plt.subplots(1, len(rows), figsize=(2.4 * len(rows), 2.2), squeeze=False)
    for ax, row in zip(axes[0], rows):
        payload = decode_payload(row)
        PREVIEWS.get(spec.modality, _fallback(payload))(ax, payload)
        label = f"{target}={class_name(names, row[target])}" if target is not None and target in row else ""
        ax.set_title(f"{row['sample_id']}\n{label}", fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
