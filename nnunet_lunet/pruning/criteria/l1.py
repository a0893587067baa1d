"""Filter-weight L1 norm criteria, global minima:

- ``l1``: normalised within each layer as STAMP does (``|v| / ||v||_2``), so that, as in STAMP, a layer of C equal
  filters scores 1/sqrt(C) each and wide layers go first;
- ``l1_unnormalised``: the raw norms, compared across layers as they are: the control for the paper's claim (d), which
  asks whether pruning the widest layers first is the channels' doing or the normalisation's. (A filter's L1 norm sums
  over its inputs, so at nnU-Net's initialisation it grows with the square root of the layer's fan-in.)

A filter is everything that produces one output channel: ``weight[c]`` of a conv, ``weight[:, c]`` of a transposed
conv. A residual group's channel scores the mean of its members' filter norms (as ``activations`` does). Need no
activations.
"""

from typing import Dict, Optional

import torch
from torch import nn

from nnunet_lunet.pruning.criteria.base import (
    ChannelPool,
    Criterion,
    Scores,
    normalise_within_layer,
    take_global_minima,
)
from nnunet_lunet.pruning.layer_widths import prunable_layers


def filter_l1_norms(net: nn.Module) -> Dict[str, torch.Tensor]:
    """``{layer name: tensor[C]}``: L1 norm of the weights producing each output channel (mean over a group's
    members)."""
    return {layer.name: torch.stack([_filter_l1(conv) for conv in layer.convs]).mean(dim=0)
            for layer in prunable_layers(net)}


def _filter_l1(conv: nn.Module) -> torch.Tensor:
    weight = conv.weight.detach()
    out_dim = 1 if conv.transposed else 0
    return weight.abs().transpose(0, out_dim).flatten(1).sum(dim=1).float().cpu()


class L1Criterion(Criterion):
    name = "l1"
    per_layer = True  # normalise each layer's norms as STAMP does

    def _pick(
        self, net: nn.Module, pool: ChannelPool, n: int, scores: Optional[Scores], generator: torch.Generator
    ) -> None:
        norms = filter_l1_norms(net)
        if self.per_layer:
            norms = {name: normalise_within_layer(v) for name, v in norms.items()}
        take_global_minima(pool, norms, n, generator)


class L1UnnormalisedCriterion(L1Criterion):
    name = "l1_unnormalised"
    per_layer = False
