"""Every rank ends with rank 0's decision, even with different local scores and random seeds; and the pruning
trainer's own code keeps DDP training going after loading a pruned checkpoint and after a pruning step (2 gloo
processes on the CPU)."""

import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

from nnunet_lunet.pruning.criteria import CRITERIA, get_criterion
from nnunet_lunet.pruning.distributed import all_reduce_scores, broadcast_decision, is_distributed
from nnunet_lunet.pruning.layer_widths import current_widths, read_layer_widths
from nnunet_lunet.pruning.network import PrunedPlainConvUNet
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

        torch.save({"synced": synced, "decisions": decisions}, os.path.join(out_dir, f"rank{rank}.pt"))
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


def test_without_a_process_group_both_are_no_ops():
    assert not is_distributed()
    scores = {"a": torch.tensor([1.0, 2.0])}
    reduced = all_reduce_scores(scores)
    assert torch.equal(reduced["a"], scores["a"]) and reduced["a"] is not scores["a"]
    decision = {"a": [1]}
    assert broadcast_decision(decision) is decision


# -- the pruning trainer under DDP ----------------------------------------------------------------------------------
TRAINER_WORLD = 2


def _cpu_ddp(module, device_ids=None, **kwargs):
    """nnU-Net's initialize wraps with ``device_ids=[rank]``, which DDP accepts for CUDA modules only."""
    return DDP(module, **kwargs)


def _pruning_trainer(preprocessed: str):
    """nnUNetTrainerPruneWidest_smoke on the planned dataset's 2d configuration, on the CPU, initialised (and so
    wrapped in DDP by nnU-Net's own initialize) with a pruning log started."""
    import json

    from nnunet_lunet.trainers import nnUNetTrainerPruneWidest_smoke

    with open(os.path.join(preprocessed, "nnUNetPlans.json")) as f:
        plans = dict(json.load(f), continue_training=False)  # nnUNetv2_train's get_trainer_from_args adds this
    with open(os.path.join(preprocessed, "dataset.json")) as f:
        dataset_json = json.load(f)
    trainer = nnUNetTrainerPruneWidest_smoke(plans, "2d", 0, dataset_json, torch.device("cpu"))
    trainer.device, trainer.grad_scaler = torch.device("cpu"), None  # nnU-Net assumes one GPU per DDP rank
    trainer.initialize()
    return trainer


def _batch(trainer, rank: int, step: int) -> dict:
    """A random batch of 2 patches with deep-supervision targets, different on every rank and step."""
    generator = torch.Generator().manual_seed(1000 * rank + step)
    patch = list(trainer.configuration_manager.patch_size)
    data = torch.randn(2, trainer.num_input_channels, *patch, generator=generator)
    labels = torch.randint(0, trainer.label_manager.num_segmentation_heads, (2, 1, *patch),
                           generator=generator).float()
    targets = [nn.functional.interpolate(labels, size=[round(p * s) for p, s in zip(patch, scale)], mode="nearest")
               for scale in trainer._get_deep_supervision_scales()]
    return {"data": data, "target": targets}


def _trainer_worker(rank: int, port: int, env: dict, out_dir: str) -> None:
    os.environ.update(env)  # nnU-Net reads its folders when first imported, here in this fresh process
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=TRAINER_WORLD)
    try:
        import nnunetv2.training.nnUNetTrainer.nnUNetTrainer as upstream

        upstream.DDP = _cpu_ddp
        preprocessed = os.path.join(env["nnUNet_preprocessed"], env["DATASET_NAME"])
        checkpoint = os.path.join(out_dir, "pruned.pth")

        # A pruned checkpoint, written by the trainer itself (one pruning step, no training).
        first = _pruning_trainer(preprocessed)
        first.start_pruning()
        first.prune_step()
        first.save_checkpoint(checkpoint)
        dist.barrier()

        # A new run: nnU-Net builds the full-size net and wraps it in DDP, then loads the pruned checkpoint.
        trainer = _pruning_trainer(preprocessed)
        trainer.load_checkpoint(checkpoint)
        trainer.start_pruning()
        loaded = read_layer_widths(trainer._plain_network())
        losses = [float(trainer.train_step(_batch(trainer, rank, i))["loss"]) for i in range(2)]
        trainer.prune_step()
        losses += [float(trainer.train_step(_batch(trainer, rank, i))["loss"]) for i in range(2, 4)]
        net = trainer._plain_network()
        torch.save({"loaded_widths": loaded, "widths": read_layer_widths(net), "losses": losses,
                    "weights": {k: v.clone() for k, v in net.state_dict().items()},
                    "checkpoint_widths": first.pruning_log["steps"][0]["layer_widths"],
                    "log": trainer.pruning_log}, os.path.join(out_dir, f"trainer_rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


def test_pruning_trainer_resumes_and_prunes_under_ddp(planned_dataset, tmp_path):
    """Load a pruned checkpoint into a DDP-wrapped trainer, train two iterations, prune one step, train two more:
    both ranks end with the same widths and weights. Fails without the trainer's re-wrap after loading (DDP then
    raises 'Expected to have finished reduction in the prior iteration' in the second iteration)."""
    env = dict(planned_dataset.env, nnUNet_results=str(tmp_path / "results"), DATASET_NAME=planned_dataset.name)
    mp.spawn(_trainer_worker, args=(free_port(), env, str(tmp_path)), nprocs=TRAINER_WORLD, join=True)
    results = [torch.load(tmp_path / f"trainer_rank{r}.pt", weights_only=False) for r in range(TRAINER_WORLD)]

    first, second = results
    assert first["loaded_widths"] == first["checkpoint_widths"] == second["loaded_widths"]
    assert first["widths"] == second["widths"] != first["loaded_widths"]  # the second step pruned further
    assert [s["step"] for s in first["log"]["steps"]] == [1, 2]
    assert first["log"]["steps"][1]["removed_channels"] == second["log"]["steps"][1]["removed_channels"]
    assert first["log"]["steps"][1]["seconds"] > 0
    assert first["weights"].keys() == second["weights"].keys()
    for name, value in first["weights"].items():
        torch.testing.assert_close(value, second["weights"][name], rtol=0, atol=0, msg=name)
    assert first["losses"] != second["losses"]  # the ranks trained on different batches, DDP averaged them


# -- resuming a STAMP run under DDP through nnUNetv2_train --c ----------------------------------------------------------
# nnU-Net's DDP is CUDA-only (nccl, torch.cuda.set_device, the trainer on cuda:<rank>, DDP(device_ids=[rank])). The
# launcher runs nnUNetv2_train's own entry point (run_training_entry: -num_gpus 2, --c, its run_ddp and
# maybe_load_checkpoint) with those four CUDA calls replaced for the CPU, as the test above does; the patches sit at
# the launcher's top level, so that each spawned rank applies them when it imports the launcher.
DDP_LAUNCHER = '''
import sys

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

import nnunetv2.run.run_training as run_training
import nnunetv2.training.nnUNetTrainer.nnUNetTrainer as upstream

run_training.setup_ddp = lambda rank, world_size: dist.init_process_group("gloo", rank=rank, world_size=world_size)
torch.cuda.set_device = lambda device: None
upstream.DDP = lambda module, device_ids=None, **kwargs: DistributedDataParallel(module, **kwargs)

if __name__ == "__main__":
    sys.argv = ["nnUNetv2_train"] + sys.argv[1:]
    run_training.run_training_entry()
'''

DDP_TRAINER = '''
import json
import os

import torch

from nnunet_lunet.trainers import nnUNetTrainerSTAMP_smoke


class nnUNetTrainerSTAMPOnCPU(nnUNetTrainerSTAMP_smoke):
    """STAMP (activation scores, all-reduced over ranks) under DDP on the CPU; each rank writes what it ended with."""

    def __init__(self, plans, configuration, fold, dataset_json, device=torch.device("cuda")):
        super().__init__(plans, configuration, fold, dataset_json, device)
        self.device = torch.device("cpu")  # nnU-Net puts each DDP rank on cuda:<rank>

    def on_train_end(self):
        net = self._plain_network()
        with open(os.path.join(self.output_folder, f"rank{self.local_rank}.json"), "w") as f:
            json.dump({"steps": [{k: s[k] for k in ("step", "epoch", "removed_channels", "layer_widths")}
                                 for s in self.pruning_log["steps"]],
                       "weights": {k: float(v.double().abs().sum()) for k, v in net.state_dict().items()}}, f)
        super().on_train_end()
'''


def test_stamp_resumes_under_ddp_with_nnunetv2_train_c(planned_dataset, tmp_path):
    """2 gloo ranks train STAMP 2 epochs (pruning step 1 at epoch 1, Adam state after 10 steps), then resume with
    --c for a third epoch: step 2 at epoch 2 from the restored widths, the same decision and weights on both ranks."""
    import json
    import subprocess
    import sys

    (tmp_path / "trainers").mkdir()
    (tmp_path / "trainers" / "stamp_on_cpu_trainers.py").write_text(DDP_TRAINER)
    (tmp_path / "launch_ddp.py").write_text(DDP_LAUNCHER)
    env = dict(planned_dataset.env, nnUNet_results=str(tmp_path / "results"),
               nnUNet_extTrainer=str(tmp_path / "trainers"), MASTER_PORT=str(free_port()), NNUNET_LUNET_THREADS="1",
               NNUNET_LUNET_VAL_TTA="0")
    fold = tmp_path / "results" / planned_dataset.name / "nnUNetTrainerSTAMPOnCPU__nnUNetPlans__2d" / "fold_0"

    def train(epochs: str, *extra):
        result = subprocess.run([sys.executable, str(tmp_path / "launch_ddp.py"), str(planned_dataset.dataset_id), "2d",
                                 "0", "-tr", "nnUNetTrainerSTAMPOnCPU", "-num_gpus", "2", *extra],
                                env=dict(env, NNUNET_LUNET_EPOCHS=epochs), capture_output=True, text=True,
                                timeout=1500)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return [json.loads((fold / f"rank{r}.json").read_text()) for r in range(2)]

    first = train("2")
    saved = torch.load(fold / "checkpoint_final.pth", map_location="cpu", weights_only=False)
    assert saved["current_epoch"] == 2 and saved["pruning"]["steps_done"] == 1
    assert saved["optimizer_state"]["state"] and all(s["exp_avg"].abs().sum() > 0 and s["step"] > 0
                                                     for s in saved["optimizer_state"]["state"].values())
    assert saved["pruning"]["targeted_dropout"]  # STAMP's activation scores were computed (and all-reduced)
    assert [s["epoch"] for s in first[0]["steps"]] == [1] and first[0]["steps"] == first[1]["steps"]

    resumed = train("3", "--c")
    rank0, rank1 = resumed
    assert [(s["step"], s["epoch"]) for s in rank0["steps"]] == [(1, 1), (2, 2)]
    assert rank0["steps"][0] == first[0]["steps"][0]  # resumed at step 1's widths, not retaken
    assert rank0["steps"] == rank1["steps"]  # rank 0's decision on both ranks
    assert rank0["weights"] == rank1["weights"]  # DDP kept the pruned replicas equal
    final = torch.load(fold / "checkpoint_final.pth", map_location="cpu", weights_only=False)
    assert final["current_epoch"] == 3 and final["pruning"]["steps_done"] == 2
    with open(fold / "pruning_log.json") as f:
        assert [s["epoch"] for s in json.load(f)["steps"]] == [1, 2]
