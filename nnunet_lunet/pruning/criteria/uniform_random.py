"""``random``: uniformly random channels among all prunable channels (each pick uniform over the channels of layers
that can still lose one)."""

from typing import Optional

import torch
from torch import nn

from nnunet_lunet.pruning.criteria.base import ChannelPool, Criterion, Scores, random_index


class RandomCriterion(Criterion):
    name = "random"

    def _pick(
        self, net: nn.Module, pool: ChannelPool, n: int, scores: Optional[Scores], generator: torch.Generator
    ) -> None:
        for _ in range(n):
            candidates = [(name, i) for name in pool.eligible_layers() for i in pool.available(name)]
            if not candidates:
                return
            name, index = candidates[random_index(len(candidates), generator)]
            pool.remove(name, index)
