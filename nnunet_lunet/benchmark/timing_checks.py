"""Checks that say how far the benchmark's timings can be trusted.

Rules:

- Noise: a latency ratio is marked ``within noise`` when the row's min-max range and the reference's overlap (for
  ``*_<runtime>_vs_torch_ratio``: the row's range under that runtime against the reference's PyTorch range). The
  runs then do not show which of the two is faster, whatever the medians say. The marked ratio columns of a row are
  listed, space-separated, in its ``ratios_within_noise`` column; the table prints such ratios as ``~1.05x``.
- Consistency: one whole case costs at least ``case_forward_passes`` forward passes of one patch. A case whose median
  time is more than ``CASE_SLACK`` (10%) below that many times the fastest patch run of the same runtime was timed
  under other conditions than the patch (other load on the machine, or, at a few milliseconds, timer noise); it is
  reported with the numbers, as the timings of that row cannot be compared. The slack: a case of one tile is the
  same forward pass as the patch, and the two differ by a few percent from run to run (the demo on 2 idle cores:
  STAMP's one-tile case 1% below its fastest patch under ONNX Runtime; the contradiction that made this check was 25%).
"""

from typing import Dict, List, Optional, Sequence

from nnunet_lunet.benchmark.ratios import reference_lookup
from nnunet_lunet.benchmark.runtimes import LATENCY_RATIOS, RUNTIMES, timer
from nnunet_lunet.benchmark.timers import timing_of

CASE_SLACK = 0.10


def _overlaps(ref: Dict[str, object], row: Dict[str, object], ref_timer: str, row_timer: str) -> Optional[bool]:
    try:
        return timing_of(ref, ref_timer).overlaps(timing_of(row, row_timer))
    except KeyError:
        return None


def mark_noise(rows: List[Dict[str, object]], reference_model: Optional[str]) -> None:
    """Fill every row's ``ratios_within_noise`` (module rules)."""
    reference_of = reference_lookup(rows, reference_model)
    for row in rows:
        ref = reference_of(row)
        marked = [ratio for ratio, (ref_timer, row_timer) in LATENCY_RATIOS.items()
                  if ref is not None and _overlaps(ref, row, ref_timer, row_timer)]
        row["ratios_within_noise"] = " ".join(marked)


def inconsistent_cases(rows: Sequence[Dict[str, object]]) -> List[str]:
    """One line per row and runtime whose case time is below its forward passes' fastest patch time."""
    lines = []
    for row in rows:
        passes = row.get("case_forward_passes")
        if not isinstance(passes, int):
            continue
        for runtime in RUNTIMES:
            try:
                patch, case = timing_of(row, timer(runtime, "patch")), timing_of(row, timer(runtime, "case"))
            except KeyError:
                continue
            if case.median < (1 - CASE_SLACK) * passes * patch.minimum:
                lines.append(f"{row['model']} fold {row['fold']}, {runtime.label}: whole case "
                             f"{case.median * 1e3:.0f} ms, more than {CASE_SLACK:.0%} below {passes} forward pass(es) "
                             f"x fastest patch {patch.minimum * 1e3:.0f} ms: the two timings disagree (other load, or "
                             f"timer noise at this scale); do not compare this row's timings")
    return lines
