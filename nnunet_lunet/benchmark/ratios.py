"""Ratio columns: how many times smaller / faster a model is than the reference model.

Rules: ratio = reference value / model value (2.0 = half the reference's parameters, MACs, memory or time; below 1 =
bigger or slower), for the raw columns in ``RATIOS`` (ONNX Runtime latencies also against the reference's PyTorch
latency, OpenVINO latencies, float32 and bfloat16, only against it). Each row is compared with the reference's row of
the same fold, else with the reference's first successful row. Memory ratios use the peak over the after-imports
baseline (the baseline is the same bare torch + nnU-Net process for every model). Cells stay empty when either value
is missing or zero, or there is no successful reference row.
"""

from typing import Callable, Dict, List, Optional

# ratio column -> raw column it compares, or (reference's column, model's column): ONNX Runtime latency against the
# default network in PyTorch (the baseline users have today) and in ONNX Runtime
RATIOS = {
    "parameters_ratio": "parameters",
    "macs_ratio": "macs_per_patch",
    "latency_patch_ratio": "latency_patch_median_ms",
    "latency_case_ratio": "latency_case_median_s",
    "memory_train_ratio": "memory_train_delta_mib",
    "memory_inference_ratio": "memory_inference_delta_mib",
    "latency_patch_ort_vs_torch_ratio": ("latency_patch_median_ms", "latency_patch_ort_median_ms"),
    "latency_patch_ort_vs_ort_ratio": "latency_patch_ort_median_ms",
    "latency_case_ort_vs_torch_ratio": ("latency_case_median_s", "latency_case_ort_median_s"),
    "latency_case_ort_vs_ort_ratio": "latency_case_ort_median_s",
    "latency_patch_ov_vs_torch_ratio": ("latency_patch_median_ms", "latency_patch_ov_median_ms"),
    "latency_case_ov_vs_torch_ratio": ("latency_case_median_s", "latency_case_ov_median_s"),
    "latency_patch_ov16_vs_torch_ratio": ("latency_patch_median_ms", "latency_patch_ov16_median_ms"),
    "latency_case_ov16_vs_torch_ratio": ("latency_case_median_s", "latency_case_ov16_median_s"),
}


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
