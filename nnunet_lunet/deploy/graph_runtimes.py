"""The runtimes that run a model on the CPU, as one registry (``RUNTIMES``): PyTorch, ONNX Runtime (a dependency),
OpenVINO at float32, at bfloat16 and on the INT8 graph (optional).

Rules:

- One ``Runtime`` entry per runtime: its name (``predict --runtime``, ``bench_runtimes.py --runtimes``), label
  (notes and tables), column suffix and heading prefix (the benchmark's timers, CSV columns, ratios and table
  headings: ``benchmark.runtimes``), whether it is also compared with the reference in itself (``own_ratio``), why it
  cannot run here (``missing``) and its session factory (``runner(path, threads) -> run(x) -> logits`` for the graph
  at ``path``; None for PyTorch, which runs the checkpoint). Everything else derives from the entries: adding a
  runtime is one entry.
- ``graph_runner(path, runtime, threads)`` returns ``run(x) -> logits`` (numpy float32 in, numpy float32 out, shapes
  as the network's): ``onnxruntime`` is ``onnx_graph.ort_session`` at its default level; ``openvino`` is OpenVINO's
  CPU plugin reading the same ONNX file, at float32 inference precision (on CPUs with bf16 support it would otherwise
  pick bf16 and compute something else than the parity-checked graph), with the latency hint (``OPENVINO_HINT``).
- ``openvino-bf16`` is the same at bfloat16 inference precision: faster (half the memory traffic, native bf16
  instructions) but not the parity-checked float32 computation (logits differ in the 2nd-3rd significant digit), so
  it is never a default; it is offered only on CPUs whose OpenVINO plugin reports native BF16 support
  (``bf16_supported``), where OpenVINO would not silently fall back to float32.
- ``openvino-int8`` runs ``<name>_int8.xml`` beside the ONNX file ``<name>.onnx`` (``model_folder.INT8_FILE``, written by
  ``export-onnx --int8``, see ``int8``) in OpenVINO; it is never a default (its accuracy is what ``export-onnx
  --int8`` measured and stored in ``export.json``). A folder without that file is a ``LUnetError`` naming
  ``export-onnx --int8`` (``require_graph_file``). Its ``prepare`` writes the file from the ONNX file and calibration
  patches, for the benchmark, which exports its own graphs and times them (speed only: calibrated on one patch).
- ``threads``: intra-op threads; 0 = the runtime's default (one per physical core).
- OpenVINO is optional (``pip install "nnunet-lunet[openvino]"``): asking for it without it installed is a
  ``LUnetError`` naming that command; ``available_runtimes()`` lists the graph runtimes that can run here.
- Why OpenVINO: on MSD Hippocampus (2 cores, other processes stopped) it ran every width faster than ONNX Runtime
  (``benchmarks/hippocampus/runtimes.md``, one 40x56x40 patch: LUnet16 32 vs 61 ms, LUnet8 18 vs 27 ms, default
  168 vs 261 ms; the trained models per patch and per case are in ``benchmark.md``).
"""

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Dict, List, Optional

import numpy as np

from nnunet_lunet.errors import LUnetError

Run = Callable[[np.ndarray], np.ndarray]
# OpenVINO's performance hint: one request at a time, as nnU-Net's sliding window calls the network (the benchmark's
# header states it)
OPENVINO_HINT = "LATENCY"


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


def _always() -> Optional[str]:
    return None


def _needs_openvino(name: str) -> Optional[str]:
    if not openvino_installed():
        return (f'--runtime {name} needs OpenVINO: pip install "nnunet-lunet[openvino]" (or pip install '
                f'openvino), or use --runtime onnxruntime')
    return None


def _needs_bf16() -> Optional[str]:
    if _needs_openvino("openvino-bf16"):
        return _needs_openvino("openvino-bf16")
    if not bf16_supported():
        return ("--runtime openvino-bf16 needs a CPU with native bfloat16 (OpenVINO reports no BF16 capability "
                "here): use --runtime openvino")
    return None


def _ort_runner(path: str, threads: int) -> Run:
    from nnunet_lunet.deploy.onnx_graph import ort_session, run_session  # imports torch: not for the CLI's parser

    graph = ort_session(path, threads=threads)
    return lambda x: run_session(graph, x)


def _openvino_runner(path: str, threads: int, precision: str) -> Run:
    import openvino as ov

    config = {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": OPENVINO_HINT}
    if threads:
        config["INFERENCE_NUM_THREADS"] = int(threads)
    compiled = ov.Core().compile_model(path, "CPU", config)
    request = compiled.create_infer_request()

    def run(x: np.ndarray) -> np.ndarray:
        # infer() returns views of the request's buffers, which the next call overwrites: copy out
        return np.array(request.infer([np.ascontiguousarray(x, dtype=np.float32)])[0], copy=True)
    return run


def int8_path(onnx_path: str) -> str:
    """The INT8 graph beside the ONNX file at ``onnx_path``: ``<name>_int8.xml`` (``model_folder.INT8_FILE`` beside
    ``model.onnx``)."""
    import os
    return os.path.splitext(onnx_path)[0] + "_int8.xml"


def _needs_int8() -> Optional[str]:
    from nnunet_lunet.deploy.int8 import INSTALL, int8_packages_missing

    missing = int8_packages_missing()
    if missing:
        return f"--runtime openvino-int8 needs NNCF and OpenVINO ({missing} not installed): {INSTALL}"
    return None


def _int8_runner(path: str, threads: int) -> Run:
    return _openvino_runner(require_graph_file(path, "openvino-int8"), threads, "f32")


def _prepare_int8(path: str, patches) -> None:
    from nnunet_lunet.deploy.int8 import quantize_graph
    quantize_graph(path, patches, int8_path(path))


def require_graph_file(onnx_path: str, runtime: str) -> str:
    """The graph file ``runtime`` runs for the ONNX file at ``onnx_path``; ``LUnetError`` when it is missing."""
    import os

    if runtime != "openvino-int8":
        return onnx_path
    path = int8_path(onnx_path)
    if not os.path.isfile(path):
        folder = os.path.dirname(onnx_path) or "."
        raise LUnetError(f"model folder {folder} has no INT8 model ({os.path.basename(path)}), which --runtime "
                         f"openvino-int8 runs: export the model with nnunet-lunet export-onnx --int8 -o {folder} "
                         f"--overwrite, or use --runtime openvino")
    return path


@dataclass(frozen=True)
class Runtime:
    """One entry of the registry (module rules)."""

    name: str
    label: str
    suffix: str  # of the benchmark's timers and columns
    heading: str  # before its table headings
    missing: Callable[[], Optional[str]]  # why it cannot run here (None: it can)
    runner: Optional[Callable[[str, int], Run]]  # (graph path, threads) -> run; None: PyTorch
    own_ratio: bool = False  # the benchmark also compares it with the reference in this runtime
    # writes the graph it runs beside an ONNX file from calibration patches (None: it runs the ONNX file itself)
    prepare: Optional[Callable[[str, List[np.ndarray]], None]] = None


TORCH = Runtime("torch", "PyTorch", "", "", _always, None)
RUNTIMES = (
    TORCH,
    Runtime("onnxruntime", "ONNX Runtime", "_ort", "ORT", _always, _ort_runner, own_ratio=True),
    Runtime("openvino", "OpenVINO", "_ov", "OV", lambda: _needs_openvino("openvino"),
            lambda path, threads: _openvino_runner(path, threads, "f32")),
    Runtime("openvino-bf16", "OpenVINO bf16", "_ov16", "OV bf16", _needs_bf16,
            lambda path, threads: _openvino_runner(path, threads, "bf16")),
    Runtime("openvino-int8", "OpenVINO INT8", "_ov8", "OV int8", _needs_int8, _int8_runner, prepare=_prepare_int8),
)
BY_NAME: Dict[str, Runtime] = {r.name: r for r in RUNTIMES}
GRAPH_RUNTIMES = tuple(r.name for r in RUNTIMES if r.runner is not None)


def available_runtimes() -> List[str]:
    """The graph runtimes that can run here, in the registry's order."""
    return [r for r in GRAPH_RUNTIMES if BY_NAME[r].missing() is None]


def require_runtime(runtime: str) -> None:
    """LUnetError unless ``runtime`` is a graph runtime that can run here."""
    if runtime not in GRAPH_RUNTIMES:
        raise LUnetError(f"runtime {runtime!r}: use one of {', '.join(GRAPH_RUNTIMES)}")
    reason = BY_NAME[runtime].missing()
    if reason:
        raise LUnetError(reason)


def graph_runner(path: str, runtime: str, threads: int = 0) -> Run:
    """``run(x) -> logits`` for the graph at ``path`` under ``runtime`` (module rules)."""
    require_runtime(runtime)
    return BY_NAME[runtime].runner(path, threads)
