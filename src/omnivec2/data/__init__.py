"""Sample tables: ingestion sources per modality and the table format they share."""
