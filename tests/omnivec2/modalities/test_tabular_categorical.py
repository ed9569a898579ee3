"""A user's table with string categories and missing values: reader, validation, token cache and a
tiny model built from the cache's manifest, at a shape of its own (4 columns, 2 of them categorical)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from omnivec2.checkpoint import load_model, save_checkpoint
from omnivec2.data.sample_table import decode_payload, summarise
from omnivec2.data.sources import SourceError, load_source, read_source_vocabularies
from omnivec2.data.sources.category_names import with_categories
from omnivec2.datasets import resolve_dataset
from omnivec2.evaluation.metrics import predict_task
from omnivec2.model import OmniVec2, preset
from omnivec2.model.heads import task_loss
from omnivec2.model.masking import make_mask
from omnivec2.model.omnivec2 import Stream
from omnivec2.tokens.cache import UnvalidatedTableError, build_token_cache, read_token_split
from omnivec2.training.objectives import MaskedItem, StageObjective
from omnivec2.training.stage_runner import stream_config
from omnivec2.validation import ValidationFailed, validate_sample_table

COLOURS, SIZES = ["red", "green", "blue"], ["S", "M", "L"]
WINE = {"modality": "tabular", "shape": {"columns": 2}, "source": {"kind": "table", "path": "wine.csv",
                                                                   "target_column": "cultivar"},
        "tasks": {"cultivar": {"classes": ["a", "b"]}}}


def shop_frame(n: int = 60) -> pd.DataFrame:
    """Rows r0..r59; 45 train, 15 test; some cells missing; 'purple' only in the test split."""
    i = np.arange(n)
    frame = pd.DataFrame({
        "id": [f"r{k}" for k in i],
        "age": np.where(i % 7 == 1, np.nan, 20.0 + i),
        "colour": np.where(i % 11 == 2, None, np.array(COLOURS, dtype=object)[i % 3]),
        "income": 1000.0 * (i % 5),
        "size": np.array(SIZES, dtype=object)[i % 3],
        "bought": np.where(i % 3 == 0, "yes", "no"),
        "part": np.where(i < 45, "train", "test"),
    })
    frame.loc[[50, 55], "colour"] = "purple"
    return frame


def shop(path, **options) -> object:
    source = {"kind": "table", "path": str(path), "target_column": "bought", "id_column": "id", "split_column": "part",
              "categorical_columns": ["colour", "size"], "allow_missing": True, **options}
    return resolve_dataset("shop", {"modality": "tabular", "shape": {"columns": 4}, "source": source,
                                    "tasks": {"bought": {"classes": ["no", "yes"]}}})


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "shop.csv"
    shop_frame().to_csv(path, index=False)
    return path


@pytest.fixture
def table(csv):
    spec = shop(csv)
    return load_source(spec, spec.source, seed=0).set_index("sample_id", drop=False)


def test_reader_codes_categories_from_the_train_split_and_keeps_missing_numbers_as_nan(csv, table):
    spec = shop(csv)
    assert spec.tokenizer.config() == {"kind": "table_columns", "categorical": [2, 3], "missing": True}  # numeric, then declared
    assert spec.payload.nan_positions == (0, 1)
    # payload [age, income, colour, size]; colour codes: 0 missing, 1 unknown, 2 blue, 3 green, 4 red
    np.testing.assert_array_equal(decode_payload(table.loc["r0"]), [20, 0, 4, 4])  # red, S (sizes: L 2, M 3, S 4)
    assert np.isnan(decode_payload(table.loc["r1"])[0]) and table.loc["r1", "nan_count"] == 1
    np.testing.assert_array_equal(decode_payload(table.loc["r2"])[2:], [0, 2])  # missing colour; size L
    np.testing.assert_array_equal(decode_payload(table.loc["r50"])[2], 1)  # purple: never seen in train
    assert table.loc["r0", "bought"] == 1 and (table["split"] == "test").sum() == 15


def test_validation_allows_nan_only_in_numeric_cells_of_a_table_that_declares_it(csv, table):
    spec = shop(csv)
    assert validate_sample_table(table.reset_index(drop=True), spec).report["success"]
    strict = shop(csv, allow_missing=False)
    with pytest.raises(ValidationFailed, match=r"nan_count.*r1"):
        validate_sample_table(load_source(strict, strict.source, seed=0), strict)

    nan_code = with_payload(table, "r3", np.array([23, 3000, np.nan, 3], np.float32))  # NaN in a category cell
    with pytest.raises(ValidationFailed, match=r"payload_nan_only_where_missing_is_allowed on column 'payload'.*r3"):
        validate_sample_table(nan_code, spec)
    outcome = validate_sample_table(nan_code, spec, mode="quarantine")
    assert outcome.quarantined["sample_id"].tolist() == ["r3"]
    assert "NaN at position(s) [2]" in outcome.quarantined["reason"].iloc[0]
    infinite = with_payload(table, "r3", np.array([np.inf, 3000, 3, 3], np.float32))
    with pytest.raises(ValidationFailed, match=r"inf_count.*r3"):
        validate_sample_table(infinite, spec)
    for bad in (nan_code, infinite):  # the cache's own re-check refuses them too
        with pytest.raises(UnvalidatedTableError, match="dataset 'shop'"):
            build_token_cache(bad, spec, csv.parent / "never")


def with_payload(table: pd.DataFrame, sample: str, array: np.ndarray) -> pd.DataFrame:
    table = table.reset_index(drop=True)
    row = int(np.flatnonzero(table["sample_id"] == sample)[0])
    for column, value in {"payload": array.tobytes(), **summarise(array)}.items():
        table[column] = table[column].astype(object)
        table.at[row, column] = value
    return table


def test_cache_and_a_tiny_model_built_from_its_manifest(csv, table, tmp_path):
    spec = shop(csv)
    root = tmp_path / "tokens"
    manifest = build_token_cache(validate_sample_table(table.reset_index(drop=True), spec).valid, spec, root)
    assert manifest["token_shape"] == [4, 2]
    assert manifest["tokenizer"]["config"]["categorical"] == [2, 3]
    assert manifest["stream"]["column_vocab"] == [0, 0, 5, 5]  # 3 train categories + missing + unknown
    assert manifest["stream"]["missing_values"] is True
    test = read_token_split(root, "shop", "test")
    r50 = test.tokens[test.sample_ids.index("r50")]
    assert r50[2].tolist() == [1.0, 0.0]  # unknown colour, not missing

    config = stream_config(manifest)
    assert config.column_vocab == (0, 0, 5, 5) and config.missing_values
    torch.manual_seed(0)
    model = OmniVec2(preset("tiny").with_modalities([config]))
    embedding = model.tokenizer("shop")
    assert embedding.codes.num_embeddings == 10
    train = read_token_split(root, "shop", "train")
    tokens = torch.from_numpy(train.tokens.copy())
    model.train()
    loss = task_loss("classification", model.predict("shop", "bought", model.forward_stream(Stream("shop", tokens))),
                     torch.from_numpy(train.targets["bought"].copy()))
    loss.backward()
    assert torch.isfinite(loss) and embedding.codes.weight.grad.abs().sum() > 0
    assert embedding.missing.grad[0].abs().sum() > 0 and embedding.missing.grad[1].abs().sum() == 0  # income: never missing

    mask = make_mask(config.mask_strategy, len(tokens), 4, config.mask_ratio, generator=torch.Generator().manual_seed(0))
    masked_loss, _ = StageObjective(model)([MaskedItem("shop", tokens, mask)], use_cross=False)
    assert torch.isfinite(masked_loss)

    logits = predict_task(model, "shop", "bought", torch.from_numpy(test.tokens.copy()))
    assert logits.shape == (15, 2) and torch.isfinite(logits).all()
    save_checkpoint(tmp_path / "ckpt", model)
    restored = load_model(tmp_path / "ckpt")
    assert restored.config.modality("shop").column_vocab == (0, 0, 5, 5) and restored.config.modality("shop").missing_values
    assert torch.equal(predict_task(restored, "shop", "bought", torch.from_numpy(test.tokens.copy())), logits)


def test_a_new_train_category_changes_the_cache_key(tmp_path):
    frame = shop_frame()
    keys = []
    for colour in ("red", "orange"):
        frame.loc[0, "colour"] = colour
        frame.to_csv(tmp_path / "shop.csv", index=False)
        spec = shop(tmp_path / "shop.csv")
        keys.append(build_token_cache(load_source(spec, spec.source, seed=0), spec, tmp_path / colour)["cache_key"])
    assert keys[0] != keys[1]


def test_the_reader_records_each_column_s_category_names_for_the_tokenizer(csv):
    spec = shop(csv)
    table, names, categories = read_source_vocabularies(spec, spec.source, seed=0)
    assert categories == {"colour": ["blue", "green", "red"], "size": ["L", "M", "S"]}  # train split, code order
    assert names == {"bought": ("no", "yes")}
    named = with_categories(spec, categories)
    assert named.tokenizer.categories == (("colour", ("blue", "green", "red")), ("size", ("L", "M", "S")))
    assert named.tokenizer.categorical == spec.tokenizer.categorical == (2, 3)
    assert with_categories(resolve_dataset("wine", WINE), {}) == resolve_dataset("wine", WINE)  # no categorical column
    with pytest.raises(ValueError, match=r"dataset 'shop': the ingestion recorded category names for columns "
                                         r"\['colour'\], but its source declares categorical_columns \['colour', 'size'\]"):
        with_categories(spec, {"colour": ["red"]})


@pytest.mark.parametrize("options, message", [
    ({"categorical_columns": ["colour", "colour"]}, r"categorical_columns names a column twice"),
    ({"categorical_columns": "colour"}, r"categorical_columns must be a list of column names"),
    ({"feature_columns": ["age", "income", "colour", "id"]}, r"categorical_columns \['size'\] are not among"),
    ({"allow_missing": "yes"}, r"allow_missing must be true or false"),
    ({"categorical_columns": ["a", "b", "c", "d", "e"]}, r"5 categorical column\(s\) .* do not fit in the table's 4"),
])
def test_table_options_that_do_not_fit_are_refused_naming_the_dataset(tmp_path, options, message):
    with pytest.raises(ValueError, match=r"dataset 'shop': " + message):
        shop(tmp_path / "shop.csv", **options)


def test_text_in_a_numeric_column_names_the_file_column_and_row(tmp_path):
    frame = shop_frame()
    frame["income"] = frame["income"].astype(object)
    frame.loc[4, "income"] = "lots"
    frame.to_csv(tmp_path / "shop.csv", index=False)
    spec = shop(tmp_path / "shop.csv", feature_columns=["age", "income", "colour", "size"])
    with pytest.raises(SourceError, match=r"dataset 'shop': .*shop\.csv: column 'income', row 5: 'lots' is not a number"):
        load_source(spec, spec.source, seed=0)
