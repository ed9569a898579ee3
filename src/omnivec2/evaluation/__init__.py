"""Evaluation: single-stream inference on the test splits, metrics, baselines and figures."""
