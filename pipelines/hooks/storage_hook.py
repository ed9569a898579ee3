"""`StorageHook`: the S3 settings (``storage`` parameters + the ``s3`` credentials entry, see
``omnivec2.orchestration.storage``) exported into the session's environment as soon as the context
exists, so ingestion, the token cache, Ray storage and MLflow artifacts all reach the same bucket.

```yaml
storage:
  s3: {endpoint_url: null, region: null, max_attempts: 5, retry_mode: standard}
```
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from kedro.framework.hooks import hook_impl

from omnivec2.orchestration.storage import configure_storage

logger = logging.getLogger(__name__)


def s3_credentials(context: Any) -> dict[str, Any] | None:
    """The ``s3`` entry of conf/<env>/credentials.yml (conf/local is git-ignored), or None."""
    try:
        credentials = context.config_loader["credentials"]
    except Exception as exc:  # no credentials file at all is the common case
        logger.debug("no Kedro credentials: %s", exc)
        return None
    entry = (credentials or {}).get("s3")
    return dict(entry) if isinstance(entry, Mapping) else None


class StorageHook:
    @hook_impl
    def after_context_created(self, context: Any) -> None:
        configure_storage(dict(context.params or {}).get("storage"), s3_credentials(context))
