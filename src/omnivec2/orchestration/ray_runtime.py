"""One Ray runtime per process (per Kedro session): join a cluster or start a loopback-only one.

Measured on the 2-core CPU machine (Ray 2.60 with ray[default], a 2-worker TorchTrainer reporting
5 times, RAY_TRAIN_HEALTH_CHECK_INTERVAL_S=0.2), `start_ray` wall time and log noise:

=========================  ===============  ========  =====================================================
                           start_ray (s)    fit (s)   "Failed to query Ray Train Controller actor state"
=========================  ===============  ========  =====================================================
dashboard off              2.5 - 3.6        10.5-13.6  4-5 lines per fit (14 with the default 1 s interval)
dashboard on, 127.0.0.1    3.1 - 4.8        10.1-12.5  none
=========================  ===============  ========  =====================================================

The message comes from Ray Train's ``PlacementGroupCleaner`` actor, which asks the State API (served
by the dashboard head process) whether the train controller is still alive. Without the dashboard
every query fails: besides the noise, the cleaner then cannot reclaim a crashed controller's placement
group. So the dashboard is on by default (about +1 s at start-up), bound to 127.0.0.1 on a free port.
``include_dashboard=False`` or env ``OMNIVEC2_RAY_DASHBOARD=0`` trade that for a faster start.

With the dashboard on, the actors must also be told where the State API is: otherwise they find it by
scanning the machine for GCS processes, and as soon as a second Ray instance runs there (a concurrent
``kedro run``, a test session) the cleaner's thread dies with "ConnectionError: Found multiple active
Ray instances" and a 30-line traceback (reproduced, and gone with the fix). We choose the dashboard port
up front and pass ``RAY_API_SERVER_ADDRESS`` to every worker through the job's ``runtime_env``; measured
cost: none on the fit.

RAY_TRAIN_HEALTH_CHECK_INTERVAL_S=0.2 (set by ``omnivec2.env``, re-applied here before ``ray.init`` so
the raylet and every actor inherit it) took the same fit from ~21-22 s to ~10-13 s: Ray Train's
controller polls the workers at this period and short stages are dominated by it.

Cloud metadata probe (169.254.169.254, metadata.google.internal): it runs in the dashboard head
process (``usage_stats_head.run`` -> ``get_cluster_config_to_report``) whatever the usage-stats setting
and whether the full dashboard is on or not, in an executor thread with a 1 s timeout per URL, so it
never delays ``ray.init``; on this closed network it fails at once (refused / no DNS). The only switch
is a ``~/ray_bootstrap_config.yaml``, which would also make Ray Tune believe it runs on an autoscaling
cluster (``ray.tune.execution.cluster_info._is_ray_cluster``). We deliberately leave it alone rather
than write into the user's home directory.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from omnivec2.env import apply_quiet_environment

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
_lock = threading.Lock()
_started_here = False


def _dashboard_default() -> bool:
    return os.environ.get("OMNIVEC2_RAY_DASHBOARD", "1").strip().lower() not in ("0", "false", "no", "off")


def start_ray(
    address: str | None = None,
    num_cpus: int | None = None,
    *,
    include_dashboard: bool | None = None,
    num_gpus: int | None = None,
    env_vars: dict[str, str] | None = None,
) -> bool:
    """Make sure a Ray runtime is connected; return True when this call started or joined it.

    - ``address`` (or env ``RAY_ADDRESS``): join that cluster (``"auto"``, ``"ray://host:10001"``,
      ``"host:6379"``); ``num_cpus`` is ignored there, the cluster owns its resources.
    - otherwise: start a local runtime bound to 127.0.0.1 with ``num_cpus`` CPUs (all when None).
    - ``env_vars``: set in every task and actor of the job (its ``runtime_env``), e.g. the S3 endpoint,
      region and credentials of ``omnivec2.orchestration.storage``: on a cluster, workers on other nodes
      do not inherit the driver's environment.

    Idempotent: if Ray is already initialised (by us or by the caller) it returns False and leaves
    that runtime alone. Telemetry and the loopback switches from ``omnivec2.env`` are applied first.
    """
    global _started_here
    apply_quiet_environment()
    import ray

    with _lock:
        if ray.is_initialized():
            return False
        target = address or os.environ.get("RAY_ADDRESS") or None
        job_env = dict(env_vars or {})
        if target:
            logger.info("joining Ray cluster at %s", target)
            ray.init(address=target, log_to_driver=True,
                     **({"runtime_env": {"env_vars": job_env}} if job_env else {}))
        else:
            dashboard = _dashboard_default() if include_dashboard is None else include_dashboard
            kwargs: dict = {
                "num_cpus": num_cpus,
                "num_gpus": num_gpus,
                "_node_ip_address": LOOPBACK,
                "include_dashboard": dashboard,
                "log_to_driver": True,
            }
            if dashboard:
                port = _free_loopback_port()
                kwargs["dashboard_host"] = LOOPBACK
                kwargs["dashboard_port"] = port
                # Actors find the State API through RAY_API_SERVER_ADDRESS (else by scanning for GCS
                # processes, which fails when a second Ray instance runs on the machine); pin it.
                job_env["RAY_API_SERVER_ADDRESS"] = f"http://{LOOPBACK}:{port}"
            if job_env:
                kwargs["runtime_env"] = {"env_vars": job_env}
            logger.info("starting a local Ray runtime on %s (num_cpus=%s, dashboard=%s)", LOOPBACK, num_cpus, dashboard)
            # address="local" always starts a new instance, never joins a stray one on this machine.
            ray.init(address="local", **kwargs)
        _started_here = True
        return True


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def stop_ray() -> bool:
    """Shut Ray down if (and only if) ``start_ray`` connected it; return True when it did."""
    global _started_here
    with _lock:
        if not _started_here:
            return False
        _started_here = False
        import ray

        if ray.is_initialized():
            ray.shutdown()
        return True


def ray_started_here() -> bool:
    """Whether the current Ray connection was made by ``start_ray``."""
    return _started_here
