"""Independent scikit-learn fits, run side by side on the cores this process was given.

The end-of-stage refits (`training.head_refit`, `training.readout_select`) and the evaluation's
classical baselines and linear probes are many small L-BFGS fits, each held to one BLAS thread
(beside torch's thread pool a multithreaded fit was measured up to 20x slower on a 2-core machine;
`evaluation.baselines`). Run one after another, they left every core but one idle. Each fit is
deterministic and reads only its own inputs, so running them on a thread pool gives the same bits
as running them in turn; numpy's BLAS calls and sklearn's loss loops release the GIL, so the
threads do run at once.

How many at once: torch's intra-op thread count, which is the cores the process was given (a Ray
worker gets its `cpus_per_worker`; the screen and the ablation grid run one-thread workers, which
therefore fit one at a time, as before).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def fit_workers() -> int:
    """How many fits `run_fits` runs at once by default: torch's intra-op thread count (>= 1)."""
    import torch

    return max(1, torch.get_num_threads())


def run_fits(fits: Sequence[Callable[[], T]], workers: int | None = None,
             costs: Sequence[float] | None = None) -> list[T]:
    """Call each of `fits` (no arguments) with BLAS and OpenMP held to one thread -> their results, in
    order. Up to `workers` (default `fit_workers()`) run at once; the first error is raised once
    the others have finished. `costs` (one per fit, e.g. the size of its inputs) starts the largest
    first, so that no large fit is left running alone at the end."""
    from threadpoolctl import threadpool_limits

    workers = fit_workers() if workers is None else max(1, workers)
    with threadpool_limits(1):  # BLAS limits are process-wide; OpenMP's only bind the calling thread
        if workers == 1 or len(fits) < 2:
            return [fit() for fit in fits]
        # `warnings.catch_warnings` inside a fit (the dense baseline silences convergence warnings) is
        # not thread-safe: two fits leaving it out of order can leave a filter behind. The filters are
        # put back as they were when the pool ends.
        with warnings.catch_warnings(), ThreadPoolExecutor(min(workers, len(fits)), thread_name_prefix="fit",
                                                           initializer=_one_openmp_thread) as pool:
            futures = {i: pool.submit(fits[i]) for i in start_order(len(fits), costs)}
            return [futures[i].result() for i in range(len(fits))]


def start_order(count: int, costs: Sequence[float] | None = None) -> list[int]:
    """The order `run_fits` submits `count` fits in: the costliest first (ties in their order), or
    their order without `costs`."""
    return sorted(range(count), key=lambda i: -costs[i]) if costs is not None else list(range(count))


def _one_openmp_thread() -> None:
    """Each pool thread's start: OpenMP held to one thread in it, for its life. sklearn sizes its loss
    loops by `omp_get_max_threads()`, which a new thread reads from the process default, not from
    the limit set in the thread that made the pool."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="openmp")
