"""``random_in_stamp_layer``: the layer STAMP would prune, but a random channel in it.

Separates STAMP's choice of layer from its choice of channel. Each pick: STAMP's next choice is the lowest normalised
score among channels not yet picked in layers that can still lose one; a uniformly random available channel of that
channel's layer is removed.
"""

from typing import Optional

import torch
from torch import nn

from nnunet_lunet.pruning.criteria.base import ChannelPool, Criterion, Scores, global_order
from nnunet_lunet.pruning.criteria.stamp import normalised_scores


class RandomInStampLayerCriterion(Criterion):
    name = "random_in_stamp_layer"
    needs_activations = True

    def _pick(
        self, net: nn.Module, pool: ChannelPool, n: int, scores: Optional[Scores], generator: torch.Generator
    ) -> None:
        order = global_order(normalised_scores(scores), generator)
        for _ in range(n):
            layer = next(
                (name for name, i in order if pool.can_remove_from(name) and i not in pool.removed[name]), None
            )
            if layer is None:
                return
            pool.remove_random(layer, generator)
