"""Wall-clock latency: median, minimum and maximum of repeated runs after warm-up runs, one call or several
interleaved.

Rules: ``warmup`` untimed runs first (allocator, cuDNN autotuning, caches), then ``repeats`` timed runs; on CUDA every
run is bracketed by ``torch.cuda.synchronize`` so the time covers the kernels, not only their launch.
Several calls (``time_interleaved``) are timed in rounds: every call warms up in turn, then each round runs every call
once, in an order shuffled anew each round (seeded by the round's index, so reruns take the same orders), so that a
drift of the machine's load (another job starting, thermal throttling) hits every call alike instead of whichever
model happened to be timed last, and a call does not always run right after the same other one: a call can slow the
next one down (ONNX Runtime's spinning threads did, by up to 2x, until ``onnx_graph.ort_session`` turned them off),
and a rotated order, which keeps every call's predecessor, would put that cost on one call in every round. A call that
raises is dropped from the remaining rounds and its error returned; the others go on.
Times are seconds.
"""

import random
import statistics
import time
from dataclasses import dataclass
from typing import Callable, Dict, Hashable, List, Mapping, Sequence, Tuple

import torch


@dataclass(frozen=True)
class Timing:
    median: float
    minimum: float
    maximum: float
    repeats: int

    @classmethod
    def of(cls, times: Sequence[float]) -> "Timing":
        return cls(statistics.median(times), min(times), max(times), len(times))

    def overlaps(self, other: "Timing") -> bool:
        """Whether the min-max ranges overlap: then the runs do not show which of the two is faster."""
        return self.minimum <= other.maximum and other.minimum <= self.maximum


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn: Callable[[], object], device: torch.device) -> float:
    start = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - start


def _check_counts(repeats: int, warmup: int) -> None:
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    if warmup < 0:
        raise ValueError(f"warmup must be 0 or more, got {warmup}")


def time_calls(fn: Callable[[], object], device: torch.device, repeats: int, warmup: int) -> Timing:
    """Time ``fn()``; ``repeats`` >= 1."""
    _check_counts(repeats, warmup)
    for _ in range(warmup):
        fn()
    _sync(device)
    return Timing.of([_timed(fn, device) for _ in range(repeats)])


def round_order(keys: Sequence[Hashable], round_index: int) -> List[Hashable]:
    """The order of round ``round_index``: ``keys`` shuffled with the round's index as seed."""
    order = list(keys)
    random.Random(round_index).shuffle(order)
    return order


def time_interleaved(calls: Mapping[Hashable, Callable[[], object]], device: torch.device, repeats: int,
                     warmup: int, on_round: Callable[[int], None] = lambda r: None,
                     ) -> Tuple[Dict[Hashable, Timing], Dict[Hashable, BaseException]]:
    """``(timings, errors)`` of every call, timed in shuffled rounds (module rules); ``on_round(r)`` after round r."""
    _check_counts(repeats, warmup)
    times: Dict[Hashable, List[float]] = {key: [] for key in calls}
    errors: Dict[Hashable, BaseException] = {}

    def run(key, timed: bool) -> None:
        try:
            elapsed = _timed(calls[key], device)
        except Exception as error:  # noqa: BLE001 - one failing call must not cost the others their timings
            errors[key] = error
        else:
            if timed:
                times[key].append(elapsed)

    for key in calls:
        for _ in range(warmup):
            if key not in errors:
                run(key, timed=False)
    for r in range(repeats):
        for key in round_order(list(calls), r):
            if key not in errors:
                run(key, timed=True)
        on_round(r)
    return {key: Timing.of(t) for key, t in times.items() if key not in errors}, errors

