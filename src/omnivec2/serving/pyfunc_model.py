"""The registered model's code, logged with MLflow's models-from-code: `mlflow.pyfunc.log_model(
python_model=<this file>)` stores this file, not a pickled object, and loading the model runs it.

The model's state is its `checkpoint` artifact: model.safetensors, config.json and tokenizers.json
(each dataset's tokenizer statistics), read by `omnivec2.inference.Predictor`; so loading needs no
pickle. Requests and answers: `omnivec2.serving.request`.
"""

import mlflow
from mlflow.pyfunc import PythonModel


class OmniVec2Model(PythonModel):
    """Single-stream inference for every task of the request rows' datasets."""

    def load_context(self, context):
        from omnivec2.inference import Predictor

        self.predictor = Predictor(context.artifacts["checkpoint"])

    def predict(self, context, model_input, params=None):
        """Request table (dataset, payload+format or path) -> answer table, one row per (sample, task)."""
        from omnivec2.serving.request import predict_frame

        return predict_frame(self.predictor, model_input)


mlflow.models.set_model(OmniVec2Model())
