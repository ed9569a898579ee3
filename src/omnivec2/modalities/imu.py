"""IMU: inertial sensor streams (accelerometer, gyroscope, magnetometer axes as channels), time patches."""

from omnivec2.modalities.series import SERIES_HELP, SERIES_SETTINGS, series_parts
from omnivec2.modalities.spec import Modality

IMU = Modality(
    name="imu",
    settings={**SERIES_SETTINGS, "channels": 6, "length": 100},
    help=SERIES_HELP,
    build=series_parts,
    description="inertial axes [channels, length]; time patches",
)
