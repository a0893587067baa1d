"""Size and cost of a network: parameters and multiply-accumulates (MACs) for one patch.

MACs come from ``torch.utils.flop_counter.FlopCounterMode`` (PyTorch's own counter, convolutions and transposed
convolutions included), on a copy of the network moved to the ``meta`` device: no memory, no compute, so it works for
large 3D patches on a laptop. MACs = FLOPs / 2.
"""

import copy
from typing import Sequence

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_parameters(net: nn.Module) -> int:
    """Number of parameters; ``net.parameters()`` de-duplicates shared modules (``decoder.encoder``)."""
    return sum(p.numel() for p in net.parameters())


def count_macs(net: nn.Module, in_channels: int, patch_size: Sequence[int]) -> int:
    """MACs of one forward pass on one patch (batch 1)."""
    meta_net = copy.deepcopy(net).to("meta").eval()
    x = torch.zeros((1, in_channels, *patch_size), device="meta")
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        meta_net(x)
    return counter.get_total_flops() // 2
