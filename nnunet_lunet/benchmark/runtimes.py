"""The runtimes the benchmark times every row under: one entry each, from which the timers, their CSV columns, the
latency ratio columns and the table's headings are all derived.

Rules:

- ``PyTorch`` (eager, the baseline users have today) is always timed; the graph runtimes
  (``deploy.graph_runtimes``, each with exactly one entry here: checked at import) only on CPU and when available.
- Each runtime has two timers, ``patch<suffix>`` and ``case<suffix>``, whose columns are
  ``latency_patch<suffix>_{median,min,max}_ms`` and ``latency_case<suffix>_{median,min,max}_s``.
- Latency ratios (reference / model): PyTorch's ``latency_{patch,case}_ratio`` (both in PyTorch); every graph
  runtime's ``latency_{patch,case}<suffix>_vs_torch_ratio`` (the reference in PyTorch / the model in that runtime) and,
  for a runtime with ``own_ratio``, ``latency_{patch,case}<suffix>_vs<suffix>_ratio`` (both in that runtime).
"""

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from nnunet_lunet.deploy import graph_runtimes

SCOPES = ("patch", "case")  # what is timed: one patch / one whole case
STATS = ("median", "min", "max")
_UNIT = {"patch": ("ms", 1e3), "case": ("s", 1.0)}  # unit, scale from seconds


@dataclass(frozen=True)
class Runtime:
    name: str  # as the notes say it
    graph_runtime: Optional[str]  # its name in deploy.graph_runtimes; None for PyTorch
    suffix: str  # of its timers and columns
    heading_prefix: str  # before its table headings
    own_ratio: bool = False  # also a ratio against the reference in this runtime

    def timer(self, scope: str) -> str:
        """The name of its timer of ``scope``."""
        return scope + self.suffix

    def column(self, scope: str, stat: str = "median") -> str:
        return f"latency_{scope}{self.suffix}_{stat}_{_UNIT[scope][0]}"


PYTORCH = Runtime("PyTorch", None, "", "")
RUNTIMES = (PYTORCH, Runtime("ONNX Runtime", "onnxruntime", "_ort", "ORT", own_ratio=True),
            Runtime("OpenVINO", "openvino", "_ov", "OV"), Runtime("OpenVINO bf16", "openvino-bf16", "_ov16", "OV bf16"))
# the graph runtimes, in RUNTIMES' order
BY_GRAPH_RUNTIME = {r.graph_runtime: r for r in RUNTIMES if r.graph_runtime is not None}
assert set(BY_GRAPH_RUNTIME) == set(graph_runtimes.GRAPH_RUNTIMES), (
    f"expected one entry in RUNTIMES per runtime of deploy.graph_runtimes {graph_runtimes.GRAPH_RUNTIMES}, "
    f"got {sorted(BY_GRAPH_RUNTIME)}")
# timer -> (runtime, scope)
TIMERS = {r.timer(scope): (r, scope) for r in RUNTIMES for scope in SCOPES}
COLUMNS = [r.column(scope, stat) for r in RUNTIMES for scope in SCOPES for stat in STATS]


def scale(scope: str) -> float:
    """Seconds -> the column's unit."""
    return _UNIT[scope][1]


def scope_ratios(runtime: Runtime, scope: str) -> Dict[str, Tuple[str, str]]:
    """``{ratio column: (reference's timer, row's timer)}`` of one runtime and scope (module rules)."""
    if runtime is PYTORCH:
        return {f"latency_{scope}_ratio": (scope, scope)}
    out = {f"latency_{scope}{runtime.suffix}_vs_torch_ratio": (scope, runtime.timer(scope))}
    if runtime.own_ratio:
        out[f"latency_{scope}{runtime.suffix}_vs{runtime.suffix}_ratio"] = (runtime.timer(scope),) * 2
    return out


def latency_ratios(runtime: Runtime) -> Dict[str, Tuple[str, str]]:
    """``scope_ratios`` of every scope, patch before case."""
    return {k: v for scope in SCOPES for k, v in scope_ratios(runtime, scope).items()}


LATENCY_RATIOS = {k: v for r in RUNTIMES for k, v in latency_ratios(r).items()}


def graph_headings(runtime: Runtime) -> List[Tuple[str, str, str]]:
    """A graph runtime's table columns, ``(heading, row column, format)``: a ratio's format is ``ratio``."""
    out = []
    for scope in SCOPES:
        unit = _UNIT[scope][0]
        digits = ".1f" if unit == "ms" else ".2f"
        out.append((f"{runtime.heading_prefix} {scope} {unit}", runtime.column(scope), digits))
        for ratio, (ref_timer, _) in scope_ratios(runtime, scope).items():
            against = "torch" if ref_timer == scope else runtime.heading_prefix
            out.append((f"{runtime.heading_prefix} {scope} x {against}", ratio, "ratio"))
    return out
