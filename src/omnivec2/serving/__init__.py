"""The final model as an MLflow pyfunc that `mlflow models serve` and `mlflow.pyfunc.load_model` use:
the request and answer format (`request`), the models-from-code file (`pyfunc_model`) and logging it
to the registry (`log_model`). Nothing here is pickled: the model is code plus safetensors and JSON."""
