"""The run's parameters where a hook has no context: the catalog's ``parameters`` entry."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger(__name__)


def params_from(catalog: Any) -> dict[str, Any]:
    """All Kedro parameters from the catalog's ``parameters`` entry (empty when absent)."""
    try:
        if catalog is not None and "parameters" in catalog:
            params = catalog.load("parameters")
            return dict(params) if isinstance(params, Mapping) else {}
    except Exception as exc:  # a catalog without parameters is fine
        logger.debug("no parameters in catalog: %s", exc)
    return {}
