"""Pruning schedule: when to prune, how much, when to stop, and targets that cannot be reached."""

import pytest

from nnunet_lunet.pruning.layer_widths import count_channels
from nnunet_lunet.model_stats import count_parameters
from nnunet_lunet.pruning.network import PrunedPlainConvUNet
from nnunet_lunet.pruning.schedule import (GradualSchedule, PruningSchedule, channels_at, check_target_reachable,
                                           level_name, min_channel_fraction)
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


# -- the gradual schedule (expected values computed by hand from the rule in the module docstring) -------------------

def _positions(schedule):
    return [(s.epoch, s.iteration) for s in schedule.steps()]


def test_gradual_schedule_of_the_hippocampus_preset():
    # 20 epochs x 25 iterations: warm-up floor(0.2 x 20 + 0.5) = 4 epochs; segments end at 4 + floor(16k/3) = 9, 14,
    # 20; pruning epochs floor(5/2) = 2, 2, floor(6/2) = 3; steps every 50/10 = 5 iterations, then every 75/10 = 7.5.
    schedule = GradualSchedule(epochs=20, iterations_per_epoch=25)
    assert schedule.warmup_epochs == 4
    assert schedule.segment_bounds() == [4, 9, 14, 20]
    assert [schedule.pruning_epochs(k) for k in range(3)] == [2, 2, 3]
    assert schedule.level_epochs() == [9, 14, 20]
    assert _positions(schedule) == (
        [(4, 0), (4, 5), (4, 10), (4, 15), (4, 20), (5, 0), (5, 5), (5, 10), (5, 15), (5, 20)]
        + [(9, 0), (9, 5), (9, 10), (9, 15), (9, 20), (10, 0), (10, 5), (10, 10), (10, 15), (10, 20)]
        + [(14, 0), (14, 7), (14, 15), (14, 22), (15, 5), (15, 12), (15, 20), (16, 2), (16, 10), (16, 17)])
    fractions = [s.fraction for s in schedule.steps()]
    assert fractions == pytest.approx([1 - 0.025 * (i + 1) for i in range(30)])
    assert [fractions[i] for i in (9, 19, 29)] == [0.75, 0.5, 0.25]  # each level's last step lands on it exactly
    assert [s.level_index for s in schedule.steps()] == [0] * 10 + [1] * 10 + [2] * 10
    # steps due before an iteration include that iteration's own
    assert schedule.steps_due(3, 24) == 0 and schedule.steps_due(4, 0) == 1 and schedule.steps_due(4, 4) == 1
    assert schedule.steps_due(4, 5) == 2 and schedule.steps_due(8, 24) == 10 and schedule.steps_due(14, 7) == 22
    assert schedule.steps_due(19, 24) == 30
    assert schedule.levels_recorded_at(9) == [0] and schedule.levels_recorded_at(20) == [2]
    assert schedule.levels_recorded_at(10) == []


def test_gradual_schedule_of_a_short_budget_and_channel_counts():
    # 7 x 2: warm-up max(1, floor(1.4 + 0.5)) = 1; segments of 2 epochs (bounds 1, 3, 5, 7), one pruning epoch each:
    # 2 iterations, so min(10, 2) = 2 steps per level, 12.5% of the original channels each.
    schedule = GradualSchedule(epochs=7, iterations_per_epoch=2)
    assert schedule.segment_bounds() == [1, 3, 5, 7]
    assert _positions(schedule) == [(1, 0), (1, 1), (3, 0), (3, 1), (5, 0), (5, 1)]
    assert [s.fraction for s in schedule.steps()] == [0.875, 0.75, 0.625, 0.5, 0.375, 0.25]
    assert [channels_at(s.fraction, 92) for s in schedule.steps()] == [81, 69, 58, 46, 35, 23]  # ceil(f x 92)
    assert channels_at(0.5, 92) == 46 and channels_at(0.25, 100) == 25 and channels_at(0.251, 100) == 26
    # one level, 4 steps, 3 iterations an epoch over 10 epochs: warm-up 2, segment 2..10, 4 pruning epochs (12
    # iterations), a step every 3 iterations: the start of epochs 2, 3, 4, 5
    one = GradualSchedule(epochs=10, iterations_per_epoch=3, levels=(0.5,), steps_per_level=4)
    assert _positions(one) == [(2, 0), (3, 0), (4, 0), (5, 0)]
    assert [s.fraction for s in one.steps()] == [0.875, 0.75, 0.625, 0.5]
    assert level_name(0.75) == "75" and level_name(0.5) == "50" and level_name(0.125) == "13"


def test_gradual_schedule_refuses_budgets_and_levels_it_cannot_lay_out():
    GradualSchedule(epochs=7, iterations_per_epoch=1)  # the smallest budget for three levels
    with pytest.raises(ValueError, match=r"needs at least 7 epochs \(1 of warm-up.*this run has 6.*NNUNET_LUNET_EPOCHS"):
        GradualSchedule(epochs=6, iterations_per_epoch=5)
    for bad, match in (
        (dict(levels=(0.5, 0.75)), "decreasing"),
        (dict(levels=(0.75, 0.75)), "distinct"),
        (dict(levels=(1.0,)), r"\(0, 1\)"),
        (dict(levels=()), "levels"),
        (dict(warmup_fraction=1), "warmup_fraction"),
        (dict(prune_fraction=1), "prune_fraction"),
        (dict(steps_per_level=0), "steps_per_level"),
        (dict(iterations_per_epoch=0), "iterations_per_epoch"),
    ):
        with pytest.raises(ValueError, match=match):
            GradualSchedule(**{"epochs": 20, "iterations_per_epoch": 25, **bad})


def test_gradual_schedule_with_a_final_stretch_and_steps_sized_by_what_remains():
    # 20 x 25, warm-up floor(3 + 0.5) = 3, final stretch floor(5 + 0.5) = 5: segments over the 12 epochs between,
    # 3 + floor(12k/3) = 7, 11, 15, the last running on to 20; pruning epochs floor(0.75 x 4) = 3 each (75
    # iterations, 8 steps at floor(75j/8)); the learning rate may decay from epoch 11 + 3 = 14.
    schedule = GradualSchedule(epochs=20, iterations_per_epoch=25, warmup_fraction=0.15, prune_fraction=0.75,
                               steps_per_level=8, final_hold_fraction=0.25, step_sizing="remaining")
    assert schedule.warmup_epochs == 3 and schedule.final_hold_epochs == 5
    assert schedule.segment_bounds() == [3, 7, 11, 20]
    assert [schedule.pruning_epochs(k) for k in range(3)] == [3, 3, 3]
    assert schedule.level_epochs() == [7, 11, 20]
    assert schedule.lr_decay_start() == 14
    offsets = [0, 9, 18, 28, 37, 46, 56, 65]
    assert _positions(schedule) == [((start * 25 + o) // 25, o % 25) for start in (3, 7, 11) for o in offsets]
    fractions = [s.fraction for s in schedule.steps()]
    assert [fractions[i] for i in (7, 15, 23)] == [0.75, 0.5, 0.25]
    # every step of a level removes the same share of what remains
    previous = [1.0] + fractions[:-1]
    shares = [1 - f / p for f, p in zip(fractions, previous)]
    for k, level_share in enumerate((1 - 0.75 ** (1 / 8), 1 - (0.5 / 0.75) ** (1 / 8), 1 - 0.5 ** (1 / 8))):
        assert shares[8 * k:8 * k + 8] == pytest.approx([level_share] * 8)
    with pytest.raises(ValueError, match=r"needs at least 12 epochs \(2 of warm-up, 4 of final stretch"):
        GradualSchedule(epochs=11, iterations_per_epoch=5, final_hold_fraction=0.4)
    with pytest.raises(ValueError, match="step_sizing"):
        GradualSchedule(epochs=20, iterations_per_epoch=25, step_sizing="geometric")


def test_the_learning_rate_holds_through_pruning_then_decays():
    import torch

    from nnunet_lunet.trainers.gradual_pruning import HoldThenPolyLR

    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    scheduler = HoldThenPolyLR(optimizer, 1e-3, 20, hold_until=14)
    rates = []
    for epoch in range(20):
        scheduler.step(epoch)
        rates.append(optimizer.param_groups[0]["lr"])
    assert rates[:15] == [1e-3] * 15  # the initial rate through the last pruning epoch (13) and epoch 14
    assert rates[15:] == pytest.approx([1e-3 * (1 - k / 6) ** 0.9 for k in range(1, 6)])


def test_a_net_behind_the_schedule_catches_up_over_the_levels_steps_left():
    # 20 x 25, 8 steps a level sized by what remains, 1632 channels (the Hippocampus preset's net).
    schedule = GradualSchedule(epochs=20, iterations_per_epoch=25, warmup_fraction=0.15, prune_fraction=0.75,
                               steps_per_level=8, final_hold_fraction=0.25, step_sizing="remaining")
    c, steps = 1632, schedule.steps()
    targets = [channels_at(s.fraction, c) for s in steps]
    own = [b - a for b, a in zip([c] + targets[:-1], targets)]
    # on schedule: every step takes exactly its own channels
    assert [schedule.channels_to_remove(i, ([c] + targets)[i], c) for i in range(len(steps))] == own
    # step 17 (the 25% level's second) rolled back: step 18 is 67 channels behind, shared over the level's 6 steps
    # left (12 each) on top of its own, not all taken at once
    i = 18
    behind = targets[16] - targets[17]
    assert behind > 50
    n = schedule.channels_to_remove(i, targets[16], c)
    assert n == own[i] + -(-behind // 6) and n < own[i] + behind
    # far behind: at most twice the step's own channels, so the level's last step may leave it short
    assert schedule.channels_to_remove(i, targets[8], c) == 2 * own[i]
    assert schedule.channels_to_remove(23, targets[16], c) == 2 * own[23]
    # ahead of the schedule (a net already below the step's target): nothing
    assert schedule.channels_to_remove(i, targets[i] - 5, c) == 0
