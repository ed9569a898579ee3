"""`omnivec2 predict` on a table row: a CSV row with category names as in the user's table and empty
cells becomes the payload ingestion would have made (the train split's category codes, NaN numeric
cells, MISSING_CODE categories), passes the dataset's payload checks, and predicts as the token
cache's own row does; a model whose statistics predate the names still takes codes."""

from __future__ import annotations

import csv
import json
import warnings

import numpy as np
import pytest
import torch

from omnivec2.checkpoint import save_checkpoint
from omnivec2.data.sources import read_source_vocabularies
from omnivec2.data.sources.category_names import with_categories
from omnivec2.evaluation.metrics import predict_task
from omnivec2.inference import PredictionError, Predictor
from omnivec2.inference.read_file import UnreadableFile, read_payload
from omnivec2.inference.table_row import UnknownCategory, category_code, read_table_row
from omnivec2.model import OmniVec2, preset
from omnivec2.tokens.cache import build_token_cache, read_token_split
from omnivec2.training.stage_runner import stream_config
from omnivec2.validation import validate_sample_table
from tests.omnivec2.modalities.test_tabular_categorical import shop, shop_frame


def build(folder, named: bool):
    """The shop table (4 columns: age, income, colour, size; missing cells allowed) ingested and
    tokenized as the pipeline does (`named`: with the category names the reader recorded; without:
    as before they travelled), and a tiny (untrained) model of it -> (folder, model)."""
    shop_frame().to_csv(folder / "shop.csv", index=False)
    spec = shop(folder / "shop.csv")
    table, _, categories = read_source_vocabularies(spec, spec.source, seed=0)
    if named:
        spec = with_categories(spec, categories)
    manifest = build_token_cache(validate_sample_table(table, spec).valid, spec, folder / "tokens")
    torch.manual_seed(0)
    model = OmniVec2(preset("tiny").with_modalities([stream_config(manifest)]))
    save_checkpoint(folder / "ckpt", model)
    return folder, model


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return build(tmp_path_factory.mktemp("shop"), named=True)


@pytest.fixture(scope="module")
def legacy(tmp_path_factory):
    return build(tmp_path_factory.mktemp("shop_codes"), named=False)


def cached_answer(folder, model, sample: str) -> dict:
    """The cached test row's tokens `[1, 4, 2]` and its prediction, as `Predictor` words it."""
    test = read_token_split(folder / "tokens", "shop", "test")
    tokens = test.tokens[[test.sample_ids.index(sample)]].copy()
    probabilities = predict_task(model, "shop", "bought", torch.from_numpy(tokens))[0].softmax(-1)
    index = int(probabilities.argmax())
    return {"tokens": tokens, "answer": {"prediction": index, "label": ["no", "yes"][index],
                                         "probability": round(float(probabilities.max()), 4)}}


def test_every_test_row_given_with_its_category_names_predicts_as_its_cached_row(trained):
    folder, model = trained
    with open(folder / "shop.csv", newline="") as file:  # the user's own cells, as text
        rows = [row for row in csv.DictReader(file) if row["part"] == "test"]
    predictor = Predictor(folder / "ckpt", folder / "tokens")
    spec, stats = predictor.spec("shop")
    assert [column for column, _ in spec.tokenizer.categories] == ["colour", "size"]
    assert len(rows) == 15 and {r["colour"] for r in rows} >= {"red", "purple", ""}  # known, unseen and missing
    for row in rows:
        path = folder / f"{row['id']}.csv"
        path.write_text("age,income,colour,size\n" + ",".join(row[c] for c in ("age", "income", "colour", "size")))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            answer = predictor.predict("shop", path)
        cached = cached_answer(folder, model, row["id"])
        np.testing.assert_array_equal(spec.tokenizer.transform([read_payload(spec, path)], stats), cached["tokens"])
        assert answer["tasks"]["bought"] == cached["answer"], row
        unknown = [w for w in caught if issubclass(w.category, UnknownCategory)]
        assert len(unknown) == (row["colour"] == "purple"), row  # purple: only in the test split -> unknown


def test_a_registered_model_s_bundled_statistics_carry_the_names(trained, tmp_path):
    """A registered model has no token cache: its tokenizers.json (as the evaluation node bundles it) suffices."""
    import shutil

    folder, model = trained
    manifest = json.loads((folder / "tokens" / "shop" / "manifest.json").read_text())
    assert manifest["fit_stats"]["categories"] == [
        {"position": 2, "column": "colour", "names": ["blue", "green", "red"]},
        {"position": 3, "column": "size", "names": ["L", "M", "S"]}]
    bundle = shutil.copytree(folder / "ckpt", tmp_path / "bundle")
    (bundle / "tokenizers.json").write_text(json.dumps({"shop": {
        "fit_stats": manifest["fit_stats"], "modality": "tabular", "settings": manifest["stream"]["settings"]}}))
    (tmp_path / "row.csv").write_text("23,3000,blue,M\n")
    answer = Predictor(bundle).predict("shop", tmp_path / "row.csv")  # no cache given
    np.testing.assert_array_equal(read_payload(Predictor(bundle).spec("shop")[0], tmp_path / "row.csv"), [23, 3000, 2, 3])
    assert answer["tasks"]["bought"]["label"] in ("no", "yes")


def test_a_model_tokenized_before_the_names_travelled_takes_codes_and_says_so(legacy):
    folder, model = legacy
    (folder / "codes.csv").write_text(",0,1,2")  # r50: age missing, colour unknown (1), size L (2)
    answer = Predictor(folder / "ckpt", folder / "tokens").predict("shop", folder / "codes.csv")
    assert answer["tasks"]["bought"] == cached_answer(folder, model, "r50")["answer"]
    (folder / "names.csv").write_text("age,income,colour,size\n,0,purple,L")
    with pytest.raises(PredictionError, match=r"column 3 \('colour'\): 'purple' is not a number \(this model's "
                                              r"tokenizer statistics carry no category names"):
        Predictor(folder / "ckpt", folder / "tokens").predict("shop", folder / "names.csv")


def test_a_row_of_the_wrong_length_is_told_the_payload_s_columns_by_name(trained):
    folder, _ = trained
    (folder / "whole_line.csv").write_text("id,age,colour,income,size,bought,part\nr1,20,red,1000,S,no,train\n")
    with pytest.raises(PredictionError, match=r"7 cells in the header, the dataset has 4 columns: "
                                              r"\[a number, a number, 'colour', 'size'\], in that order"):
        Predictor(folder / "ckpt", folder / "tokens").predict("shop", folder / "whole_line.csv")


def test_category_names_match_as_written_then_trimmed_then_as_equal_numbers():
    assert category_code("red", ["blue", "red"]) == 3
    assert category_code(" red ", ["blue", "red"]) == 3
    assert category_code("1", ["1.0", "2.0"]) == 2  # pandas writes an integer column with missing cells as floats
    assert category_code("Red", ["blue", "red"]) is None and category_code("nan", ["1.0"]) is None
    assert category_code("?", ["?", "x"]) == 2  # a name first, a missing marker only when it is no name


def test_the_command_line_predicts_on_a_row_with_names_and_empty_cells(trained, capsys):
    from omnivec2.cli import main

    folder, _ = trained
    (folder / "row.csv").write_text("age,income,colour,size\n,1500,green,\n")
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
    (b"id,age,colour,income,size\nr1,20,red,1000,S\n", True,
     r"5 cells in the header, the dataset has 4 columns: \[a number, a number, a category, a category\], in that order"),
    (b"a,b,c,d\n1,2,3,4\n5,6,7,8\n", True, r"3 lines; predict takes one row of 4 cells"),
    (b"1,,3,4\n", False, r"column 2 is empty, and the model was trained on a table without missing numeric cells"),
    (b"age,income,colour,size\n1,2,red,4\n", True, r"column 3 \('colour'\): 'red' is not a number \(this model's "),
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
