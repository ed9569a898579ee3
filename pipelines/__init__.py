"""The omnivec2 Kedro project package: settings, hooks, the registry and one sub-package per pipeline."""

__version__ = "0.1.0"
