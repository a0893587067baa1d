"""STAMP's targeted dropout: channel dropout that is stronger in layers whose channels look unimportant.

Rules:

- Every prunable layer's output (after norm and nonlinearity; a transposed conv's own output; in a residual group,
  each member's: the stem's, and each ``conv2``'s and projection's before the residual add) gets channel dropout: each
  whole channel of each item is zeroed with probability ``p_layer`` and the others are scaled by
  ``1 / (1 - p_layer)``, as ``nn.Dropout3d`` does. Only in train mode; in eval mode the output is untouched.
- It is a set of forward hooks, removed by ``remove()``. Surgery keeps modules, so the hooks survive pruning.
- Before any scores every layer has ``p_initial`` (STAMP: 0.005, i.e. 0.1 x 0.05).
- ``update(scores)`` sets ``p_layer = p_max * (layer's mean unimportance rank) / (max over layers)``: all channels of
  all layers are ranked by their per-layer normalised score (``|v| / ||v||_2``, as the stamp criterion uses), the
  highest score has unimportance rank 0 and the lowest N-1 (ties share their mean rank). STAMP's ``p_max`` is 0.1.
"""

from typing import Dict, Mapping

import torch
from torch import nn

from nnunet_lunet.pruning.criteria.base import normalise_within_layer
from nnunet_lunet.pruning.layer_widths import prunable_layers

STAMP_P_INITIAL = 0.005
STAMP_P_MAX = 0.1


def mean_unimportance_ranks(scores: Mapping[str, torch.Tensor]) -> Dict[str, float]:
    """``{layer: mean unimportance rank of its channels}`` over the global ranking of normalised scores."""
    normalised = {name: normalise_within_layer(values) for name, values in scores.items()}
    values = torch.cat([v.double() for v in normalised.values()])
    unique, inverse, counts = torch.unique(values, sorted=True, return_inverse=True, return_counts=True)
    first_position = torch.cumsum(counts, 0) - counts
    position = (first_position + (counts - 1) / 2.0)[inverse]  # ascending score position, ties averaged
    unimportance = (len(values) - 1) - position
    ranks, start = {}, 0
    for name, v in normalised.items():
        ranks[name] = float(unimportance[start : start + len(v)].mean())
        start += len(v)
    return ranks


def dropout_probabilities(scores: Mapping[str, torch.Tensor], p_max: float = STAMP_P_MAX) -> Dict[str, float]:
    """``{layer: p_max * mean unimportance rank / max over layers}`` (all 0 if every rank is 0)."""
    ranks = mean_unimportance_ranks(scores)
    top = max(ranks.values())
    return {name: (p_max * rank / top if top > 0 else 0.0) for name, rank in ranks.items()}


def _check_probability(name: str, p: float) -> None:
    if not 0 <= p < 1:
        raise ValueError(f"{name} must be in [0, 1), got {p!r}")


class TargetedDropout:
    """Per-layer channel dropout hooks on a prunable U-Net; see the module docstring."""

    def __init__(self, net: nn.Module, p_max: float = STAMP_P_MAX, p_initial: float = STAMP_P_INITIAL):
        _check_probability("p_max", p_max)
        _check_probability("p_initial", p_initial)
        self.p_max = p_max
        layers = prunable_layers(net)
        self.probabilities: Dict[str, float] = {layer.name: p_initial for layer in layers}
        self._handles = [module.register_forward_hook(self._hook_for(layer.name))
                         for layer in layers for module in layer.output_modules]

    def _hook_for(self, name: str):
        def hook(module: nn.Module, inputs, output: torch.Tensor):
            p = self.probabilities.get(name, 0.0)
            if not module.training or p <= 0:
                return None
            mask_shape = (*output.shape[:2], *([1] * (output.dim() - 2)))
            keep = torch.empty(mask_shape, device=output.device, dtype=output.dtype).bernoulli_(1 - p)
            return output * (keep / (1 - p))

        return hook

    def update(self, scores: Mapping[str, torch.Tensor]) -> Dict[str, float]:
        """Set every layer's probability from activation scores (one entry per prunable layer); returns them."""
        missing = [name for name in self.probabilities if name not in scores]
        if missing:
            raise ValueError(f"targeted dropout needs scores for every prunable layer; missing {missing}")
        self.probabilities = dropout_probabilities({name: scores[name] for name in self.probabilities}, self.p_max)
        return dict(self.probabilities)

    def remove(self) -> None:
        """Remove the hooks; the net behaves as without targeted dropout."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
