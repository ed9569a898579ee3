"""Process-wide environment defaults: telemetry off, loopback-only Ray (see shared stack notes)."""

import os

QUIET_ENVIRONMENT = {
    "KEDRO_DISABLE_TELEMETRY": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DVC_NO_ANALYTICS": "1",
    "GX_ANALYTICS_ENABLED": "false",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AUTH_MODE": "disabled",
    # Makes Ray pick 127.0.0.1 without probing a public DNS server for its own address.
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    # Ray Train's controller polls workers at this period; the default (1 s) dominates short CPU stages.
    "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S": "0.2",
    "TOKENIZERS_PARALLELISM": "false",
    # Ray Train 2.60 replaces print() on its workers with one that both prints (Ray wraps the
    # worker's sys.stdout) and logs to the root logger, whose handler prints again: every progress
    # line reached the driver twice. Off, a worker's print is forwarded once, by log_to_driver.
    "RAY_TRAIN_ENABLE_PRINT_PATCH": "0",
}


def apply_quiet_environment() -> None:
    """Set the telemetry and networking switches unless the user already chose a value."""
    for key, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
