"""Test-wide settings: telemetry off and loopback-only networking (the same switches as the Makefile)."""

import os

import pytest

from omnivec2.env import apply_quiet_environment

apply_quiet_environment()
# Ray starts its workers at niceness 15 (its `worker_niceness` default). Under `pytest -n 2` the other
# pytest worker then takes nearly all the CPU and a stage of the tiny run crawls (measured 9.5 s a step
# against 0.7 s on a quiet machine); at 0 the two share the cores fairly.
os.environ.setdefault("RAY_worker_niceness", "0")

from tests.s3_server import s3  # noqa: E402,F401  (the session's loopback S3 server, a fixture)

# mlflow.set_tracking_uri() also writes MLFLOW_TRACKING_URI into os.environ, so one in-process test
# would silently redirect every later `kedro run` subprocess to its database.
_LEAKY_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID", "RAY_ADDRESS")


@pytest.fixture(autouse=True)
def _restore_leaky_environment():
    before = {name: os.environ.get(name) for name in _LEAKY_VARIABLES}
    yield
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


FIRST_MODULE = "tests/pipelines/test_end_to_end.py"  # starts the session's tiny run


def pytest_collection_modifyitems(items):
    """The tiny run's module first and the modules that continue from a copy of it
    (`continues_tiny_run`) last. `make test` runs `pytest -n 2 --dist loadfile --no-loadscope-reorder`,
    which hands modules to the workers in this order as they free up: one worker starts the run
    (minutes) at once while the other takes the unit tests, and the continuations come when the run
    is finished (a worker that reaches one earlier waits on the run's lock)."""
    def rank(item) -> int:
        if item.nodeid.split("::")[0] == FIRST_MODULE:
            return 0
        return 2 if item.get_closest_marker("continues_tiny_run") else 1

    items.sort(key=rank)
