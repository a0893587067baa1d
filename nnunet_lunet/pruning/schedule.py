"""When to prune and how much.

Rules:

- Epochs are nnU-Net's 0-based epoch numbers; ``is_pruning_epoch(e)`` says whether epoch e has a pruning step
  (a trainer runs it at the start of epoch e). Epochs ``0 .. warmup_epochs-1`` never do, so ``warmup_epochs`` full
  epochs train the unpruned net; from then on every ``every_n_epochs``-th epoch does (``warmup_epochs``,
  ``warmup_epochs + every_n_epochs``, ...). The epochs in between are STAMP's recovery epochs.
- Each step removes ``fraction_per_step`` of the ORIGINAL prunable channel count (at least 1 channel).
  STAMP removes one channel per step (its nets have ~100 channels); nnU-Net's default nets have thousands of
  prunable channels (e.g. 32..320 per stage, two convs per stage, encoder and decoder), so one channel per step would
  need thousands of pruning epochs. The default 5% reaches a 10% target in 18 steps.
- Pruning stops once what remains (channels, or parameters with ``target_kind="parameters"``) is at most
  ``target_fraction`` of the original. With channels the last step is clipped so as not to go below the target; with
  parameters (which channels do not map to exactly) the last step may overshoot by up to one step.
"""

import math
from dataclasses import dataclass
from typing import Optional

from torch import nn

from nnunet_lunet.pruning.layer_widths import LayerWidths, count_channels, count_layers, ones_like_widths
from nnunet_lunet.pruning.network import count_parameters_for_widths

TARGET_KINDS = ("channels", "parameters")


@dataclass(frozen=True)
class PruningSchedule:
    """See the module docstring. ``target_fraction`` is what REMAINS of the original when pruning stops."""

    warmup_epochs: int = 0
    every_n_epochs: int = 1
    fraction_per_step: float = 0.05
    target_fraction: float = 0.1
    target_kind: str = "channels"

    def __post_init__(self):
        if not isinstance(self.warmup_epochs, int) or self.warmup_epochs < 0:
            raise ValueError(f"warmup_epochs must be an integer >= 0, got {self.warmup_epochs!r}")
        if not isinstance(self.every_n_epochs, int) or self.every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be an integer >= 1, got {self.every_n_epochs!r}")
        if not 0 < self.fraction_per_step <= 1:
            raise ValueError(
                f"fraction_per_step (of the original channel count, removed per step) must be in (0, 1], "
                f"got {self.fraction_per_step!r}"
            )
        if not 0 < self.target_fraction <= 1:
            raise ValueError(
                f"target_fraction (what remains when pruning stops) must be in (0, 1], got {self.target_fraction!r}"
            )
        if self.target_kind not in TARGET_KINDS:
            raise ValueError(f"target_kind must be one of {TARGET_KINDS}, got {self.target_kind!r}")

    def is_pruning_epoch(self, epoch: int) -> bool:
        """Whether (0-based) ``epoch`` has a pruning step (at its start)."""
        return epoch >= self.warmup_epochs and (epoch - self.warmup_epochs) % self.every_n_epochs == 0

    def step_size(self, original_channels: int) -> int:
        """Channels removed per step: ``fraction_per_step`` of the original count, at least 1."""
        return max(1, round(self.fraction_per_step * original_channels))

    def reached(
        self,
        original_channels: int,
        current_channels: int,
        original_params: Optional[int] = None,
        current_params: Optional[int] = None,
    ) -> bool:
        """Whether what remains is at most ``target_fraction`` of the original (parameters need both counts)."""
        if self.target_kind == "parameters":
            if original_params is None or current_params is None:
                raise ValueError("target_kind='parameters' needs original_params and current_params")
            return current_params <= self.target_fraction * original_params
        return current_channels <= self.target_channels(original_channels)

    def target_channels(self, original_channels: int) -> int:
        """The channel count at which a channel target is reached: ``ceil(target_fraction * original)``."""
        return math.ceil(self.target_fraction * original_channels - 1e-9)

    def n_to_remove(
        self,
        original_channels: int,
        current_channels: int,
        original_params: Optional[int] = None,
        current_params: Optional[int] = None,
    ) -> int:
        """Channels to remove this step: 0 once the target is reached, else one step (clipped at a channel target)."""
        if self.reached(original_channels, current_channels, original_params, current_params):
            return 0
        step = self.step_size(original_channels)
        if self.target_kind == "channels":
            step = min(step, current_channels - self.target_channels(original_channels))
        return max(0, step)


def min_channel_fraction(widths: LayerWidths) -> float:
    """The smallest fraction of ``widths``' channels a net can keep: every prunable layer at 1 channel."""
    return count_layers(widths) / count_channels(widths)


def check_target_reachable(
    widths: LayerWidths, target_fraction: float, target_kind: str = "channels", net: Optional[nn.Module] = None
) -> None:
    """Raise ValueError if keeping ``target_fraction`` of ``widths``' channels (or parameters) needs a layer below 1.

    ``widths`` are the original (unpruned) widths. Every prunable layer keeps at least one channel, so at most
    ``count_channels - count_layers`` channels can go; the message gives the smallest reachable fraction and the fix.
    A parameter target needs ``net`` (any net of that structure; it is not changed) to count parameters.
    """
    if target_kind == "channels":
        n_channels, n_layers = count_channels(widths), count_layers(widths)
        needed = math.ceil(target_fraction * n_channels - 1e-9)
        if needed < n_layers:
            raise ValueError(
                f"target_fraction {target_fraction} would keep {needed} of {n_channels} prunable channels, but the net "
                f"has {n_layers} prunable layers and each keeps at least 1 channel: the smallest reachable fraction is "
                f"{min_channel_fraction(widths):.4f}; use a target_fraction of at least that"
            )
    elif target_kind == "parameters":
        if net is None:
            raise ValueError("checking a parameter target needs the net (to count parameters)")
        original = count_parameters_for_widths(net, widths)
        smallest = count_parameters_for_widths(net, ones_like_widths(widths))
        if target_fraction * original < smallest:
            raise ValueError(
                f"target_fraction {target_fraction} of {original} parameters would keep "
                f"{int(target_fraction * original)}, but with every prunable layer at 1 channel the net still has "
                f"{smallest}: the smallest reachable fraction is {smallest / original:.4f}; use a target_fraction "
                f"of at least that"
            )
    else:
        raise ValueError(f"target_kind must be one of {TARGET_KINDS}, got {target_kind!r}")
