"""Channel surgery and PrunedPlainConvUNet: exactness, refusals, optimizer state, checkpoints at any width."""

import copy
import json

import pytest
import torch
from dynamic_network_architectures.architectures.unet import PlainConvUNet
from nnunetv2.utilities.get_network_from_plans import get_network_from_plans
from torch import nn

from nnunet_lunet.model_stats import count_parameters
from nnunet_lunet.pruning.layer_widths import (
    count_channels,
    layer_names,
    per_stage_summary,
    read_layer_widths,
)
from nnunet_lunet.pruning.network import (
    PrunedPlainConvUNet,
    check_consistent,
    count_parameters_for_widths,
)
from nnunet_lunet.pruning.surgery import prune_channels, prune_many
from small_unets import (  # noqa: F401
    assert_removal_equals_zeroing_on,
    one_thread,
    outputs,
    randomise_norms,
    small_unet,
    small_unet_kwargs,
    zero_channels_hooks,
)


# this module's nets: 4 stages (widths 4-8-16-32), 2 input channels, 3 classes
SIZES = dict(n_stages=4, input_channels=2, num_classes=3)


def net_kwargs(dim: int, **overrides) -> dict:
    return small_unet_kwargs(dim, **{**SIZES, **overrides})


def make_net(dim: int, seed: int = 0, **kwargs) -> PrunedPlainConvUNet:
    """He-initialised like nnU-Net, with random norm affine parameters so a removed channel is not trivially zero."""
    return randomise_norms(small_unet(dim, seed=seed, **{**SIZES, **kwargs})).eval()


def example(dim: int, seed: int = 1) -> torch.Tensor:
    torch.manual_seed(seed)
    return torch.randn(2, 2, *([32, 32] if dim == 2 else [16, 16, 16]))


def assert_removal_equals_zeroing(net: nn.Module, decision: dict, dim: int) -> None:
    assert_removal_equals_zeroing_on(net, decision, example(dim))


EXACTNESS_CASES = {
    "encoder conv": {"encoder.stages.1.0.convs.0.conv": [0, 5]},
    "last encoder conv of a stage (feeds next stage and a skip)": {"encoder.stages.1.0.convs.1.conv": [1, 2, 7]},
    "full-resolution skip": {"encoder.stages.0.0.convs.1.conv": [3]},
    "bottleneck (feeds transposed conv 0)": {"encoder.stages.3.0.convs.1.conv": [0, 31]},
    "decoder conv": {"decoder.stages.0.convs.0.conv": [2, 9]},
    "last decoder conv of a stage (feeds seg layer and next transposed conv)": {"decoder.stages.1.convs.1.conv": [4]},
    "last decoder conv of the net (feeds the final seg layer)": {"decoder.stages.2.convs.1.conv": [0, 1, 2]},
    "transposed conv (first half of the concat)": {"decoder.transpconvs.1": [0, 6]},
    "both halves of a concat and their consumer": {
        "decoder.transpconvs.1": [1, 2],
        "encoder.stages.1.0.convs.1.conv": [0, 7],
        "decoder.stages.1.convs.0.conv": [3],
    },
}


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("case", list(EXACTNESS_CASES))
def test_removing_channels_equals_zeroing_them(dim, case):
    assert_removal_equals_zeroing(make_net(dim), EXACTNESS_CASES[case], dim)


def test_skip_after_pruned_transposed_conv_is_found_at_its_current_offset():
    """Pruning the transposed conv first, then (in a new call) the skip: the skip half starts at the new width."""
    net = make_net(3)
    decisions = [{"decoder.transpconvs.2": [0, 1]}, {"encoder.stages.0.0.convs.1.conv": [0, 2]}]
    x = example(3)
    handles = zero_channels_hooks(net, {**decisions[0], **decisions[1]})
    expected = outputs(net, x)
    for h in handles:
        h.remove()
    for decision in decisions:
        prune_many(net, decision)
    assert net.decoder.stages[2].convs[0].conv.in_channels == 2 + 2
    for e, g in zip(expected, outputs(net, x)):
        torch.testing.assert_close(g, e, atol=1e-5, rtol=0)


def test_layer_names_and_widths():
    net = make_net(3)
    names = layer_names(net)
    assert names[:2] == ["encoder.stages.0.0.convs.0.conv", "encoder.stages.0.0.convs.1.conv"]
    assert "decoder.transpconvs.0" in names and "decoder.stages.1.convs.0.conv" in names
    assert not any("seg_layers" in n for n in names)
    widths = read_layer_widths(net)
    assert widths == {
        "encoder": [[4, 4], [8, 8], [16, 16], [32, 32]],
        "transpconv": [16, 8, 4],
        "decoder": [[16, 16], [8, 8], [4, 4]],
    }
    assert json.loads(json.dumps(widths)) == widths
    assert count_channels(widths) == 120 + 28 + 56
    assert per_stage_summary(widths)["encoder"][3] == {"min": 32, "mean": 32.0, "max": 32}


def test_recorded_widths_follow_surgery():
    net = make_net(3, deep_supervision=False)
    prune_many(net, {"encoder.stages.2.0.convs.1.conv": [0, 1, 2], "decoder.stages.0.convs.0.conv": [5]})
    assert net.encoder.output_channels == [4, 8, 13, 32]
    block = net.encoder.stages[2][0].convs[1]
    assert (block.output_channels, block.conv.out_channels, block.norm.num_features) == (13, 13, 13)
    assert net.encoder.stages[2][0].output_channels == 13
    assert net.decoder.stages[0].convs[1].input_channels == 15
    assert net.compute_conv_feature_map_size((16, 16, 16)) > 0
    assert outputs(net, example(3))[0].shape == (2, 3, 16, 16, 16)


def test_consistency_check_catches_an_uncoupled_cut():
    net = make_net(2)
    check_consistent(net)
    conv = net.encoder.stages[1][0].convs[0].conv
    conv.weight.data, conv.out_channels = conv.weight.data[:7], 7  # the norm and the next conv not cut
    with pytest.raises(RuntimeError, match=r"has weight \(8, 8, 3, 3\), but the layer widths .* imply \(7, 8\)"):
        check_consistent(net)


def test_surgery_restores_flags_and_mode():
    net = make_net(3, deep_supervision=False).train()
    prune_channels(net, "encoder.stages.0.0.convs.0.conv", [0])
    assert net.training and net.decoder.deep_supervision is False
    assert all(m.inplace for m in net.modules() if isinstance(m, nn.LeakyReLU))


def test_refusals_change_nothing():
    net = make_net(3)
    before = read_layer_widths(net)
    with pytest.raises(ValueError, match="segmentation layer decoder.seg_layers.2.*classes"):
        prune_channels(net, "decoder.seg_layers.2", [0])
    with pytest.raises(ValueError, match=r"encoder.stages.0.0.convs.1.conv.*4 channels.*at least 1 channel"):
        prune_channels(net, "encoder.stages.0.0.convs.1.conv", [0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"not a prunable layer"):
        prune_channels(net, "encoder.stages.9.0.convs.0.conv", [0])
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        prune_channels(net, "encoder.stages.0.0.convs.0.conv", [4])
    with pytest.raises(ValueError, match="distinct"):
        prune_channels(net, "encoder.stages.0.0.convs.0.conv", [1, 1])
    # a bad entry anywhere in a decision stops the whole decision before anything is cut
    with pytest.raises(ValueError):
        prune_many(net, {"encoder.stages.1.0.convs.0.conv": [0], "decoder.transpconvs.0": list(range(16))})
    assert read_layer_widths(net) == before
    assert prune_many(net, {}) == before


def train_steps(net: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, steps: int) -> None:
    """``steps`` optimizer steps on a loss of every deep-supervision output, so the optimizer holds state."""
    for _ in range(steps):
        optimizer.zero_grad()
        sum(o.square().mean() for o in net(x)).backward()
        optimizer.step()


def test_optimizer_state_is_sliced_and_parameters_kept():
    net = make_net(3).train()
    optimizer = torch.optim.SGD(net.parameters(), lr=1e-2, momentum=0.99, nesterov=True)
    x = example(3)
    train_steps(net, optimizer, x, 2)
    conv = net.encoder.stages[1][0].convs[1].conv
    norm = net.encoder.stages[1][0].convs[1].norm
    next_conv = net.encoder.stages[2][0].convs[0].conv
    skip_consumer = net.decoder.stages[1].convs[0].conv  # reads cat(transpconv 1 (8 channels), this skip (8))
    params_before = list(net.parameters())
    momentum = {p: optimizer.state[p]["momentum_buffer"].clone() for p in (conv.weight, conv.bias, norm.weight)}
    m_next = optimizer.state[next_conv.weight]["momentum_buffer"].clone()
    m_skip = optimizer.state[skip_consumer.weight]["momentum_buffer"].clone()

    prune_channels(net, "encoder.stages.1.0.convs.1.conv", [1, 4], optimizer)

    # channel 3 is now channel 2, channel 7 is now channel 5
    for p, m in momentum.items():
        torch.testing.assert_close(optimizer.state[p]["momentum_buffer"][2], m[3])
        torch.testing.assert_close(optimizer.state[p]["momentum_buffer"][5], m[7])
        assert optimizer.state[p]["momentum_buffer"].shape == p.shape
    torch.testing.assert_close(optimizer.state[next_conv.weight]["momentum_buffer"][:, 2], m_next[:, 3])
    torch.testing.assert_close(optimizer.state[skip_consumer.weight]["momentum_buffer"][:, 8 + 2], m_skip[:, 8 + 3])
    assert skip_consumer.weight.shape[1] == 14
    # the optimizer still holds the net's own parameter objects, and training goes on
    assert list(net.parameters()) == params_before
    assert all(a is b for a, b in zip(optimizer.param_groups[0]["params"], net.parameters()))
    train_steps(net, optimizer, x, 1)


def test_adam_state_is_sliced_as_the_pruning_trainers_train():
    """The pruning trainers use the lean recipe (Adam): both moments follow the kept channels, the step count stays."""
    net = make_net(3).train()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=3e-5)
    x = example(3)
    train_steps(net, optimizer, x, 2)
    conv = net.encoder.stages[1][0].convs[1].conv
    next_conv = net.encoder.stages[2][0].convs[0].conv
    moments = {(p, key): optimizer.state[p][key].clone()
               for p in (conv.weight, conv.bias, next_conv.weight) for key in ("exp_avg", "exp_avg_sq")}
    steps = {p: optimizer.state[p]["step"].clone() for p in (conv.weight, next_conv.weight)}

    prune_channels(net, "encoder.stages.1.0.convs.1.conv", [1, 4], optimizer)

    for (p, key), m in moments.items():
        state = optimizer.state[p][key]
        assert state.shape == p.shape
        if p is next_conv.weight:  # the next conv loses input channels: dim 1
            torch.testing.assert_close(state[:, 2], m[:, 3])
        else:
            torch.testing.assert_close(state[2], m[3])
            torch.testing.assert_close(state[5], m[7])
    for p, step in steps.items():
        torch.testing.assert_close(optimizer.state[p]["step"], step)
    train_steps(net, optimizer, x, 1)


def test_backward_works_while_old_gradient_accumulators_are_held():
    """An old DDP wrapper's reducer (or any live graph) holds the parameters' gradient accumulators at the old shapes."""
    net = make_net(3).train()
    held = [p * 1 for p in net.parameters()]  # keeps every parameter's accumulator alive, as DDP's reducer does
    prune_many(net, {"decoder.stages.1.convs.1.conv": [0, 7], "decoder.transpconvs.1": [1]})
    sum(o.mean() for o in net(example(3))).backward()

    fresh = PrunedPlainConvUNet(**net_kwargs(3)).train()
    held += [p * 1 for p in fresh.parameters()]
    fresh.load_state_dict(net.state_dict())
    sum(o.mean() for o in fresh(example(3))).backward()
    assert all(p.grad.shape == p.shape for p in fresh.parameters())


def test_transposed_conv_momentum_is_sliced_along_its_output_dim():
    net = make_net(2).train()
    optimizer = torch.optim.SGD(net.parameters(), lr=1e-2, momentum=0.99, nesterov=True)
    sum(o.mean() for o in net(example(2))).backward()
    optimizer.step()
    tc = net.decoder.transpconvs[0]  # weight [in 32, out 16, 2, 2]
    m = optimizer.state[tc.weight]["momentum_buffer"].clone()
    prune_channels(net, "decoder.transpconvs.0", [0], optimizer)
    assert tc.weight.shape[:2] == (32, 15)
    torch.testing.assert_close(optimizer.state[tc.weight]["momentum_buffer"][:, 4], m[:, 5])


def pruned_net(dim: int, **kwargs) -> PrunedPlainConvUNet:
    net = make_net(dim, **kwargs)
    prune_many(
        net,
        {
            "encoder.stages.0.0.convs.0.conv": [0],
            "encoder.stages.2.0.convs.1.conv": [3, 4, 5],
            "decoder.transpconvs.0": [1, 2],
            "decoder.stages.1.convs.1.conv": [0, 7],
        },
    )
    return net


@pytest.mark.parametrize("dim", [2, 3])
def test_pruned_state_dict_loads_into_full_size_net(dim):
    net = pruned_net(dim)
    fresh = PrunedPlainConvUNet(**net_kwargs(dim))
    fresh.load_state_dict(net.state_dict())
    fresh.eval()
    assert read_layer_widths(fresh) == read_layer_widths(net)
    assert fresh.encoder.output_channels == net.encoder.output_channels
    for a, b in zip(outputs(net, example(dim)), outputs(fresh, example(dim))):
        torch.testing.assert_close(a, b, atol=0, rtol=0)


def test_nnunet_load_checkpoint_flow_optimizer_built_on_full_size_net():
    """load_checkpoint builds net and optimizer at full size, loads the network, then the optimizer state."""
    net = pruned_net(3).train()
    optimizer = torch.optim.SGD(net.parameters(), lr=1e-2, momentum=0.99, nesterov=True)
    sum(o.mean() for o in net(example(3))).backward()
    optimizer.step()
    checkpoint = {"network_weights": net.state_dict(), "optimizer_state": optimizer.state_dict()}

    fresh = PrunedPlainConvUNet(**net_kwargs(3))
    fresh_optimizer = torch.optim.SGD(fresh.parameters(), lr=1e-2, momentum=0.99, nesterov=True)
    fresh.load_state_dict(checkpoint["network_weights"])
    fresh_optimizer.load_state_dict(checkpoint["optimizer_state"])
    for p in fresh.parameters():
        assert fresh_optimizer.state[p]["momentum_buffer"].shape == p.shape
    fresh.train()
    sum(o.mean() for o in fresh(example(3))).backward()
    fresh_optimizer.step()


def test_layer_widths_kwarg_builds_that_net_and_none_is_plain():
    widths = read_layer_widths(pruned_net(3))
    net = PrunedPlainConvUNet(**net_kwargs(3), layer_widths=json.loads(json.dumps(widths)))
    assert read_layer_widths(net) == widths
    assert count_parameters(net) == count_parameters_for_widths(PrunedPlainConvUNet(**net_kwargs(3)), widths)
    assert outputs(net.eval(), example(3))[0].shape == (2, 3, 16, 16, 16)

    plain, ours = PlainConvUNet(**net_kwargs(3)), PrunedPlainConvUNet(**net_kwargs(3))
    assert {k: v.shape for k, v in plain.state_dict().items()} == {k: v.shape for k, v in ours.state_dict().items()}
    with pytest.raises(ValueError, match="expected 'encoder': 4 stages"):
        PrunedPlainConvUNet(**net_kwargs(3), layer_widths={**widths, "transpconv": [4, 4]})
    with pytest.raises(ValueError, match="integer >= 1"):
        PrunedPlainConvUNet(**net_kwargs(3), layer_widths={**widths, "transpconv": [4, 0, 4]})


PLANS_ARCH_KWARGS = {
    "n_stages": 4,
    "features_per_stage": [4, 8, 16, 32],
    "conv_op": "torch.nn.modules.conv.Conv3d",
    "kernel_sizes": [[3, 3, 3]] * 4,
    "strides": [[1, 1, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2]],
    "n_conv_per_stage": [2, 2, 2, 2],
    "n_conv_per_stage_decoder": [2, 2, 2],
    "conv_bias": True,
    "norm_op": "torch.nn.modules.instancenorm.InstanceNorm3d",
    "norm_op_kwargs": {"eps": 1e-05, "affine": True},
    "dropout_op": None,
    "dropout_op_kwargs": None,
    "nonlin": "torch.nn.LeakyReLU",
    "nonlin_kwargs": {"inplace": True},
}


@pytest.mark.parametrize("deep_supervision", [True, False])
def test_get_network_from_plans(deep_supervision):
    net = pruned_net(3)
    widths = read_layer_widths(net)
    build = dict(
        arch_class_name="nnunet_lunet.pruning.network.PrunedPlainConvUNet",
        arch_kwargs_req_import=["conv_op", "norm_op", "dropout_op", "nonlin"],
        input_channels=2,
        output_channels=3,
        deep_supervision=deep_supervision,
    )
    from_plans = get_network_from_plans(arch_kwargs={**PLANS_ARCH_KWARGS, "layer_widths": widths}, **build)
    assert type(from_plans) is PrunedPlainConvUNet and read_layer_widths(from_plans) == widths
    out = from_plans.eval()(example(3))
    assert isinstance(out, list) == deep_supervision

    # the predictor's way: the full-size net from the plans, then the pruned checkpoint
    full = get_network_from_plans(arch_kwargs=dict(PLANS_ARCH_KWARGS), **build)
    full.load_state_dict(net.state_dict())
    full.eval()
    expected = outputs(net, example(3))
    got = outputs(full, example(3))
    torch.testing.assert_close(got[0], expected[0], atol=0, rtol=0)
    assert PLANS_ARCH_KWARGS["features_per_stage"] == [4, 8, 16, 32]  # the plans' list was not edited


def test_state_dict_of_another_architecture_is_refused_clearly():
    net = PrunedPlainConvUNet(**net_kwargs(3))
    before = read_layer_widths(net)
    other_depth = PrunedPlainConvUNet(**net_kwargs(3, n_stages=3)).state_dict()
    with pytest.raises(RuntimeError, match="keys missing.*another architecture/plans"):
        net.load_state_dict(other_depth)
    other_classes = PrunedPlainConvUNet(**net_kwargs(3, num_classes=5)).state_dict()
    with pytest.raises(RuntimeError, match=r"seg_layers.*expected shape \(3, .*found \(5, .*another architecture"):
        net.load_state_dict(other_classes)
    other_kernel = PrunedPlainConvUNet(**net_kwargs(3, kernel_sizes=1)).state_dict()
    with pytest.raises(RuntimeError, match="another architecture/plans"):
        net.load_state_dict(other_kernel)
    other_inputs = pruned_net(3, input_channels=1).state_dict()
    with pytest.raises(RuntimeError, match=r"encoder.stages.0.0.convs.0.conv.weight: expected shape \(3, 2, 3, 3, 3\)"):
        net.load_state_dict(other_inputs)
    assert read_layer_widths(net) == before


BLOCK_VARIANTS = {
    "nonlin first": dict(nonlin_first=True),
    "batch norm": dict(norm_op=nn.BatchNorm3d),
    "no norm, no conv bias": dict(norm_op=None, norm_op_kwargs=None, conv_bias=False),
}


@pytest.mark.parametrize("variant", list(BLOCK_VARIANTS))
def test_block_variants(variant):
    net = make_net(3, **BLOCK_VARIANTS[variant])
    for m in net.modules():
        if isinstance(m, nn.BatchNorm3d):  # eval mode uses running statistics: make them non-trivial
            nn.init.uniform_(m.running_mean, -0.3, 0.3)
            nn.init.uniform_(m.running_var, 0.5, 1.5)
    decision = {**EXACTNESS_CASES["both halves of a concat and their consumer"], "encoder.stages.3.0.convs.1.conv": [5]}
    assert_removal_equals_zeroing(net, decision, 3)

    pruned = copy.deepcopy(net)
    prune_many(pruned, decision)
    fresh = PrunedPlainConvUNet(**net_kwargs(3, **BLOCK_VARIANTS[variant]))
    fresh.load_state_dict(pruned.state_dict())
    for a, b in zip(outputs(pruned, example(3)), outputs(fresh.eval(), example(3))):
        torch.testing.assert_close(a, b, atol=0, rtol=0)


def test_loading_through_a_wrapper_resizes_too():
    """DDP (``module.``) and torch.compile (``_orig_mod.``) load with a key prefix; the resize still happens."""
    net = pruned_net(2)
    wrapper = nn.Module()
    wrapper.module = PrunedPlainConvUNet(**net_kwargs(2))
    wrapper.load_state_dict({"module." + k: v for k, v in net.state_dict().items()})
    assert read_layer_widths(wrapper.module) == read_layer_widths(net)
