"""The validation guard of gradual pruning (``trainers.gradual_pruning``): a step that breaks the network is rolled
back, retried smaller, and the run stops at the last good level with that recorded; a run continued with ``--c``
takes the same decisions as the uninterrupted run.

The collapse is forced: the test trainer's guard measure is 1 while the network keeps at least half of its channels
and 0 below (a stand-in for a pseudo-Dice that falls to 0 when a step breaks the network), so what is tested is the
guard's bookkeeping (rollback of weights, optimizer state and widths, retry, stop, log, resume), on the real console
scripts. The real measure (nnU-Net's pseudo-Dice on the guard's batches) runs in ``test_e2e_gradual_pruning``.

The budget (7 epochs of 2 iterations, the layout of ``test_e2e_gradual_pruning``): steps at (epoch, iteration) (1, 0),
(1, 1) down to 75%, (3, 0), (3, 1) down to 50%, (5, 0), (5, 1) down to 25%; levels recorded at the start of epochs
3 and 5 and at the end. The check before (5, 1) sees 35% of the channels: it fails, rolls back to the 50% network and
retries with half the channels in place of the last step (still below half: 0); the check at the 25% level's record
fails again and, at a level, stops: the run ends at the 50% level.
"""

import json
import os

import pytest
import torch

from cli_runner import run

TRAINER = "nnUNetTrainerSTAMPGuardTest"
CONFIGURATION = "2d"

TEST_TRAINER = f'''
import os
import random

import numpy as np
import torch

from nnunet_lunet.pruning.layer_widths import count_channels, read_layer_widths
from nnunet_lunet.trainers import nnUNetTrainerSTAMP_budget


class {TRAINER}(nnUNetTrainerSTAMP_budget):
    pruning_warmup_fraction = 0.2
    pruning_prune_fraction = 0.5
    pruning_final_hold_fraction = 0.0
    pruning_max_step_share = 0.5

    def __init__(self, plans, configuration, fold, dataset_json, device=torch.device("cuda")):
        super().__init__(plans, configuration, fold, dataset_json, device)
        self.save_every = 1

    def initialize(self):
        torch.manual_seed(1234)  # the same initial weights in both runs
        super().initialize()

    def guard_dice(self):
        channels = count_channels(read_layer_widths(self._plain_network()))
        return 1.0 if channels >= 0.5 * self.pruning_log["original_channels"] else 0.0

    def on_epoch_start(self):
        seed = 1234 + self.current_epoch  # the same batches in both runs
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        if self.current_epoch == int(os.environ.get("STOP_BEFORE_EPOCH", "-1")):
            raise SystemExit(f"stopped before epoch {{self.current_epoch}}")
        super().on_epoch_start()
'''


def _read_json(path):
    with open(path) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def guarded_runs(planned_dataset, tmp_path_factory):
    """``(whole, resumed)`` fold folders: the run uninterrupted, and stopped before epoch 6 (after the rollback and
    retry, before the stop) then continued with --c."""
    root = tmp_path_factory.mktemp("guard")
    (root / "trainers").mkdir()
    (root / "trainers" / "guard_test_trainers.py").write_text(TEST_TRAINER)
    base = dict(planned_dataset.env, nnUNet_extTrainer=str(root / "trainers"), nnUNet_n_proc_DA="0",
                NNUNET_LUNET_EPOCHS="7", NNUNET_LUNET_ITERATIONS="2", NNUNET_LUNET_VAL_ITERATIONS="1",
                NNUNET_LUNET_VAL_TTA="0", NNUNET_LUNET_THREADS="1")
    folds = []
    for name, stops in (("whole", False), ("resumed", True)):
        env = dict(base, nnUNet_results=str(root / name))
        os.makedirs(env["nnUNet_results"])
        train = ["nnUNetv2_train", planned_dataset.dataset_id, CONFIGURATION, 0, "-tr", TRAINER, "-device", "cpu"]
        if stops:
            stopped = run(train, dict(env, STOP_BEFORE_EPOCH="6"), check=False)
            assert stopped.returncode != 0 and "stopped before epoch 6" in stopped.stdout + stopped.stderr
            train = train + ["--c"]
        run(train, env)
        folds.append(os.path.join(env["nnUNet_results"], planned_dataset.name,
                                  f"{TRAINER}__nnUNetPlans__{CONFIGURATION}", "fold_0"))
    return folds


def test_a_collapsing_step_is_rolled_back_and_the_run_ends_at_the_last_good_level(guarded_runs):
    fold = guarded_runs[0]
    log = _read_json(os.path.join(fold, "pruning_log.json"))
    steps, guard, levels = log["steps"], log["guard"], log["levels"]
    # the steps of the network: down to 50%; the rolled-back ones are in the guard's events
    assert [(s["epoch"], s["iteration"]) for s in steps] == [(1, 0), (1, 1), (3, 0), (3, 1)]
    assert [(g["epoch"], g["iteration"], g["action"], g["back_to_step"]) for g in guard] == [
        (5, 1, "retry", 4), (7, 0, "stop", 4)]
    assert [g["pseudo_dice"] for g in guard] == [0.0, 0.0] and [g["reference"] for g in guard] == [1.0, 1.0]
    first, retried = guard[0]["undone_steps"][0], guard[1]["undone_steps"][0]
    assert (first["epoch"], first["iteration"]) == (5, 0) and (retried["epoch"], retried["iteration"]) == (5, 1)
    assert retried["removed"] == -(-first["removed"] // 2)  # the retry takes half the channels
    assert [(r["level"], r["reached"], r["guard"]) for r in levels] == [
        (0.75, True, "ok"), (0.5, True, "ok"), (0.25, False, "stopped")]
    last = levels[-1]
    assert last["validation_dice"] is None and last["checkpoint"] is None and last["validation"] is None
    assert not os.path.exists(os.path.join(fold, "validation_level25"))
    assert not os.path.exists(os.path.join(fold, "checkpoint_level25.pth"))
    # the final network is the 50% level's widths, weights and optimizer state rolled back with them
    final = torch.load(os.path.join(fold, "checkpoint_final.pth"), map_location="cpu", weights_only=False)
    assert final["pruning"]["layer_widths"] == levels[1]["layer_widths"] == steps[-1]["layer_widths"]
    assert final["pruning"]["guard"]["stopped"] is True
    for name, value in final["network_weights"].items():
        assert final["pruning"]["last_good"]["network_weights"][name].shape == value.shape, name
    assert os.path.isfile(os.path.join(fold, "validation", "summary.json"))  # nnU-Net's own final validation


def _decisions(log):
    def step(s):
        return s["epoch"], s["iteration"], s["removed_channels"], s["layer_widths"]

    return ([step(s) for s in log["steps"]],
            [(g["epoch"], g["iteration"], g["action"], g["back_to_step"], [step(s) for s in g["undone_steps"]])
             for g in log["guard"]],
            [(r["level"], r["reached"], r["guard"], r["layer_widths"]) for r in log["levels"]])


def test_a_continued_guarded_run_takes_the_same_decisions(guarded_runs):
    logs = [_read_json(os.path.join(fold, "pruning_log.json")) for fold in guarded_runs]
    assert logs[1]["guard"][0]["action"] == "retry"
    assert _decisions(logs[1]) == _decisions(logs[0])
    finals = [torch.load(os.path.join(fold, "checkpoint_final.pth"), map_location="cpu", weights_only=False)
              for fold in guarded_runs]
    for name, value in finals[0]["network_weights"].items():
        torch.testing.assert_close(finals[1]["network_weights"][name], value, rtol=0, atol=0, msg=name)
