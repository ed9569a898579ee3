"""The modality table: every modality family, by name, listed explicitly (MultiMAE's DOMAIN_CONF).

A modality module imports only its tokenizer classes, so anything (the model, the sources, the
pipelines) can read this table at import time. Adding a modality means adding one module and one
line here.
"""

from __future__ import annotations

from omnivec2.config_checks import did_you_mean
from omnivec2.modalities.audio import AUDIO
from omnivec2.modalities.depth import DEPTH
from omnivec2.modalities.graph import GRAPH
from omnivec2.modalities.hyperspectral import HYPERSPECTRAL
from omnivec2.modalities.image import IMAGE
from omnivec2.modalities.imu import IMU
from omnivec2.modalities.infrared import INFRARED
from omnivec2.modalities.point_cloud import POINT_CLOUD
from omnivec2.modalities.spec import Modality
from omnivec2.modalities.tabular import TABULAR
from omnivec2.modalities.text import TEXT
from omnivec2.modalities.time_series import TIME_SERIES
from omnivec2.modalities.video import VIDEO
from omnivec2.modalities.xray import XRAY

MODALITIES: dict[str, Modality] = {
    m.name: m
    for m in (IMAGE, VIDEO, AUDIO, TEXT, DEPTH, POINT_CLOUD, TIME_SERIES, TABULAR, GRAPH, XRAY, INFRARED, IMU,
              HYPERSPECTRAL)
}


def register(modality: Modality, *, replace: bool = False) -> Modality:
    """Add a modality family to the table (a user's own modality goes through here)."""
    if modality.name in MODALITIES and MODALITIES[modality.name] is not modality and not replace:
        raise ValueError(f"modality {modality.name!r} is already registered")
    MODALITIES[modality.name] = modality
    return modality


def get_modality(name: str) -> Modality:
    try:
        return MODALITIES[name]
    except (KeyError, TypeError):
        raise KeyError(f"unknown modality {name!r}{did_you_mean([str(name)], MODALITIES)}; "
                       f"known: {sorted(MODALITIES)}") from None
