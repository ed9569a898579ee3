"""Fault drills for tests and drills: a worker that kills itself, exits, raises or pauses at a given
stage, step and rank, on the first attempt only (a marker file stops it from firing again).

The fault comes from `fault_injection` in the ray parameters or the environment variable
`OMNIVEC2_FAULT_INJECTION` (JSON); `fault_config` resolves it on the driver, once per launch.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
import uuid
from pathlib import Path

FAULT_ENV = "OMNIVEC2_FAULT_INJECTION"
FAULT_ACTIONS = ("sigkill", "exit", "raise", "pause")


def maybe_inject_fault(fault: dict, stage: str, step: int, rank: int) -> None:
    """Fault injection for tests and drills; a no-op unless `fault` names this stage, step and rank.

    fault: {"stage": name (optional: any stage), "at_step": k, "rank": r (default 0),
    "action": "sigkill" (the worker process SIGKILLs itself, like the OOM killer) | "exit"
    (os._exit(1)) | "raise" (RuntimeError) | "pause" (sleep `seconds`, default 600, so that a test
    can kill the driver from outside), "marker": a file that is created when the fault fires and
    stops it from firing again (first attempt only), "signal_file": touched just before acting}.
    """
    if fault.get("stage") not in (None, stage) or int(fault["at_step"]) != step or int(fault.get("rank", 0)) != rank:
        return
    marker = Path(fault["marker"])
    if marker.exists():
        return
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"stage": stage, "step": step, "rank": rank, "pid": os.getpid(), "time": time.time()}))
    if fault.get("signal_file"):
        Path(fault["signal_file"]).write_text(str(os.getpid()))
    action = fault.get("action", "sigkill")
    print(f"[omnivec2] fault injection: {action} in {stage} at step {step} (rank {rank}, pid {os.getpid()})", flush=True)
    if action == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "exit":
        os._exit(1)
    elif action == "raise":
        raise RuntimeError(f"injected fault in {stage} at step {step}")
    elif action == "pause":
        time.sleep(float(fault.get("seconds", 600)))


def fault_config(ray_params: dict) -> dict | None:
    """The fault to inject, from ray_params["fault_injection"] or $OMNIVEC2_FAULT_INJECTION (JSON);
    a fresh marker file per launch unless one is given, so it fires once per launch."""
    fault = ray_params.get("fault_injection")
    if not fault and os.environ.get(FAULT_ENV):
        try:
            fault = json.loads(os.environ[FAULT_ENV])
        except json.JSONDecodeError as error:
            raise ValueError(f"${FAULT_ENV} is not valid JSON ({error})") from None
    if not fault:
        return None
    fault = dict(fault)
    if "at_step" not in fault or fault.get("action", "sigkill") not in FAULT_ACTIONS:
        raise ValueError(f"fault_injection needs at_step and an action in {list(FAULT_ACTIONS)}; got {fault}")
    fault.setdefault("marker", str(Path(tempfile.gettempdir()) / f"omnivec2-fault-{uuid.uuid4().hex}"))
    return fault
