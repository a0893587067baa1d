"""Making every rank take the same pruning decision.

Rules: every rank collects scores on its own batches, ``all_reduce_scores`` averages them (sum, then divide by the
world size), every rank runs the criterion, and ``broadcast_decision`` hands rank 0's decision to all, so criteria
that use randomness (or ties broken at random) cannot make ranks diverge. Without an initialised process group both
are no-ops, so single-process training calls them unconditionally. All ranks must hold the same network structure
and call these in the same order (they are collectives). Tensors travel on the GPU under NCCL and on the CPU
otherwise, and come back where they were.
"""

from typing import Any, Dict, Mapping

import torch
import torch.distributed as dist


def is_distributed() -> bool:
    """Whether a torch.distributed process group is initialised."""
    return dist.is_available() and dist.is_initialized()


def _communication_device() -> torch.device:
    if dist.get_backend() == dist.Backend.NCCL:
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_reduce_scores(scores: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """The mean of ``scores`` over all ranks (one flat all-reduce, keys in sorted order); a copy without DDP."""
    if not is_distributed():
        return {name: values.clone() for name, values in scores.items()}
    names = sorted(scores)
    device = _communication_device()
    flat = torch.cat([scores[name].detach().float().flatten().to(device) for name in names])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= dist.get_world_size()
    reduced, start = {}, 0
    for name in names:
        values = scores[name]
        reduced[name] = flat[start : start + values.numel()].view_as(values).to(values.device)
        start += values.numel()
    return {name: reduced[name] for name in scores}


def broadcast_decision(obj: Any, src: int = 0) -> Any:
    """Rank ``src``'s python object (e.g. a pruning decision) on every rank; ``obj`` itself without DDP."""
    if not is_distributed():
        return obj
    holder = [obj]
    dist.broadcast_object_list(holder, src=src, device=_communication_device())
    return holder[0]
