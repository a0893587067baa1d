"""Checks that say how far the benchmark's timings can be trusted.

Rules:

- Noise: a latency ratio is marked ``within noise`` when the row's min-max range and the reference's overlap (for
  ``*_<runtime>_vs_torch_ratio``: the row's range under that runtime against the reference's PyTorch range). The
  runs then do not show which of the two is faster, whatever the medians say. The marked ratio columns of a row are
  listed, space-separated, in its ``ratios_within_noise`` column; the table prints such ratios as ``~1.05x``.
- Consistency: one whole case costs at least ``case_forward_passes`` forward passes of one patch. A case whose median
  time is below that many times the fastest patch run of the same runtime was timed under other conditions than the
  patch (other load on the machine, or, at a few milliseconds, timer noise); it is reported with the numbers, as the
  timings of that row cannot be compared.
"""

from typing import Dict, List, Optional, Sequence

from nnunet_lunet.benchmark.ratios import RATIOS, reference_lookup
from nnunet_lunet.benchmark.timers import TIMERS, timing_of

# latency ratio column -> (reference's timer, row's timer), derived from the ratio table and the timers' columns
_TIMER_OF_MEDIAN = {f"{prefix}_median_{unit}": name for name, (prefix, unit, _) in TIMERS.items()}
LATENCY_RATIOS = {
    ratio: (_TIMER_OF_MEDIAN[ref_column], _TIMER_OF_MEDIAN[column])
    for ratio, (ref_column, column) in ((r, raw if isinstance(raw, tuple) else (raw, raw)) for r, raw in RATIOS.items())
    if ref_column in _TIMER_OF_MEDIAN and column in _TIMER_OF_MEDIAN
}
# (patch timer, case timer) of one runtime
RUNTIMES = {"PyTorch": ("patch", "case"), "ONNX Runtime": ("patch_ort", "case_ort"),
            "OpenVINO": ("patch_ov", "case_ov"), "OpenVINO bf16": ("patch_ov16", "case_ov16")}


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
        for runtime, (patch_timer, case_timer) in RUNTIMES.items():
            try:
                patch, case = timing_of(row, patch_timer), timing_of(row, case_timer)
            except KeyError:
                continue
            if case.median < passes * patch.minimum:
                lines.append(f"{row['model']} fold {row['fold']}, {runtime}: whole case {case.median * 1e3:.0f} ms "
                             f"< {passes} forward pass(es) x fastest patch {patch.minimum * 1e3:.0f} ms: the two "
                             f"timings disagree (other load, or timer noise at this scale); do not compare this "
                             f"row's timings")
    return lines
