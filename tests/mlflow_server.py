"""An MLflow tracking server for tests: `mlflow server` on 127.0.0.1 and a free port, an sqlite backend in a
temporary folder, artifacts proxied to an S3 bucket on the loopback server. Stopped by its process group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from tests.s3_server import LOOPBACK, free_port


@contextmanager
def mlflow_server(folder: Path, artifacts_destination: str, env: dict[str, str], timeout: float = 60.0):
    """Yield the server's http:// URI once /health answers; the S3 settings travel in `env`."""
    port = free_port()
    mlflow = Path(sys.executable).parent / "mlflow"
    command = [str(mlflow), "server", "--host", LOOPBACK, "--port", str(port), "--workers", "1",
               "--backend-store-uri", f"sqlite:///{folder}/server.db", "--artifacts-destination", artifacts_destination]
    log = open(folder / "mlflow-server.log", "wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                               env={**os.environ, **env, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})
    uri = f"http://{LOOPBACK}:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mlflow server did not start: {(folder / 'mlflow-server.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield uri
    finally:
        if process.poll() is None:
            stop_process_group(process)
        log.close()


def stop_process_group(process: subprocess.Popen, timeout: float = 15.0) -> None:
    """Stop a server started in its own session (start_new_session=True) by its PID: it and its
    workers get SIGTERM, then SIGKILL after `timeout` seconds."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
