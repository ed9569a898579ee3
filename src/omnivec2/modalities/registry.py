"""The modality table: every registered modality, by name.

Every module of this package (other than `spec` and `registry`) is imported once, and each
`ModalitySpec` it defines at module level is registered: adding a modality means adding one file.
"""

from __future__ import annotations

import importlib
import pkgutil

from omnivec2.modalities.spec import ModalitySpec

REGISTRY: dict[str, ModalitySpec] = {}
_INFRASTRUCTURE = {"spec", "registry"}


def register(spec: ModalitySpec, *, replace: bool = False) -> ModalitySpec:
    """Add a modality to the table (a user's own modality goes through here too)."""
    if spec.name in REGISTRY and REGISTRY[spec.name] is not spec and not replace:
        raise ValueError(f"modality {spec.name!r} is already registered")
    REGISTRY[spec.name] = spec
    return spec


def get_modality(name: str) -> ModalitySpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown modality {name!r}; registered: {sorted(REGISTRY)}") from None


def discover() -> None:
    """Import the package's modality modules and register the specs they define."""
    package = importlib.import_module("omnivec2.modalities")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name in _INFRASTRUCTURE or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"omnivec2.modalities.{info.name}")
        for value in vars(module).values():
            if isinstance(value, ModalitySpec):
                register(value)
