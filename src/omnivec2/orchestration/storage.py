"""S3 settings shared by every component, exported as the environment variables each client reads.

One bucket (AWS, or any S3-compatible server through ``endpoint_url``) serves five clients, and all
of them read the same variables, so configuring the process (and the Ray workers) once covers them:

==========================  ============================  ==============================================
client                      what it stores                how it finds endpoint, region, credentials
==========================  ============================  ==============================================
ingestion (fsspec/s3fs)     ``s3://`` sources              AWS_ENDPOINT_URL_S3, AWS_* (or storage_options)
token cache (s3fs)          ``ray.token_cache_uri``        AWS_ENDPOINT_URL_S3, AWS_*
Ray Train (pyarrow.fs)      ``ray.storage_path`` s3://     AWS_ENDPOINT_URL_S3, AWS_*
MLflow (boto3)              artifacts                      MLFLOW_S3_ENDPOINT_URL, AWS_*
DVC (dvc-s3, s3fs)          the remote                     ``dvc remote modify <r> endpointurl``; AWS_*
==========================  ============================  ==============================================

Retries: ``AWS_MAX_ATTEMPTS`` / ``AWS_RETRY_MODE`` (botocore: boto3, s3fs, DVC) with exponential back-off
and jitter in ``standard`` mode; pyarrow (Ray storage) has its own retry strategy (3 attempts by default).

Configuration (Kedro parameters, ``conf/base/parameters.yml``)::

    storage:
      s3:
        endpoint_url: null      # null = AWS; http(s)://host:port for an S3-compatible server
        region: us-east-1
        max_attempts: 5
        retry_mode: standard

Credentials never go in parameters: they come from ``conf/local/credentials.yml`` (entry ``s3``, see
conf/local/README.md) or, when absent there, from the environment (AWS_ACCESS_KEY_ID, ...), an AWS
profile or an instance role. They are exported to the process environment and (when Ray runs) to the
Ray job's ``runtime_env``; they are not logged to MLflow (``flatten_params`` drops secret-like keys and
credentials are not parameters in the first place).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


@dataclass(frozen=True)
class S3Settings:
    endpoint_url: str | None = None
    region: str | None = None
    max_attempts: int | None = 5
    retry_mode: str | None = "standard"
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_config(cls, storage: Mapping[str, Any] | None, credentials: Mapping[str, Any] | None = None) -> "S3Settings":
        """From the ``storage`` parameters and the ``s3`` entry of the Kedro credentials (either may be None).

        The credentials entry may be fsspec-shaped (``key``/``secret``/``token``, optionally
        ``client_kwargs: {aws_access_key_id, aws_secret_access_key, endpoint_url, region_name}``) or
        boto-shaped (``aws_access_key_id`` ...) at the top level. An ``endpoint_url`` there is used when
        the parameters do not name one.
        """
        s3 = dict((storage or {}).get("s3") or {})
        creds = dict(credentials or {})
        nested = dict(creds.get("client_kwargs") or {})

        def pick(*names: str) -> str | None:
            for source in (creds, nested):
                for name in names:
                    if source.get(name):
                        return str(source[name])
            return None

        return cls(
            endpoint_url=s3.get("endpoint_url") or pick("endpoint_url"),
            region=s3.get("region") or pick("region_name", "region"),
            max_attempts=s3.get("max_attempts", 5),
            retry_mode=s3.get("retry_mode", "standard"),
            access_key_id=pick("key", "aws_access_key_id"),
            secret_access_key=pick("secret", "aws_secret_access_key"),
            session_token=pick("token", "aws_session_token"),
        )

    @property
    def has_credentials(self) -> bool:
        return bool(self.access_key_id and self.secret_access_key)

    def environment(self, include_credentials: bool = True) -> dict[str, str]:
        """The variables to export: endpoint (for boto3/s3fs/pyarrow and MLflow), region, retries, credentials."""
        env: dict[str, str] = {}
        if self.endpoint_url:
            env["AWS_ENDPOINT_URL_S3"] = self.endpoint_url
            env["MLFLOW_S3_ENDPOINT_URL"] = self.endpoint_url
        if self.region:
            env["AWS_DEFAULT_REGION"] = env["AWS_REGION"] = self.region
        if self.max_attempts:
            env["AWS_MAX_ATTEMPTS"] = str(int(self.max_attempts))
        if self.retry_mode:
            env["AWS_RETRY_MODE"] = str(self.retry_mode)
        if include_credentials and self.has_credentials:
            env["AWS_ACCESS_KEY_ID"] = self.access_key_id
            env["AWS_SECRET_ACCESS_KEY"] = self.secret_access_key
            if self.session_token:
                env["AWS_SESSION_TOKEN"] = self.session_token
        return env

    def apply(self) -> dict[str, str]:
        """Export `environment()` into this process (configured values win over inherited ones)."""
        env = self.environment()
        os.environ.update(env)
        logger.info("S3 storage: endpoint %s, region %s, credentials from %s", self.endpoint_url or "AWS default",
                    self.region or "default", "credentials.yml" if self.has_credentials else "the environment")
        return env

    def fsspec_options(self) -> dict[str, Any]:
        """s3fs ``storage_options`` equivalent to the environment (for code that passes options explicitly)."""
        options: dict[str, Any] = {}
        client: dict[str, Any] = {}
        if self.endpoint_url:
            client["endpoint_url"] = self.endpoint_url
        if self.region:
            client["region_name"] = self.region
        if client:
            options["client_kwargs"] = client
        if self.has_credentials:
            options.update(key=self.access_key_id, secret=self.secret_access_key)
            if self.session_token:
                options["token"] = self.session_token
        if self.max_attempts:
            options["config_kwargs"] = {"retries": {"max_attempts": int(self.max_attempts),
                                                    "mode": self.retry_mode or "standard"}}
        return options

    def pyarrow_filesystem(self):
        """A ``pyarrow.fs.S3FileSystem`` for these settings (Ray's ``storage_filesystem``)."""
        from pyarrow import fs

        kwargs: dict[str, Any] = {}
        if self.endpoint_url:
            scheme, _, host = self.endpoint_url.partition("://")
            kwargs.update(endpoint_override=host.rstrip("/"), scheme=scheme)
        if self.region:
            kwargs["region"] = self.region
        if self.has_credentials:
            kwargs.update(access_key=self.access_key_id, secret_key=self.secret_access_key,
                          session_token=self.session_token)
        if self.max_attempts:
            kwargs["retry_strategy"] = fs.AwsStandardS3RetryStrategy(max_attempts=int(self.max_attempts))
        return fs.S3FileSystem(**kwargs)


def storage_environment() -> dict[str, str]:
    """The S3 variables of this process that Ray workers need too (endpoint, region, retries, credentials)."""
    names = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "MLFLOW_S3_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_REGION",
             "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", *CREDENTIAL_VARIABLES)
    return {name: os.environ[name] for name in names if os.environ.get(name)}


def configure_storage(storage: Mapping[str, Any] | None, credentials: Mapping[str, Any] | None = None) -> S3Settings | None:
    """Export the S3 settings when there is anything to configure (a ``storage.s3`` block or credentials)."""
    if not (storage or {}).get("s3") and not credentials:
        return None
    settings = S3Settings.from_config(storage, credentials)
    settings.apply()
    return settings
