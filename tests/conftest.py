"""Test-wide settings: telemetry off and loopback-only networking (the same switches as the Makefile)."""

from omnivec2.env import apply_quiet_environment

apply_quiet_environment()

from tests.s3_server import s3  # noqa: E402,F401  (the session's loopback S3 server, a fixture)
