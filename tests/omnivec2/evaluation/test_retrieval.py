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
