"""Which process holds something (a project lock, an MLflow run): pid, host and the process's start time.

The start time tells a live holder from a dead one whose pid was reused by another process. A
holder on another host cannot be checked from here: `alive()` answers None for it.
"""

from __future__ import annotations

import socket
import time
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ProcessIdentity:
    pid: int
    host: str
    started: float  # the process's start time (seconds since the epoch, as psutil reports it)

    @classmethod
    def current(cls) -> "ProcessIdentity":
        import psutil

        return cls(pid=psutil.Process().pid, host=socket.gethostname(), started=psutil.Process().create_time())

    def alive(self) -> bool | None:
        """True: that very process still runs; False: it is gone (or its pid now belongs to another
        process); None: it ran on another host, so this one cannot tell."""
        import psutil

        if self.host != socket.gethostname():
            return None
        try:
            return abs(psutil.Process(self.pid).create_time() - self.started) < 1.0
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return False
        except psutil.AccessDenied:
            return True

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(self.started))
        return f"pid {self.pid} on host {self.host}, started {when}"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ProcessIdentity":
        return cls(pid=int(data["pid"]), host=str(data["host"]), started=float(data["started"]))
