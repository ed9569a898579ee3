"""Log the final checkpoint as the MLflow pyfunc of `pyfunc_model.py` and register it.

What the logged model holds: MLmodel (python_function flavour, models-from-code, the signature of
`request.signature`, an input example, and `metadata.tasks`: every task's kind and class names),
the code file, the `checkpoint` artifact (model.safetensors + config.json + tokenizers.json), the
omnivec2 package under code/ (so it loads where omnivec2 is not installed, given the pinned
requirements), and requirements.txt. No .pkl file.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

import pandas as pd

from omnivec2.tracking.registry import CHECKPOINT_ARTIFACT

MODEL_CODE = Path(__file__).with_name("pyfunc_model.py")
PACKAGE = Path(__file__).resolve().parents[1]  # src/omnivec2
REQUIREMENTS = ("mlflow", "torch", "numpy", "pandas", "pyarrow", "safetensors", "great_expectations", "pillow", "scipy")


def task_classes(config: dict) -> dict:
    """config.json's model part -> {dataset: {task: {"kind", "classes"}}}, the model's class names."""
    return {m["name"]: {t["name"]: {"kind": t["kind"], "classes": list(t.get("classes") or [])}
                        for t in m.get("tasks", [])} for m in config.get("modalities", [])}


def requirements() -> list[str]:
    """The installed versions of what inference imports, pinned."""
    pins = []
    for name in REQUIREMENTS:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return pins


def log_registered_model(checkpoint_dir: str | Path, tokenizer_stats: dict, example: dict, name: str,
                         artifact_name: str = "model"):
    """Log the checkpoint as a pyfunc to the active run and register it as a new version of `name`
    -> MLflow's ModelInfo (`.registered_model_version`, `.model_uri`). `example`: one request row."""
    import mlflow

    from omnivec2.serving.request import signature

    config = json.loads((Path(checkpoint_dir) / "config.json").read_text())["model"]
    with tempfile.TemporaryDirectory(prefix="omnivec2-pyfunc-") as scratch:
        bundle = Path(scratch) / CHECKPOINT_ARTIFACT
        bundle.mkdir()
        for file in ("model.safetensors", "config.json"):
            shutil.copy(Path(checkpoint_dir) / file, bundle / file)
        (bundle / "tokenizers.json").write_text(json.dumps(tokenizer_stats))
        return mlflow.pyfunc.log_model(
            name=artifact_name, python_model=str(MODEL_CODE), artifacts={CHECKPOINT_ARTIFACT: str(bundle)},
            code_paths=[str(PACKAGE)], signature=signature(), input_example=pd.DataFrame([example]),
            pip_requirements=requirements(), registered_model_name=name,
            metadata={"tasks": task_classes(config), "dim_f": config.get("dim_f"), "depth_f": config.get("depth_f")})
