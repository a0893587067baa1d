"""How much one pruning step may take from each layer: the bounds that keep a pruned network trainable.

Rules (``step_limits``), for every prunable layer of current width w and original width w0:

- a minimum width: the layer never goes below ``floor = max(1, min_channels, ceil(min_width_fraction x w0))``
  (a layer already at or below it loses nothing more);
- a cap on one step: a step takes at most ``max(1, floor(max_step_share x w))`` channels of it, a share of what the
  layer has now, so steps do not grow as the layer shrinks.

Criteria receive the result as ``limits`` (``criteria.base.ChannelPool``). When the limits leave fewer channels than
a step asks for, the step removes what they allow and the schedule's next step (which targets an absolute channel
count) asks for the rest. ``smallest_channels`` is the fewest channels the minimum widths allow: a target below it
cannot be reached and is refused before training (``check_floors_allow``).
"""

import math
from typing import Dict, Mapping


def min_width(original: int, min_channels: int, min_width_fraction: float) -> int:
    """The width a layer of ``original`` channels never goes below."""
    return max(1, min_channels, math.ceil(min_width_fraction * original - 1e-9))


def step_limits(widths: Mapping[str, int], original: Mapping[str, int], max_step_share: float, min_channels: int,
                min_width_fraction: float) -> Dict[str, int]:
    """``{layer name: most channels one step may remove}`` (see the module docstring)."""
    assert 0 < max_step_share <= 1, f"max_step_share must be in (0, 1], got {max_step_share}"
    assert set(widths) == set(original), "widths and original widths must name the same layers"
    return {name: max(0, min(max(1, math.floor(max_step_share * width)),
                             width - min_width(original[name], min_channels, min_width_fraction)))
            for name, width in widths.items()}


def smallest_channels(original: Mapping[str, int], min_channels: int, min_width_fraction: float) -> int:
    """The fewest prunable channels a network can keep under the minimum widths."""
    return sum(min(width, min_width(width, min_channels, min_width_fraction)) for width in original.values())


def check_floors_allow(original: Mapping[str, int], target_channels: int, min_channels: int,
                       min_width_fraction: float) -> None:
    """ValueError naming the fix when the minimum widths keep more than ``target_channels`` channels."""
    smallest = smallest_channels(original, min_channels, min_width_fraction)
    if smallest > target_channels:
        total = sum(original.values())
        raise ValueError(f"the minimum widths (pruning_min_channels={min_channels}, pruning_min_width_fraction="
                         f"{min_width_fraction}) keep at least {smallest} of {total} channels "
                         f"({smallest / total:.3f}), more than the target's {target_channels}: lower them or raise "
                         f"the target")
