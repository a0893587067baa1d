"""The runtimes the benchmark times every row under, as the registry lists them (``deploy.graph_runtimes.RUNTIMES``):
the timers, their CSV columns, the latency ratio columns and the table's headings all derive from its entries.

Rules:

- ``PyTorch`` (eager, the baseline users have today) is always timed; the graph runtimes only on CPU and when
  available.
- Each runtime has two timers, ``patch<suffix>`` and ``case<suffix>`` (``timer``), whose columns are
  ``latency_patch<suffix>_{median,min,max}_ms`` and ``latency_case<suffix>_{median,min,max}_s`` (``column``).
- Latency ratios (reference / model): PyTorch's ``latency_{patch,case}_ratio`` (both in PyTorch); every graph
  runtime's ``latency_{patch,case}<suffix>_vs_torch_ratio`` (the reference in PyTorch / the model in that runtime) and,
  for a runtime with ``own_ratio``, ``latency_{patch,case}<suffix>_vs<suffix>_ratio`` (both in that runtime).
- ``NNUNET_LUNET_BENCH_RUNTIMES`` (comma-separated graph runtime names, e.g. ``onnxruntime``) limits the graph
  runtimes timed to those named (``timed_graph_runtimes``); unset, every one that can run here is timed. The other
  runtimes' columns stay empty, as on CUDA. The test suite uses it where the runtimes are not what a test checks
  (each runtime costs an export, a compilation and, for INT8, a quantization per row).
"""

import os
from typing import Dict, List, Tuple

from nnunet_lunet.deploy.graph_runtimes import (GRAPH_RUNTIMES, RUNTIMES, TORCH, Runtime,  # noqa: F401 (TORCH)
                                                available_runtimes)
from nnunet_lunet.errors import LUnetError

RUNTIMES_VARIABLE = "NNUNET_LUNET_BENCH_RUNTIMES"

SCOPES = ("patch", "case")  # what is timed: one patch / one whole case
STATS = ("median", "min", "max")
_UNIT = {"patch": ("ms", 1e3), "case": ("s", 1.0)}  # unit, scale from seconds



def timed_graph_runtimes() -> List[str]:
    """The graph runtimes the benchmark times (module rules); LUnetError for a name that is not a graph runtime."""
    available = available_runtimes()
    value = os.environ.get(RUNTIMES_VARIABLE)
    if value is None:
        return available
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in GRAPH_RUNTIMES]
    if unknown:
        raise LUnetError(f"{RUNTIMES_VARIABLE}={value!r}: {', '.join(unknown)} is not a graph runtime; use some of "
                         f"{', '.join(GRAPH_RUNTIMES)} (or leave it unset to time every one that can run here)")
    return [n for n in available if n in names]


def timer(runtime: Runtime, scope: str) -> str:
    """The name of ``runtime``'s timer of ``scope``."""
    return scope + runtime.suffix


def column(runtime: Runtime, scope: str, stat: str = "median") -> str:
    return f"latency_{scope}{runtime.suffix}_{stat}_{_UNIT[scope][0]}"


# the graph runtimes, in RUNTIMES' order
BY_GRAPH_RUNTIME = {r.name: r for r in RUNTIMES if r.runner is not None}
# timer -> (runtime, scope)
TIMERS = {timer(r, scope): (r, scope) for r in RUNTIMES for scope in SCOPES}
COLUMNS = [column(r, scope, stat) for r in RUNTIMES for scope in SCOPES for stat in STATS]


def scale(scope: str) -> float:
    """Seconds -> the column's unit."""
    return _UNIT[scope][1]


def scope_ratios(runtime: Runtime, scope: str) -> Dict[str, Tuple[str, str]]:
    """``{ratio column: (reference's timer, row's timer)}`` of one runtime and scope (module rules)."""
    if runtime is TORCH:
        return {f"latency_{scope}_ratio": (scope, scope)}
    out = {f"latency_{scope}{runtime.suffix}_vs_torch_ratio": (scope, timer(runtime, scope))}
    if runtime.own_ratio:
        out[f"latency_{scope}{runtime.suffix}_vs{runtime.suffix}_ratio"] = (timer(runtime, scope),) * 2
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
        out.append((f"{runtime.heading} {scope} {unit}", column(runtime, scope), digits))
        for ratio, (ref_timer, _) in scope_ratios(runtime, scope).items():
            against = "torch" if ref_timer == scope else runtime.heading
            out.append((f"{runtime.heading} {scope} x {against}", ratio, "ratio"))
    return out
