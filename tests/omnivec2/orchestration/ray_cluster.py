"""A two-node Ray cluster on this machine for tests: `ray start --head --block` and `ray start --address ... --block`,
each in its own process session, on 127.0.0.1 with free ports and a private temp dir. Stopped by process group
(`ray start --block` tears its node down on SIGTERM), never with a machine-wide `ray stop`, which would also
stop other people's Ray instances on a shared machine."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.s3_server import LOOPBACK, free_port

RAY = str(Path(sys.executable).parent / "ray")
# `ray start --address` for a second node on this same loopback: Ray's CLI turns 127.0.0.1 (in --address and
# --node-ip-address) into the machine's outward IP, which is right for real clusters and wrong here, where
# everything must stay on 127.0.0.1. Only this launcher process is patched; the raylet it starts gets the
# explicit addresses.
LOOPBACK_WORKER = ("import sys; from ray._private import services; services.resolve_ip_for_localhost = lambda host: host; "
                   "from ray.scripts.scripts import main; sys.argv[0] = 'ray'; sys.exit(main())")


class TwoNodeCluster:
    def __init__(self, cpus_per_node: int = 1) -> None:
        # Short: Ray's unix sockets live under the temp dir and their paths are limited to ~107 bytes.
        self.temp_dir = tempfile.mkdtemp(prefix="ov2ray-", dir="/tmp")
        self.port, self.dashboard_port = free_port(), free_port()
        self.address = f"{LOOPBACK}:{self.port}"
        self.dashboard = f"http://{LOOPBACK}:{self.dashboard_port}"
        self.cpus = cpus_per_node
        self.processes: list[subprocess.Popen] = []
        # The nodes get no S3 settings of their own: the job brings them (start_ray(env_vars=...)), as on a
        # real cluster. RAY_API_SERVER_ADDRESS: Ray Train's actors find this cluster's State API without
        # scanning the machine for GCS processes (which fails when other Ray instances run here).
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("AWS_") and k not in ("MLFLOW_S3_ENDPOINT_URL", "RAY_ADDRESS")}
        self.env["RAY_API_SERVER_ADDRESS"] = self.dashboard

    def _start(self, *args: str, log: str, env: dict | None = None, launcher: list[str] | None = None,
               cwd: str | Path | None = None) -> None:
        common = ["--block", "--node-ip-address", LOOPBACK, "--num-cpus", str(self.cpus), "--temp-dir", self.temp_dir,
                  "--dashboard-agent-listen-port", str(free_port()), "--metrics-export-port", str(free_port()),
                  "--disable-usage-stats"]
        handle = open(Path(self.temp_dir) / log, "wb")
        self.processes.append(subprocess.Popen([*(launcher or [RAY]), "start", *args, *common], stdout=handle, stderr=subprocess.STDOUT,
                                               env={**self.env, **(env or {})}, cwd=cwd, start_new_session=True))

    def start_head(self) -> None:
        self._start("--head", "--port", str(self.port), "--ray-client-server-port", str(free_port()),
                    "--include-dashboard", "true", "--dashboard-host", LOOPBACK,
                    "--dashboard-port", str(self.dashboard_port), log="head.log")

    def start_worker(self, timeout: float = 90.0, cwd: str | Path | None = None) -> None:
        """The second node, started in `cwd` (a directory of its own: a machine without the project's files)."""
        self._wait_port(self.port, timeout)
        # omnivec2.env sets RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 (it makes a lone node take 127.0.0.1 without
        # probing 8.8.8.8); `ray start --address` refuses to join with it, whatever the OS. The node's IP is
        # given explicitly, so nothing is probed.
        self._start("--address", self.address, log="worker.log", env={"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "1"},
                    launcher=[sys.executable, "-c", LOOPBACK_WORKER], cwd=cwd)

    def wait_for_nodes(self, count: int = 2, timeout: float = 90.0) -> list[dict]:
        import ray

        deadline = time.monotonic() + timeout
        while True:
            alive = [n for n in ray.nodes() if n["Alive"]]
            if len(alive) >= count:
                return alive
            if any(p.poll() is not None for p in self.processes) or time.monotonic() > deadline:
                raise RuntimeError(f"{len(alive)} of {count} Ray nodes came up: {self.logs()}")
            time.sleep(0.5)

    def _wait_port(self, port: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with socket.socket() as probe:
                if probe.connect_ex((LOOPBACK, port)) == 0:
                    return
            if any(p.poll() is not None for p in self.processes) or time.monotonic() > deadline:
                raise RuntimeError(f"Ray head did not start: {self.logs()}")
            time.sleep(0.3)

    def logs(self) -> str:
        return "".join(f"\n--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in Path(self.temp_dir).glob("*.log"))

    def stop(self) -> None:
        for process in reversed(self.processes):  # worker first, then the head
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        # Anything left in the two sessions (a raylet that outlived `ray start`) goes too.
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.temp_dir, ignore_errors=True)
