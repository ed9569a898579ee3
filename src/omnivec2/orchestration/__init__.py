"""Runtime orchestration helpers (Ray) for the pipelines; no Kedro imports."""
