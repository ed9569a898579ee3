"""start_ray / stop_ray: argument handling with a fake ``ray.init``, then one real loopback start."""

from __future__ import annotations

import pytest
import ray

from omnivec2.orchestration import ray_runtime
from omnivec2.orchestration.ray_runtime import start_ray, stop_ray


class _FakeRay:
    def __init__(self, monkeypatch, initialised: bool = False):
        self.calls: list[dict] = []
        self.shutdowns = 0
        self.initialised = initialised
        monkeypatch.setattr(ray, "init", self._init)
        monkeypatch.setattr(ray, "is_initialized", lambda: self.initialised)
        monkeypatch.setattr(ray, "shutdown", self._shutdown)
        monkeypatch.setattr(ray_runtime, "_started_here", False)

    def _init(self, **kwargs):
        self.calls.append(kwargs)
        self.initialised = True

    def _shutdown(self):
        self.shutdowns += 1
        self.initialised = False


def test_local_start_is_loopback_with_dashboard(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.delenv("OMNIVEC2_RAY_DASHBOARD", raising=False)
    fake = _FakeRay(monkeypatch)
    assert start_ray(num_cpus=1) is True
    (call,) = fake.calls
    assert call["address"] == "local" and call["num_cpus"] == 1
    assert call["_node_ip_address"] == "127.0.0.1" and call["dashboard_host"] == "127.0.0.1"
    assert call["include_dashboard"] is True and call["log_to_driver"] is True
    port = call["dashboard_port"]  # chosen up front so actors can be told where the State API is
    assert call["runtime_env"] == {"env_vars": {"RAY_API_SERVER_ADDRESS": f"http://127.0.0.1:{port}"}}
    assert start_ray(num_cpus=1) is False  # idempotent
    assert stop_ray() is True and fake.shutdowns == 1
    assert stop_ray() is False


def test_dashboard_can_be_switched_off(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    fake = _FakeRay(monkeypatch)
    monkeypatch.setenv("OMNIVEC2_RAY_DASHBOARD", "0")
    start_ray()
    assert fake.calls[-1]["include_dashboard"] is False
    assert "dashboard_host" not in fake.calls[-1] and "runtime_env" not in fake.calls[-1]
    stop_ray()
    monkeypatch.delenv("OMNIVEC2_RAY_DASHBOARD")
    start_ray(include_dashboard=False)
    assert fake.calls[-1]["include_dashboard"] is False
    stop_ray()


@pytest.mark.parametrize("via_env", [False, True])
def test_joins_existing_cluster(monkeypatch, via_env):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    fake = _FakeRay(monkeypatch)
    if via_env:
        monkeypatch.setenv("RAY_ADDRESS", "ray://head:10001")
        assert start_ray(num_cpus=4) is True
    else:
        assert start_ray(address="ray://head:10001", num_cpus=4) is True
    assert fake.calls == [{"address": "ray://head:10001", "log_to_driver": True}]
    stop_ray()


def test_leaves_a_runtime_it_did_not_start(monkeypatch):
    fake = _FakeRay(monkeypatch, initialised=True)
    assert start_ray() is False
    assert stop_ray() is False
    assert fake.calls == [] and fake.shutdowns == 0 and fake.initialised


def test_real_start_on_loopback_and_stop(monkeypatch):
    """The one real Ray start of this module (~3-5 s on 2 cores)."""
    assert not ray.is_initialized(), "an earlier test left a Ray runtime connected in this process"
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(ray_runtime, "_started_here", False)
    try:
        assert start_ray(num_cpus=1) is True
        assert ray.is_initialized()
        assert ray.cluster_resources().get("CPU") == 1
        assert {node["NodeManagerAddress"] for node in ray.nodes()} == {"127.0.0.1"}
        assert ray.get(ray.remote(lambda: 41 + 1).remote()) == 42
        # the State API address reaches the actors (Ray Train's placement-group cleaner uses it)
        address = ray.get(ray.remote(lambda: __import__("os").environ.get("RAY_API_SERVER_ADDRESS")).remote())
        assert address.startswith("http://127.0.0.1:")
        assert start_ray(num_cpus=1) is False  # already up: left alone
    finally:
        assert stop_ray() is True
    assert not ray.is_initialized()
    assert stop_ray() is False
