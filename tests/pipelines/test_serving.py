"""The final model as an MLflow pyfunc, on the session's tiny run (no kedro run of its own):
registered with `@champion`, loaded in a fresh process with pickle disabled, and served by
`mlflow models serve` on 127.0.0.1, answering one sample of every dataset with class names."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from tests.mlflow_server import stop_process_group
from tests.pipelines import user_datasets
from tests.pipelines.conftest import subprocess_env

pytestmark = pytest.mark.e2e

CHAMPION = "models:/omnivec2@champion"
BIN = Path(sys.executable).parent


def one_request_per_dataset(tiny_run) -> list[dict]:
    """The first test sample of every dataset as a base64 .npy, and a user's photo as its own PNG."""
    from omnivec2.data.sample_table import decode_payload
    from omnivec2.serving.request import npy_row

    rows = []
    for name in tiny_run.tasks_of:
        table = pd.read_parquet(tiny_run.project / f"data/02_intermediate/{name}/samples.parquet")
        rows.append(npy_row(name, decode_payload(table[table["split"] == "test"].iloc[0])))
    photo = next((tiny_run.user_data / "photos/fox").glob("*.png"))
    rows.append({"dataset": "photos", "format": "png", "payload": base64.b64encode(photo.read_bytes()).decode()})
    return rows


def check_answer(answer: list[dict], requests: list[dict], tiny_run, tasks: dict) -> None:
    """Every request row answered for every task of its dataset; class labels are the dataset's class names."""
    for index, request in enumerate(requests):
        rows = [r for r in answer if r["sample"] == index]
        assert {r["task"] for r in rows} == set(tiny_run.tasks_of[request["dataset"]]), (index, rows)
        for row in rows:
            assert row["dataset"] == request["dataset"]
            spec = tasks[row["dataset"]][row["task"]]
            assert row["kind"] == spec["kind"]
            if spec["kind"] == "classification":
                index_ = json.loads(row["prediction"])["prediction"]
                expected = spec["classes"][index_] if spec["classes"] else str(index_)
                assert row["label"] == expected and 0.0 < row["score"] <= 1.0, row
    assert any(tasks[d][t]["classes"] for d in tasks for t in tasks[d] if tasks[d][t]["kind"] == "classification")
    photo = [r for r in answer if r["sample"] == len(requests) - 1]
    assert photo[0]["label"] in user_datasets.PHOTO_CLASSES


def test_the_final_model_is_registered_as_the_champion(tiny_run):
    registered = json.loads((tiny_run.project / "data/08_reporting/registered_model.json").read_text())
    assert registered["registered"] and registered["uri"] == "models:/omnivec2/1"
    assert registered["champion"] and registered["champion_uri"] == CHAMPION
    assert registered["champion_reason"] == "first version of the model: takes the alias"


@pytest.fixture
def store(tiny_run):
    """The tiny run's MLflow store as this process's tracking URI (restored afterwards)."""
    import mlflow

    previous, uri = mlflow.get_tracking_uri(), f"sqlite:///{tiny_run.project / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    yield uri
    mlflow.set_tracking_uri(previous)


def test_the_champion_loads_in_a_fresh_process_without_pickle(tiny_run, store, tmp_path):
    import mlflow
    import yaml

    requests = one_request_per_dataset(tiny_run)
    (tmp_path / "requests.json").write_text(json.dumps(requests))
    result = subprocess.run([sys.executable, str(Path(__file__).with_name("load_without_pickle.py")), CHAMPION,
                             str(tmp_path / "requests.json")], cwd=tiny_run.project, capture_output=True, text=True,
                            env=subprocess_env(MLFLOW_TRACKING_URI=store), timeout=600)
    assert result.returncode == 0, result.stderr[-5000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    check_answer(loaded["answer"], requests, tiny_run, loaded["metadata"]["tasks"])
    # The model folder: code, safetensors and JSON; no pickle file, and the flavour names none.
    folder = Path(mlflow.artifacts.download_artifacts(artifact_uri=CHAMPION, dst_path=str(tmp_path / "model")))
    flavor = yaml.safe_load((folder / "MLmodel").read_text())["flavors"]["python_function"]
    assert flavor["model_code_path"].endswith("pyfunc_model.py") and "python_model" not in flavor
    assert not [p for p in folder.rglob("*") if p.suffix in (".pkl", ".pickle", ".pt", ".pth")]
    assert (folder / flavor["artifacts"]["checkpoint"]["path"] / "model.safetensors").is_file()
    assert (folder / "input_example.json").is_file()


def test_mlflow_models_serve_answers_with_class_names(tiny_run, store, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = subprocess_env(MLFLOW_TRACKING_URI=store)
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([str(BIN / "mlflow"), "models", "serve", "-m", CHAMPION, "--env-manager", "local",
                               "-h", "127.0.0.1", "-p", str(port), "-w", "1"], cwd=tiny_run.project, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, server, tmp_path / "serve.log")
        requests = one_request_per_dataset(tiny_run)
        body = json.dumps({"dataframe_records": requests}).encode()
        request = urllib.request.Request(f"{url}/invocations", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=600) as response:
            answer = json.loads(response.read())["predictions"]
        import mlflow

        check_answer(answer, requests, tiny_run, mlflow.models.get_model_info(CHAMPION).metadata["tasks"])
    finally:
        stop_process_group(server, timeout=30)  # the server and its uvicorn worker: its own process group
        log.close()


def wait_until_healthy(url: str, server: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, f"mlflow models serve exited: {log.read_text()[-3000:]}"
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise AssertionError(f"mlflow models serve not healthy after {timeout} s: {log.read_text()[-3000:]}")
