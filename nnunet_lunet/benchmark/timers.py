"""The timed calls of one benchmark row, built before anything is timed so that all rows are timed interleaved.

Rules:

- Timers of a row: ``patch`` (PyTorch forward on one standard-normal patch, batch 1, ``steps.inference_step``), ``case``
  (nnU-Net's ``predict_sliding_window_return_logits`` on the benchmark case, with the predictor's tile step and
  mirroring), and on CPU, for every installed graph runtime (``deploy.graph_runtimes``: ONNX Runtime, and OpenVINO when
  installed, and OpenVINO at bfloat16 where the CPU has it; those named in ``NNUNET_LUNET_BENCH_RUNTIMES`` when set:
  ``runtimes.timed_graph_runtimes``), ``patch<suffix>`` and ``case<suffix>``
  (suffixes from the registry, ``deploy.graph_runtimes.RUNTIMES``: ``_ort``, ``_ov``, ``_ov16``): the same two with
  the network exported to ONNX (``deploy.onnx_graph.export_graph``) and run by that runtime with as many intra-op
  threads as torch uses, so all runtimes get the same cores. ``case<suffix>`` swaps the predictor's network for an ``OnnxNetwork`` only for the
  duration of the call: everything but the forward passes is the same code. On CUDA the graph runtimes' timers are
  absent and their columns stay empty.
- The ONNX graphs are written to ``graph_folder``, which the caller keeps until the timing is done.
- ``forward_passes``: how many network calls the case costs (sliding-window tiles x mirrorings), so a case time well
  below that many patch times shows a disturbed measurement rather than a fast case (``timing_checks``).
- ``timing_columns`` turns a timer's ``Timing`` into its CSV columns (``runtimes.COLUMNS``; patches in ms, cases
  in s); ``timing_of`` reads it back.
"""

import os
from typing import Callable, Dict, Sequence, Tuple

import numpy as np
import torch

from nnunet_lunet.benchmark.latency import Timing
from nnunet_lunet.benchmark.runtimes import (BY_GRAPH_RUNTIME, STATS, TIMERS, column, scale, timed_graph_runtimes,
                                             timer)
from nnunet_lunet.benchmark.steps import inference_step
from nnunet_lunet.deploy.graph_runtimes import graph_runner
from nnunet_lunet.deploy.onnx_graph import OnnxNetwork, export_graph

def timing_columns(timer: str, timing: Timing) -> Dict[str, float]:
    runtime, scope = TIMERS[timer]
    values = (timing.median, timing.minimum, timing.maximum)
    return {column(runtime, scope, stat): value * scale(scope) for stat, value in zip(STATS, values)}


def timing_of(row: Dict[str, object], timer: str) -> Timing:
    """The ``Timing`` back from a row's columns (for comparisons after the fact); KeyError if not measured."""
    runtime, scope = TIMERS[timer]
    values = [row[column(runtime, scope, stat)] for stat in STATS]
    if not all(isinstance(v, (int, float)) for v in values):
        raise KeyError(timer)
    return Timing(*(v / scale(scope) for v in values), repeats=int(row.get("repeats") or 0))


def forward_passes(predictor, image_shape: Sequence[int]) -> int:
    """Network calls of one sliding-window prediction of an image of spatial shape ``image_shape``."""
    patch = list(predictor.configuration_manager.patch_size)
    spatial = list(image_shape)
    leading = spatial[:len(spatial) - len(patch)]  # a 2D configuration predicts a volume slice by slice
    padded = leading + [max(s, p) for s, p in zip(spatial[len(leading):], patch)]
    tiles = len(predictor._internal_get_sliding_window_slicers(tuple(padded)))
    axes = predictor.allowed_mirroring_axes if predictor.use_mirroring else None
    return tiles * (2 ** len(axes) if axes else 1)


def _swapped_network(predictor, network: torch.nn.Module, image: torch.Tensor) -> Callable[[], object]:
    def call():
        original, predictor.network = predictor.network, network
        try:
            return predictor.predict_sliding_window_return_logits(image)
        finally:
            predictor.network = original
    return call


def row_timers(predictor, network: torch.nn.Module, shape, image: torch.Tensor, device: torch.device,
               graph_folder: str) -> Tuple[Dict[str, Callable[[], object]], Dict[str, object]]:
    """``(timers, columns)``: the row's timed calls and what describes them (``ort_threads`` on CPU).
    ``shape``: ``trained_network.NetworkInput``."""
    timers = {"patch": inference_step(network, shape.in_channels, shape.patch_size, device),
              "case": _swapped_network(predictor, network, image)}
    if device.type != "cpu":
        return timers, {}
    threads = torch.get_num_threads()
    x = np.random.default_rng(0).standard_normal((1, shape.in_channels, *shape.patch_size)).astype(np.float32)
    path = os.path.join(graph_folder, "model.onnx")
    export_graph(network, torch.from_numpy(x), path)
    for name in timed_graph_runtimes():
        runtime = BY_GRAPH_RUNTIME[name]
        if runtime.prepare is not None:  # e.g. the INT8 graph, calibrated on the timed patch (speed only)
            runtime.prepare(path, [x])
        run = graph_runner(path, name, threads)
        timers[timer(runtime, "patch")] = lambda run=run: run(x)
        timers[timer(runtime, "case")] = _swapped_network(predictor, OnnxNetwork(run), image)
    return timers, {"ort_threads": threads}
