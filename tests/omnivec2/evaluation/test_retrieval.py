import numpy as np
import pytest

from omnivec2.evaluation.retrieval import cca_retrieval, pair_rows, retrieval_metrics


def test_rank1_and_map_on_a_hand_made_ranking():
    query = np.array([[1.0, 0.0], [0.0, 1.0]])
    gallery = np.array([[1.0, 0.1], [0.9, 0.5], [0.0, 1.0]])  # cosine to q0: 0.995, 0.874, 0 ; to q1: 0.1, 0.486, 1
    metrics = retrieval_metrics(query, gallery, np.array([7, 8]), np.array([8, 7, 8]))
    # q0 (id 7): the relevant item is ranked 2nd -> hit@1 0, AP 1/2; q1 (id 8): relevant at ranks 1 and 3 -> AP (1 + 2/3)/2
    assert metrics["rank1"] == pytest.approx(0.5)
    assert metrics["map"] == pytest.approx((0.5 + (1 + 2 / 3) / 2) / 2)
    assert metrics["chance_rank1"] == pytest.approx(0.5)


def test_a_query_without_any_relevant_item_is_an_error():
    with pytest.raises(ValueError, match="1 of 1 queries have no relevant item"):
        retrieval_metrics(np.ones((1, 2)), np.ones((2, 2)), np.array([3]), np.array([1, 2]))


def test_pair_rows_matches_scene_ids_across_markers():
    q, g = pair_rows(["a-rgb00", "a-rgb01", "b-rgb00"], ["b-ir00", "a-ir01", "c-ir00"], "-rgb", "-ir")
    assert q.tolist() == [1, 2] and g.tolist() == [1, 0]
    with pytest.raises(ValueError, match="no query id"):
        pair_rows(["a-rgb00"], ["a-ir00"], "-x", "-ir")


def test_cca_retrieval_finds_shared_identity_and_not_noise():
    rng = np.random.default_rng(0)
    identities = rng.standard_normal((40, 6))  # 40 identities, 6 latent factors
    camera_a, camera_b = rng.standard_normal((6, 30)), rng.standard_normal((6, 37))  # two different sensors

    def views(latent):
        """Latent `[S, 6]` -> the two sensors' readings `[S, 30]`, `[S, 37]` (one non-linear), noisy."""
        return (latent @ camera_a + 0.1 * rng.standard_normal((len(latent), 30)),
                np.tanh(latent @ camera_b) + 0.1 * rng.standard_normal((len(latent), 37)))

    train_ids, test_ids = np.repeat(np.arange(40), 5), np.arange(40)
    train_q, train_g = views(identities[train_ids] + 0.05 * rng.standard_normal((200, 6)))
    test_q, test_g = views(identities)
    aligned = cca_retrieval(train_q, train_g, test_q, test_g, test_ids, test_ids, components=6)
    assert aligned["rank1"] > 0.8 and aligned["map"] > 0.8
    noise = cca_retrieval(rng.standard_normal((200, 30)), rng.standard_normal((200, 37)), rng.standard_normal((40, 30)),
                          rng.standard_normal((40, 37)), test_ids, test_ids, components=6)
    assert noise["rank1"] < 0.25


def test_the_token_embedding_keeps_each_token_in_its_place_and_pools_to_the_shared_embedding():
    """`token_embedding` `[S, N * D_g]` is g's single-stream output token by token: its mean over the N
    tokens is the pooled `shared_embedding`, and moving one input token changes where its features sit."""
    import torch

    from omnivec2.evaluation.retrieval import shared_embedding, token_embedding
    from tests.default_suite import DATASETS
    from tests.omnivec2.model.helpers import example_tokens, tiny_model

    model = tiny_model(0)
    tokens = torch.from_numpy(example_tokens(DATASETS["image"], 5)).float()
    grid = token_embedding(model, "image", tokens, batch_size=2)
    n, dim = tokens.shape[1], model.config.dim_g
    assert grid.shape == (5, n * dim)
    assert np.allclose(grid.reshape(5, n, dim).mean(axis=1), shared_embedding(model, "image", tokens), atol=1e-5)
    swapped = tokens.clone()
    swapped[:, [0, 1]] = swapped[:, [1, 0]]  # two patches trade places: the same content, another layout
    moved = token_embedding(model, "image", swapped)
    assert not np.allclose(moved, grid, atol=1e-4)


def test_padding_tokens_are_zeros_in_the_token_embedding_with_the_key_padding_mask():
    from omnivec2.evaluation.retrieval import token_embedding
    from tests.omnivec2.model.helpers import graph_with_noisy_padding, tiny_model

    tokens, noisy = graph_with_noisy_padding()
    model = tiny_model(0, key_padding_mask=True)
    grid, noisy_grid = token_embedding(model, "graph", tokens), token_embedding(model, "graph", noisy)
    half = tokens.shape[1] // 2
    assert np.allclose(grid, noisy_grid, atol=1e-5)
    assert not grid.reshape(len(tokens), tokens.shape[1], -1)[:, half:].any()
