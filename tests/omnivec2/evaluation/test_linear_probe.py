"""Linear probes of the frozen shared features: fitted on train, scored on test, per stage and at init."""

import torch

from omnivec2.checkpoint import load_model
from omnivec2.evaluation.linear_probe import frozen_features, linear_probes
from omnivec2.tokens.cache import read_token_split
from tests.omnivec2.evaluation.helpers import named_class_run


def test_the_features_are_one_pooled_vector_per_sample_at_f_and_at_g(tmp_path):
    _, cache, checkpoint = named_class_run(tmp_path)
    model = load_model(checkpoint)
    tokens = torch.from_numpy(read_token_split(cache, "wine", "test").tokens.copy())
    features = frozen_features(model, "wine", tokens, batch_size=7)  # batches of uneven size
    assert set(features) == {"f", "g"}
    for name, values in features.items():
        assert values.shape == (20, model.config.dim_g), name
    whole = frozen_features(model, "wine", tokens)
    assert all(torch.allclose(torch.from_numpy(whole[k]), torch.from_numpy(features[k]), atol=1e-6) for k in whole)


def test_each_stage_is_probed_and_init_is_the_seeded_untrained_network(tmp_path):
    """The helper's checkpoint is an untrained network built after torch.manual_seed(0): the `init`
    probe (same config, seed 0) must give exactly its figures, and on these separable classes a
    fitted linear probe is far above chance (1/3)."""
    _, cache, checkpoint = named_class_run(tmp_path)
    probes = linear_probes({"train_multitask": checkpoint}, checkpoint, cache, seed=0, max_iter=200)
    assert list(probes["stages"]) == ["init", "train_multitask"]
    assert probes["stages"]["init"] == probes["stages"]["train_multitask"]
    result = probes["stages"]["init"]["wine/cultivar"]
    assert set(result) == {"f", "g"}
    assert result["g"]["accuracy"] > 0.8 and result["f"]["accuracy"] > 0.8


def test_another_seed_gives_another_init(tmp_path):
    _, cache, checkpoint = named_class_run(tmp_path)
    one = linear_probes({}, checkpoint, cache, seed=0, max_iter=200)["stages"]["init"]
    other = linear_probes({}, checkpoint, cache, seed=1, max_iter=200)["stages"]["init"]
    assert one.keys() == other.keys() == {"wine/cultivar"}
