"""``widest_layer``: a random channel of the currently widest layer (ties between layers broken at random).

Widths are re-evaluated after every pick, so n picks spread over layers of equal width. A control for STAMP, whose
per-layer normalisation favours wide layers.
"""

from typing import Optional

import torch
from torch import nn

from nnunet_lunet.pruning.criteria.base import ChannelPool, Criterion, Scores, random_index


class WidestLayerCriterion(Criterion):
    name = "widest_layer"

    def _pick(
        self, net: nn.Module, pool: ChannelPool, n: int, scores: Optional[Scores], generator: torch.Generator
    ) -> None:
        for _ in range(n):
            eligible = pool.eligible_layers()
            if not eligible:
                return
            widest = max(pool.remaining(name) for name in eligible)
            candidates = [name for name in eligible if pool.remaining(name) == widest]
            pool.remove_random(candidates[random_index(len(candidates), generator)], generator)
