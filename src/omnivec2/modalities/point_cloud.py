"""Point cloud: surface samples of 92 real Open Inventor meshes under random 3-D rotations.

Data card
---------
* Provenance: Debian `inventor-data` 2.1.5-10+dfsg-2 (SGI Open Inventor sample models; LGPL-2+),
  flattened with `ivfix` from `inventor-clients` (`omnivec2.data.sources.inventor_meshes`).
  97 files -> 92 distinct meshes in 15 folder categories (chesschairs.iv does not flatten, 4
  duplicates or empty geometries are dropped).
* Generator (`inventor_points`): per mesh 12 rotations, each a fresh area-weighted uniform sample
  of 1024 surface points rotated by a Haar-uniform rotation; seed-deterministic per sample.
* Task `object` (92 classes, 12 samples each): instance identity under SO(3). The folders hold
  2-17 very different models each (household: mug, teapot, plug, outlet...), so category
  recognition on unseen models has almost nothing to generalise from; instance recognition is
  the learnable task the data supports (datasets.md: 1-NN on D2 histograms 0.86).
* Splits (1104 samples): per model 8 train / 1 val / 3 test rotations -> 736 / 92 / 276.
* Tokens: farthest-point sampling of 64 centres + 16-NN groups -> 64 tokens of 16*3 + 3
  (members relative to the centre, then the centre), embedded by a mini-PointNet.
* Masking: random 0.6 (Point-MAE); reconstruction MSE on whole tokens (centred members + centre).
  Chamfer distance between the predicted and true member sets would respect their order
  invariance; MSE relies on the deterministic nearest-first order.
* User data: `{kind: point_folder, path: <dir or s3://...>}` with ModelNet-style class folders of
  `.off`, ASCII `.ply` or `.npy` point sets (`omnivec2.data.sources.point_files`); the class
  count must not exceed 92 (the head's size) and labels go into the `object` column.
"""

from omnivec2.data.sources.inventor_catalog import EXPECTED_MESHES
from omnivec2.data.sources import register_source
from omnivec2.data.sources.inventor_points import load_inventor_points
from omnivec2.data.sources.point_files import load_point_folder
from omnivec2.model.embeddings import register_embedding
from omnivec2.model.embeddings_pointcloud import MiniPointNetEmbedding
from omnivec2.modalities.spec import MaskSpec, ModalitySpec, PayloadSpec, TaskSpec
from omnivec2.tokens.point_groups import PointGroups

POINTS = 1024

register_source("inventor_points", load_inventor_points)
register_source("point_folder", load_point_folder)
register_embedding("mini_pointnet", MiniPointNetEmbedding)

POINT_CLOUD = ModalitySpec(
    name="point_cloud",
    payload=PayloadSpec(shape=(POINTS, 3), dtype="float32", value_range=(-1.0, 1.0), max_bytes=POINTS * 3 * 4),
    tokenizer=PointGroups(groups=64, k=16),
    embedding="mini_pointnet",
    mask=MaskSpec(ratio=0.6, strategy="random"),
    tasks=(TaskSpec("object", "classification", num_classes=EXPECTED_MESHES),),
    norm_targets=False,
    default_source={"kind": "inventor_points", "rotations": 12, "points": POINTS},
    description=(
        "Points sampled uniformly on 92 real Open Inventor meshes (Debian inventor-data, LGPL-2+), "
        "12 random SO(3) rotations each; task: object identity (92) on unseen rotations, split per model "
        "8/1/3 -> 736/92/276; FPS 64 centres + 16-NN groups -> 64 tokens of 51, mini-PointNet embedding"
    ),
)
