import numpy as np
import torch

from omnivec2.tokens.point_groups import PointGroups
from omnivec2.training.augment import augment_tokens, random_rotations, rotate_point_groups


def test_random_rotations_are_proper_rotations_drawn_from_the_generator():
    rotations = random_rotations(64, torch.Generator().manual_seed(3))
    eye = torch.eye(3).expand(64, 3, 3)
    assert torch.allclose(rotations @ rotations.transpose(1, 2), eye, atol=1e-5)
    assert torch.allclose(torch.linalg.det(rotations), torch.ones(64), atol=1e-5)
    assert torch.equal(rotations, random_rotations(64, torch.Generator().manual_seed(3)))
    # uniform on SO(3): the mean rotation is near zero, not near the identity
    assert rotations.mean(0).abs().max() < 0.25


def test_rotating_the_tokens_is_tokenizing_the_rotated_cloud():
    rng = np.random.default_rng(0)
    clouds = rng.normal(size=(3, 256, 3)).astype(np.float32) * np.array([1.0, 0.6, 0.3], dtype=np.float32)
    rotations = random_rotations(3, torch.Generator().manual_seed(1))
    groups = PointGroups(groups=16, k=8)
    tokens = torch.from_numpy(groups.transform(list(clouds), {}))
    rotated_clouds = np.einsum("bij,bnj->bni", rotations.numpy(), clouds)
    expected = torch.from_numpy(groups.transform(list(rotated_clouds), {}))
    assert torch.allclose(rotate_point_groups(tokens, rotations), expected, atol=1e-4)


def test_streams_without_a_label_preserving_augmentation_are_left_as_they_are():
    tokens = torch.randn(4, 16, 27)
    assert augment_tokens("patch_linear", tokens) is tokens
    changed = augment_tokens("mini_pointnet", tokens, torch.Generator().manual_seed(0))
    assert changed.shape == tokens.shape and not torch.allclose(changed, tokens)
    # lengths (norms of each xyz triple) are what a rotation keeps
    assert torch.allclose(changed.reshape(4, -1, 3).norm(dim=-1), tokens.reshape(4, -1, 3).norm(dim=-1), atol=1e-5)


def test_stage3_rotates_point_cloud_batches_only_when_augment_is_on():
    from omnivec2.training.config import TrainConfig
    from omnivec2.training.trainer import StageTrainer
    from tests.omnivec2.model.helpers import tiny_model
    from tests.omnivec2.training.helpers import fixed_data

    def first_point_cloud_batch(augment: bool):
        config = TrainConfig(stage="train_multitask", steps=10, batch_size=16, seed=0, mode="joint", augment=augment)
        trainer = StageTrainer(tiny_model(0), fixed_data(modalities=("point_cloud", "tabular")), config)
        items, _ = trainer.plan()
        return {i.modality: i.tokens for i in items}

    plain, augmented = first_point_cloud_batch(False), first_point_cloud_batch(True)
    assert torch.equal(plain["tabular"], augmented["tabular"])
    assert not torch.allclose(plain["point_cloud"], augmented["point_cloud"])
    norms = lambda t: t.reshape(len(t), -1, 3).norm(dim=-1)
    assert torch.allclose(norms(plain["point_cloud"]), norms(augmented["point_cloud"]), atol=1e-4)
