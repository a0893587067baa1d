"""End to end on the generated dataset: a gradual pruning run (``nnUNetTrainerSTAMP_budget`` on a 7 x 2 budget)
interrupted mid-schedule and continued with ``nnUNetv2_train --c`` takes every step of its schedule once, at the
schedule's positions, and records each level (75, 50, 25%) with its checkpoint and nnU-Net validation; and
``export-pruned --level`` turns a level into a configuration, refusing a level the run did not record.

The budget (7 epochs of 2 iterations) lays the schedule out as (``GradualSchedule``, computed by hand): warm-up epoch 0;
75%: steps before iterations 0 and 1 of epoch 1, held in epoch 2, recorded after 3 epochs; 50%: steps in epoch 3,
held in 4, recorded after 5 epochs; 25%: steps in epoch 5, held in 6, recorded at the end (7 epochs).
"""

import json
import math
import os

import pytest
import torch

from cli_runner import run
from nnunet_summaries import check_summary, summary_cases, validation_cases

TRAINER = "nnUNetTrainerSTAMPGradualTest"
CONFIGURATION = "2d"
STEP_POSITIONS = [(1, 0), (1, 1), (3, 0), (3, 1), (5, 0), (5, 1)]  # (epoch, iteration) of each step
LEVELS = [(0.75, 3, 2), (0.5, 5, 4), (0.25, 7, 6)]  # (level, epochs trained, steps taken) when recorded

# The shipped trainer, with a checkpoint after every epoch and a way to stop it before an epoch.
TEST_TRAINER = f'''
import os

import torch

from nnunet_lunet.trainers import nnUNetTrainerSTAMP_budget


class {TRAINER}(nnUNetTrainerSTAMP_budget):
    # the layout of the docstring's 7 x 2 budget (no final stretch); the guard measures but never fails
    pruning_warmup_fraction = 0.2
    pruning_prune_fraction = 0.5
    pruning_final_hold_fraction = 0.0
    pruning_guard_fraction = 0.0
    pruning_max_step_share = 0.5  # 2 steps a level remove 13-29% of what remains; the default cap (20%) would not

    def __init__(self, plans, configuration, fold, dataset_json, device=torch.device("cuda")):
        super().__init__(plans, configuration, fold, dataset_json, device)
        self.save_every = 1

    def on_epoch_start(self):
        if self.current_epoch == int(os.environ.get("STOP_BEFORE_EPOCH", "-1")):
            raise SystemExit(f"stopped before epoch {{self.current_epoch}}")
        super().on_epoch_start()
'''


def _read_json(path):
    with open(path) as f:
        return json.load(f)


def _train(planned_dataset, env, *extra, check=True):
    return run(["nnUNetv2_train", planned_dataset.dataset_id, CONFIGURATION, 0, "-tr", TRAINER, "-device", "cpu",
                *extra], env, check=check)


@pytest.fixture(scope="module")
def gradual_run(planned_dataset, tmp_path_factory):
    """``(env, fold folder, the log when the run stopped)``: the run stopped before epoch 2 (after level 75's steps,
    while it holds the level), then continued with --c from the checkpoint of epoch 1."""
    root = tmp_path_factory.mktemp("gradual")
    (root / "trainers").mkdir()
    (root / "trainers" / "gradual_test_trainers.py").write_text(TEST_TRAINER)
    (root / "results").mkdir()
    env = dict(planned_dataset.env, nnUNet_extTrainer=str(root / "trainers"), nnUNet_results=str(root / "results"),
               NNUNET_LUNET_EPOCHS="7", NNUNET_LUNET_ITERATIONS="2", NNUNET_LUNET_VAL_ITERATIONS="1",
               NNUNET_LUNET_VAL_TTA="0")
    fold = os.path.join(env["nnUNet_results"], planned_dataset.name, f"{TRAINER}__nnUNetPlans__{CONFIGURATION}",
                        "fold_0")
    stopped = _train(planned_dataset, dict(env, STOP_BEFORE_EPOCH="2"), check=False)
    assert stopped.returncode != 0 and "stopped before epoch 2" in stopped.stdout + stopped.stderr
    at_stop = _read_json(os.path.join(fold, "pruning_log.json"))
    _train(planned_dataset, env, "--c")
    return env, fold, at_stop


def test_gradual_run_continued_mid_schedule_reaches_every_level(gradual_run, planned_dataset):
    env, fold, at_stop = gradual_run
    assert [(s["epoch"], s["iteration"]) for s in at_stop["steps"]] == STEP_POSITIONS[:2]
    assert at_stop["levels"] == []

    log = _read_json(os.path.join(fold, "pruning_log.json"))
    steps = log["steps"]
    # Every step once, where the schedule puts it; the steps before the stop are the ones the run had taken.
    assert [(s["epoch"], s["iteration"]) for s in steps] == STEP_POSITIONS
    assert [s["step"] for s in steps] == [1, 2, 3, 4, 5, 6]
    assert [s["layer_widths"] for s in steps[:2]] == [s["layer_widths"] for s in at_stop["steps"]]
    original = log["original_channels"]
    # Each step keeps ceil(f x original) channels, each step of a level removing the same share of what remains.
    fractions = (0.75 ** 0.5, 0.75, 0.75 * (0.5 / 0.75) ** 0.5, 0.5, 0.5 * 0.5 ** 0.5, 0.25)
    assert [s["channels"] for s in steps] == [math.ceil(f * original - 1e-9) for f in fractions]
    assert log["guard"] == []
    assert all(s["pseudo_dice"] is not None for s in steps)

    # Each level once, when its training ended.
    assert [(r["level"], r["epoch"], r["step"]) for r in log["levels"]] == LEVELS
    cases = validation_cases(fold, planned_dataset.preprocessed)
    for record in log["levels"]:
        name = f"{round(record['level'] * 100)}"
        step = steps[record["step"] - 1]
        assert record["layer_widths"] == step["layer_widths"]
        assert record["channels"] == math.ceil(record["level"] * original) == step["channels"]
        assert record["parameters"] == step["parameters"] < log["original_parameters"]
        assert record["checkpoint"] == f"checkpoint_level{name}.pth"
        assert record["validation"] == f"validation_level{name}"
        checkpoint = torch.load(os.path.join(fold, record["checkpoint"]), map_location="cpu", weights_only=False)
        assert checkpoint["pruning"]["layer_widths"] == record["layer_widths"]
        assert checkpoint["current_epoch"] == record["epoch"]
        summary = check_summary(os.path.join(fold, record["validation"], "summary.json"))  # paths point here
        assert summary_cases(summary) == cases
        assert math.isfinite(record["validation_dice"])
        assert record["validation_dice"] == summary["foreground_mean"]["Dice"]
        assert math.isfinite(record["pseudo_dice"])
        assert record["reached"] and record["guard"] == "ok"
    assert not [f for f in os.listdir(fold) if f.endswith(".partial")]
    # The final validation is of the network at the last level: validated once, into validation_level25/, and
    # nnU-Net's validation/ is that validation (its files, with paths pointing into validation/), not a second run.
    final = torch.load(os.path.join(fold, "checkpoint_final.pth"), map_location="cpu", weights_only=False)
    assert final["pruning"]["layer_widths"] == log["levels"][-1]["layer_widths"]
    final_summary = check_summary(os.path.join(fold, "validation", "summary.json"))
    assert summary_cases(final_summary) == cases
    last = _read_json(os.path.join(fold, log["levels"][-1]["validation"], "summary.json"))
    assert final_summary["foreground_mean"] == last["foreground_mean"]
    training_logs = [os.path.join(fold, f) for f in os.listdir(fold) if f.startswith("training_log")]
    assert sum(open(f).read().count("Validation complete") for f in training_logs) == len(LEVELS)


def test_export_pruned_level(gradual_run, planned_dataset):
    env, fold, _ = gradual_run
    log = _read_json(os.path.join(fold, "pruning_log.json"))
    export = ["nnunet-lunet", "export-pruned", "-d", planned_dataset.dataset_id, "-c", CONFIGURATION, "-tr", TRAINER,
              "-f", 0]
    # (into plans of its own: other tests write nnUNetPlans_pruned in the same folder, in parallel)
    result = run(export + ["--level", 0.5, "-o", "nnUNetPlans_pruned_levels"], env)
    name = f"{CONFIGURATION}_pruned_{TRAINER}_f0_level50"
    assert f"wrote configuration {name}" in result.stdout
    path = os.path.join(planned_dataset.preprocessed, "nnUNetPlans_pruned_levels.json")
    exported = _read_json(path)["configurations"][name]
    assert exported["architecture"]["arch_kwargs"]["layer_widths"] == log["levels"][1]["layer_widths"]

    # A level the run did not record: one error line naming the levels it has, nothing written.
    target = os.path.join(planned_dataset.preprocessed, "nnUNetPlans_levels_test.json")
    refused = run(export + ["--level", 0.6, "-o", "nnUNetPlans_levels_test"], env, check=False)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip().splitlines() == [
        f"error: {fold} has no pruning level 0.6: its levels are 0.75, 0.5, 0.25"]
    assert not os.path.exists(target)
    both = run(export + ["--level", 0.5, "--step", 1, "-o", "nnUNetPlans_levels_test"], env, check=False)
    assert both.returncode == 2 and "not allowed with argument" in both.stderr and not os.path.exists(target)
