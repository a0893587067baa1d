import pytest

from nnunet_lunet.errors import LUnetError
from nnunet_lunet.widths import flat_name, flat_widths, matching_scale, scaled_name, scaled_widths


def test_flat_widths_are_constant():
    assert flat_widths(16, 5) == [16] * 5
    assert flat_widths(1, 3) == [1, 1, 1]


def test_scaled_widths_round_and_keep_one_channel():
    default = [32, 64, 128, 256, 320, 320]
    assert scaled_widths(default, 0.75) == [24, 48, 96, 192, 240, 240]
    assert scaled_widths(default, 0.5) == [16, 32, 64, 128, 160, 160]
    assert scaled_widths(default, 0.25) == [8, 16, 32, 64, 80, 80]
    assert scaled_widths([3, 5], 0.1) == [1, 1]  # floor of one channel
    assert scaled_widths(default, 1.0) == default


@pytest.mark.parametrize("width", [0, -4, 2.5, True])
def test_invalid_width_is_rejected(width):
    with pytest.raises(LUnetError, match="width"):
        flat_widths(width, 4)


@pytest.mark.parametrize("scale", [0, -0.5, 1.01, 2])
def test_invalid_scale_is_rejected(scale):
    with pytest.raises(LUnetError, match=r"\(0, 1\]"):
        scaled_widths([32, 64], scale)


def test_names():
    assert flat_name(16) == "lunet16"
    assert scaled_name(0.75) == "scaled75"
    assert scaled_name(0.25) == "scaled25"


def test_matching_scale_finds_the_nearest_count():
    count = lambda s: round(1000 * s ** 2)  # noqa: E731  a monotone stand-in for a parameter count
    assert abs(matching_scale(count, 250) - 0.5) < 1e-3
    assert matching_scale(count, 2000) == 1.0  # beyond the largest network: the default itself
    assert count(matching_scale(count, 1)) in (0, 1, 2)


def test_matching_scale_picks_the_nearer_of_two_steps():
    steps = lambda s: 100 if s < 0.5 else 200  # noqa: E731  widths change in steps: no scale hits 140 exactly
    assert steps(matching_scale(steps, 140)) == 100
    assert steps(matching_scale(steps, 160)) == 200
