"""Pruning schedule: when to prune, how much, when to stop, and targets that cannot be reached."""

import pytest

from nnunet_lunet.pruning.layer_widths import count_channels
from nnunet_lunet.model_stats import count_parameters
from nnunet_lunet.pruning.network import PrunedPlainConvUNet
from nnunet_lunet.pruning.schedule import PruningSchedule, check_target_reachable, min_channel_fraction
from small_unets import small_unet_kwargs

# 3 encoder stages of 2 convs, 2 transposed convs, 2 decoder stages of 2 convs: 12 layers, 92 channels
WIDTHS = {"encoder": [[4, 4], [8, 8], [16, 16]], "transpconv": [8, 4], "decoder": [[8, 8], [4, 4]]}


def test_defaults_and_validation():
    schedule = PruningSchedule()
    assert schedule.fraction_per_step == 0.05 and schedule.target_kind == "channels"
    for bad, match in (
        (dict(target_fraction=0), "target_fraction"),
        (dict(target_fraction=1.5), "target_fraction"),
        (dict(fraction_per_step=0), "fraction_per_step"),
        (dict(fraction_per_step=2), "fraction_per_step"),
        (dict(warmup_epochs=-1), "warmup_epochs"),
        (dict(every_n_epochs=0), "every_n_epochs"),
        (dict(target_kind="flops"), "target_kind"),
    ):
        with pytest.raises(ValueError, match=match):
            PruningSchedule(**bad)
    PruningSchedule(target_fraction=1, fraction_per_step=1)  # both bounds are allowed


def test_pruning_epochs():
    schedule = PruningSchedule(warmup_epochs=3, every_n_epochs=2)
    assert [e for e in range(10) if schedule.is_pruning_epoch(e)] == [3, 5, 7, 9]
    assert [e for e in range(3) if PruningSchedule().is_pruning_epoch(e)] == [0, 1, 2]


def test_steps_are_fractions_of_the_original_count_and_stop_at_the_target():
    schedule = PruningSchedule(fraction_per_step=0.1, target_fraction=0.25)
    original = 200
    assert schedule.n_to_remove(original, 200) == 20
    assert schedule.n_to_remove(original, 100) == 20  # of the original, not of what is left
    assert schedule.n_to_remove(original, 60) == 10  # clipped at the target, 50 channels
    assert schedule.reached(original, 50) and schedule.n_to_remove(original, 50) == 0
    assert not schedule.reached(original, 51)
    assert PruningSchedule(fraction_per_step=0.001).n_to_remove(200, 200) == 1  # at least one channel

    current, steps = original, 0
    while not schedule.reached(original, current):
        current -= schedule.n_to_remove(original, current)
        steps += 1
    assert (current, steps) == (50, 8)


def test_parameter_target():
    schedule = PruningSchedule(fraction_per_step=0.1, target_fraction=0.5, target_kind="parameters")
    assert schedule.n_to_remove(100, 80, original_params=1000, current_params=600) == 10
    assert schedule.n_to_remove(100, 80, original_params=1000, current_params=500) == 0
    with pytest.raises(ValueError, match="needs original_params and current_params"):
        schedule.n_to_remove(100, 80)


def test_unreachable_targets_are_refused_with_the_smallest_reachable_fraction():
    assert min_channel_fraction(WIDTHS) == pytest.approx(12 / count_channels(WIDTHS))
    check_target_reachable(WIDTHS, 0.2)
    with pytest.raises(ValueError, match=r"12 prunable layers.*smallest reachable fraction is 0\.1304"):
        check_target_reachable(WIDTHS, 0.1)

    net = PrunedPlainConvUNet(
        **small_unet_kwargs(deep_supervision=False, norm_op_kwargs={"affine": True}, nonlin_kwargs=None)
    )
    check_target_reachable(WIDTHS, 0.1, target_kind="parameters", net=net)
    with pytest.raises(ValueError, match=r"smallest reachable fraction is 0\.0\d+"):
        check_target_reachable(WIDTHS, 0.001, target_kind="parameters", net=net)
    assert count_parameters(net) > 0
    with pytest.raises(ValueError, match="needs the net"):
        check_target_reachable(WIDTHS, 0.1, target_kind="parameters")
