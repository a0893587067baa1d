"""Width rules: how many feature channels each resolution stage of a U-Net gets.

nnU-Net's default PlainConvUNet doubles the width at every stage, capped: ``min(max_features, base * 2**s)``
(32, 64, 128, 256, 320, 320, ... in 3D). The two rules here derive other widths from that:

- **flat** (LUnet, Lean U-Net, arXiv 2512.03834): one width ``N`` at every stage, ``[N] * n_stages``. Channels are
  not doubled when the resolution halves. ``N`` is an integer >= 1.
- **scaled** (the paper's "Unet 75/50/25%" baselines): every default width multiplied by ``s`` in (0, 1], rounded
  to the nearest integer, with a floor of 1 channel: ``max(1, round(s * w))``. The shape (doubling) is kept.

- **matched** (the paper's equal-size baseline): the scaled rule with the scale ``s`` whose parameter count is
  nearest that of LUnet ``N`` on the same configuration (``matching_scale``).

Configuration names derived from a source configuration ``C``: ``C_lunet{N}``, ``C_scaled{round(100 s)}`` and
``C_scaled_as_lunet{N}``.
"""

from typing import Callable, List, Sequence

from nnunet_lunet.errors import LUnetError


def check_width(width: int) -> int:
    """Return ``width`` as int if it is a whole number >= 1, else raise LUnetError."""
    if isinstance(width, bool) or int(width) != width or width < 1:
        raise LUnetError(f"invalid width {width!r}: a LUnet width is a whole number of channels >= 1 (e.g. 8, 16, 32)")
    return int(width)


def check_scale(scale: float) -> float:
    """Return ``scale`` as float if it lies in (0, 1], else raise LUnetError."""
    if not 0 < float(scale) <= 1:
        raise LUnetError(f"invalid scale {scale!r}: a width scale must lie in (0, 1], e.g. 0.75 0.5 0.25")
    return float(scale)


def flat_widths(width: int, n_stages: int) -> List[int]:
    """LUnet widths: ``[width] * n_stages``."""
    assert n_stages >= 1, f"a U-Net has at least one stage, got n_stages={n_stages}"
    return [check_width(width)] * n_stages


def scaled_widths(default_widths: Sequence[int], scale: float) -> List[int]:
    """Default widths times ``scale``, rounded, at least 1 channel each."""
    scale = check_scale(scale)
    return [max(1, round(scale * w)) for w in default_widths]


def flat_name(width: int) -> str:
    """Suffix of a flat-width configuration, e.g. ``lunet16``."""
    return f"lunet{check_width(width)}"


def scaled_name(scale: float) -> str:
    """Suffix of a scaled configuration, e.g. ``scaled50`` for 0.5."""
    return f"scaled{round(100 * check_scale(scale))}"


def matched_name(width: int) -> str:
    """Suffix of the scaled configuration whose size matches LUnet ``width``, e.g. ``scaled_as_lunet16``."""
    return f"scaled_as_{flat_name(width)}"


def matching_scale(count: Callable[[float], int], target: int, resolution: float = 1e-4) -> float:
    """The scale in (0, 1] whose ``count(scale)`` is nearest ``target`` (ties: the larger scale).

    ``count`` (e.g. the parameters of the scaled network) must not decrease with the scale; bisection to
    ``resolution``, then the better of the two scales that bracket the target.
    """
    if count(1.0) <= target:
        return 1.0
    lo, hi = 0.0, 1.0  # count(lo) < target <= count(hi); lo = 0 stands for "below every scale"
    while hi - lo > resolution:
        mid = (lo + hi) / 2
        if count(mid) >= target:
            hi = mid
        else:
            lo = mid
    if lo == 0.0 or abs(count(hi) - target) <= abs(count(lo) - target):
        return hi
    return lo
