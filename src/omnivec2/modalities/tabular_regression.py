"""Tabular regression: scikit-learn's diabetes table (10 measurements -> disease progression).

Data card (default source `sklearn_diabetes`):
* provenance: Efron, Hastie, Johnstone & Tibshirani (2004), "Least Angle Regression", bundled with
  scikit-learn (BSD-3-Clause) as `load_diabetes`; read with `scaled=False` (raw units).
* 442 patients: 10 columns (age, sex, BMI, mean blood pressure, serum s1-s6), target `progression`
  (a quantitative measure of disease progression one year after baseline, 25..346).
* splits 70/10/20 from the seed, stratified by target quintile: 309 / 44 / 89.
* target: standardised with train statistics (`progression_raw`, `progression_mean`,
  `progression_std` keep the raw value and the statistics); RMSE/MAE are in standard deviations.
* tokens: 10 columns standardised with train statistics -> 10 tokens of 1 (`per_column` embedding).
* users' formats: `regression_table` (CSV/Parquet with a numeric target, standardised the same way)
  or `table` (raw target).
"""

from omnivec2.data.sources import register_source
from omnivec2.data.sources.diabetes import load_diabetes_source, load_regression_table_source
from omnivec2.modalities.spec import MaskSpec, ModalitySpec, PayloadSpec, TaskSpec
from omnivec2.tokens.columns import NumericColumns

register_source("sklearn_diabetes", load_diabetes_source)
register_source("regression_table", load_regression_table_source)

TABULAR_REGRESSION = ModalitySpec(
    name="tabular_regression",
    payload=PayloadSpec(shape=(10,), dtype="float32", value_range=(0.0, None), max_bytes=10 * 4),
    tokenizer=NumericColumns(),
    embedding="per_column",
    mask=MaskSpec(ratio=0.3, strategy="random"),
    tasks=(TaskSpec("progression", "regression", num_classes=1),),
    norm_targets=False,
    default_source={"kind": "sklearn_diabetes"},
    description=(
        "scikit-learn diabetes (Efron et al. 2004, BSD-3): 442 rows x 10 raw measurements, target disease "
        "progression standardised with train statistics; splits 70/10/20 stratified by target quintile; "
        "10 standardised columns -> 10 tokens of 1"
    ),
)

