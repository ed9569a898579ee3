"""S3 settings -> environment / fsspec / pyarrow, and the token cache on S3, against the loopback server."""

from __future__ import annotations

import numpy as np
import pytest

from omnivec2.orchestration.storage import S3Settings, configure_storage, storage_environment
from omnivec2.tracking import flatten_params

CREDENTIALS_YML = {"client_kwargs": {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "s3cr3t",
                                     "endpoint_url": "http://127.0.0.1:9000"}}


def test_settings_from_parameters_and_the_credentials_template():
    settings = S3Settings.from_config({"s3": {"region": "eu-west-1", "max_attempts": 7}}, CREDENTIALS_YML)
    assert settings.endpoint_url == "http://127.0.0.1:9000" and settings.region == "eu-west-1"
    assert "s3cr3t" not in repr(settings) and "AKIDEXAMPLE" not in repr(settings)
    env = settings.environment()
    assert env == {"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000", "MLFLOW_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
                   "AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1", "AWS_MAX_ATTEMPTS": "7",
                   "AWS_RETRY_MODE": "standard", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cr3t"}
    assert "AWS_SECRET_ACCESS_KEY" not in settings.environment(include_credentials=False)
    options = settings.fsspec_options()
    assert options["key"] == "AKIDEXAMPLE" and options["client_kwargs"]["endpoint_url"] == "http://127.0.0.1:9000"
    assert options["config_kwargs"] == {"retries": {"max_attempts": 7, "mode": "standard"}}
    fsspec_style = S3Settings.from_config(None, {"key": "k", "secret": "s", "token": "t"})
    assert (fsspec_style.access_key_id, fsspec_style.secret_access_key, fsspec_style.session_token) == ("k", "s", "t")
    # the parameters endpoint wins over the one in credentials.yml
    assert S3Settings.from_config({"s3": {"endpoint_url": "https://a"}}, CREDENTIALS_YML).endpoint_url == "https://a"


def test_configure_exports_the_environment_and_nothing_secret_reaches_mlflow_params(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_S3", "MLFLOW_S3_ENDPOINT_URL",
                 "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert configure_storage(None, None) is None and storage_environment() == {}
    configure_storage({"s3": {"endpoint_url": None, "region": None, "max_attempts": 5}}, CREDENTIALS_YML)
    assert storage_environment()["AWS_SECRET_ACCESS_KEY"] == "s3cr3t"
    assert storage_environment()["AWS_ENDPOINT_URL_S3"] == "http://127.0.0.1:9000"
    # a user who puts storage_options into a source by mistake: the key/secret/token do not become params
    params = {"ingestion": {"sources": {"image": {"kind": "npy", "path": "s3://b/x.npz", "storage_options": {
        "key": "AKIDEXAMPLE", "secret": "s3cr3t", "token": "t", "client_kwargs": {"endpoint_url": "http://h"}}}}},
              "storage": {"s3": {"endpoint_url": "http://h", "max_attempts": 5}}}
    flat = flatten_params(params)
    assert not any(v in ("AKIDEXAMPLE", "s3cr3t", "t") for v in flat.values())
    assert flat["ingestion.sources.image.storage_options.client_kwargs.endpoint_url"] == "http://h"
    assert flat["storage.s3.max_attempts"] == "5"


def test_pyarrow_filesystem_reaches_the_loopback_server(s3):
    bucket = s3.bucket("arrow")
    s3.client.put_object(Bucket=bucket, Key="a/b.txt", Body=b"hello")
    settings = S3Settings(endpoint_url=s3.endpoint, region="us-east-1", access_key_id="test", secret_access_key="test")
    fs = settings.pyarrow_filesystem()
    with fs.open_input_stream(f"{bucket}/a/b.txt") as handle:
        assert handle.read() == b"hello"


def test_token_cache_uploaded_to_s3_reads_back_verified(s3, tmp_path, monkeypatch):
    from omnivec2.data.sources import load_source
    from tests.default_suite import DATASETS
    from omnivec2.tokens.cache import CorruptCacheError, build_token_cache, read_token_split
    from omnivec2.tokens.remote import upload_token_cache

    for name, value in s3.env.items():
        monkeypatch.setenv(name, value)  # workers find the bucket through the environment
    monkeypatch.setenv("OMNIVEC2_TOKEN_MIRROR", str(tmp_path / "mirror"))
    spec = DATASETS["tabular"]
    build_token_cache(load_source(spec, spec.source, 0), spec, tmp_path / "tokens")
    uri = f"s3://{s3.bucket('tokens')}/cache"
    assert upload_token_cache(tmp_path / "tokens", uri, ["tabular"]) == ["tabular"]
    assert upload_token_cache(tmp_path / "tokens", uri, ["tabular"]) == []  # same manifest: nothing to do
    local, remote = (read_token_split(root, "tabular", "test") for root in (tmp_path / "tokens", uri))
    assert remote.sample_ids == local.sample_ids
    np.testing.assert_array_equal(remote.tokens, local.tokens)
    np.testing.assert_array_equal(remote.targets["cultivar"], local.targets["cultivar"])

    # a shard damaged on S3 (same manifest) is caught by the checksum, naming the mirrored file
    key = next(k for k in s3.keys(uri.split("/")[2]) if k.endswith("train/part-00000.arrow"))
    s3.client.put_object(Bucket=uri.split("/")[2], Key=key, Body=b"not an arrow file")
    monkeypatch.setenv("OMNIVEC2_TOKEN_MIRROR", str(tmp_path / "mirror2"))
    with pytest.raises(CorruptCacheError, match=r"train/part-00000\.arrow: sha256"):
        read_token_split(uri, "tabular", "train")
