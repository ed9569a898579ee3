"""Test-wide settings: telemetry off and loopback-only networking (the same switches as the Makefile)."""

import os

import pytest

from omnivec2.env import apply_quiet_environment

apply_quiet_environment()

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


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which turns the mark into the test's group
def pytest_collection_modifyitems(items):
    """Under pytest-xdist (`make test` runs two workers, `--dist loadgroup`), every test of the
    session's shared tiny run goes to one worker, which runs the pipeline once for all of them."""
    for item in items:
        if "tiny_run" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("tiny_run"))
