"""Run as a script, in a fresh process: `python load_without_pickle.py MODEL_URI REQUESTS.json`.

Disables pickle (pickle/_pickle/cloudpickle load and loads raise) before anything else is imported,
then loads the model with `mlflow.pyfunc.load_model`, predicts on the request rows and prints
{"answer": [rows], "metadata": the MLmodel's metadata} as JSON. Any unpickling on the way fails the load.
"""

import _pickle
import pickle


def _refuse(*args, **kwargs):
    raise RuntimeError("pickle was used to load the model")


for _module in (pickle, _pickle):
    _module.load = _module.loads = _refuse

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import cloudpickle  # noqa: E402

cloudpickle.load = cloudpickle.loads = _refuse

import mlflow  # noqa: E402
import pandas as pd  # noqa: E402


def main(uri: str, requests: str) -> None:
    try:
        pickle.loads(b"\x80\x04K\x01.")
    except RuntimeError:
        pass
    else:
        raise SystemExit("pickle is still enabled")
    model = mlflow.pyfunc.load_model(uri)
    answer = model.predict(pd.DataFrame(json.loads(Path(requests).read_text())))
    print(json.dumps({"answer": answer.to_dict("records"), "metadata": model.metadata.metadata}))


if __name__ == "__main__":
    main(*sys.argv[1:3])
