"""The runtimes the benchmark times every row under: one entry each, from which the timers, their CSV columns, the
latency ratio columns and the table's headings are all derived.

Rules:

- ``PyTorch`` (eager, the baseline users have today) is always timed; the graph runtimes
  (``deploy.graph_runtimes``) only on CPU and when available.
- Each runtime has two timers, ``patch<suffix>`` and ``case<suffix>``, whose columns are
  ``latency_patch<suffix>_{median,min,max}_ms`` and ``latency_case<suffix>_{median,min,max}_s``.
- Latency ratios (reference / model): PyTorch's ``latency_{patch,case}_ratio`` (both in PyTorch); every graph
  runtime's ``latency_{patch,case}<suffix>_vs_torch_ratio`` (the reference in PyTorch / the model in that runtime) and,
  for a runtime with ``own_ratio``, ``latency_{patch,case}<suffix>_vs<suffix>_ratio`` (both in that runtime).
"""

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

WHAT = ("patch", "case")  # one patch / one whole case
STATS = ("median", "min", "max")
_UNIT = {"patch": ("ms", 1e3), "case": ("s", 1.0)}  # unit, scale from seconds


@dataclass(frozen=True)
class Runtime:
    name: str  # as the notes say it
    graph_runtime: Optional[str]  # its name in deploy.graph_runtimes; None for PyTorch
    suffix: str  # of its timers and columns
    heading: str  # before its table headings
    own_ratio: bool = False  # also a ratio against the reference in this runtime

    def timer(self, what: str) -> str:
        return what + self.suffix

    def column(self, what: str, stat: str = "median") -> str:
        return f"latency_{what}{self.suffix}_{stat}_{_UNIT[what][0]}"


PYTORCH = Runtime("PyTorch", None, "", "")
RUNTIMES = (PYTORCH, Runtime("ONNX Runtime", "onnxruntime", "_ort", "ORT", own_ratio=True),
            Runtime("OpenVINO", "openvino", "_ov", "OV"), Runtime("OpenVINO bf16", "openvino-bf16", "_ov16", "OV bf16"))
GRAPH_RUNTIMES = {r.graph_runtime: r for r in RUNTIMES if r.graph_runtime is not None}
# timer -> (runtime, what)
TIMERS = {r.timer(what): (r, what) for r in RUNTIMES for what in WHAT}
COLUMNS = [r.column(what, stat) for r in RUNTIMES for what in WHAT for stat in STATS]


def scale(what: str) -> float:
    """Seconds -> the column's unit."""
    return _UNIT[what][1]


def latency_ratios(runtime: Runtime) -> Dict[str, Tuple[str, str]]:
    """``{ratio column: (reference's timer, row's timer)}`` of one runtime (module rules), patch before case."""
    if runtime is PYTORCH:
        return {f"latency_{what}_ratio": (what, what) for what in WHAT}
    out = {}
    for what in WHAT:
        out[f"latency_{what}{runtime.suffix}_vs_torch_ratio"] = (what, runtime.timer(what))
        if runtime.own_ratio:
            out[f"latency_{what}{runtime.suffix}_vs{runtime.suffix}_ratio"] = (runtime.timer(what),) * 2
    return out


LATENCY_RATIOS = {k: v for r in RUNTIMES for k, v in latency_ratios(r).items()}


def graph_headings(runtime: Runtime) -> List[Tuple[str, str, str]]:
    """A graph runtime's table columns, ``(heading, row column, format)``: a ratio's format is ``ratio``."""
    out = []
    for what in WHAT:
        out.append((f"{runtime.heading} {what} {_UNIT[what][0]}", runtime.column(what), ".1f" if what == "patch"
                    else ".2f"))
        for ratio, (ref_timer, _) in latency_ratios(runtime).items():
            if ratio.startswith(f"latency_{what}"):
                against = "torch" if ref_timer == what else runtime.heading
                out.append((f"{runtime.heading} {what} x {against}", ratio, "ratio"))
    return out
