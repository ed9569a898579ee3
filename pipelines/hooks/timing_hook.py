"""`TimingHook`: wall time per node and for the whole run, printed as a table at the end and logged
to the run's MLflow parent run as `timing.<node>_s` (the breakdown of where a `kedro run` spends time)."""

from __future__ import annotations

from typing import Any

from kedro.framework.hooks import hook_impl


class TimingHook:
    def __init__(self) -> None:
        self._started: dict[str, float] = {}
        self._seconds: dict[str, float] = {}
        self._run_started = 0.0

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        import time

        self._run_started = time.perf_counter()
        self._started, self._seconds = {}, {}

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        import time

        self._started[node.name] = time.perf_counter()

    @hook_impl
    def after_node_run(self, node: Any) -> None:
        import time

        self._seconds[node.name] = time.perf_counter() - self._started.pop(node.name, time.perf_counter())

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], run_result: Any, pipeline: Any, catalog: Any) -> None:
        import time

        total = time.perf_counter() - self._run_started
        nodes = sum(self._seconds.values())
        lines = [f"{name:<28} {seconds:8.2f} s" for name, seconds in self._seconds.items()]
        lines.append(f"{'(between nodes: hooks, I/O)':<28} {total - nodes:8.2f} s")
        lines.append(f"{'total':<28} {total:8.2f} s")
        # Printed, not logged: the rich log handler wraps a table into an unreadable column.
        print("node wall times:\n" + "\n".join(lines), flush=True)
        from omnivec2.tracking import log_metrics_flat

        log_metrics_flat({**{f"{k}_s": v for k, v in self._seconds.items()}, "pipeline_s": total}, prefix="timing")
