"""``random_in_stamp_layer``: the layers STAMP would prune, but a random channel in each.

Separates STAMP's choice of layer from its choice of channel. For a step of n channels, STAMP's own decision on the
same scores (and the same limits) gives how many channels each layer loses; each layer then loses that many
uniformly random channels of its own. So a step's per-layer counts equal STAMP's, and only the channels differ.
(Taking "the layer of STAMP's next channel not yet removed" one pick at a time does not follow STAMP: a random
removal rarely hits that channel, so the same layer is taken again and again.)
"""

from typing import Optional

import torch
from torch import nn

from nnunet_lunet.pruning.criteria.base import ChannelPool, Criterion, Scores
from nnunet_lunet.pruning.criteria.stamp import StampCriterion


class RandomInStampLayerCriterion(Criterion):
    name = "random_in_stamp_layer"
    needs_activations = True

    def _pick(
        self, net: nn.Module, pool: ChannelPool, n: int, scores: Optional[Scores], generator: torch.Generator
    ) -> None:
        stamp = pool.copy()
        StampCriterion()._pick(net, stamp, n, scores, generator)
        for name, removed in stamp.decision().items():
            for _ in removed:
                pool.remove_random(name, generator)
