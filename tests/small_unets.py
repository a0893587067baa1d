"""Small PrunedPlainConvUNets for the pruning tests, and a fixture that keeps torch on one thread.

A test module uses the fixture by importing it (pytest puts ``tests/`` on ``sys.path``)::

    from small_unets import one_thread  # noqa: F401
"""

import pytest
import torch
from torch import nn

from nnunet_lunet.pruning.network import PrunedPlainConvUNet

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
