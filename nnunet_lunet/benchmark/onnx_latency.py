"""Patch and whole-case latency of a benchmark row under ONNX Runtime, beside PyTorch's.

Rules:

- The row's network (as nnU-Net's predictor rebuilds it, deep supervision off) is exported to a temporary ONNX graph
  (``deploy.onnx_graph.export_graph``) and run by an ONNX Runtime CPU session (``ort_session``'s default level) and as
  many intra-op threads as torch uses (``ort_threads``), so both runtimes get the same cores.
- Patch: one standard-normal patch, batch 1, ``warmup`` untimed runs then ``repeats`` timed ones (``latency``).
  Whole case: nnU-Net's sliding-window prediction of the same case as the PyTorch timing, with the predictor's
  network swapped for ``OnnxNetwork`` (everything but the forward passes is the same code).
- CPU only (ONNX Runtime's CPU provider); on CUDA the columns stay empty.
"""

import os
import tempfile
from typing import Dict

import numpy as np
import torch

from nnunet_lunet.benchmark.latency import case_latency, time_calls
from nnunet_lunet.deploy.onnx_graph import OnnxNetwork, export_graph, ort_session, run_session

COLUMNS = ["latency_patch_ort_median_ms", "latency_patch_ort_min_ms", "latency_patch_ort_max_ms",
           "latency_case_ort_median_s", "latency_case_ort_min_s", "latency_case_ort_max_s"]


def onnx_latencies(predictor, network: torch.nn.Module, shape, image: torch.Tensor, repeats: int,
                   warmup: int) -> Dict[str, object]:
    """The ``COLUMNS`` and ``ort_threads`` of one row (``shape``: ``trained_network.NetworkInput``)."""
    threads = torch.get_num_threads()
    x = np.random.default_rng(0).standard_normal((1, shape.in_channels, *shape.patch_size)).astype(np.float32)
    with tempfile.TemporaryDirectory(prefix="lunet_benchmark_onnx_") as folder:
        path = os.path.join(folder, "model.onnx")
        export_graph(network, torch.from_numpy(x), path)
        session = ort_session(path, threads=threads)
        patch = time_calls(lambda: run_session(session, x), torch.device("cpu"), repeats, warmup)
        torch_network, predictor.network = predictor.network, OnnxNetwork(session)
        try:
            whole = case_latency(predictor, image, repeats, warmup)
        finally:
            predictor.network = torch_network
    return dict(latency_patch_ort_median_ms=patch.median * 1e3, latency_patch_ort_min_ms=patch.minimum * 1e3,
                latency_patch_ort_max_ms=patch.maximum * 1e3, latency_case_ort_median_s=whole.median,
                latency_case_ort_min_s=whole.minimum, latency_case_ort_max_s=whole.maximum, ort_threads=threads)
