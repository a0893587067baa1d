"""Ratio columns: how many times smaller / faster a model is than the reference model.

Rules: ratio = reference value / model value (2.0 = half the reference's parameters, MACs, memory or time; below 1 =
bigger or slower), for the raw columns in ``RATIOS`` (latencies as ``runtimes.latency_ratios`` pairs them: a graph
runtime's against the reference's PyTorch latency, ONNX Runtime's also against the reference's in ONNX Runtime). Each
row is compared with the reference's row of the same fold, else with the reference's first successful row. Memory ratios
use the peak over the after-imports baseline (the baseline is the same bare torch + nnU-Net process for every model).
Cells stay empty when either value is missing or zero, or there is no successful reference row.
"""

from typing import Callable, Dict, List, Optional, Tuple, Union

from nnunet_lunet.benchmark.runtimes import BY_GRAPH_RUNTIME, TIMERS, TORCH, Runtime, column, latency_ratios


def _median(timer: str) -> str:
    runtime, scope = TIMERS[timer]
    return column(runtime, scope)


def _median_columns(runtime: Runtime) -> Dict[str, Union[str, Tuple[str, str]]]:
    """A runtime's latency ratios as ``RATIOS`` entries (medians; one column where both sides are the same)."""
    return {ratio: _median(ref) if ref == row else (_median(ref), _median(row))
            for ratio, (ref, row) in latency_ratios(runtime).items()}


# ratio column -> raw column it compares, or (reference's column, model's column)
RATIOS = {"parameters_ratio": "parameters", "macs_ratio": "macs_per_patch", **_median_columns(TORCH),
          "memory_train_ratio": "memory_train_delta_mib", "memory_inference_ratio": "memory_inference_delta_mib",
          **{k: v for r in BY_GRAPH_RUNTIME.values() for k, v in _median_columns(r).items()}}


def _ratio(reference: object, value: object) -> Optional[float]:
    if not isinstance(reference, (int, float)) or not isinstance(value, (int, float)) or not value or not reference:
        return None
    return reference / value


def reference_lookup(rows: List[Dict[str, object]],
                     reference_model: Optional[str]) -> Callable[[Dict[str, object]], Optional[Dict[str, object]]]:
    """``row -> the reference's row it is compared with`` (same fold, else the first successful one; None if the
    reference has no successful row)."""
    refs = [r for r in rows if reference_model and r["model"] == reference_model and r["status"] == "ok"]
    by_fold = {r["fold"]: r for r in refs}
    return lambda row: by_fold.get(row["fold"], refs[0] if refs else None)


def add_ratios(rows: List[Dict[str, object]], reference_model: Optional[str]) -> None:
    """Fill the ratio columns of ``rows`` in place (rows carry ``model``, ``fold`` and ``status``)."""
    reference_of = reference_lookup(rows, reference_model)
    for row in rows:
        ref = reference_of(row)
        for ratio, raw in RATIOS.items():
            ref_column, column = raw if isinstance(raw, tuple) else (raw, raw)
            row[ratio] = _ratio(ref.get(ref_column), row.get(column)) if ref is not None else None
