"""Sample-table validation: a Great Expectations suite per modality, generated from its spec.

Great Expectations is imported lazily (on the first validation, ~3 s).
"""

from omnivec2.validation.checks import Check, checks_for, required_columns
from omnivec2.validation.validate import ValidationFailed, ValidationOutcome, validate_sample_table

__all__ = ["Check", "ValidationFailed", "ValidationOutcome", "checks_for", "required_columns", "validate_sample_table"]
