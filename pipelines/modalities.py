"""Which modalities the pipelines are built for: every modality in the library's registry."""

from functools import partial, update_wrapper

from omnivec2.modalities import REGISTRY


def modality_names() -> list[str]:
    return sorted(REGISTRY)


def bind(func, modality: str):
    """The node function with its modality fixed (Kedro passes datasets, not names)."""
    return update_wrapper(partial(func, modality), func)
