"""Fixtures shared by the training tests that launch stages on Ray."""

import pytest

# Three datasets of three modalities: enough for every stage (stage 2 and 3 pair two modalities)
# at a fraction of the cache-building time of the whole default suite.
MODALITIES = ("image", "imu", "tabular")


@pytest.fixture(scope="module")
def ray_runtime():
    """A Ray instance of this test module's own (`address="local"`: never another test's cluster)."""
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="session")
def token_cache(tmp_path_factory):
    """The token cache of MODALITIES' default sources (seed 0) -> (root, manifests); built once per
    pytest worker for test_launch and test_faults."""
    from omnivec2.data.sources import load_source
    from omnivec2.tokens.cache import build_token_cache
    from tests.default_suite import DATASETS

    root = tmp_path_factory.mktemp("tokens")
    manifests = [build_token_cache(load_source(DATASETS[m], DATASETS[m].source, 0), DATASETS[m], root)
                 for m in MODALITIES]
    return root, manifests
