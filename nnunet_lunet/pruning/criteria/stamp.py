"""``stamp``: STAMP's L2 activation criterion (Dinsdale et al., Medical Image Analysis 2022).

Per channel: the L2 norm over space of the conv output, averaged over a pass of training batches
(``activations.collect_activation_scores``), normalised within each layer ``v = |v| / ||v||_2``; the global minima
are pruned. Equal channels in a layer of width C score 1/sqrt(C), so under uniform activations the widest layers go
first.
"""

from typing import Optional

import torch
from torch import nn

from nnunet_lunet.pruning.criteria.base import (
    ChannelPool,
    Criterion,
    Scores,
    normalise_within_layer,
    take_global_minima,
)


def normalised_scores(scores: Scores) -> dict:
    """``{layer: |v| / ||v||_2}`` for every layer's scores."""
    return {name: normalise_within_layer(values) for name, values in scores.items()}


class StampCriterion(Criterion):
    name = "stamp"
    needs_activations = True

    def _pick(
        self, net: nn.Module, pool: ChannelPool, n: int, scores: Optional[Scores], generator: torch.Generator
    ) -> None:
        take_global_minima(pool, normalised_scores(scores), n, generator)
