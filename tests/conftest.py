"""Test-wide settings: telemetry off and loopback-only networking (the same switches as the Makefile)."""

from omnivec2.env import apply_quiet_environment

apply_quiet_environment()
