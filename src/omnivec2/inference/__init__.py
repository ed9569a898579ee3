"""Inference on single files: `predict_file` (Python) and `omnivec2 predict` (command line)."""

from omnivec2.inference.predict import PredictionError, predict_file

__all__ = ["PredictionError", "predict_file"]
