"""Pruning criteria, activation scores and targeted dropout: each does what it claims; no layer goes below 1 channel."""

import itertools

import pytest
import torch

from nnunet_lunet.pruning.activations import collect_activation_scores, remaining_scores
from nnunet_lunet.pruning.criteria import CRITERIA, get_criterion
from nnunet_lunet.pruning.layer_widths import current_widths, layer_names, read_layer_widths
from nnunet_lunet.pruning.surgery import prune_many
from nnunet_lunet.pruning.targeted_dropout import (
    STAMP_P_INITIAL,
    STAMP_P_MAX,
    TargetedDropout,
    dropout_probabilities,
)
from small_unets import one_thread, small_unet  # noqa: F401


def uniform_scores(net) -> dict:
    return {name: torch.ones(width) for name, width in current_widths(net).items()}


def channels(decision: dict) -> int:
    return sum(len(v) for v in decision.values())


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_registry():
    assert sorted(CRITERIA) == ["l1", "l1_unnormalised", "random", "random_in_stamp_layer", "stamp", "widest_layer"]
    for name in CRITERIA:
        assert get_criterion(name).name == name
    with pytest.raises(ValueError, match=r"unknown pruning criterion 'taylor'.*\['l1', 'l1_unnormalised', 'random'"):
        get_criterion("taylor")


def test_widest_layer_always_hits_the_widest_layer():
    widths = read_layer_widths(small_unet())
    widths["decoder"][0][1] = 24  # the one widest layer
    net = small_unet(layer_widths=widths)
    for seed in range(20):
        decision = get_criterion("widest_layer").select(net, 1, None, generator(seed))
        assert list(decision) == ["decoder.stages.0.convs.1.conv"]
    # widths are re-evaluated after each pick: 24 -> 16 first, then the three 16-wide layers (it and the
    # bottleneck's two convs) lose one channel each in turn
    decision = get_criterion("widest_layer").select(net, 8 + 3 * 2, None, generator(0))
    assert {name: len(idxs) for name, idxs in decision.items()} == {
        "encoder.stages.2.0.convs.0.conv": 2,
        "encoder.stages.2.0.convs.1.conv": 2,
        "decoder.stages.0.convs.1.conv": 8 + 2,
    }


def test_stamp_favours_wide_layers_under_uniform_activations():
    net = small_unet()
    for seed in range(10):
        decision = get_criterion("stamp").select(net, 1, uniform_scores(net), generator(seed))
        (name,) = decision
        assert current_widths(net)[name] == 16  # equal channels score 1/sqrt(C): the widest layers go first


def test_stamp_prunes_the_global_minimum_of_layer_normalised_scores():
    net = small_unet()
    scores = uniform_scores(net)
    scores["encoder.stages.0.0.convs.0.conv"][2] = 1e-3  # 1e-3/|v| ~ 5e-4 < 1/sqrt(16)
    scores["decoder.stages.1.convs.1.conv"][0] = 2e-3
    decision = get_criterion("stamp").select(net, 2, scores, generator(0))
    assert decision == {"encoder.stages.0.0.convs.0.conv": [2], "decoder.stages.1.convs.1.conv": [0]}
    # scale within a layer does not matter, only relative size: scaling one layer leaves the choice unchanged
    scores["decoder.transpconvs.0"] *= 1000
    assert get_criterion("stamp").select(net, 2, scores, generator(0)) == decision


def test_random_in_stamp_layer_stays_in_the_stamp_layer():
    net = small_unet()
    scores = uniform_scores(net)
    scores["encoder.stages.0.0.convs.1.conv"][1] = 1e-3
    picked = set()
    for seed in range(20):
        decision = get_criterion("random_in_stamp_layer").select(net, 1, scores, generator(seed))
        assert list(decision) == ["encoder.stages.0.0.convs.1.conv"]
        picked.update(decision["encoder.stages.0.0.convs.1.conv"])
    assert len(picked) > 1  # the channel is random, not STAMP's


def per_layer_counts(decision: dict) -> dict:
    return {name: len(idxs) for name, idxs in decision.items()}


@pytest.mark.parametrize("limited", [False, True])
def test_random_in_stamp_layer_takes_stamps_per_layer_counts_with_other_channels(limited):
    """For the same scores (random, so STAMP spreads a step over many layers) a step's per-layer counts equal
    STAMP's, with and without per-step limits, and the channels chosen differ."""
    net = small_unet()
    widths = current_widths(net)
    limits = {name: 2 for name in widths} if limited else None
    differ = 0
    for seed in range(10):
        scores = {name: torch.rand(width, generator=generator(100 + seed)) for name, width in widths.items()}
        stamp = get_criterion("stamp").select(net, 20, scores, generator(seed), limits)
        random_in_layer = get_criterion("random_in_stamp_layer").select(net, 20, scores, generator(seed), limits)
        assert channels(stamp) == 20
        assert len(stamp) >= 3, stamp  # a step that spreads, not one layer
        assert per_layer_counts(random_in_layer) == per_layer_counts(stamp)
        if limited:
            assert max(per_layer_counts(stamp).values()) <= 2
        differ += random_in_layer != stamp
    assert differ >= 8


def test_limits_bound_every_criterion():
    net = small_unet()
    widths = current_widths(net)
    limits = {name: (0 if i % 2 else 3) for i, name in enumerate(widths)}
    for name in CRITERIA:
        decision = get_criterion(name).select(net, 10_000, uniform_scores(net), generator(0), limits)
        assert per_layer_counts(decision) == {n: 3 for n, limit in limits.items() if limit}, name


def test_l1_picks_the_zeroed_filter():
    net = small_unet()
    with torch.no_grad():
        net.encoder.stages[1][0].convs[0].conv.weight[5] = 0
        net.decoder.transpconvs[1].weight[:, 2] = 0  # a transposed conv's filter is weight[:, c]
    decision = get_criterion("l1").select(net, 2, None, generator(0))
    assert decision == {"encoder.stages.1.0.convs.0.conv": [5], "decoder.transpconvs.1": [2]}


def test_l1_unnormalised_compares_raw_norms_across_layers_and_l1_within_them():
    # Every filter of the stem's first conv at 1/10 of its initial weights, one filter of a stage-1 conv at 1/2: the
    # raw norms put all the stem's filters first; per layer, the stem's scaled-down filters are as even as before and
    # the halved filter stands out, so normalised l1 takes it first.
    net = small_unet()
    stem, stage1 = "encoder.stages.0.0.convs.0.conv", "encoder.stages.1.0.convs.0.conv"
    with torch.no_grad():
        net.encoder.stages[0][0].convs[0].conv.weight.mul_(0.1)
        net.encoder.stages[1][0].convs[0].conv.weight[3].mul_(0.5)
    stem_width = net.encoder.stages[0][0].convs[0].conv.weight.shape[0]
    raw = get_criterion("l1_unnormalised").select(net, stem_width - 1, None, generator(0))
    assert list(raw) == [stem] and len(raw[stem]) == stem_width - 1  # all but one: a layer keeps one channel
    assert get_criterion("l1").select(net, 1, None, generator(0)) == {stage1: [3]}


def test_random_is_spread_and_distinct():
    net = small_unet()
    decision = get_criterion("random").select(net, 30, None, generator(0))
    assert channels(decision) == 30 and len(decision) > 3
    assert all(len(set(v)) == len(v) for v in decision.values())


@pytest.mark.parametrize("name", sorted(CRITERIA))
def test_no_layer_goes_below_one_channel(name):
    widths = read_layer_widths(small_unet())
    widths["encoder"][0] = [1, 2]
    widths["transpconv"][1] = 1
    net = small_unet(layer_widths=widths)
    removable = sum(w - 1 for w in current_widths(net).values())
    criterion = get_criterion(name)
    scores = uniform_scores(net)
    decision = criterion.select(net, 10_000, scores, generator(0))
    assert channels(decision) == removable
    assert "encoder.stages.0.0.convs.0.conv" not in decision and "decoder.transpconvs.1" not in decision
    assert all(current_widths(net)[layer] - len(idxs) == 1 for layer, idxs in decision.items())

    prune_many(net, decision)
    assert set(current_widths(net).values()) == {1}
    assert criterion.select(net, 5, uniform_scores(net), generator(0)) == {}


@pytest.mark.parametrize("name", sorted(CRITERIA))
def test_decisions_are_reproducible_and_prunable(name):
    net = small_unet()
    scores = {k: torch.rand(len(v), generator=generator(1)) for k, v in uniform_scores(net).items()}
    a = get_criterion(name).select(net, 12, scores, generator(3))
    b = get_criterion(name).select(net, 12, scores, generator(3))
    assert a == b and channels(a) == 12
    assert all(v == sorted(v) for v in a.values())
    before = sum(current_widths(net).values())
    prune_many(net, a)
    assert sum(current_widths(net).values()) == before - 12


def test_criteria_that_need_scores_say_so():
    net = small_unet()
    with pytest.raises(ValueError, match="needs activation scores"):
        get_criterion("stamp").select(net, 1, None, generator(0))
    scores = uniform_scores(net)
    scores["decoder.transpconvs.0"] = torch.ones(3)
    with pytest.raises(ValueError, match="decoder.transpconvs.0 have 3 entries but the layer has 8 channels"):
        get_criterion("random_in_stamp_layer").select(net, 1, scores, generator(0))
    del scores["decoder.transpconvs.0"]
    with pytest.raises(ValueError, match="no scores for layers"):
        get_criterion("stamp").select(net, 1, scores, generator(0))
    assert get_criterion("stamp").select(net, 0, uniform_scores(net), generator(0)) == {}


def test_activation_scores_are_per_channel_l2_norms_of_conv_outputs():
    net = small_unet().train()
    batches = [torch.randn(2, 1, 16, 16), torch.randn(3, 1, 16, 16)]
    captured = []
    handle = net.decoder.transpconvs[0].register_forward_hook(lambda m, i, o: captured.append(o.detach()))
    scores = collect_activation_scores(net, [{"data": batches[0], "target": None}, batches[1]])
    handle.remove()
    assert net.training  # mode restored
    assert list(scores) == layer_names(net)
    assert all(scores[n].shape == (w,) for n, w in current_widths(net).items())
    expected = torch.cat([o.flatten(2).norm(dim=2) for o in captured]).mean(dim=0)
    torch.testing.assert_close(scores["decoder.transpconvs.0"], expected)

    endless = (torch.randn(1, 1, 16, 16) for _ in itertools.count())
    assert list(collect_activation_scores(net, endless, max_batches=2)) == layer_names(net)
    with pytest.raises(ValueError, match="no batches"):
        collect_activation_scores(net, [])


def test_remaining_scores_drop_the_removed_channels():
    scores = {"a": torch.tensor([0.0, 1.0, 2.0, 3.0]), "b": torch.tensor([5.0, 6.0])}
    kept = remaining_scores(scores, {"a": [0, 2]})
    assert torch.equal(kept["a"], torch.tensor([1.0, 3.0])) and torch.equal(kept["b"], scores["b"])


def test_targeted_dropout_probabilities_follow_mean_unimportance_rank():
    scores = {"a": torch.tensor([1.0, 1.0]), "b": torch.tensor([1.0, 1.0, 1.0, 1.0]), "c": torch.tensor([0.0, 1.0])}
    # normalised: a = 0.707 each, b = 0.5 each, c = (0, 1); ascending: c0 < b*4 < a*2 < c1
    # unimportance ranks (N-1-position, ties averaged): c0 7, b 4.5 each, a 1.5 each, c1 0
    probabilities = dropout_probabilities(scores, p_max=0.1)
    assert probabilities == pytest.approx({"a": 0.1 * 1.5 / 4.5, "b": 0.1, "c": 0.1 * 3.5 / 4.5})


def test_targeted_dropout_drops_whole_channels_in_train_mode_only():
    net = small_unet()
    dropout = TargetedDropout(net)
    assert set(dropout.probabilities.values()) == {STAMP_P_INITIAL}
    dropout.update(uniform_scores(net))
    assert max(dropout.probabilities.values()) == pytest.approx(STAMP_P_MAX)
    dropout.probabilities = {name: 0.5 for name in dropout.probabilities}
    x = torch.randn(4, 1, 16, 16)
    captured = []
    block = net.encoder.stages[1][0].convs[1]
    net.decoder.transpconvs[0].register_forward_hook(lambda m, i, o: captured.append(o))
    block.register_forward_hook(lambda m, i, o: captured.append(o))  # runs after the dropout hook

    with torch.no_grad():
        net.eval()
        reference = net(x)[0]
        assert torch.equal(net(x)[0], reference)
        assert all((o.flatten(2).abs().sum(dim=2) > 0).all() for o in captured)
        captured.clear()
        net.train()
        torch.manual_seed(0)
        assert not torch.equal(net(x)[0], reference)
    channel_zero = [(o.flatten(2).abs().sum(dim=2) == 0) for o in captured]
    assert all(z.any() and not z.all() for z in channel_zero)  # whole channels zeroed, not all of them

    dropout.remove()
    with torch.no_grad():
        net.train()
        a, b = net(x)[0], net(x)[0]
    assert torch.equal(a, b)
