"""Small PrunedPlainConvUNets and PrunedResidualEncoderUNets for the pruning tests, and a fixture that keeps torch on
one thread.

Also the checks that surgery equals zeroing channels (``assert_removal_equals_zeroing_on``), shared by both U-Nets'
tests. A test module uses the fixture by importing it (pytest puts ``tests/`` on ``sys.path``)::

    from small_unets import one_thread  # noqa: F401
"""

import copy

import pytest
import torch
from nnunetv2.utilities.get_network_from_plans import get_network_from_plans
from torch import nn

from nnunet_lunet.architecture import PRUNED_RESIDUAL_ENCODER_UNET
from nnunet_lunet.pruning.layer_widths import prunable_layers
from nnunet_lunet.pruning.network import PrunedPlainConvUNet
from nnunet_lunet.pruning.residual_network import PrunedResidualEncoderUNet
from nnunet_lunet.pruning.surgery import prune_many
from plans_factory import residual_encoder_unet_configuration

_OPS = {2: (nn.Conv2d, nn.InstanceNorm2d), 3: (nn.Conv3d, nn.InstanceNorm3d)}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """These nets are tiny: a second intra-op thread only waits, and on a busy 2-core machine costs 50x."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def small_unet_kwargs(
    dim: int = 2,
    n_stages: int = 3,
    features=(4, 8, 16, 32, 32),
    deep_supervision: bool = True,
    input_channels: int = 1,
    num_classes: int = 2,
    **overrides,
) -> dict:
    """Keyword arguments of a small nnU-Net-like PlainConvUNet: instance norm, leaky ReLU in place, conv bias.

    The stages take the first ``n_stages`` of ``features`` (by default 4-8-16 for 3 stages, 4-8-16-32 for 4); the first
    stage keeps the resolution and each further one halves it. ``overrides`` replace or add any other argument.
    """
    if len(features) < n_stages:
        raise ValueError(f"{n_stages} stages need {n_stages} feature widths, got {list(features)}")
    conv, norm = _OPS[dim]
    kwargs = dict(
        input_channels=input_channels,
        n_stages=n_stages,
        features_per_stage=list(features[:n_stages]),
        conv_op=conv,
        kernel_sizes=3,
        strides=[1] + [2] * (n_stages - 1),
        n_conv_per_stage=2,
        num_classes=num_classes,
        n_conv_per_stage_decoder=2,
        conv_bias=True,
        norm_op=norm,
        norm_op_kwargs={"eps": 1e-5, "affine": True},
        nonlin=nn.LeakyReLU,
        nonlin_kwargs={"inplace": True},
        deep_supervision=deep_supervision,
    )
    kwargs.update(overrides)
    return kwargs


def small_unet(dim: int = 2, *, layer_widths=None, seed: int = 0, **kwargs) -> PrunedPlainConvUNet:
    """``small_unet_kwargs(dim, **kwargs)`` built after ``torch.manual_seed(seed)``, optionally at other per-layer
    widths, and initialised like nnU-Net (``net.initialize``). Left in training mode."""
    torch.manual_seed(seed)
    net = PrunedPlainConvUNet(**small_unet_kwargs(dim, **kwargs), layer_widths=layer_widths)
    net.apply(net.initialize)
    return net


def small_resenc_unet(dim: int = 2, n_stages: int = 4, base: int = 4, max_features: int = 16, n_blocks=(1, 2, 2, 2),
                      *, layer_widths=None, seed: int = 0, input_channels: int = 2, num_classes: int = 3,
                      deep_supervision: bool = True) -> PrunedResidualEncoderUNet:
    """A PrunedResidualEncoderUNet built with nnU-Net's ``get_network_from_plans`` (which initialises it) from a
    generated ResEnc configuration (``plans_factory``), after ``torch.manual_seed(seed)``. The defaults, widths
    4-8-16-16 with 1-2-2-2 blocks, give residual groups ``[[-1, 0], [1], [2, 3]]``: a stem tied to stage 0, a stage
    with a projection, and a group that spans two stages. Left in training mode."""
    torch.manual_seed(seed)
    architecture = residual_encoder_unet_configuration(dim, n_stages, base, max_features, n_blocks)["architecture"]
    kwargs = dict(architecture["arch_kwargs"], layer_widths=layer_widths)
    return get_network_from_plans(PRUNED_RESIDUAL_ENCODER_UNET, kwargs, architecture["_kw_requires_import"],
                                  input_channels, num_classes, deep_supervision=deep_supervision)


def randomise_norms(net: nn.Module) -> nn.Module:
    """Random norm affine parameters, so that a removed channel is not trivially zero (nnU-Net's ResidualEncoderUNet
    starts every block's last norm at zero); returns the net."""
    for m in net.modules():
        if isinstance(m, (nn.InstanceNorm2d, nn.InstanceNorm3d)):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.5, 0.5)
    return net


def outputs(net: nn.Module, x: torch.Tensor) -> list:
    with torch.no_grad():
        out = net(x)
    return list(out) if isinstance(out, (list, tuple)) else [out]


def zero_channels_hooks(net: nn.Module, decision: dict) -> list:
    """Zero the removed channels of each layer's output, after norm and nonlinearity (what its consumers read); for
    a residual group, of every member's output, so that the residual stream's channel is zero.

    Zeroing there, not at the conv output, is what removal equals: with instance norm a zeroed conv output would be
    normalised to the norm's bias and pass the nonlinearity, whereas a removed channel contributes nothing downstream.
    """
    layers = {layer.name: layer for layer in prunable_layers(net)}

    def hook_for(idxs):
        def hook(module, inputs, output):
            output = output.clone()
            output[:, idxs] = 0
            return output

        return hook

    return [module.register_forward_hook(hook_for(idxs))
            for name, idxs in decision.items() for module in layers[name].output_modules]


def assert_removal_equals_zeroing_on(net: nn.Module, decision: dict, x: torch.Tensor) -> None:
    """Removing ``decision``'s channels (on a copy) gives the outputs of zeroing them, and zeroing changes them."""
    handles = zero_channels_hooks(net, decision)
    expected = outputs(net, x)
    for h in handles:
        h.remove()
    pruned = copy.deepcopy(net)
    prune_many(pruned, decision)
    got = outputs(pruned, x)
    assert len(got) == len(expected) == 3  # deep supervision: one output per decoder stage
    for e, g in zip(expected, got):
        assert e.shape == g.shape
        torch.testing.assert_close(g, e, atol=1e-5, rtol=0)
    # the removal is not a no-op: the unpruned net without zeroing gives other outputs
    assert not torch.allclose(outputs(net, x)[0], expected[0], atol=1e-5)
