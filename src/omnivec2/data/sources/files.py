"""Reading a user's file, local or `s3://`, whole and bounded: `read_bytes` (with the source's
`max_file_bytes` / `max_dataset_bytes` and, given the dataset folder, the containment check on the file
actually opened), the default S3 retry policy, and `open_buffer`."""

from __future__ import annotations

import io
import os

from omnivec2.data.sources.errors import SourceError
from omnivec2.data.sources.listing import check_inside
from omnivec2.datasets.spec import DatasetSpec


def read_bytes(spec: DatasetSpec, path: str, source: dict, inside: str | None = None) -> bytes:
    """The whole file at a local path or fsspec URI (`s3://bucket/key`), with `source["storage_options"]`;
    SourceError past the source's `max_file_bytes` or, over the whole reading, `max_dataset_bytes`
    (`omnivec2.data.sources.limits`). With `inside` (the dataset folder), a file that resolves outside it
    is refused at the read itself, whatever the listing saw (`listing.check_inside`, `listing.read_inside`)."""
    import fsspec  # fsspec picks s3fs for s3:// URIs

    from omnivec2.data.sources.limits import count_bytes, limit
    from omnivec2.data.sources.listing import is_local, read_inside

    if inside is not None:
        check_inside(spec, inside, path)  # object-store keys: no '..', below the prefix
    try:
        if inside is not None and is_local(path):
            data = read_inside(spec, inside, path, limit("max_file_bytes") + 1)  # checked on the open file
        else:
            with fsspec.open(str(path), "rb", **storage_options(path, source)) as handle:
                data = handle.read(limit("max_file_bytes") + 1)  # never more than the limit in memory
    except SourceError:
        raise
    except Exception as error:  # FileNotFoundError, PermissionError, botocore errors, bad URI schemes
        raise SourceError(
            f"dataset {spec.name!r}: cannot read {path!r} ({type(error).__name__}: {error})"
        ) from error
    count_bytes(spec.name, repr(str(path)), len(data))  # the source's max_file_bytes / max_dataset_bytes
    return data


# Transient S3 errors (503 SlowDown, 500/502/504, throttling, dropped connections) are retried by botocore
# with exponential back-off and jitter ("standard" mode: sleep ~ U(0, 1) * 2**attempt s, at most 20 s);
# s3fs adds its own retries on SlowDown and timeouts. A source's `storage_options.config_kwargs.retries`
# overrides this default, and so do AWS_MAX_ATTEMPTS / AWS_RETRY_MODE (which set it for every boto client of a
# process: `omnivec2.orchestration.storage` exports them from conf `storage.s3`).
S3_RETRIES = {"max_attempts": 5, "mode": "standard"}


def storage_options(path: str, source: dict) -> dict:
    """`source["storage_options"]` for fsspec, with the default S3 retry policy for `s3://` paths."""
    options = dict(source.get("storage_options") or {})
    if str(path).startswith(("s3://", "s3a://")) and not os.environ.get("AWS_MAX_ATTEMPTS"):
        config = dict(options.get("config_kwargs") or {})
        config.setdefault("retries", dict(S3_RETRIES))
        options["config_kwargs"] = config
    return options


def open_buffer(spec: DatasetSpec, path: str, source: dict) -> io.BytesIO:
    return io.BytesIO(read_bytes(spec, path, source))
