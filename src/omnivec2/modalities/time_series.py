"""Time series: univariate or multivariate series `[channels, length]`, patches of `patch` steps, masking 0.4."""

from omnivec2.modalities.series import SERIES_HELP, SERIES_SETTINGS, series_parts
from omnivec2.modalities.spec import Modality

TIME_SERIES = Modality(
    name="time_series",
    settings=dict(SERIES_SETTINGS),
    help=SERIES_HELP,
    build=series_parts,
    description="series [channels, length]; time patches",
)
