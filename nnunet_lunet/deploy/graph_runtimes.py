"""The runtimes that run an exported ONNX graph on the CPU: ONNX Runtime (a dependency) and OpenVINO (optional).

Rules:

- ``graph_runner(path, runtime, threads)`` returns ``run(x) -> logits`` for the graph at ``path`` (numpy float32 in,
  numpy float32 out, shapes as the network's): ``onnxruntime`` is ``onnx_graph.ort_session`` at its default level;
  ``openvino`` is OpenVINO's CPU plugin reading the same ONNX file, at float32 inference precision (on CPUs with
  bf16 support it would otherwise pick bf16 and compute something else than the parity-checked graph).
- ``threads``: intra-op threads; 0 = the runtime's default (one per physical core).
- OpenVINO is optional (``pip install "nnunet-lunet[openvino]"``): asking for it without it installed is a
  ``LUnetError`` naming that command; ``available_runtimes()`` lists what is installed.
- Why OpenVINO: on MSD Hippocampus (2 cores, other processes stopped) it ran every width faster than ONNX Runtime
  (``benchmarks/hippocampus/runtimes_openvino.md``, one 40x56x40 patch: LUnet16 85 vs 111 ms, LUnet8 44 vs 49 ms,
  default 331 vs 432 ms; trained models per case in ``benchmark.md``: LUnet16 56 vs 130 ms).
"""

from typing import Callable, List

import numpy as np

from nnunet_lunet.deploy.onnx_graph import ort_session, run_session
from nnunet_lunet.errors import LUnetError

GRAPH_RUNTIMES = ("onnxruntime", "openvino")


def openvino_installed() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def available_runtimes() -> List[str]:
    return [r for r in GRAPH_RUNTIMES if r != "openvino" or openvino_installed()]


def require_runtime(runtime: str) -> None:
    """LUnetError unless ``runtime`` is a graph runtime that is installed."""
    if runtime not in GRAPH_RUNTIMES:
        raise LUnetError(f"runtime {runtime!r}: use one of {', '.join(GRAPH_RUNTIMES)}")
    if runtime == "openvino" and not openvino_installed():
        raise LUnetError('--runtime openvino needs OpenVINO: pip install "nnunet-lunet[openvino]" (or pip install '
                         'openvino), or use --runtime onnxruntime')


def _openvino_runner(path: str, threads: int) -> Callable[[np.ndarray], np.ndarray]:
    import openvino as ov

    config = {"INFERENCE_PRECISION_HINT": "f32"}
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
    if runtime == "openvino":
        return _openvino_runner(path, threads)
    session = ort_session(path, threads=threads)
    return lambda x: run_session(session, x)
