import numpy as np
import torch

from omnivec2.tokens.point_groups import PointGroups
from omnivec2.model.config import ModalityConfig
from omnivec2.tokens.spectrogram import LogMelPatches, spectrogram_grid
from omnivec2.training.augment import (augment_batch, augment_spectrogram, patches_from_spectrogram,
                                       random_rotations, rotate_point_groups, spectrogram_from_patches)


def augment_tokens(stream, tokens, generator=None):
    """A batch's tokens through `augment_batch`, without targets."""
    return augment_batch(stream, tokens, {}, generator)[0]


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
    stream = ModalityConfig(name="image", num_tokens=16, token_dim=27)
    assert augment_tokens(stream, tokens) is tokens
    point_cloud = ModalityConfig(name="point_cloud", num_tokens=16, token_dim=27, embedding="mini_pointnet")
    changed = augment_tokens(point_cloud, tokens, torch.Generator().manual_seed(0))
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
    # a list names the datasets or kinds augmented: the point clouds are left as they are when it leaves them out
    assert torch.equal(first_point_cloud_batch(["tabular", "spectrogram"])["point_cloud"], plain["point_cloud"])
    assert torch.equal(first_point_cloud_batch(["point_cloud"])["point_cloud"], augmented["point_cloud"])
    assert torch.equal(first_point_cloud_batch(["rotation"])["point_cloud"], augmented["point_cloud"])


def test_augment_takes_true_false_or_a_list_of_datasets_and_refuses_the_rest():
    import pytest

    from omnivec2.training.config import TrainConfig

    audio = ModalityConfig(name="voices", num_tokens=4, token_dim=8, spectrogram_grid=(2, 2, 2, 4))
    clouds = ModalityConfig(name="point_cloud", num_tokens=4, token_dim=9, embedding="mini_pointnet")
    image = ModalityConfig(name="image", num_tokens=4, token_dim=9)
    by_name = TrainConfig(stage="train_multitask", augment=["voices"])
    assert by_name.augment == ("voices",) and by_name.augments(audio) and not by_name.augments(clouds)
    assert TrainConfig.from_dict(by_name.to_dict() | {"augment": list(by_name.augment)}) == by_name  # Ray's JSON round trip
    by_kind = TrainConfig(stage="train_multitask", augment=["spectrogram"])
    assert by_kind.augments(audio) and not by_kind.augments(clouds) and not by_kind.augments(image)
    assert TrainConfig(stage="train_multitask", augment=True).augments(image)
    assert not TrainConfig(stage="train_multitask").augments(audio)
    for bad in ([], "audio", [""], [1]):
        with pytest.raises(ValueError, match="training.augment must be true, false or a non-empty list of dataset names"):
            TrainConfig(stage="train_multitask", augment=bad)


def test_the_spectrogram_grid_undoes_the_log_mel_patching():
    tokenizer = LogMelPatches(frames=48, n_mels=32, patch_mels=8, patch_frames=6)
    waves = list(np.random.default_rng(0).normal(scale=0.1, size=(2, 8000)).astype(np.float32))
    stats = tokenizer.fit(waves)
    tokens = torch.from_numpy(tokenizer.transform(waves, stats))  # [2, 4*8, 48]
    grid = spectrogram_grid(tokenizer.config())
    assert grid == (4, 8, 8, 6) and spectrogram_grid({"kind": "image_patches"}) == ()
    expected = (tokenizer.log_mel(waves) - stats["mean"]) / stats["std"]  # [2, 32, 48]
    spectrogram = spectrogram_from_patches(tokens, grid)
    assert torch.allclose(spectrogram, torch.from_numpy(expected).float(), atol=1e-5)
    assert torch.equal(patches_from_spectrogram(spectrogram, grid), tokens)


def test_spectrogram_augmentation_shifts_bands_and_masks_whole_bands_and_frames():
    grid = (4, 12, 16, 8)  # the default audio stream: 64 mels x 96 frames
    # every band holds its index (+1) and every frame the same: a shift moves values, masks zero them
    spectrogram = (torch.arange(64, dtype=torch.float32) + 1).reshape(1, 64, 1).expand(32, 64, 96)
    tokens = patches_from_spectrogram(spectrogram.contiguous(), grid)
    out = augment_spectrogram(tokens, grid, torch.Generator().manual_seed(0))
    assert out.shape == tokens.shape
    assert torch.equal(out, augment_spectrogram(tokens, grid, torch.Generator().manual_seed(0)))
    result = spectrogram_from_patches(out, grid)
    kept = result != 0
    # a zero cell lies in a band that is zero across every unmasked frame or a frame zero across bands
    hidden_frames = (~kept).all(dim=1)  # [B, T]
    hidden_bands = (~kept).all(dim=2)  # [B, M]
    assert torch.equal(~kept, hidden_frames.unsqueeze(1) | hidden_bands.unsqueeze(2))
    assert hidden_frames.sum(1).max() <= 2 * 9 and hidden_bands.sum(1).max() <= 2 * 8
    assert hidden_frames.any() and hidden_bands.any()
    # what is kept is the input shifted by at most 3 bands (64 // 20), edges repeated
    shift = (result - spectrogram).masked_fill(~kept, 0)
    assert shift.abs().max() <= 3 and (shift != 0).any()
    assert torch.all((result[kept] >= 1) & (result[kept] <= 64))


def test_audio_batches_are_augmented_through_their_stream_config_and_others_are_not():
    grid = (4, 12, 16, 8)
    audio = ModalityConfig(name="audio", num_tokens=48, token_dim=128, spectrogram_grid=grid)
    tokens = torch.randn(8, 48, 128)
    changed = augment_tokens(audio, tokens, torch.Generator().manual_seed(0))
    assert changed.shape == tokens.shape and not torch.equal(changed, tokens)
    image = ModalityConfig(name="image", num_tokens=48, token_dim=128)
    assert augment_tokens(image, tokens, torch.Generator().manual_seed(0)) is tokens


def test_a_log_mel_cache_manifest_gives_its_stream_the_spectrogram_grid():
    from omnivec2.training.stage_runner import stream_config

    stream = {"modality": "audio", "embedding": "patch_linear", "mask_ratio": 0.8, "mask_strategy": "random",
              "tube_period": 1, "norm_targets": True, "reconstruction": "mse", "vocab_size": 0}
    manifest = {"dataset": "speech", "token_shape": [48, 128], "stream": stream, "tasks": [],
                "tokenizer": {"config": LogMelPatches().config()}}
    config = stream_config(manifest)
    assert config.spectrogram_grid == (4, 12, 16, 8)
    assert stream_config({**manifest, "tokenizer": {"config": {"kind": "image_patches"}}}).spectrogram_grid == ()
    from omnivec2.model.config import ModelConfig, preset
    restored = ModelConfig.from_dict(preset("tiny").with_modalities([config]).to_dict())
    assert restored.modality("speech").spectrogram_grid == (4, 12, 16, 8)


def test_flipping_the_patch_tokens_is_patching_the_mirrored_image_and_its_labels():
    from omnivec2.tokens.patches import ImagePatches, patchify_labels
    from omnivec2.training.augment import flip_patch_grid

    rng = np.random.default_rng(0)
    images = rng.random((3, 2, 8, 12)).astype(np.float32)  # [B, C, H, W]: 2 x 3 patches of 4 x 4
    labels = (images[:, 0] > 0.5).astype(np.int64)  # a dense task's pixel labels
    task = type("Task", (), {"name": "mask", "outputs_per_token": 16})()
    patches = ImagePatches(patch=4)
    tokens = torch.from_numpy(patches.transform(list(images), {}))
    label_tokens = torch.from_numpy(patchify_labels(list(labels), 4, task))
    flipped = torch.tensor([True, False, True])
    mirrored = images.copy()
    mirrored[flipped.numpy()] = mirrored[flipped.numpy()][..., ::-1]
    mirrored_labels = labels.copy()
    mirrored_labels[flipped.numpy()] = mirrored_labels[flipped.numpy()][..., ::-1]
    assert torch.equal(flip_patch_grid(tokens, (2, 3, 2, 4), flipped), torch.from_numpy(patches.transform(list(mirrored), {})))
    assert torch.equal(flip_patch_grid(label_tokens, (2, 3, 1, 4), flipped),
                       torch.from_numpy(patchify_labels(list(mirrored_labels), 4, task)))


def test_a_flipped_batch_keeps_its_dense_labels_on_their_pixels_and_its_class_labels_as_they_are():
    from omnivec2.model.config import TaskConfig
    from omnivec2.tokens.patches import ImagePatches, patchify_labels

    rng = np.random.default_rng(1)
    images = rng.random((16, 8, 8)).astype(np.float32)
    task = TaskConfig("mask", "dense", 2, outputs_per_token=16)
    stream = ModalityConfig(name="frames", num_tokens=4, token_dim=16, pixel_grid=(2, 2, 1, 4),
                            tasks=(TaskConfig("category", "classification", 3), task))
    tokens = torch.from_numpy(ImagePatches(patch=4).transform(list(images), {}))
    targets = {"category": torch.arange(16) % 3,
               "mask": torch.from_numpy(patchify_labels(list((images > 0.5).astype(np.int64)), 4, task))}
    out, out_targets = augment_batch(stream, tokens, targets, torch.Generator().manual_seed(0))
    changed = (out != tokens).flatten(1).any(1)
    assert 0 < changed.sum() < 16  # about half the samples mirrored
    assert torch.equal(out_targets["mask"], (out > 0.5).long())  # each label still on its pixel
    assert out_targets["category"] is targets["category"]


def test_flips_reach_only_the_image_streams_a_user_names():
    from omnivec2.training.config import TrainConfig

    frames = ModalityConfig(name="frames", num_tokens=4, token_dim=16, pixel_grid=(2, 2, 1, 4))
    digits = ModalityConfig(name="digits", num_tokens=4, token_dim=16, pixel_grid=(2, 2, 1, 4))
    audio = ModalityConfig(name="voices", num_tokens=4, token_dim=8, spectrogram_grid=(2, 2, 2, 4))
    every = TrainConfig(stage="train_multitask", augment=True)
    assert every.augments(audio) and not every.augments(frames)  # a mirrored digit is another digit
    named = TrainConfig(stage="train_multitask", augment=["spectrogram", "frames"])
    assert named.augments(frames) and not named.augments(digits) and named.augments(audio)
    by_kind = TrainConfig(stage="train_multitask", augment=["flip"])
    assert by_kind.augments(frames) and by_kind.augments(digits) and not by_kind.augments(audio)


def test_an_image_cache_manifest_gives_its_stream_the_pixel_grid():
    from omnivec2.tokens.patches import pixel_grid
    from omnivec2.training.stage_runner import stream_config

    assert pixel_grid({"kind": "image_patches", "patch": 8}, (64, 192), {"size": 64}) == (8, 8, 3, 8)
    assert pixel_grid({"kind": "standardised_patches", "patch": 8}, (32, 64), {"size": [32, 64]}) == (4, 8, 1, 8)
    assert pixel_grid({"kind": "image_patches", "patch": 8}, (64, 64), {"size": 32}) == ()  # not this token shape
    assert pixel_grid({"kind": "log_mel_patches"}, (48, 128), {}) == ()
    stream = {"modality": "depth", "embedding": "patch_linear", "mask_ratio": 0.75, "mask_strategy": "random",
              "tube_period": 1, "norm_targets": True, "reconstruction": "mse", "vocab_size": 0,
              "settings": {"size": 64, "patch": 8}}
    manifest = {"dataset": "frames", "token_shape": [64, 64], "stream": stream, "tasks": [],
                "tokenizer": {"config": {"kind": "image_patches", "patch": 8, "scale": 1.0}}}
    assert stream_config(manifest).pixel_grid == (8, 8, 1, 8)
    from omnivec2.model.config import ModelConfig, preset
    restored = ModelConfig.from_dict(preset("tiny").with_modalities([stream_config(manifest)]).to_dict())
    assert restored.modality("frames").pixel_grid == (8, 8, 1, 8)
