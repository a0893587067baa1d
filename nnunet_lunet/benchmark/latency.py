"""Wall-clock latency: median, minimum and maximum of repeated runs after warm-up runs.

Rules: ``warmup`` untimed runs first (allocator, cuDNN autotuning, caches), then ``repeats`` timed runs; on CUDA every
run is bracketed by ``torch.cuda.synchronize`` so the time covers the kernels, not only their launch.
Times are seconds.
"""

import statistics
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch import nn

from nnunet_lunet.benchmark.steps import inference_step


@dataclass(frozen=True)
class Timing:
    median: float
    minimum: float
    maximum: float
    repeats: int


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_calls(fn: Callable[[], object], device: torch.device, repeats: int, warmup: int) -> Timing:
    """Time ``fn()``; ``repeats`` >= 1."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return Timing(statistics.median(times), min(times), max(times), repeats)


def patch_latency(network: nn.Module, in_channels: int, patch_size: Sequence[int], device: torch.device,
                  repeats: int, warmup: int) -> Timing:
    """Forward pass on one patch, batch 1, no grad (see ``steps.inference_step``)."""
    return time_calls(inference_step(network, in_channels, patch_size, device), device, repeats, warmup)


def case_latency(predictor, image: torch.Tensor, repeats: int, warmup: int) -> Timing:
    """nnU-Net's sliding-window prediction of one preprocessed case (``image``: channels x spatial), as
    ``nnUNetPredictor.predict_sliding_window_return_logits`` runs it (its tile step, Gaussian weighting and
    test-time mirroring settings)."""
    return time_calls(lambda: predictor.predict_sliding_window_return_logits(image), predictor.device, repeats,
                      warmup)
