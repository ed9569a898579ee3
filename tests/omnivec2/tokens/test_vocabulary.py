"""Text vocabulary pruning (`prune_vocabulary`, issue 13): ids the train split uses (and the special
tokens) get a dense range, every other id becomes [UNK], and the map travels in the fit statistics."""

import json

import numpy as np
import pytest

from omnivec2.modalities import MODALITIES
from omnivec2.tokens.vocabulary import kept_ids, prune_ids, unprune_ids
from omnivec2.tokens.wordpiece import VOCAB_SIZE, WordPieceIds

TRAIN = ["the cat sat on the mat", "a dog barked at the cat"]


def utf8(texts: list[str]) -> list[np.ndarray]:
    return [np.frombuffer(t.encode("utf-8"), np.uint8) for t in texts]


def test_vocabulary_pruning_round_trips_ids():
    """encode -> prune -> unprune gives back the original ids of in-vocabulary tokens; the others
    come back as [UNK]."""
    tokenizer = WordPieceIds(length=16, prune=True)
    stats = json.loads(json.dumps(tokenizer.fit(utf8(TRAIN))))  # as stored in the manifest
    kept = stats["kept_ids"]
    unk = 100  # [UNK] of the BERT-uncased vocabulary
    full = WordPieceIds(length=16)
    seen = full.original_ids(utf8(["the cat sat on the mat"]))  # [1, 16], every id in train
    dense = tokenizer.transform(utf8(["the cat sat on the mat"]), stats)[..., 0]  # [1, 16]
    assert dense.max() < len(kept) and np.array_equal(unprune_ids(dense, kept), seen)
    new = utf8(["the zebra sat on the mat"])  # "zebra" never occurs in train
    original, back = full.original_ids(new), unprune_ids(tokenizer.transform(new, stats)[..., 0], kept)
    unseen = ~np.isin(original, kept)
    assert unseen.sum() >= 1
    assert np.array_equal(back[~unseen], original[~unseen]) and (back[unseen] == unk).all()


def test_pruning_keeps_pad_at_zero_and_every_special_token():
    kept = WordPieceIds(length=16, prune=True).fit(utf8(TRAIN))["kept_ids"]
    assert kept[0] == 0  # [PAD] stays 0: padding detection and the key-padding mask still find it
    assert {0, 100, 101, 102, 103} <= set(kept)  # [PAD] [UNK] [CLS] [SEP] [MASK]
    assert len(kept) < 40


def test_the_vocabulary_size_the_model_sees_shrinks():
    pruned, full = WordPieceIds(length=16, prune=True), WordPieceIds(length=16)
    stats = pruned.fit(utf8(TRAIN))
    assert pruned.stream_fields(stats) == {"vocab_size": len(stats["kept_ids"]), "own_vocabulary": True}
    assert len(stats["kept_ids"]) < VOCAB_SIZE
    assert full.fit(utf8(TRAIN)) == {} and full.stream_fields({}) == {}


def test_off_the_tokenizer_config_and_ids_are_as_before():
    default = WordPieceIds(length=16)
    assert "prune" not in default.config()  # the cache key of caches built before the switch
    assert WordPieceIds(length=16, prune=True).config()["prune"] is True
    settings, parts = MODALITIES["text"].resolve({}, "dataset 'text', shape")
    assert "prune_vocabulary" not in settings and parts.tokenizer == default.__class__(length=64)
    settings, parts = MODALITIES["text"].resolve({"prune_vocabulary": True}, "dataset 'text', shape")
    assert settings["prune_vocabulary"] is True and parts.tokenizer.prune


def test_prune_and_unprune_by_hand():
    kept = kept_ids(np.array([[7, 3, 3, 12]]), [0, 1])  # -> [0, 1, 3, 7, 12]
    assert kept == [0, 1, 3, 7, 12]
    assert prune_ids(np.array([12.0, 3.0, 5.0, 0.0]), kept, unk_id=1).tolist() == [4.0, 2.0, 1.0, 0.0]
    assert unprune_ids(np.array([4, 2, 1, 0]), kept).tolist() == [12, 3, 1, 0]
    with pytest.raises(ValueError, match="keep \\[UNK\\]"):
        prune_ids(np.array([3]), [0, 3], unk_id=1)
    with pytest.raises(ValueError, match="dense ids"):
        unprune_ids(np.array([5]), kept)


def test_transform_without_the_fitted_map_is_refused():
    with pytest.raises(ValueError, match="kept_ids"):
        WordPieceIds(length=16, prune=True).transform(utf8(TRAIN), {})


def test_the_cache_carries_the_map_and_the_network_and_predict_use_it(tmp_path):
    """A pruned text dataset: its manifest holds the kept ids and the shrunk vocab_size, the network
    built from the manifest predicts over V ids, and predict's tokenizer gives the cached ids."""
    import torch

    from omnivec2.data.sample_table import decode_payloads
    from omnivec2.data.sources import load_source
    from omnivec2.datasets.config import resolve_dataset
    from omnivec2.inference.predict import inference_spec
    from omnivec2.model import OmniVec2, preset
    from omnivec2.tokens.cache import build_token_cache, read_token_split
    from omnivec2.training.stage_runner import stream_config

    path = tmp_path / "texts.jsonl"
    words = ["calm", "storm", "river", "mountain", "bright", "quiet"]
    path.write_text("".join(json.dumps({"text": f"{words[i % 6]} day {i}", "label": i % 3}) + "\n" for i in range(30)))
    spec = resolve_dataset("notes", {"modality": "text", "shape": {"max_tokens": 8, "prune_vocabulary": True},
                                     "source": {"kind": "text_table", "path": str(path)},
                                     "tasks": {"sentiment": {"kind": "classification", "classes": ["a", "b", "c"]}}})
    table = load_source(spec, spec.source, seed=0)
    manifest = build_token_cache(table, spec, tmp_path / "cache")
    kept = manifest["fit_stats"]["kept_ids"]
    assert manifest["stream"]["vocab_size"] == len(kept) < 100
    stream = stream_config(manifest)
    torch.manual_seed(0)
    model = OmniVec2(preset("tiny").with_modalities([stream]))
    assert model.decoders["notes"].pred.out_features == len(kept)
    assert model.tokenizer("notes").ids.num_embeddings == len(kept)
    assert "notes__token_ids" in model.embeddings  # its ids are its own: not shared with other text datasets
    description = {"fit_stats": manifest["fit_stats"], "modality": "text", "settings": manifest["stream"]["settings"]}
    again = inference_spec(model, "notes", description)
    test_rows = table[table["split"] == "test"]
    cached = read_token_split(tmp_path / "cache", "notes", "test").tokens
    served = again.tokenizer.transform(decode_payloads(test_rows), description["fit_stats"])
    assert np.array_equal(served, cached) and cached.max() < len(kept)
