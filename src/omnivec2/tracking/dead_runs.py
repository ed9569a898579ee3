"""MLflow runs whose driver died (SIGKILL, OOM, a lost machine) stay RUNNING forever; the next run ends them.

Every run the pipeline opens carries its driver's identity as tags (`driver_tags`). At the start of
the next run, `end_dead_runs` looks in the experiment for RUNNING runs whose driver ran on this host
and is gone, and marks them KILLED with the tag `omnivec2.end_reason` saying so. Runs whose driver
ran on another host are left alone (this host cannot tell whether it still runs), and so are runs
without the tags (opened before they existed, or by hand).
"""

from __future__ import annotations

import logging
import time

from omnivec2.orchestration.process_identity import ProcessIdentity

logger = logging.getLogger(__name__)

PID_TAG, HOST_TAG, STARTED_TAG = "omnivec2.driver.pid", "omnivec2.driver.host", "omnivec2.driver.started"
REASON_TAG = "omnivec2.end_reason"


def driver_tags(identity: ProcessIdentity | None = None) -> dict[str, str]:
    """The tags that let a later run tell whether this run's driver is still alive."""
    identity = identity or ProcessIdentity.current()
    return {PID_TAG: str(identity.pid), HOST_TAG: identity.host, STARTED_TAG: repr(identity.started)}


def end_dead_runs(tracking_uri: str, experiment_id: str, found_by: str = "the next kedro run") -> list[str]:
    """Mark KILLED every RUNNING run of the experiment whose driver (on this host) is gone; return their ids."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    ended = []
    runs = client.search_runs([experiment_id], filter_string="attributes.status = 'RUNNING'", max_results=1000)
    for run in runs:
        tags = run.data.tags
        if not {PID_TAG, HOST_TAG, STARTED_TAG} <= set(tags):
            continue
        driver = ProcessIdentity(int(tags[PID_TAG]), tags[HOST_TAG], float(tags[STARTED_TAG]))
        if driver.alive() is not False:
            continue
        reason = (f"its driver ({driver.describe()}) ended without closing the run (killed or crashed); "
                  f"marked KILLED by {found_by} at {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
        try:
            client.set_tag(run.info.run_id, REASON_TAG, reason)
            client.set_terminated(run.info.run_id, status="KILLED")
        except Exception as exc:  # another run may have ended it first
            logger.warning("could not mark MLflow run %s KILLED: %s", run.info.run_id, exc)
            continue
        ended.append(run.info.run_id)
        logger.warning("MLflow run %s (%s): %s", run.info.run_id, run.info.run_name, reason)
    return ended
