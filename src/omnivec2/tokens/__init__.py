"""Deterministic tokenizers (the cached half of each modality's tokenizer) and the pyarrow token cache."""
