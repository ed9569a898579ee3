import pytest
import torch

from omnivec2.ablations.pool import GridRun, run_all
from omnivec2.training.stage_runner import model_config_from_manifests
from tests.omnivec2.ablations.test_runner import SETTINGS, STEPS

MODALITIES = ["image", "imu", "tabular"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    from omnivec2.data.sources import load_source
    from omnivec2.tokens.cache import build_token_cache
    from tests.default_suite import DATASETS

    root = tmp_path_factory.mktemp("tokens")
    manifests = [build_token_cache(load_source(DATASETS[m], DATASETS[m].source, 0), DATASETS[m], root)
                 for m in MODALITIES]
    return root, manifests


def plan(manifests: list[dict]) -> dict:
    return {"config": model_config_from_manifests({"preset": "tiny"}, manifests), "settings": SETTINGS, "steps": STEPS}


def test_runs_in_worker_processes_score_as_the_same_runs_in_process_at_one_thread(cache, capfd):
    root, manifests = cache
    grid = [GridRun("variant", "full", 0, plan(manifests)), GridRun("variant", "without A", 1, plan(manifests)),
            GridRun("unseen", "tabular", 0, plan(manifests))]
    parallel, serial = {}, {}
    run_all(grid, root, MODALITIES, 2, lambda run, record: parallel.__setitem__(run, record))
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        run_all(grid, root, MODALITIES, 1, lambda run, record: serial.__setitem__(run, record), log=lambda line: None)
    finally:
        torch.set_num_threads(threads)
    assert set(parallel) == set(serial) == set(grid)
    for run in grid:
        drop = ("seconds",)
        assert {k: v for k, v in parallel[run].items() if k not in drop} == {k: v for k, v in serial[run].items()
                                                                             if k not in drop}
    assert set(parallel[grid[2]]) == {"modality", "seed", "adapted (f, g frozen)", "from scratch"}
    # the workers' progress lines reach the terminal while they train, each naming its run
    printed = capfd.readouterr().out.splitlines()
    for run in grid:
        assert any(line.startswith(f"[{run.kind} {run.name!r} seed {run.seed}] ") for line in printed), (run, printed[:5])


def test_a_failing_run_stops_the_grid_and_names_the_run(cache):
    root, manifests = cache
    broken = {**plan(manifests), "settings": {**SETTINGS, "train_multitask": {**SETTINGS["train_multitask"],
                                                                              "mode": "no such mode"}}}
    done = []
    with pytest.raises(RuntimeError, match="variant 'full' seed 0 failed"):
        run_all([GridRun("variant", "full", 0, broken)], root, MODALITIES, 2, lambda run, record: done.append(run))
    assert done == []


def test_each_run_is_recorded_as_it_finishes_not_when_the_grid_ends(cache):
    """An interrupted grid resumes from the recorded runs, so a quick run must be recorded while a
    slow one is still training: the quick run's record arrives before the slow run could have ended."""
    import time

    root, manifests = cache
    slow = {**plan(manifests), "steps": {**STEPS, "train_multitask": 1200}}
    grid = [GridRun("variant", "full", 0, plan(manifests)), GridRun("variant", "full", 1, slow)]
    started, arrivals = time.perf_counter(), {}
    run_all(grid, root, MODALITIES, 2, lambda run, record: arrivals.__setitem__(run.seed, (time.perf_counter() - started,
                                                                                          record["seconds"])))
    quick_arrival, slow_arrival, slow_seconds = arrivals[0][0], arrivals[1][0], arrivals[1][1]
    assert slow_seconds > 2 * arrivals[0][1]  # the slow run is slow
    assert quick_arrival < slow_arrival - slow_seconds / 2
