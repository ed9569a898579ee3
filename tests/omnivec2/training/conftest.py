"""Fixtures shared by the training tests that launch stages on Ray."""

import pytest


@pytest.fixture(scope="module")
def ray_runtime():
    """A Ray instance of this test module's own (`address="local"`: never another test's cluster)."""
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    yield
    ray.shutdown()
