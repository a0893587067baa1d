"""A network as an ONNX graph, and ONNX Runtime running it in place of the network.

Rules:

- Export: TorchScript exporter (``torch.onnx.export(..., dynamo=False)``), opset ``OPSET``, network in eval mode
  and deep supervision off (one output: the full-resolution logits), input ``input`` and output ``logits``, batch and
  every spatial axis declared dynamic. A U-Net's spatial sizes must still be multiples of its total stride per axis
  (``spatial_divisor``); nnU-Net's sliding window only ever feeds the patch size, which is.
- Sessions: CPU execution provider; ``threads`` 0 lets ONNX Runtime choose (its default: one per physical core);
  ``optimization`` is one of ``OPTIMIZATION_LEVELS`` (default ``basic``, see ``ort_session``); intra-op threads do
  not spin between runs (they slowed the code that ran next).
- ``OnnxNetwork`` is an ``nn.Module`` whose forward runs the graph (under any runtime of ``graph_runtimes``) on
  the input (float32, CPU) and returns a
  torch tensor: nnU-Net's predictor calls it exactly where it would call the network (``self.network(x)``), so
  preprocessing, sliding window, Gaussian weighting, mirroring and export stay nnU-Net's own code. Its weights live
  in the graph: ``load_state_dict`` accepts only an empty dict (the predictor loads its ``list_of_parameters``
  before every case; ``predict`` passes ``[{}]``).
"""

import warnings
from typing import Callable, Tuple

import numpy as np
import torch
from torch import nn

from nnunet_lunet.trained_run import set_deep_supervision

OPSET = 17
INPUT_NAME = "input"
OUTPUT_NAME = "logits"
OPTIMIZATION_LEVELS = ("disable", "basic", "extended", "all")


def spatial_divisor(network: nn.Module, n_spatial: int) -> Tuple[int, ...]:
    """Product of the encoder's strides per spatial axis (1s when the network has no ``encoder.strides``)."""
    strides = getattr(getattr(network, "encoder", None), "strides", None)
    divisor = [1] * n_spatial
    for stride in strides or []:
        per_axis = [stride] * n_spatial if isinstance(stride, int) else list(stride)
        divisor = [d * int(s) for d, s in zip(divisor, per_axis)]
    return tuple(divisor)


def export_graph(network: nn.Module, example: torch.Tensor, path: str) -> None:
    """Write ``network`` (eval mode, deep supervision off) as an ONNX graph traced on ``example`` (N, C, spatial)."""
    set_deep_supervision(network, False)
    network.eval()
    axes = {0: "batch", **{i: f"spatial{i - 2}" for i in range(2, example.ndim)}}
    with warnings.catch_warnings(), torch.no_grad():
        # the TorchScript exporter's deprecation notice and tracer warnings about shape checks say nothing about
        # this graph: the parity check and the dynamic-shape test do
        warnings.simplefilter("ignore")
        torch.onnx.export(network, (example,), path, dynamo=False, opset_version=OPSET, input_names=[INPUT_NAME],
                          output_names=[OUTPUT_NAME], dynamic_axes={INPUT_NAME: axes, OUTPUT_NAME: axes})


def ort_session(path: str, threads: int = 0, optimization: str = "basic", spinning: bool = False):
    """An ONNX Runtime CPU session of the graph at ``path``.

    Default optimisation level "basic": chosen when it looked faster than "all" for every width; re-measured with
    spinning off and a shuffled order (benchmarks/hippocampus/ort_spinning.md), "basic", "extended" and "all" are
    within each other's min-max range on MSD Hippocampus, so the cheapest to build stays the default."""
    import onnxruntime as ort

    if optimization not in OPTIMIZATION_LEVELS:
        raise ValueError(f"optimization {optimization!r}: use one of {', '.join(OPTIMIZATION_LEVELS)}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads)
    # No busy-waiting: with spinning on (ONNX Runtime's default) its threads kept the cores busy for 10-50 ms after
    # every run, which slowed whatever ran next (nnU-Net's sliding-window code, or another model in the benchmark) by
    # up to 2x; off, ONNX Runtime itself was as fast or faster (benchmarks/hippocampus/ort_spinning.md).
    # (``spinning=True``: ONNX Runtime's default, for measuring what turning it off changes, benchmarks/ort_spinning.py)
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    options.graph_optimization_level = {
        "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL, "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}[optimization]
    return ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


def run_session(ort_graph, x: np.ndarray) -> np.ndarray:
    """The graph's logits for ``x`` (N, C, spatial)."""
    return ort_graph.run([OUTPUT_NAME], {INPUT_NAME: np.ascontiguousarray(x, dtype=np.float32)})[0]


class OnnxNetwork(nn.Module):
    """Stands in for the network in nnU-Net's predictor: forward runs the graph (``run``: numpy logits of a numpy
    input, as ``graph_runtimes.graph_runner`` returns)."""

    def __init__(self, run: Callable[[np.ndarray], np.ndarray]):
        super().__init__()
        self.run = run

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.run(x.detach().cpu().numpy()))

    def load_state_dict(self, state_dict, *args, **kwargs):
        if state_dict:
            raise ValueError("an ONNX graph holds its weights: OnnxNetwork loads no state dict (pass [{}] as the "
                             "predictor's parameters)")
        return None
