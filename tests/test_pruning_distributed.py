"""Every rank ends with rank 0's decision, even with different local scores and random seeds, and DDP training goes on
after the pruned module is wrapped anew (2 gloo processes on the CPU)."""

import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

from nnunet_lunet.pruning.criteria import CRITERIA, get_criterion
from nnunet_lunet.pruning.distributed import all_reduce_scores, broadcast_decision, is_distributed
from nnunet_lunet.pruning.layer_widths import current_widths
from nnunet_lunet.pruning.network import PrunedPlainConvUNet
from nnunet_lunet.pruning.surgery import prune_many
from small_unets import small_unet

WORLD_SIZE = 2
N_CHANNELS = 7


def make_net() -> PrunedPlainConvUNet:
    return small_unet(seed=0, norm_op_kwargs={"affine": True})  # the same net on every rank


def local_scores(net: nn.Module, rank: int) -> dict:
    generator = torch.Generator().manual_seed(100 + rank)
    return {name: torch.rand(width, generator=generator) for name, width in current_widths(net).items()}


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor) -> None:
    optimizer.zero_grad()
    sum(o.square().mean() for o in model(x)).backward()
    optimizer.step()


def _worker(rank: int, port: int, out_dir: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD_SIZE)
    try:
        net = make_net()
        optimizer = torch.optim.SGD(net.parameters(), lr=1e-2, momentum=0.99, nesterov=True)
        x = torch.randn(2, 1, 16, 16, generator=torch.Generator().manual_seed(rank))  # each rank its own batch
        train_step(DDP(net), optimizer, x)

        local = local_scores(net, rank)
        synced = all_reduce_scores(local)
        decisions = {}
        for name in sorted(CRITERIA):
            own = get_criterion(name).select(net, N_CHANNELS, synced, torch.Generator().manual_seed(rank))
            decisions[name] = {"own": own, "final": broadcast_decision(own)}

        # the trainer's step: prune every rank's module alike, wrap it in a new DDP, train on
        prune_many(net, decisions["random"]["final"], optimizer)
        train_step(DDP(net), optimizer, x)
        parameters = torch.cat([p.detach().flatten() for p in net.parameters()])
        torch.save(
            {"synced": synced, "decisions": decisions, "parameters": parameters},
            os.path.join(out_dir, f"rank{rank}.pt"),
        )
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_all_ranks_take_rank_0s_decision(tmp_path):
    mp.spawn(_worker, args=(free_port(), str(tmp_path)), nprocs=WORLD_SIZE, join=True)
    results = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD_SIZE)]

    net = make_net()
    mean = {k: (local_scores(net, 0)[k] + local_scores(net, 1)[k]) / 2 for k in current_widths(net)}
    for result in results:
        assert list(result["synced"]) == list(mean)
        for name in mean:
            torch.testing.assert_close(result["synced"][name], mean[name])

    differing = []
    for name in CRITERIA:
        rank0, rank1 = (r["decisions"][name] for r in results)
        assert rank0["final"] == rank1["final"] == rank0["own"], name
        assert sum(len(v) for v in rank0["final"].values()) == N_CHANNELS
        if rank0["own"] != rank1["own"]:
            differing.append(name)
    # the seeds differ per rank, so random criteria would have diverged without the broadcast
    assert "random" in differing and "widest_layer" in differing
    # after pruning and re-wrapping in DDP, training keeps the ranks' (pruned) parameters identical
    assert results[0]["parameters"].shape == results[1]["parameters"].shape
    torch.testing.assert_close(results[0]["parameters"], results[1]["parameters"])


def test_without_a_process_group_both_are_no_ops():
    assert not is_distributed()
    scores = {"a": torch.tensor([1.0, 2.0])}
    reduced = all_reduce_scores(scores)
    assert torch.equal(reduced["a"], scores["a"]) and reduced["a"] is not scores["a"]
    decision = {"a": [1]}
    assert broadcast_decision(decision) is decision
