"""The criterion interface and the selection machinery criteria share.

Rules every criterion follows:

- ``select(net, n_channels, scores, generator)`` returns a decision ``{layer name: sorted channel indices to remove}``
  (current indices, layers in forward order, only layers that lose channels) holding ``n_channels`` distinct channels,
  or fewer when fewer can be removed.
- No layer goes below 1 channel, nor loses more than its limit: ``limits`` (``{layer name: most channels the step may
  take from it}``, ``layer_limits.step_limits``: the schedule's cap on one step's share of a layer and its minimum
  width) bound every layer. Channels are picked one at a time against what the earlier picks left, and a layer at its
  limit is skipped. If nothing can be pruned the decision is ``{}``.
- Randomness comes only from ``generator`` (a CPU ``torch.Generator``; default: torch's global one). Under DDP the
  trainer still broadcasts rank 0's decision (``distributed.broadcast_decision``).
- Scores, where a criterion uses them, are ``{layer name: tensor[C]}`` for every prunable layer at its current width
  (``activations.collect_activation_scores``).
"""

from abc import ABC, abstractmethod
from typing import ClassVar, Dict, List, Mapping, Optional, Tuple

import torch
from torch import nn

from nnunet_lunet.pruning.layer_widths import current_widths

Decision = Dict[str, List[int]]
Scores = Mapping[str, torch.Tensor]


class ChannelPool:
    """The channels of each layer still available while a decision is being built."""

    def __init__(self, widths: Mapping[str, int], limits: Optional[Mapping[str, int]] = None):
        self.widths = dict(widths)
        limits = limits or {}
        self.limits = {name: max(0, min(width - 1, limits.get(name, width - 1))) for name, width in self.widths.items()}
        self.removed: Dict[str, set] = {name: set() for name in self.widths}

    def copy(self) -> "ChannelPool":
        pool = ChannelPool(self.widths, self.limits)
        pool.removed = {name: set(removed) for name, removed in self.removed.items()}
        return pool

    def remaining(self, name: str) -> int:
        return self.widths[name] - len(self.removed[name])

    def can_remove_from(self, name: str) -> bool:
        return len(self.removed[name]) < self.limits[name]

    def eligible_layers(self) -> List[str]:
        """Layers that can still lose a channel, in forward order."""
        return [name for name in self.widths if self.can_remove_from(name)]

    def available(self, name: str) -> List[int]:
        """Channels of ``name`` not yet picked."""
        return [i for i in range(self.widths[name]) if i not in self.removed[name]]

    def remove(self, name: str, index: int) -> None:
        assert self.can_remove_from(name), (f"{name} has lost {len(self.removed[name])} channels, its limit this step "
                                            f"({self.remaining(name)} left); it cannot lose another")
        assert index not in self.removed[name], f"channel {index} of {name} was already picked"
        self.removed[name].add(index)

    def remove_random(self, name: str, generator: torch.Generator) -> None:
        """Pick a uniformly random available channel of ``name``."""
        available = self.available(name)
        self.remove(name, available[random_index(len(available), generator)])

    def decision(self) -> Decision:
        return {name: sorted(removed) for name, removed in self.removed.items() if removed}


def random_index(n: int, generator: torch.Generator) -> int:
    """A uniformly random integer in [0, n)."""
    return int(torch.randint(n, (1,), generator=generator).item())


def normalise_within_layer(scores: torch.Tensor) -> torch.Tensor:
    """STAMP's per-layer normalisation ``v = |s| / ||s||_2`` (all zeros for an all-zero layer, which then goes first).

    A layer of C equal channels scores 1/sqrt(C) per channel, so under uniform activations wide layers go first.
    """
    v = scores.detach().float().cpu().abs()
    norm = v.norm(p=2)
    return v / norm if norm > 0 else torch.zeros_like(v)


def global_order(scores: Scores, generator: torch.Generator) -> List[Tuple[str, int]]:
    """Every (layer, channel) sorted by score, lowest first; ties in random order."""
    pairs = [(name, i) for name, values in scores.items() for i in range(len(values))]
    values = torch.cat([values.detach().float().cpu().flatten() for values in scores.values()])
    shuffle = torch.randperm(len(pairs), generator=generator)
    order = shuffle[torch.argsort(values[shuffle], stable=True)]
    return [pairs[i] for i in order.tolist()]


def take_global_minima(pool: ChannelPool, scores: Scores, n: int, generator: torch.Generator) -> None:
    """Pick the ``n`` lowest-scoring channels, skipping layers that are down to one channel."""
    taken = 0
    for name, index in global_order(scores, generator):
        if taken == n:
            break
        if pool.can_remove_from(name):
            pool.remove(name, index)
            taken += 1


def check_scores(scores: Optional[Scores], widths: Mapping[str, int], criterion: str) -> None:
    """Raise ValueError unless ``scores`` has one entry per channel of every prunable layer."""
    if scores is None:
        raise ValueError(f"criterion '{criterion}' needs activation scores (activations.collect_activation_scores)")
    missing = [name for name in widths if name not in scores]
    if missing:
        raise ValueError(f"criterion '{criterion}': no scores for layers {missing}")
    for name, width in widths.items():
        if scores[name].numel() != width:
            raise ValueError(
                f"criterion '{criterion}': scores for {name} have {scores[name].numel()} entries but the layer has "
                f"{width} channels; collect scores after the last pruning step"
            )


class Criterion(ABC):
    """Chooses which channels to remove; see the module docstring for the rules."""

    name: ClassVar[str]
    needs_activations: ClassVar[bool] = False

    def select(
        self,
        net: nn.Module,
        n_channels: int,
        scores: Optional[Scores] = None,
        generator: Optional[torch.Generator] = None,
        limits: Optional[Mapping[str, int]] = None,
    ) -> Decision:
        """``{layer name: channel indices to remove}`` holding ``n_channels`` channels (fewer if fewer can go);
        ``limits``: the most each layer may lose (default: all but one channel)."""
        if n_channels < 0:
            raise ValueError(f"n_channels must be >= 0, got {n_channels}")
        widths = current_widths(net)
        if self.needs_activations:
            check_scores(scores, widths, self.name)
            scores = {name: scores[name] for name in widths}
        pool = ChannelPool(widths, limits)
        if n_channels > 0:
            self._pick(net, pool, n_channels, scores, generator if generator is not None else torch.default_generator)
        return pool.decision()

    @abstractmethod
    def _pick(
        self, net: nn.Module, pool: ChannelPool, n: int, scores: Optional[Scores], generator: torch.Generator
    ) -> None:
        """Remove up to ``n`` channels from ``pool`` (never a layer's last one)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
