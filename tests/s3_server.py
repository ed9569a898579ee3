"""One loopback S3 server for the whole test session (moto, in a thread, on 127.0.0.1 and a free port).

The `s3` fixture (session scope, registered in tests/conftest.py) yields an `S3Server`:

    client, options = s3              # boto3 client, fsspec `storage_options` (as the older helpers did)
    s3.endpoint                       # http://127.0.0.1:PORT
    s3.bucket("esc50")                # a fresh bucket with a unique name, created on the server
    s3.upload_folder(folder, bucket, prefix="")
    s3.env                            # AWS_* / MLFLOW_S3_ENDPOINT_URL variables for subprocesses (dvc, ray, mlflow)

Every test makes its own bucket, so tests never see each other's objects. `FlakyS3Proxy` sits in front of
the server and fails the first N requests with a transient S3 error (503 SlowDown by default), for the
retry tests. Nothing here listens on anything but 127.0.0.1; the server is stopped at the end of the session.
"""

from __future__ import annotations

import http.client
import itertools
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

LOOPBACK = "127.0.0.1"
REGION = "us-east-1"
KEY = SECRET = "test"  # moto accepts any credentials; these are not secrets
_counter = itertools.count()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


class S3Server:
    """A started moto server and the settings every client needs to reach it."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        self.port = free_port()
        self._server = ThreadedMotoServer(ip_address=LOOPBACK, port=self.port, verbose=False)
        self._server.start()
        self.endpoint = f"http://{LOOPBACK}:{self.port}"
        self._client = None

    def stop(self) -> None:
        self._server.stop()

    @property
    def client(self):
        if self._client is None:
            import boto3

            self._client = boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=KEY,
                                        aws_secret_access_key=SECRET, region_name=REGION)
        return self._client

    def storage_options(self, endpoint: str | None = None, **extra) -> dict:
        """fsspec/s3fs options for this server (or a proxy in front of it)."""
        return {"key": KEY, "secret": SECRET,
                "client_kwargs": {"endpoint_url": endpoint or self.endpoint, "region_name": REGION}, **extra}

    @property
    def options(self) -> dict:
        return self.storage_options()

    @property
    def env(self) -> dict[str, str]:
        """Environment for processes that read S3 settings from it (boto3, s3fs, pyarrow, DVC, MLflow, Ray)."""
        return {"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION, "AWS_ENDPOINT_URL_S3": self.endpoint, "MLFLOW_S3_ENDPOINT_URL": self.endpoint}

    def __iter__(self):  # `client, options = s3`, the shape of the fixture the modality tests used first
        return iter((self.client, self.options))

    def bucket(self, stem: str = "bucket") -> str:
        """Create and return a bucket with a unique name (S3 names: 3-63 lowercase letters, digits, '-')."""
        name = f"{stem.lower().replace('_', '-')[:40]}-{next(_counter)}"
        self.client.create_bucket(Bucket=name)
        return name

    def upload_folder(self, folder: Path, bucket: str, prefix: str = "") -> None:
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
            key = "/".join(filter(None, [prefix.strip("/"), path.relative_to(folder).as_posix()]))
            self.client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


@pytest.fixture(scope="session")
def s3():
    server = S3Server()
    try:
        yield server
    finally:
        server.stop()


def upload_folder(client, folder: Path, bucket: str) -> None:
    """Create `bucket` and put every file under `folder` into it (keys relative to `folder`)."""
    client.create_bucket(Bucket=bucket)
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        client.put_object(Bucket=bucket, Key=path.relative_to(folder).as_posix(), Body=path.read_bytes())


TRANSIENT = {503: ("SlowDown", "Please reduce your request rate."), 500: ("InternalError", "We encountered an internal error.")}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


class FlakyS3Proxy:
    """A loopback HTTP proxy in front of `upstream` that answers the first `failures` requests with a
    transient S3 error (`status`, SlowDown XML) and forwards everything after that unchanged.

    `failed` and `forwarded` count what it did. Use as a context manager; `endpoint` is its URL.
    """

    def __init__(self, upstream: str, failures: int, status: int = 503) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.failures, self.status, self.failed, self.forwarded = failures, status, 0, 0
        lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with lock:
                    fail = proxy.failed < proxy.failures
                    if fail:
                        proxy.failed += 1
                    else:
                        proxy.forwarded += 1
                if fail:
                    code, message = TRANSIENT[proxy.status]
                    error = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                             f"<Message>{message}</Message><RequestId>flaky</RequestId></Error>").encode()
                    self.send_response(proxy.status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(error)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(error)
                    return
                connection = http.client.HTTPConnection(host, int(port), timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                self.send_response(response.status, response.reason)
                for key, value in response.getheaders():
                    if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)) if self.command != "HEAD"
                                 else response.getheader("Content-Length", "0"))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                connection.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self._server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self._server.daemon_threads = True
        self.endpoint = f"http://{LOOPBACK}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "FlakyS3Proxy":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
