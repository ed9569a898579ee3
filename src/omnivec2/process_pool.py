"""Independent jobs side by side in spawned processes, each result handed back as it finishes.

The single-task baselines and the ablation grid both train many small networks, each of which keeps
a second intra-op thread mostly idle; one one-thread process per core finishes more of them in the
same time (benchmark (j), the screens). This is the loop both share: submit in the caller's order,
hand each result to `on_done` the moment it arrives (so a caller that records results can resume an
interrupted run), and on the first failure cancel what has not started and raise.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any


def run_in_processes(jobs: Sequence[tuple[Hashable, Callable[..., Any], tuple]], workers: int,
                     on_done: Callable[[Hashable, Any], None], failure: Callable[[Hashable], str],
                     initializer: Callable[..., None] | None = None, initargs: tuple = ()) -> None:
    """Run each `(key, function, args)` of `jobs` in one of `workers` spawned processes (each set up
    by `initializer(*initargs)`), started in the order given -> `on_done(key, result)` per job, in
    finishing order. When a job fails, the jobs not yet started are cancelled, every result that
    came in with it is still handed to `on_done`, and `RuntimeError(failure(key))` is raised from
    the job's error. `function` and `args` must pickle (module-level functions)."""
    if not jobs:
        return
    # spawn, not fork: a forked child of a process that has used OpenMP threads can deadlock
    with ProcessPoolExecutor(max(1, min(workers, len(jobs))), mp_context=multiprocessing.get_context("spawn"),
                             initializer=initializer, initargs=initargs) as pool:
        pending = {pool.submit(function, *args): key for key, function, args in jobs}
        while pending:
            # FIRST_COMPLETED: each result is handed on as soon as it exists (FIRST_EXCEPTION waits for all)
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            failures = []
            for future in finished:
                key = pending.pop(future)
                if future.exception() is None:
                    on_done(key, future.result())
                else:
                    failures.append((key, future.exception()))
            if failures:
                for other in pending:
                    other.cancel()
                key, error = failures[0]
                raise RuntimeError(failure(key)) from error
