"""A loopback S3 server (moto, in a thread, on 127.0.0.1) and a helper to upload a local folder to it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def s3():
    """-> (boto3 client, `storage_options` for fsspec); the server is stopped after the module."""
    import boto3
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test",
                          region_name="us-east-1")
    options = {"key": "test", "secret": "test", "skip_instance_cache": True,
               "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"}}
    try:
        yield client, options
    finally:
        server.stop()


def upload_folder(client, folder: Path, bucket: str) -> None:
    client.create_bucket(Bucket=bucket)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        client.put_object(Bucket=bucket, Key=path.relative_to(folder).as_posix(), Body=path.read_bytes())
