"""What the figures were measured on: machine, versions, commit."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gib() -> float | None:
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        return round(pages * size / 2**30, 1)
    except (ValueError, OSError):
        return None


def gpu_name() -> str | None:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def describe() -> dict:
    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    gpu = gpu_name()
    info = {
        "cpu": _cpu_model(),
        "cores": cores,
        "torch_threads": torch.get_num_threads(),
        "memory_gib": _memory_gib(),
        "arch": platform.machine(),
        "gpu": gpu,
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
    info["summary"] = (f"{info['cpu']}, {cores} cores ({info['torch_threads']} torch threads), "
                       f"{info['memory_gib']} GiB, {info['arch']}, load average at start {info['load_average']}")
    info["slug"] = f"{cores}core-{info['arch']}-" + ("gpu" if gpu else "cpu")
    return info


def versions() -> dict:
    out = {"python": platform.python_version()}
    for package in ("torch", "ray", "kedro", "mlflow", "pyarrow", "numpy"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "absent"
    return out


def git_commit(root) -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None
