"""Pruning on plans of CHAOS's shape (``anisotropic_dataset``): 3d_fullres with 1x3x3 kernels and in-plane-only
pooling in its first stages, 2d with seven stages.

The networks are the pruning trainers' (``nnUNetTrainerSTAMP.build_network_architecture``) on each planned
configuration with its widths cut to an eighth (kernels, pooling and stages as planned; the full widths would only make
the tests slower). Surgery must equal zeroing the removed channels, every criterion must prune to a consistent network
that a full-size network loads back (nnU-Net's checkpoint path), and gradual steps between training steps must keep
the optimizer's state in step with the pruned parameters.
"""

import copy
import os

import pytest
import torch
import torch.nn.functional as F
from nnunetv2.utilities.plans_handling.plans_handler import ConfigurationManager, PlansManager

from nnunet_lunet.architecture import architecture_of, default_widths, with_widths
from nnunet_lunet.model_stats import count_parameters
from nnunet_lunet.pruning.activations import collect_activation_scores, remaining_scores
from nnunet_lunet.pruning.criteria import CRITERIA, get_criterion
from nnunet_lunet.pruning.layer_widths import count_channels, current_widths, read_layer_widths
from nnunet_lunet.pruning.network import check_consistent
from nnunet_lunet.pruning.schedule import channels_at
from nnunet_lunet.pruning.surgery import minimal_example_input, prune_many
from nnunet_lunet.pruning.targeted_dropout import TargetedDropout
from nnunet_lunet.trainers.pruning_trainers import nnUNetTrainerSTAMP
from small_unets import one_thread, outputs, zero_channels_hooks  # noqa: F401

CONFIGURATIONS = ("2d", "3d_fullres")
CLASSES = 5


@pytest.fixture(scope="module")
def configurations(anisotropic_dataset) -> dict:
    """``{configuration: ConfigurationManager}`` of the planned configurations at an eighth of their widths."""
    plans = PlansManager(os.path.join(anisotropic_dataset.preprocessed, "nnUNetPlans.json"))
    out = {}
    for name in CONFIGURATIONS:
        cm = plans.get_configuration(name)
        architecture = architecture_of(cm)
        narrow = with_widths(architecture, [max(2, w // 8) for w in default_widths(architecture)])
        out[name] = ConfigurationManager(dict(copy.deepcopy(cm.configuration), architecture=narrow))
    return out


def _net(cm: ConfigurationManager, seed: int = 0):
    torch.manual_seed(seed)
    return nnUNetTrainerSTAMP.build_network_architecture(None, cm, 1, CLASSES, True)


def _input(net, seed: int = 1) -> torch.Tensor:
    """Twice the smallest input along every axis, random."""
    x = minimal_example_input(net)
    size = [2 * s for s in x.shape[2:]]
    return torch.randn((2, x.shape[1], *size), generator=torch.Generator().manual_seed(seed))


def test_the_networks_have_the_planned_kernels(configurations):
    kernels = configurations["3d_fullres"].network_arch_init_kwargs["kernel_sizes"]
    net = _net(configurations["3d_fullres"])
    assert list(net.encoder.stages[0][0].convs[0].conv.kernel_size) == kernels[0] == [1, 3, 3]
    assert [1, 2, 2] in [list(t.stride) for t in net.decoder.transpconvs]
    assert len(_net(configurations["2d"]).encoder.stages) == 7


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_removal_equals_zeroing(configurations, configuration):
    """Channels of a 1x3x3 stem conv, of the transposed convs (in-plane-only ones among them in 3D), of the
    bottleneck and of the last decoder conv (which feeds the segmentation layer): removing them gives the outputs of
    zeroing them."""
    net = _net(configurations[configuration]).eval()
    widths = current_widths(net)
    names = list(widths)
    chosen = [names[0], names[len(net.encoder.stages) * 2 - 1]] + \
        [n for n in names if "transpconvs" in n] + [names[-1]]
    decision = {name: [0, widths[name] - 1] for name in chosen}
    x = _input(net)
    handles = zero_channels_hooks(net, decision)
    expected = outputs(net, x)
    for h in handles:
        h.remove()
    assert not torch.allclose(outputs(net, x)[0], expected[0], atol=1e-5)  # zeroing changes the outputs
    pruned = copy.deepcopy(net)
    prune_many(pruned, decision)
    got = outputs(pruned, x)
    assert len(got) == len(expected) == len(net.encoder.stages) - 1
    for e, g in zip(expected, got):
        torch.testing.assert_close(g, e, atol=1e-5, rtol=0)


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
@pytest.mark.parametrize("criterion", sorted(CRITERIA))
def test_every_criterion_prunes_and_the_checkpoint_loads(configurations, configuration, criterion):
    net = _net(configurations[configuration])
    x = _input(net)
    before = count_channels(read_layer_widths(net))
    scores = collect_activation_scores(net, [x], max_batches=1)
    decision = get_criterion(criterion).select(net, before // 5, scores, torch.Generator().manual_seed(0))
    prune_many(net, decision)
    check_consistent(net)
    assert count_channels(read_layer_widths(net)) == before - before // 5
    assert outputs(net.eval(), x)[0].shape == (2, CLASSES, *x.shape[2:])
    # nnU-Net's checkpoint path: a network built at the plans' widths loads the pruned weights and computes the same
    fresh = _net(configurations[configuration], seed=1).eval()
    fresh.load_state_dict(net.state_dict())
    assert read_layer_widths(fresh) == read_layer_widths(net)
    for a, b in zip(outputs(fresh, x), outputs(net, x)):
        torch.testing.assert_close(a, b)


def _cross_entropy(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of one deep-supervision output against the target at its resolution (nearest neighbour)."""
    small = F.interpolate(target[:, None].float(), size=output.shape[2:], mode="nearest")[:, 0].long()
    return F.cross_entropy(output, small)


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_gradual_steps_between_training_steps(configurations, configuration):
    """STAMP's loop in small: Adam steps with targeted dropout, and before some of them a pruning step down to the
    next fraction of the original channels (its scores from the training batch, the dropout updated from them)."""
    net = _net(configurations[configuration])
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=3e-5)
    dropout = TargetedDropout(net)
    original = count_channels(read_layer_widths(net))
    params_before = count_parameters(net)
    generator = torch.Generator().manual_seed(0)
    x = _input(net)
    target = torch.randint(0, CLASSES, (x.shape[0], *x.shape[2:]), generator=generator)
    fractions = iter([None, 0.9, None, 0.8, None, 0.75, None])
    for fraction in fractions:
        if fraction is not None:
            scores = collect_activation_scores(net, [x], max_batches=1)
            n = count_channels(read_layer_widths(net)) - channels_at(fraction, original)
            decision = get_criterion("stamp").select(net, n, scores, generator)
            prune_many(net, decision, optimizer)
            dropout.update(remaining_scores(scores, decision))
        net.train()
        optimizer.zero_grad()
        loss = sum(_cross_entropy(o, target) for o in net(x))  # deep supervision: every output trains
        loss.backward()
        optimizer.step()
        assert torch.isfinite(loss)
        for p in net.parameters():  # Adam's moments sliced with their parameters
            state = optimizer.state[p]
            assert state["exp_avg"].shape == state["exp_avg_sq"].shape == p.shape
    assert count_channels(read_layer_widths(net)) == channels_at(0.75, original)
    assert count_parameters(net) < params_before
    check_consistent(net)
