"""Point cloud: xyz point sets sampled to `points`, farthest-point centres + kNN groups, mini-PointNet.

Tokens: `groups` centres by farthest-point sampling, each with its `group_size` nearest points
relative to the centre, then the centre -> N = groups tokens of group_size*3 + 3; random masking
0.6 (Point-MAE), MSE reconstruction of whole groups.
"""

from omnivec2.modalities.spec import MaskSpec, Modality, ModalityParts, PayloadSpec
from omnivec2.tokens.point_groups import PointGroups


def build(s: dict) -> ModalityParts:
    points, groups, k = int(s["points"]), int(s["groups"]), int(s["group_size"])
    if points < max(groups, k):
        raise ValueError(f"{points} points cannot give {groups} groups of {k}")
    low, high = s["value_range"]
    return ModalityParts(
        payload=PayloadSpec(shape=(points, 3), dtype="float32", value_range=(low, high), max_bytes=points * 3 * 4),
        tokenizer=PointGroups(groups=groups, k=k),
        embedding="mini_pointnet",
        mask=MaskSpec(ratio=0.6, strategy="random"),
    )


POINT_CLOUD = Modality(
    name="point_cloud",
    settings={"points": 1024, "groups": 64, "group_size": 16, "value_range": [-1.0, 1.0]},
    help={"points": "points per cloud (sources sample to it)", "groups": "kNN groups (tokens)",
          "group_size": "points per group", "value_range": "inclusive [min, max] of a coordinate (clouds are normalised)"},
    build=build,
    description="xyz point sets; FPS + kNN groups, mini-PointNet",
)
