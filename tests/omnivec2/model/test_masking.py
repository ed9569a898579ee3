import pytest
import torch

from omnivec2.model.masking import gather_tokens, make_mask, num_masked


@pytest.mark.parametrize("strategy", ["random", "span", "token"])
@pytest.mark.parametrize("n,ratio", [(16, 0.75), (13, 0.3), (10, 0.4), (50, 0.15)])
def test_every_strategy_hides_exactly_the_ratio(strategy, n, ratio):
    mask = make_mask(strategy, 8, n, ratio, generator=torch.Generator().manual_seed(0))
    assert (mask.masked.sum(1) == num_masked(n, ratio)).all()
    assert mask.keep.shape == (8, n - num_masked(n, ratio))
    assert not mask.masked.gather(1, mask.keep).any()  # kept tokens are exactly the unmasked ones


def test_tube_mask_hides_the_same_spatial_positions_in_every_frame():
    frames, spatial = 4, 9
    mask = make_mask("tube", 3, frames * spatial, 0.67, period=spatial,
                     generator=torch.Generator().manual_seed(0))
    grid = mask.masked.view(3, frames, spatial)
    assert (grid == grid[:, :1]).all()
    assert (grid[:, 0].sum(1) == num_masked(spatial, 0.67)).all()


def test_restore_inverts_the_shuffle():
    x = torch.arange(2 * 10, dtype=torch.float32).view(2, 10, 1)
    mask = make_mask("random", 2, 10, 0.5, generator=torch.Generator().manual_seed(3))
    shuffled = gather_tokens(x, torch.argsort(mask.restore, dim=1))
    assert torch.equal(gather_tokens(shuffled, mask.restore), x)


def test_unknown_strategy_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown mask strategy 'blocks'"):
        make_mask("blocks", 1, 4, 0.5)
