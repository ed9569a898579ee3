"""Inference on files: `Predictor` / `predict_file` (Python) and `omnivec2 predict` (command line)."""

from omnivec2.inference.predict import PredictionError, Predictor, predict_file

__all__ = ["PredictionError", "Predictor", "predict_file"]
