"""Per-step metrics from inside a Ray Train loop (rank 0 only; the caller decides the rank)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger(__name__)

_MAX_METRICS_PER_BATCH = 1000  # mlflow.utils.validation.MAX_METRICS_PER_BATCH


class WorkerMetricLogger:
    """Buffered ``MlflowClient.log_batch`` writer for a run created by the driver.

    ``tracking`` is the plain dict from ``stage_tracking_context()``:
    ``{"tracking_uri": ..., "run_id": ...}``; ``None`` (or a dict without a run id) makes every
    call a no-op, so train loops can log unconditionally. Metrics are buffered and written every
    ``flush_every`` calls to ``log`` and on ``close()`` (one sqlite transaction per flush).
    A failed write is logged as a warning and never stops training.

    The object pickles without its client, so it may be built on the driver and shipped to workers.

    Resumed stages (`resume`): MLflow appends to a metric's history, so a step logged again would
    appear twice. A resumed stage therefore logs only steps beyond the last step the run already
    holds: the steps the checkpoint's history has and the run lacks (a new run of a resumed stage
    gets the whole curve), then the new ones; steps redone after a restart within the same run
    (FailureConfig) are skipped, their first values kept.
    """

    def __init__(self, tracking: Mapping[str, Any] | None, flush_every: int = 20):
        tracking = dict(tracking or {})
        self.tracking_uri: str | None = tracking.get("tracking_uri")
        self.run_id: str | None = tracking.get("run_id")
        self.flush_every = max(1, int(flush_every))
        self._buffer: list[tuple[str, float, int, int]] = []
        self._calls = 0
        self._client = None
        self._closed = False
        self._floor: int | None = None  # steps <= this are already in the run (set by `resume`)

    @property
    def enabled(self) -> bool:
        return bool(self.run_id) and not self._closed

    def last_logged_step(self, key: str = "loss") -> int | None:
        """The highest step at which the run holds `key`, or None (no such metric, or no run)."""
        if not self.run_id:
            return None
        try:
            history = self._get_client().get_metric_history(self.run_id, key)
        except Exception as exc:
            logger.warning("could not read metric %s of MLflow run %s: %s", key, self.run_id, exc)
            return None
        return max((m.step for m in history), default=None)

    def resume(self, history: list[Mapping[str, Any]]) -> int:
        """Before a resumed stage's first step: log the checkpoint's `history` rows (each {"step", metric:
        value}) the run lacks, and skip every later `log` at a step the run already holds. Returns the
        number of rows logged."""
        if not self.enabled:
            return 0
        last = self.last_logged_step()
        self._floor = last
        rows = [row for row in history if last is None or int(row["step"]) > last]
        for row in rows:
            self._queue({k: v for k, v in row.items() if k != "step"}, int(row["step"]))
        self.flush()
        if rows:
            self._floor = max(int(row["step"]) for row in rows)
        return len(rows)

    def log(self, metrics: Mapping[str, Any], step: int) -> None:
        """Queue ``metrics`` (name -> number, tensors accepted) at ``step`` (skipped when a resumed run
        already holds that step)."""
        if not self.enabled or (self._floor is not None and step <= self._floor):
            return
        self._queue(metrics, step)

    def _queue(self, metrics: Mapping[str, Any], step: int) -> None:
        timestamp = int(time.time() * 1000)
        for key, value in metrics.items():
            try:
                number = float(value.item() if hasattr(value, "item") else value)
            except (TypeError, ValueError):
                continue
            if math.isnan(number) or math.isinf(number):
                logger.debug("metric %s at step %s is not finite: %s", key, step, number)
            self._buffer.append((str(key), number, timestamp, int(step)))
        self._calls += 1
        if self._calls % self.flush_every == 0:
            self.flush()

    def flush(self) -> None:
        """Write the buffered metrics now."""
        if not self._buffer or not self.run_id:
            self._buffer.clear()
            return
        pending, self._buffer = self._buffer, []
        try:
            from mlflow.entities import Metric

            client = self._get_client()
            metrics = [Metric(key=k, value=v, timestamp=t, step=s) for k, v, t, s in pending]
            for start in range(0, len(metrics), _MAX_METRICS_PER_BATCH):
                client.log_batch(self.run_id, metrics=metrics[start : start + _MAX_METRICS_PER_BATCH])
        except Exception as exc:  # metrics are not worth a failed training run
            logger.warning("could not log %d metrics to MLflow run %s: %s", len(pending), self.run_id, exc)

    def close(self) -> None:
        """Flush and stop logging; further ``log`` calls are ignored."""
        if self._closed:
            return
        self.flush()
        self._closed = True
        self._client = None

    def _get_client(self):
        if self._client is None:
            from mlflow.tracking import MlflowClient

            self._client = MlflowClient(self.tracking_uri)
        return self._client

    def __enter__(self) -> WorkerMetricLogger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_client"] = None
        return state
