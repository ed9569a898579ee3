"""The modality table: every registered modality, by name.

Every module of this package (other than `spec`, `registry` and private ones) is a modality: on the
first read of the table each is imported once, and every `ModalitySpec` it defines at module level
is registered. Adding a modality means adding one file.

Discovery waits for that first read, rather than running when the package is imported, because
modality modules import the source and embedding registries, and those import `spec` from this
package: running discovery at package import would enter them half-initialised.
"""

from __future__ import annotations

import importlib
import pkgutil

from omnivec2.modalities.spec import ModalitySpec

_INFRASTRUCTURE = {"spec", "registry"}


class ModalityTable(dict):
    """A dict of name -> ModalitySpec that imports the modality modules on its first read."""

    _discovered = False

    def _ensure(self) -> None:
        if not self._discovered:
            self._discovered = True  # set first: modality modules may read the table while importing
            discover()

    def __getitem__(self, name):
        self._ensure()
        return super().__getitem__(name)

    def __contains__(self, name):
        self._ensure()
        return super().__contains__(name)

    def __iter__(self):
        self._ensure()
        return super().__iter__()

    def __len__(self):
        self._ensure()
        return super().__len__()

    def get(self, name, default=None):
        self._ensure()
        return super().get(name, default)

    def keys(self):
        self._ensure()
        return super().keys()

    def values(self):
        self._ensure()
        return super().values()

    def items(self):
        self._ensure()
        return super().items()


REGISTRY = ModalityTable()


def register(spec: ModalitySpec, *, replace: bool = False) -> ModalitySpec:
    """Add a modality to the table (a user's own modality goes through here too)."""
    if dict.__contains__(REGISTRY, spec.name) and dict.__getitem__(REGISTRY, spec.name) is not spec and not replace:
        raise ValueError(f"modality {spec.name!r} is already registered")
    dict.__setitem__(REGISTRY, spec.name, spec)
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
