"""When to prune and how much: a fixed schedule in epochs (``PruningSchedule``), and a gradual schedule through
levels that is laid out over the run's budget (``GradualSchedule``).

Fixed schedule (``PruningSchedule``; the pruning trainers' own and the ``_smoke`` ones):

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

Gradual schedule (``GradualSchedule``; the ``_budget`` pruning trainers), for a run of E epochs of I iterations and
levels l_1 > ... > l_n (fractions of the original prunable channels; default 75%, 50%, 25%):

- Warm-up: the first W = max(1, floor(warmup_fraction x E + 1/2)) epochs train the unpruned net (default 20%).
- Final stretch: the last H = floor(final_hold_fraction x E + 1/2) epochs train at the last level only (default 0),
  so that pruning ends early enough to leave real training after the last level.
- The E - W - H epochs in between form one segment per level: segment k (k = 1..n) is epochs [b_(k-1), b_k) with
  b_k = W + floor(k (E - W - H) / n), so segments differ by at most one epoch and the last is never the shorter one;
  the last segment runs on to E (it holds the last level through the final stretch).
- A segment's first P_k = max(1, floor(prune_fraction x (b_k - b_(k-1)))) epochs prune (default half), the rest hold
  the level: training at l_k's widths (STAMP's recovery epochs). Every segment needs at least one epoch of each, hence
  E >= W + H + 2n (7 epochs for three levels with no final stretch).
- Pruning epochs take S_k = min(steps_per_level, P_k x I) steps spread evenly over their P_k x I iterations: step j
  (0-based) runs before training iteration floor(j P_k I / S_k) of the segment (counted from its first epoch).
  Step j leaves ceil(f C) of the C original channels. With ``step_sizing="original"``,
  f = l_(k-1) - (j + 1) (l_(k-1) - l_k) / S_k (l_0 = 1): a fixed share of the ORIGINAL channels per step, which is a
  growing share of what remains as the net shrinks. With ``step_sizing="remaining"``,
  f = l_(k-1) (l_k / l_(k-1))^((j + 1) / S_k): every step of a level removes the same share of what REMAINS
  (1 - (l_k / l_(k-1))^(1 / S_k); 2.8%, 4.0% and 6.7% for 10 steps a level through 75, 50, 25%). Either way the
  segment's last step lands on ceil(l_k C).
- Catching up (``channels_to_remove``): a net behind the schedule (a rolled-back step's channels not taken) spreads
  the arrears over the level's steps left, each step taking at most twice its own channels, so no single step
  takes what several rolled-back steps left (a level the net cannot reach that way is recorded as short).
- Level l_k is recorded when its training ends, just before the schedule goes below it: at the start of epoch b_k
  (before that epoch's first step) for k < n, and at the end of training for the last level.
- ``lr_decay_start()``: the epoch after the last pruning epoch, from which the trainers may decay the learning rate
  (``trainers.gradual_pruning``).
- Resuming is exact: a position (epoch, iteration) has a fixed number of steps due (``steps_due``), and a trainer
  takes the steps due that it has not taken, so a run continued from a checkpoint of epoch e takes the steps the
  uninterrupted run takes from epoch e on. The layout depends on E and I only (not on the data or the widths).

Example (the Hippocampus paper preset: E = 20 epochs of I = 25 iterations, defaults): warm-up epochs 0-3; 75%:
10 steps in epochs 4-5 (one every 5 iterations), held in epochs 6-8, recorded at the start of epoch 9; 50%: 10 steps
in epochs 9-10, held in 11-13, recorded at the start of epoch 14; 25%: 10 steps in epochs 14-16 (every 7-8
iterations), held in 17-19, recorded at the end of training.
"""

import math
from dataclasses import dataclass
from typing import List, Optional, Tuple

from torch import nn

from nnunet_lunet.pruning.layer_widths import LayerWidths, count_channels, count_layers, ones_like_widths
from nnunet_lunet.pruning.network import count_parameters_for_widths

TARGET_KINDS = ("channels", "parameters")
STEP_SIZINGS = ("original", "remaining")


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


def round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def channels_at(fraction: float, original_channels: int) -> int:
    """The channel count that keeps ``fraction`` of ``original_channels``: ``ceil(fraction * original)``."""
    return math.ceil(fraction * original_channels - 1e-9)


def level_name(level: float) -> str:
    """``"75"`` for 0.75: the suffix of a level's files (``checkpoint_level75.pth``, ``validation_level75``)."""
    return f"{round_half_up(level * 100)}"


@dataclass(frozen=True)
class GradualStep:
    """Pruning step ``index`` (0-based over the run) of level ``level_index``: before iteration ``iteration`` of
    epoch ``epoch`` it prunes down to ``fraction`` of the original channels."""

    index: int
    level_index: int
    epoch: int
    iteration: int
    fraction: float


@dataclass(frozen=True)
class GradualSchedule:
    """See the module docstring. ``levels`` are what REMAINS of the original channels, in decreasing order."""

    epochs: int
    iterations_per_epoch: int
    levels: Tuple[float, ...] = (0.75, 0.5, 0.25)
    warmup_fraction: float = 0.2
    prune_fraction: float = 0.5
    steps_per_level: int = 10
    final_hold_fraction: float = 0.0
    step_sizing: str = "original"

    def __post_init__(self):
        object.__setattr__(self, "levels", tuple(float(level) for level in self.levels))
        for name in ("epochs", "iterations_per_epoch", "steps_per_level"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if not self.levels or any(not 0 < level < 1 for level in self.levels) or \
                list(self.levels) != sorted(set(self.levels), reverse=True):
            raise ValueError(f"levels must be distinct fractions in (0, 1) in decreasing order, got {self.levels!r}")
        if not 0 <= self.warmup_fraction < 1:
            raise ValueError(f"warmup_fraction must be in [0, 1), got {self.warmup_fraction!r}")
        if not 0 < self.prune_fraction < 1:
            raise ValueError(f"prune_fraction must be in (0, 1), got {self.prune_fraction!r}")
        if not 0 <= self.final_hold_fraction < 1:
            raise ValueError(f"final_hold_fraction must be in [0, 1), got {self.final_hold_fraction!r}")
        if self.step_sizing not in STEP_SIZINGS:
            raise ValueError(f"step_sizing must be one of {STEP_SIZINGS}, got {self.step_sizing!r}")
        needed = self.warmup_epochs + self.final_hold_epochs + 2 * len(self.levels)
        if self.epochs < needed:
            hold = f", {self.final_hold_epochs} of final stretch" if self.final_hold_epochs else ""
            raise ValueError(f"a gradual schedule through {len(self.levels)} levels needs at least {needed} epochs "
                             f"({self.warmup_epochs} of warm-up{hold}, then per level one that prunes and one that "
                             f"holds it); this run has {self.epochs}: train more epochs (NNUNET_LUNET_EPOCHS)")

    @property
    def warmup_epochs(self) -> int:
        return max(1, round_half_up(self.warmup_fraction * self.epochs))

    @property
    def final_hold_epochs(self) -> int:
        return round_half_up(self.final_hold_fraction * self.epochs)

    def _bounds_before_final_stretch(self) -> List[int]:
        w, n = self.warmup_epochs, len(self.levels)
        return [w + (k * (self.epochs - w - self.final_hold_epochs)) // n for k in range(n + 1)]

    def segment_bounds(self) -> List[int]:
        """``[b_0, ..., b_n]``: level k's segment is epochs ``[b_(k-1), b_k)``; b_0 ends the warm-up, b_n = epochs."""
        return self._bounds_before_final_stretch()[:-1] + [self.epochs]

    def pruning_epochs(self, level_index: int) -> int:
        """P_k: how many of the (0-based) level's segment epochs prune; the others hold the level."""
        bounds = self._bounds_before_final_stretch()
        return max(1, math.floor(self.prune_fraction * (bounds[level_index + 1] - bounds[level_index])))

    def lr_decay_start(self) -> int:
        """The epoch after the last pruning epoch."""
        return self.segment_bounds()[-2] + self.pruning_epochs(len(self.levels) - 1)

    def _fraction(self, previous: float, level: float, j: int, n_steps: int) -> float:
        if j == n_steps - 1:
            return level
        if self.step_sizing == "remaining":
            return previous * (level / previous) ** ((j + 1) / n_steps)
        return previous - (j + 1) * (previous - level) / n_steps

    def steps(self) -> List[GradualStep]:
        """Every pruning step of the run, in order."""
        bounds, previous, out = self.segment_bounds(), 1.0, []
        for k, level in enumerate(self.levels):
            span = self.pruning_epochs(k) * self.iterations_per_epoch
            n_steps = min(self.steps_per_level, span)
            for j in range(n_steps):
                at = bounds[k] * self.iterations_per_epoch + (j * span) // n_steps
                out.append(GradualStep(len(out), k, at // self.iterations_per_epoch, at % self.iterations_per_epoch,
                                       self._fraction(previous, level, j, n_steps)))
            previous = level
        return out

    def channels_to_remove(self, index: int, current_channels: int, original_channels: int) -> int:
        """How many channels step ``index`` removes from a net of ``current_channels``: the schedule's own step plus
        an even share, over the level's steps left (this one included), of what the net is behind the schedule (a
        rolled-back step's channels), at most twice the schedule's step and never below the step's target."""
        steps = self.steps()
        step = steps[index]
        before = channels_at(steps[index - 1].fraction if index else 1.0, original_channels)
        own = before - channels_at(step.fraction, original_channels)
        left = sum(1 for s in steps[index:] if s.level_index == step.level_index)
        behind = max(0, current_channels - before)
        n = min(own + math.ceil(behind / left), 2 * own,
                current_channels - channels_at(step.fraction, original_channels))
        return max(0, n)

    def steps_due(self, epoch: int, iteration: int) -> int:
        """How many steps have run before training iteration ``iteration`` of ``epoch`` (that one's steps included)."""
        return sum(1 for s in self.steps() if (s.epoch, s.iteration) <= (epoch, iteration))

    def level_epochs(self) -> List[int]:
        """For each level, the epoch at whose start it is recorded (``epochs``: at the end of training)."""
        return self.segment_bounds()[1:]

    def levels_recorded_at(self, epoch: int) -> List[int]:
        """Indices of the levels recorded at the start of ``epoch`` (``epoch == epochs``: the end of training)."""
        return [k for k, at in enumerate(self.level_epochs()) if at == epoch]
