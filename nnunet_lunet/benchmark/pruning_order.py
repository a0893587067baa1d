"""Which layers a pruning run cut first, as one number per run and level: does it prune the widest layers first?

Rule: at the first pruning step that leaves at most NN% (+0.5 points) of the original channels (the paper's levels
75, 50 and 25; for the first level, the last step if the run never got there; a later level the run did not reach,
e.g. because its validation guard stopped it, has no number), each prunable layer has lost a fraction
``1 - width / original width`` of its channels. ``width_rank_correlation`` is Spearman's rank correlation, over
the layers, between the original width and that fraction (ties get average ranks). Near 1: the wider a layer was,
the more of it went (``widest_layer`` pruning, which always cuts the currently widest layer, gives about 1); about 0:
no relation (uniform random channels); negative: narrow layers went first. None when it is undefined (no step, or
every layer of one width or cut alike).
Widths are ``pruning_log.json``'s layer-widths dicts (``original_widths``, each step's ``layer_widths``), read in the
same order in both; structure entries (a residual network's ``residual_stages``) are not widths.
"""

import math
from typing import Dict, List, Optional

from nnunet_lunet.benchmark.records import level_step
from nnunet_lunet.pruning.layer_widths import STRUCTURE_KEYS

FIRST_LEVEL = 75
LEVELS = (75, 50, 25)


def flat_widths(widths: dict) -> List[int]:
    """Every layer's width of a layer-widths dict, in the dict's order."""
    out: List[int] = []

    def walk(entry) -> None:
        if isinstance(entry, list):
            for e in entry:
                walk(e)
        else:
            out.append(int(entry))

    for key, entry in widths.items():
        if key not in STRUCTURE_KEYS:
            walk(entry)
    return out


def ranks(values: List[float]) -> List[float]:
    """1-based ranks, ties sharing their average rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(x: List[float], y: List[float]) -> Optional[float]:
    """Spearman's rho (Pearson's correlation of the ranks); None if either side is constant."""
    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx, syy = sum((a - mx) ** 2 for a in rx), sum((b - my) ** 2 for b in ry)
    return None if sxx == 0 or syy == 0 else sxy / math.sqrt(sxx * syy)


def width_rank_correlation(log: Optional[dict], level: int = FIRST_LEVEL) -> Optional[float]:
    """The module's number for one pruning log at ``level`` (%)."""
    if not log or not log.get("steps") or not log.get("original_widths"):
        return None
    step = level_step(log, level) or (log["steps"][-1] if level == FIRST_LEVEL else None)
    if step is None:
        return None
    original, now = flat_widths(log["original_widths"]), flat_widths(step["layer_widths"])
    if len(original) != len(now) or not original:
        return None
    return spearman([float(w) for w in original], [1 - n / o for n, o in zip(now, original)])


def width_rank_correlations(log: Optional[dict]) -> Dict[str, Optional[float]]:
    """The benchmark's columns: ``width_rank_correlation`` (the first level) and
    ``levelNN_width_rank_correlation`` for the later levels."""
    out = {"width_rank_correlation": width_rank_correlation(log, FIRST_LEVEL)}
    for level in LEVELS[1:]:
        out[f"level{level}_width_rank_correlation"] = width_rank_correlation(log, level)
    return out


def level_guard(log: Optional[dict]) -> Dict[str, str]:
    """``{"levelNN_guard": "stopped" or "short"}`` for each level the run's validation guard kept it from reaching
    (``pruning_log.json``'s ``levels`` with ``reached: false``), so that no number stands for such a level."""
    return {f"level{round(100 * r['level'])}_guard": str(r.get("guard") or "not reached")
            for r in (log or {}).get("levels", []) if r.get("reached") is False}
