"""Resuming a pruning run with ``nnUNetv2_train ... --c``: it ends where the uninterrupted run ends, and every
checkpoint or log that does not fit the run is refused with an ``error``-style message naming the fix.

Exactness is checked on nnU-Net's default plans (PlainConvUNet). For residual encoders the same resume code runs in
``test_e2e_pruning`` (a continued run resumes at its exact widths and takes the next step, not the same one again) and
``test_pruning_residual`` (surgery exactness, optimizer state sliced along); a residual exactness run here cost
107 s of the suite's time budget.

All runs use the real console scripts. The refusal tests copy the session's STAMP run into a private results folder
and damage the copy, so the shared run is never touched.
"""

import json
import os

import pytest
import torch

from cli_runner import run
from shared_runs import private_copy

STAMP = "nnUNetTrainerSTAMP_smoke"
RESUMABLE = "nnUNetTrainerSTAMPResumable"

# Pruning every 2nd epoch from epoch 1 (steps at epochs 1 and 3), 4 epochs, stopped before epoch 2: the resumed run
# first trains an epoch between two steps (so the restored targeted dropout and optimizer state matter), then takes
# step 2 (so the restored generator, widths and log matter).
RESUMABLE_TRAINER = f'''
import os
import random

import numpy as np
import torch

from nnunet_lunet.trainers import {STAMP}


class {RESUMABLE}({STAMP}):
    pruning_every_n_epochs = 2

    def __init__(self, plans, configuration, fold, dataset_json, device=torch.device("cuda")):
        # nnU-Net records its init arguments by name: keep the signature explicit
        super().__init__(plans, configuration, fold, dataset_json, device)
        self.save_every = 1  # checkpoint_latest.pth after every epoch

    def initialize(self):
        torch.manual_seed(1234)  # the same initial weights in both runs
        super().initialize()

    def on_epoch_start(self):
        # nnU-Net seeds nothing: seed every epoch so that both runs draw the same batches and augmentations
        seed = 1234 + self.current_epoch
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        if self.current_epoch == int(os.environ.get("STOP_BEFORE_EPOCH", "-1")):
            raise SystemExit(f"stopped before epoch {{self.current_epoch}}")
        super().on_epoch_start()
'''


def _train(planned_dataset, env, *extra, plans="nnUNetPlans", configuration="2d", check=True):
    return run(["nnUNetv2_train", planned_dataset.dataset_id, configuration, 0, "-tr", RESUMABLE, "-p", plans,
                "-device", "cpu", *extra], env, check=check)


def _fold(env, planned_dataset, trainer=RESUMABLE, configuration="2d", plans="nnUNetPlans"):
    return os.path.join(env["nnUNet_results"], planned_dataset.name, f"{trainer}__{plans}__{configuration}", "fold_0")



def _load(path):
    return torch.load(path, map_location="cpu", weights_only=False)


def _read_json(path):
    with open(path) as f:
        return json.load(f)


def test_resumed_run_ends_like_the_uninterrupted_run(planned_dataset, tmp_path):
    """Widths, removed channel indices, step epochs, targeted-dropout rates and weights must be exactly equal
    (tolerance 0). That needs what nnU-Net does not do: the data pipeline in this process (``nnUNet_n_proc_DA=0``),
    one torch thread, and the test trainer seeding the initial weights and, at every epoch start, python, numpy and
    torch (nnU-Net's sampling and augmentation draw from the global generators and are never seeded; with worker
    processes or unseeded runs the weights of two runs differ whatever our code does). Within our code a resume
    restores the widths, the log, the criterion's generator and the targeted-dropout rates; nnU-Net restores weights,
    optimizer state and epoch. On other hardware or thread counts, expect equal widths and indices but weights only
    close (floating-point summation order)."""
    plans, configuration = "nnUNetPlans", "2d"
    folder = tmp_path / "trainers"
    folder.mkdir()
    (folder / "resumable_lunet_trainers.py").write_text(RESUMABLE_TRAINER)
    base = dict(planned_dataset.env, nnUNet_extTrainer=str(folder), nnUNet_n_proc_DA="0", NNUNET_LUNET_EPOCHS="4",
                NNUNET_LUNET_ITERATIONS="3", NNUNET_LUNET_VAL_ITERATIONS="1", NNUNET_LUNET_THREADS="1")
    whole = dict(base, nnUNet_results=str(tmp_path / "whole"))
    resumed = dict(base, nnUNet_results=str(tmp_path / "resumed"))
    for env in (whole, resumed):
        os.makedirs(env["nnUNet_results"])

    setting = dict(plans=plans, configuration=configuration)
    _train(planned_dataset, whole, **setting)
    stopped = _train(planned_dataset, dict(resumed, STOP_BEFORE_EPOCH="2"), check=False, **setting)
    assert stopped.returncode != 0 and "stopped before epoch 2" in stopped.stdout + stopped.stderr
    folds = [_fold(env, planned_dataset, **setting) for env in (whole, resumed)]
    assert _load(os.path.join(folds[1], "checkpoint_latest.pth"))["current_epoch"] == 2
    assert len(_read_json(os.path.join(folds[1], "pruning_log.json"))["steps"]) == 1
    _train(planned_dataset, resumed, "--c", **setting)

    logs = [_read_json(os.path.join(fold, "pruning_log.json")) for fold in folds]
    assert [s["epoch"] for s in logs[0]["steps"]] == [1, 3]
    for key in ("epoch", "removed", "removed_channels", "layer_widths", "channels", "parameters"):
        assert [s[key] for s in logs[1]["steps"]] == [s[key] for s in logs[0]["steps"]], key
    finals = [_load(os.path.join(fold, "checkpoint_final.pth")) for fold in folds]
    assert finals[0]["pruning"]["layer_widths"] == finals[1]["pruning"]["layer_widths"]
    assert finals[0]["pruning"]["targeted_dropout"] == finals[1]["pruning"]["targeted_dropout"]
    weights = [f["network_weights"] for f in finals]
    assert weights[0].keys() == weights[1].keys()
    for name, value in weights[0].items():
        torch.testing.assert_close(weights[1][name], value, rtol=0, atol=0, msg=name)


@pytest.fixture
def stamp_copy(planned_dataset, train, tmp_path):
    """``(env, fold folder)``: a copy of the session's STAMP run (pruned once) in a private results folder."""
    results, fold = private_copy(train("3d_fullres", STAMP), planned_dataset.name, tmp_path)
    return dict(planned_dataset.env, nnUNet_results=results), fold


def _resume(planned_dataset, env):
    return run(["nnUNetv2_train", planned_dataset.dataset_id, "3d_fullres", 0, "-tr", STAMP, "-device", "cpu",
                "--c"], dict(env, NNUNET_LUNET_EPOCHS="3"), check=False)


def _edit_checkpoint(fold, edit):
    path = os.path.join(fold, "checkpoint_final.pth")
    checkpoint = _load(path)
    edit(checkpoint)
    torch.save(checkpoint, path)


def _refused(result, *phrases):
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-2000:]
    assert "LUnetError" in output, output[-2000:]
    for phrase in phrases:
        assert phrase in output, (phrase, output[-2000:])


def test_checkpoint_widths_that_contradict_its_weights_are_refused(planned_dataset, stamp_copy):
    env, fold = stamp_copy
    original = _read_json(os.path.join(fold, "pruning_log.json"))["original_widths"]
    _edit_checkpoint(fold, lambda c: c["pruning"].update(layer_widths=original))
    _refused(_resume(planned_dataset, env), "do not match its own weights", "damaged or edited")


def test_pruned_checkpoint_without_pruning_state_is_refused(planned_dataset, stamp_copy):
    env, fold = stamp_copy
    _edit_checkpoint(fold, lambda c: c.pop("pruning"))
    _refused(_resume(planned_dataset, env), "holds a pruned network", "no pruning state", "without --c")


def test_missing_pruning_log_is_refused(planned_dataset, stamp_copy):
    env, fold = stamp_copy
    os.remove(os.path.join(fold, "pruning_log.json"))
    _refused(_resume(planned_dataset, env), "no pruning_log.json", "put the run's log back")


def test_pruning_log_of_another_run_is_refused(planned_dataset, stamp_copy):
    env, fold = stamp_copy
    path = os.path.join(fold, "pruning_log.json")
    log = _read_json(path)
    log["steps"][-1]["layer_widths"] = log["original_widths"]
    with open(path, "w") as f:
        json.dump(log, f)
    _refused(_resume(planned_dataset, env), "does not match the checkpoint", "belongs to another run")
