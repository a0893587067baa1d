"""Pruning nnU-Net's ResidualEncoderUNet: residual groups, surgery exactness, checkpoints, criteria, refusals.

The nets are built with nnU-Net's ``get_network_from_plans`` from generated ResEnc configurations
(``small_unets.small_resenc_unet``): widths 4-8-16-16 and 1-2-2-2 blocks, so the residual groups are the stem with
stage 0, stage 1 (which has a projection) and stages 2-3 (joined by a projection-free strided block).
"""

import copy

import pytest
import torch
from dynamic_network_architectures.architectures.unet import ResidualEncoderUNet
from dynamic_network_architectures.building_blocks.residual import BottleneckD
from nnunetv2.utilities.plans_handling.plans_handler import ConfigurationManager
from torch import nn

from nnunet_lunet.architecture import (
    PLAIN_CONV_UNET,
    PRUNED_PLAIN_CONV_UNET,
    PRUNED_RESIDUAL_ENCODER_UNET,
    RESIDUAL_ENCODER_UNET,
    pruned_network_class,
)
from nnunet_lunet.errors import LUnetError
from nnunet_lunet.model_stats import count_parameters
from nnunet_lunet.pruning.activations import collect_activation_scores
from nnunet_lunet.pruning.criteria import CRITERIA, get_criterion
from nnunet_lunet.pruning.layer_widths import (
    count_channels,
    count_layers,
    current_widths,
    format_layer_widths,
    prunable_layers,
    read_layer_widths,
)
from nnunet_lunet.pruning.network import check_consistent, count_parameters_for_widths
from nnunet_lunet.pruning.pruning_log import stage_means
from nnunet_lunet.pruning.residual_layers import residual_groups
from nnunet_lunet.pruning.residual_network import PrunedResidualEncoderUNet
from nnunet_lunet.pruning.schedule import check_target_reachable
from nnunet_lunet.pruning.surgery import prune_many
from nnunet_lunet.pruning.targeted_dropout import TargetedDropout
from nnunet_lunet.trainers import nnUNetTrainerSTAMP
from plans_factory import residual_encoder_unet_configuration
from small_unets import (  # noqa: F401
    assert_removal_equals_zeroing_on,
    one_thread,
    outputs,
    randomise_norms,
    small_resenc_unet,
)

STEM = "encoder.stem.convs.0.conv"
STAGE1 = "encoder.stages.1.blocks.0.skip.1.conv"  # group of stage 1: its first block's projection runs first
STAGES23 = "encoder.stages.2.blocks.0.skip.1.conv"  # group of stages 2 and 3 (the bottleneck)


def make_net(dim: int = 2, seed: int = 0, **kwargs) -> PrunedResidualEncoderUNet:
    return randomise_norms(small_resenc_unet(dim, seed=seed, **kwargs)).eval()


def example(dim: int, seed: int = 1) -> torch.Tensor:
    torch.manual_seed(seed)
    return torch.randn(2, 2, *([32, 32] if dim == 2 else [16, 16, 16]))


def test_residual_groups_follow_the_projection_convs():
    assert residual_groups(make_net()) == [[-1, 0], [1], [2, 3]]
    # nnU-Net's default widths (32-64-128-256-320-320 in 3D): the two 320 stages share a group
    assert residual_groups(small_resenc_unet(2, 6, base=32, max_features=320, n_blocks=(1,) * 6)) == [
        [-1, 0], [1], [2], [3], [4, 5]]
    # a LUnet (one width everywhere) is one group: every shortcut is an identity or an average pool
    assert residual_groups(small_resenc_unet(2, 4, base=8, max_features=8)) == [[-1, 0, 1, 2, 3]]


def test_layers_and_widths():
    net = make_net()
    layers = prunable_layers(net)
    groups = [layer for layer in layers if layer.kind == "residual"]
    assert [g.name for g in groups] == [STEM, STAGE1, STAGES23]
    # the stem or a projection conv, then each block's conv2
    assert [len(g.members) for g in groups] == [1 + 1, 1 + 2, 1 + 2 + 2]
    assert net.encoder.stages[3].blocks[0].conv2.conv in groups[2].convs  # stage 3 belongs to the stage-2 group
    assert not any("seg_layers" in layer.name for layer in layers)
    widths = read_layer_widths(net)
    assert widths == {"residual": [4, 8, 16], "residual_stages": [[-1, 0], [1], [2, 3]],
                      "blocks": [[4], [8, 8], [16, 16], [16, 16]], "transpconv": [16, 8, 4],
                      "decoder": [[16], [8], [4]]}
    assert count_channels(widths) == 4 + 8 + 16 + 4 + 16 + 32 + 32 + 28 + 28  # a group counts once
    assert count_layers(widths) == len(layers) == 3 + 7 + 3 + 3
    assert format_layer_widths(widths) == (
        "res 4 | 8 | 16 || blk 4 | 8,8 | 16,16 | 16,16 || up 16 | 8 | 4 || dec 16 | 8 | 4")
    # stage 1's convs: conv1 8, 8 and conv2 8, 8
    assert stage_means(widths)["encoder_stage_widths"] == [4.0, 8.0, 16.0, 16.0]


EXACTNESS_CASES = {
    "stem group (stem, stage 0, full-resolution skip)": {STEM: [0, 3]},
    "group of a stage with a projection": {STAGE1: [1, 5]},
    "group of two stages (the bottleneck, feeds transposed conv 0)": {STAGES23: [0, 7, 15]},
    "inner conv of a block": {"encoder.stages.1.blocks.1.conv1.conv": [2]},
    "inner conv of a strided block with a projection": {"encoder.stages.2.blocks.0.conv1.conv": [4, 9]},
    "transposed conv": {"decoder.transpconvs.1": [0, 6]},
    "decoder conv (feeds seg layer and next transposed conv)": {"decoder.stages.0.convs.0.conv": [3]},
    "a group, the transposed conv beside its skip and their consumer": {
        STAGE1: [0, 7],
        "decoder.transpconvs.1": [1, 2],
        "decoder.stages.1.convs.0.conv": [5],
    },
}


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("case", list(EXACTNESS_CASES))
def test_removing_channels_equals_zeroing_them(dim, case):
    assert_removal_equals_zeroing_on(make_net(dim), EXACTNESS_CASES[case], example(dim))


def test_a_group_is_cut_in_every_member_and_consumer():
    net = make_net()
    prune_many(net, {STAGES23: [0, 1, 2]})
    check_consistent(net)
    for s in (2, 3):
        for block in net.encoder.stages[s].blocks:
            assert block.conv2.conv.out_channels == block.conv2.norm.num_features == 13
    assert net.encoder.stages[2].blocks[0].skip[1].norm.num_features == 13
    assert net.encoder.stages[3].blocks[0].conv1.conv.in_channels == 13  # the next stage's input
    assert net.decoder.transpconvs[0].in_channels == 13 and net.decoder.stages[0].convs[0].conv.in_channels == 16 + 13
    assert net.encoder.output_channels == [4, 8, 13, 13]


def _train_step(net, optimizer, x):
    optimizer.zero_grad()
    sum(o.square().mean() for o in net(x)).backward()
    optimizer.step()


def test_optimizer_state_is_sliced_for_every_member():
    net = make_net(2).train()
    optimizer = torch.optim.SGD(net.parameters(), lr=1e-2, momentum=0.99, nesterov=True)
    x = example(2)
    _train_step(net, optimizer, x)
    members = [net.encoder.stages[1].blocks[0].skip[1].conv.weight, net.encoder.stages[1].blocks[1].conv2.conv.weight,
               net.encoder.stages[1].blocks[1].conv2.norm.weight]
    momentum = {p: optimizer.state[p]["momentum_buffer"].clone() for p in members}
    prune_many(net, {STAGE1: [1, 4]}, optimizer)
    for p, m in momentum.items():  # channel 7 is now channel 5
        torch.testing.assert_close(optimizer.state[p]["momentum_buffer"][5], m[7])
        assert optimizer.state[p]["momentum_buffer"].shape == p.shape
    assert all(a is b for a, b in zip(optimizer.param_groups[0]["params"], net.parameters()))
    _train_step(net, optimizer, x)


def pruned_net(dim: int) -> PrunedResidualEncoderUNet:
    net = make_net(dim)
    prune_many(net, {STEM: [1], STAGES23: [3, 4, 5], "encoder.stages.1.blocks.1.conv1.conv": [0],
                     "decoder.transpconvs.0": [1, 2]})
    return net


@pytest.mark.parametrize("dim", [2, 3])
def test_pruned_state_dict_loads_into_the_full_size_net_from_the_plans(dim):
    net = pruned_net(dim)
    fresh = small_resenc_unet(dim, seed=5)
    optimizer = torch.optim.SGD(fresh.parameters(), lr=1e-2, momentum=0.99)
    fresh.load_state_dict(net.state_dict())
    fresh.eval()
    assert read_layer_widths(fresh) == read_layer_widths(net)
    assert fresh.encoder.output_channels == net.encoder.output_channels == [3, 8, 13, 13]
    for a, b in zip(outputs(net, example(dim)), outputs(fresh, example(dim))):
        torch.testing.assert_close(a, b, atol=0, rtol=0)
    _train_step(fresh.train(), optimizer, example(dim))  # the optimizer built at full size holds the net's tensors


def test_layer_widths_kwarg_builds_that_net_and_foreign_widths_are_refused():
    widths = read_layer_widths(pruned_net(2))
    net = small_resenc_unet(2, layer_widths=widths)
    assert read_layer_widths(net) == widths
    check_consistent(net)
    assert count_parameters(net) == count_parameters_for_widths(make_net(), widths)
    other = copy.deepcopy(widths)
    other["residual_stages"] = [[-1, 0], [1, 2, 3]]
    with pytest.raises(ValueError, match=r"residual groups are \[\[-1, 0\], \[1\], \[2, 3\]\]"):
        small_resenc_unet(2, layer_widths=other)
    other = copy.deepcopy(widths)
    other["residual"][0] = 0
    with pytest.raises(ValueError, match=f"{STEM} must be an integer >= 1"):
        small_resenc_unet(2, layer_widths=other)


def test_bottleneck_blocks_are_refused():
    kwargs = dict(input_channels=1, n_stages=2, features_per_stage=[8, 16], conv_op=nn.Conv2d, kernel_sizes=3,
                  strides=[1, 2], n_blocks_per_stage=1, num_classes=2, n_conv_per_stage_decoder=1)
    with pytest.raises(TypeError, match="BasicBlockD.*found \\['BottleneckD'\\]"):
        PrunedResidualEncoderUNet(**kwargs, block=BottleneckD, bottleneck_channels=4)
    with pytest.raises(TypeError, match="BasicBlockD"):
        prunable_layers(ResidualEncoderUNet(**kwargs, block=BottleneckD, bottleneck_channels=4))


def test_pruned_class_follows_the_plans_network_and_others_are_refused():
    assert pruned_network_class({"network_class_name": RESIDUAL_ENCODER_UNET}, "x") == PRUNED_RESIDUAL_ENCODER_UNET
    assert pruned_network_class({"network_class_name": PRUNED_RESIDUAL_ENCODER_UNET}, "x") == (
        PRUNED_RESIDUAL_ENCODER_UNET)
    assert pruned_network_class({"network_class_name": PLAIN_CONV_UNET}, "x") == PRUNED_PLAIN_CONV_UNET
    other = "dynamic_network_architectures.architectures.unet.ResidualUNet"
    with pytest.raises(LUnetError, match=f"configuration 3d_fullres uses network {other}, but pruning supports only "
                                         f"{PLAIN_CONV_UNET} .* and {RESIDUAL_ENCODER_UNET}"):
        pruned_network_class({"network_class_name": other}, "configuration 3d_fullres")


def test_group_scores_are_the_mean_of_their_members():
    net = make_net(2)
    captured = {}
    group = next(layer for layer in prunable_layers(net) if layer.name == STAGE1)
    handles = [conv.register_forward_hook(lambda m, i, o, k=k: captured.setdefault(k, o.detach()))
               for k, conv in enumerate(group.convs)]
    x = example(2)
    scores = collect_activation_scores(net, [x])
    for h in handles:
        h.remove()
    assert len(captured) == 3
    expected = torch.stack([o.flatten(2).norm(dim=2).mean(dim=0) for o in captured.values()]).mean(dim=0)
    torch.testing.assert_close(scores[STAGE1], expected)
    assert all(scores[name].shape == (width,) for name, width in current_widths(net).items())


@pytest.mark.parametrize("name", sorted(CRITERIA))
def test_criteria_prune_groups_down_to_one_channel_and_no_further(name):
    net = make_net(2)
    criterion = get_criterion(name)
    generator = torch.Generator().manual_seed(0)
    scores = {n: torch.rand(w, generator=generator) for n, w in current_widths(net).items()}
    decision = criterion.select(net, 10_000, scores, generator)
    assert sum(len(v) for v in decision.values()) == count_channels(read_layer_widths(net)) - len(scores)
    prune_many(net, decision)
    assert set(current_widths(net).values()) == {1}
    assert outputs(net, example(2))[0].shape == (2, 3, 32, 32)


def test_targeted_dropout_drops_channels_of_every_member():
    net = make_net(2).train()
    dropout = TargetedDropout(net)
    dropout.probabilities = {name: (0.5 if name == STAGES23 else 0.0) for name in dropout.probabilities}
    captured = []
    for block in (net.encoder.stages[2].blocks[0].skip[1], net.encoder.stages[3].blocks[1].conv2):
        block.register_forward_hook(lambda m, i, o: captured.append(o.clone()))  # runs after the dropout hook
    torch.manual_seed(0)
    with torch.no_grad():
        net(torch.randn(4, 2, 32, 32))
    for o in captured:
        zero = o.flatten(2).abs().sum(dim=2) == 0
        assert zero.any() and not zero.all()
    dropout.remove()


def test_targets_count_a_group_once():
    widths = read_layer_widths(make_net())
    check_target_reachable(widths, count_layers(widths) / count_channels(widths))
    with pytest.raises(ValueError, match="smallest reachable fraction"):
        check_target_reachable(widths, 0.5 * count_layers(widths) / count_channels(widths))
    with pytest.raises(ValueError, match="smallest reachable fraction"):
        check_target_reachable(widths, 0.001, "parameters", net=make_net())


def test_pruning_trainers_build_the_pruned_class_of_the_plans_network():
    residual = residual_encoder_unet_configuration(2, 4, base=4, max_features=16, n_blocks=(1, 2, 2, 2))
    net = nnUNetTrainerSTAMP.build_network_architecture(None, ConfigurationManager(residual), 2, 3)
    assert type(net) is PrunedResidualEncoderUNet and residual_groups(net) == [[-1, 0], [1], [2, 3]]
    other = "dynamic_network_architectures.architectures.unet.ResidualUNet"
    residual["architecture"]["network_class_name"] = other
    with pytest.raises(LUnetError, match=f"nnUNetTrainerSTAMP: this configuration uses network {other}, but pruning "
                                         f"supports only {PLAIN_CONV_UNET}"):
        nnUNetTrainerSTAMP.build_network_architecture(None, ConfigurationManager(residual), 2, 3)
