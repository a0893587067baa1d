"""The runtimes that run an exported ONNX graph on the CPU: ONNX Runtime (a dependency) and OpenVINO (optional).

Rules:

- ``graph_runner(path, runtime, threads)`` returns ``run(x) -> logits`` for the graph at ``path`` (numpy float32 in,
  numpy float32 out, shapes as the network's): ``onnxruntime`` is ``onnx_graph.ort_session`` at its default level;
  ``openvino`` is OpenVINO's CPU plugin reading the same ONNX file, at float32 inference precision (on CPUs with
  bf16 support it would otherwise pick bf16 and compute something else than the parity-checked graph).
- ``openvino-bf16`` is the same at bfloat16 inference precision: faster (half the memory traffic, native bf16
  instructions) but not the parity-checked float32 computation (logits differ in the 2nd-3rd significant digit), so
  it is never a default; it is offered only on CPUs whose OpenVINO plugin reports native BF16 support
  (``bf16_supported``), where OpenVINO would not silently fall back to float32.
- ``threads``: intra-op threads; 0 = the runtime's default (one per physical core).
- OpenVINO is optional (``pip install "nnunet-lunet[openvino]"``): asking for it without it installed is a
  ``LUnetError`` naming that command; ``available_runtimes()`` lists what can run here.
- Why OpenVINO: on MSD Hippocampus (2 cores, other processes stopped) it ran every width faster than ONNX Runtime
  (``benchmarks/hippocampus/runtimes.md``, one 40x56x40 patch: LUnet16 32 vs 61 ms, LUnet8 18 vs 27 ms, default
  168 vs 261 ms; the trained models per patch and per case are in ``benchmark.md``).
"""

from functools import lru_cache
from typing import Callable, List, Optional

import numpy as np

from nnunet_lunet.errors import LUnetError

GRAPH_RUNTIMES = ("onnxruntime", "openvino", "openvino-bf16")
OPENVINO_PRECISION = {"openvino": "f32", "openvino-bf16": "bf16"}


def openvino_installed() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def bf16_supported() -> bool:
    """Whether OpenVINO is installed and its CPU plugin computes bfloat16 natively on this CPU."""
    if not openvino_installed():
        return False
    import openvino as ov
    return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def available_runtimes() -> List[str]:
    return [r for r in GRAPH_RUNTIMES if _missing(r) is None]


def _missing(runtime: str) -> Optional[str]:
    """Why ``runtime`` cannot run here (None if it can)."""
    if runtime in OPENVINO_PRECISION and not openvino_installed():
        return (f'--runtime {runtime} needs OpenVINO: pip install "nnunet-lunet[openvino]" (or pip install '
                f'openvino), or use --runtime onnxruntime')
    if runtime == "openvino-bf16" and not bf16_supported():
        return ("--runtime openvino-bf16 needs a CPU with native bfloat16 (OpenVINO reports no BF16 capability "
                "here): use --runtime openvino")
    return None


def require_runtime(runtime: str) -> None:
    """LUnetError unless ``runtime`` is a graph runtime that can run here."""
    if runtime not in GRAPH_RUNTIMES:
        raise LUnetError(f"runtime {runtime!r}: use one of {', '.join(GRAPH_RUNTIMES)}")
    reason = _missing(runtime)
    if reason:
        raise LUnetError(reason)


def _openvino_runner(path: str, threads: int, precision: str) -> Callable[[np.ndarray], np.ndarray]:
    import openvino as ov

    config = {"INFERENCE_PRECISION_HINT": precision}
    if threads:
        config["INFERENCE_NUM_THREADS"] = int(threads)
    compiled = ov.Core().compile_model(path, "CPU", config)
    request = compiled.create_infer_request()

    def run(x: np.ndarray) -> np.ndarray:
        # infer() returns views of the request's buffers, which the next call overwrites: copy out
        return np.array(request.infer([np.ascontiguousarray(x, dtype=np.float32)])[0], copy=True)
    return run


def graph_runner(path: str, runtime: str, threads: int = 0) -> Callable[[np.ndarray], np.ndarray]:
    """``run(x) -> logits`` for the graph at ``path`` under ``runtime`` (module rules)."""
    require_runtime(runtime)
    if runtime in OPENVINO_PRECISION:
        return _openvino_runner(path, threads, OPENVINO_PRECISION[runtime])
    from nnunet_lunet.deploy.onnx_graph import ort_session, run_session  # imports torch: not for the CLI's parser

    session = ort_session(path, threads=threads)
    return lambda x: run_session(session, x)
