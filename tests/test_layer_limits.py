"""The per-step limits of a layer (``pruning.layer_limits``): a minimum width and a cap on one step's share."""

import pytest

from nnunet_lunet.pruning.layer_limits import check_floors_allow, min_width, smallest_channels, step_limits


def test_min_width_is_the_largest_of_its_rules():
    assert min_width(32, 4, 0.1) == 4
    assert min_width(320, 4, 0.1) == 32
    assert min_width(3, 0, 0.0) == 1


def test_a_step_takes_at_most_its_share_of_what_a_layer_has_now_and_never_goes_below_the_floor():
    original = {"a": 64, "b": 32, "c": 8}
    limits = step_limits({"a": 40, "b": 6, "c": 8}, original, max_step_share=0.2, min_channels=4,
                         min_width_fraction=0.1)
    # a: 20% of 40 = 8 (floor 7 leaves 33 free); b: 20% of 6 = 1, floor 4 leaves 2; c: 20% of 8 = 1, floor 4
    assert limits == {"a": 8, "b": 1, "c": 1}
    assert step_limits({"a": 7, "b": 3, "c": 8}, original, 0.2, 4, 0.1)["b"] == 0  # already below the floor


def test_floors_that_keep_more_than_the_target_are_refused_with_the_fix():
    original = {"a": 64, "b": 32, "c": 8}
    assert smallest_channels(original, 4, 0.1) == 7 + 4 + 4
    check_floors_allow(original, 15, 4, 0.1)
    with pytest.raises(ValueError, match="keep at least 15 of 104 channels.*lower them or raise the target"):
        check_floors_allow(original, 14, 4, 0.1)
