"""Outputs of a failing node that are worth keeping (a failed validation's report): the node marks
its exception with `keep_outputs`, and `KeptOutputsHook` saves them through the catalog before the
run stops (Kedro saves nothing of a node that raises)."""

from __future__ import annotations

import logging
from typing import Any

from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)


def keep_outputs(error: BaseException, outputs: dict[int, Any]) -> BaseException:
    """`error`, marked so that each of `outputs` ({position among the node's outputs: value}) is saved."""
    error.kept_outputs = outputs
    return error


class KeptOutputsHook:
    @hook_impl
    def on_node_error(self, error: Exception, node: Any, catalog: Any) -> None:
        for position, value in (getattr(error, "kept_outputs", None) or {}).items():
            name = node.outputs[position]
            try:
                if catalog is not None and name in catalog:
                    catalog.save(name, value)
                    logger.info("%s saved although %s failed", name, node.name)
            except Exception as exc:  # the node's own error is the one to report
                logger.warning("could not save %s: %s", name, exc)
