"""`omnivec2 predict` on a table row with missing cells: a CSV row with empty cells becomes the
payload ingestion would have made (NaN numeric cells, MISSING_CODE categories), passes the
dataset's payload checks, and predicts as the token cache's own row does."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from omnivec2.checkpoint import save_checkpoint
from omnivec2.data.sources import load_source
from omnivec2.evaluation.metrics import predict_task
from omnivec2.inference import PredictionError, Predictor
from omnivec2.inference.read_file import UnreadableFile, read_payload
from omnivec2.inference.table_row import read_table_row
from omnivec2.model import OmniVec2, preset
from omnivec2.tokens.cache import build_token_cache, read_token_split
from omnivec2.training.stage_runner import stream_config
from omnivec2.validation import validate_sample_table
from tests.omnivec2.modalities.test_tabular_categorical import shop, shop_frame


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny (untrained) model of the shop table (4 columns: age, income, colour, size; missing cells
    allowed), its checkpoint and token cache."""
    folder = tmp_path_factory.mktemp("shop")
    shop_frame().to_csv(folder / "shop.csv", index=False)
    spec = shop(folder / "shop.csv")
    table = validate_sample_table(load_source(spec, spec.source, seed=0), spec).valid
    manifest = build_token_cache(table, spec, folder / "tokens")
    torch.manual_seed(0)
    model = OmniVec2(preset("tiny").with_modalities([stream_config(manifest)]))
    save_checkpoint(folder / "ckpt", model)
    return folder, model


@pytest.mark.parametrize("sample, row", [
    ("r50", "age,income,colour,size\n,0,1,2\n"),  # age missing; colour 'purple' never seen in train: code 1
    ("r57", ",2000,,4"),  # age and colour missing, no header
])
def test_a_csv_row_with_empty_cells_predicts_as_the_cached_row(trained, sample, row):
    folder, model = trained
    (folder / f"{sample}.csv").write_text(row)
    answer = Predictor(folder / "ckpt", folder / "tokens").predict("shop", folder / f"{sample}.csv")
    test = read_token_split(folder / "tokens", "shop", "test")
    tokens = torch.from_numpy(test.tokens[[test.sample_ids.index(sample)]].copy())
    probabilities = predict_task(model, "shop", "bought", tokens)[0].softmax(-1)
    assert answer["tasks"]["bought"]["prediction"] == int(probabilities.argmax())
    assert answer["tasks"]["bought"]["label"] == ["no", "yes"][int(probabilities.argmax())]
    assert answer["tasks"]["bought"]["probability"] == round(float(probabilities.max()), 4)


def test_the_command_line_predicts_on_a_row_with_empty_cells(trained, capsys):
    from omnivec2.cli import main

    folder, _ = trained
    (folder / "row.csv").write_text("age,income,colour,size\n,1500,,\n")
    status = main(["predict", "--model", str(folder / "ckpt"), "--cache", str(folder / "tokens"), "--dataset", "shop",
                   str(folder / "row.csv")])
    assert status == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["tasks"]["bought"]["label"] in ("no", "yes") and 0.5 <= answer["tasks"]["bought"]["probability"] <= 1


def test_cells_become_the_payload_ingestion_makes():
    values = read_table_row(b"a,b,c\n1.5, NaN ,\n", "row.csv", 3, categorical=(2,), missing=True)
    assert values.dtype == np.float32 and values[0] == 1.5 and np.isnan(values[1]) and values[2] == 0  # MISSING_CODE
    np.testing.assert_array_equal(read_table_row(b"\n3,?,7\n\n", "row.csv", 3, (), True)[[0, 2]], [3, 7])


@pytest.mark.parametrize("text, missing, message", [
    (b"1,2\n", True, r"2 cells in the row, the dataset has 4 columns"),
    (b"a,b,c,d\n1,2,3,4\n5,6,7,8\n", True, r"3 lines; predict takes one row of 4 cells"),
    (b"1,,3,4\n", False, r"column 2 is empty, and the model was trained on a table without missing numeric cells"),
    (b"age,income,colour,size\n1,2,red,4\n", True, r"column 3 \('colour'\): 'red' is not a number \(a categorical "),
])
def test_rows_that_do_not_fit_name_the_dataset_file_and_column(tmp_path, text, missing, message):
    spec = shop(tmp_path / "unused.csv", allow_missing=missing)  # payload [age, income, colour, size]
    (tmp_path / "row.csv").write_bytes(text)
    with pytest.raises(UnreadableFile, match=r"dataset 'shop': .*row\.csv: " + message):
        read_payload(spec, tmp_path / "row.csv")


def test_nan_in_a_category_code_is_still_refused_by_the_payload_checks(trained):
    folder, _ = trained
    np.save(folder / "bad.npy", np.array([20, 0, np.nan, 2], np.float32))
    with pytest.raises(PredictionError, match=r"dataset 'shop': .*bad\.npy: payload_nan_only_where_missing_is_allowed failed: NaN at position\(s\) \[2\]"):
        Predictor(folder / "ckpt", folder / "tokens").predict("shop", folder / "bad.npy")
