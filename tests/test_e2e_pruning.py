"""End to end on the generated dataset: a STAMP pruning run shrinks the real network, resumes at its exact widths,
predicts, and its exported widths train from scratch with nnU-Net's standard trainer; for nnU-Net's default plans
(PlainConvUNet) and residual LUnets (nnUNetPlannerResEncM's ResidualEncoderUNet at LUnet16 widths)."""

import csv
import json
import os

import torch
from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

from cli_runner import run
from shared_runs import private_copy
from nnunet_lunet.architecture import PRUNED_CLASSES
from nnunet_summaries import assert_nothing_trained, check_summary, summary_cases, validation_cases

TRAINER = "nnUNetTrainerSTAMP_smoke"


def _checkpoint(fold, name="checkpoint_final.pth"):
    return torch.load(os.path.join(fold, name), map_location="cpu", weights_only=False)


def _log(fold):
    with open(os.path.join(fold, "pruning_log.json")) as f:
        return json.load(f)


def test_prune_resume_predict_export_retrain(planned_dataset, train, prunable_plans, tmp_path):
    env, plans, configuration = planned_dataset.env, prunable_plans.plans, prunable_plans.configuration("3d_fullres")
    fold = train(configuration, TRAINER, plans)

    log = _log(fold)
    assert log["criterion"] == "stamp" and len(log["steps"]) == 1  # smoke schedule: one step, at epoch 1
    step = log["steps"][0]
    assert step["epoch"] == 1 and step["channels"] < log["original_channels"]
    assert step["parameters"] < log["original_parameters"]
    assert 0.0 <= step["pseudo_dice"] <= 1.0, step["pseudo_dice"]  # a Dice: NaN and None fail
    with open(os.path.join(fold, "pruning_log.csv")) as f:
        csv_rows = list(csv.DictReader(f))
    assert [r["step"] for r in csv_rows] == ["0", "1"] and float(csv_rows[1]["seconds"]) == step["seconds"]
    checkpoint = _checkpoint(fold)
    assert checkpoint["pruning"]["layer_widths"] == step["layer_widths"]
    assert not [f for f in os.listdir(fold) if f.endswith((".partial", ".tmp"))]  # the atomic save left no temporary
    weights = checkpoint["network_weights"]
    unique = {p.data_ptr(): p.numel() for p in weights.values()}  # the state dict lists shared modules twice
    assert sum(unique.values()) == step["parameters"]
    # The widest layers lose channels first (per-layer normalisation): the bottleneck shrinks, the stem barely (where
    # the widths differ: not in a LUnet).
    enc, original = step["encoder_stage_widths"], log["encoder_stage_widths"]
    if len(set(original)) > 1:
        assert enc[-1] < original[-1] and enc[0] / original[0] > enc[-1] / original[-1]
    # nnU-Net's final validation ran (on the pruned net, the only one in the checkpoint) over the fold's cases
    summary = check_summary(os.path.join(fold, "validation", "summary.json"))
    assert summary_cases(summary) == validation_cases(fold, planned_dataset.preprocessed)
    assert step["seconds"] > 0 and sum(len(v) for v in step["removed_channels"].values()) == step["removed"]

    # Continue (a private copy of the shared run) with one more epoch: resumes at step 1's widths, takes step 2 at
    # epoch 2, not step 1 again.
    results, fold = private_copy(fold, planned_dataset.name, tmp_path)
    env = dict(env, nnUNet_results=results)
    run(["nnUNetv2_train", planned_dataset.dataset_id, configuration, 0, "-tr", TRAINER, "-p", plans, "-device", "cpu",
         "--c"], dict(env, NNUNET_LUNET_EPOCHS="3"))
    log = _log(fold)
    assert [s["step"] for s in log["steps"]] == [1, 2] and log["steps"][1]["epoch"] == 2
    assert log["steps"][1]["channels"] < step["channels"]
    assert log["steps"][0]["layer_widths"] == step["layer_widths"]
    assert _checkpoint(fold)["current_epoch"] == 3

    out = tmp_path / "pred"  # (without test-time mirroring: the pruned network predicting is what is checked)
    run(["nnUNetv2_predict", "-i", os.path.join(planned_dataset.raw, "imagesTs"), "-o", out, "-d",
         planned_dataset.dataset_id, "-c", configuration, "-f", 0, "-tr", TRAINER, "-p", plans, "-device", "cpu",
         "-npp", 1, "-nps", 1, "--disable_tta"], env)
    assert len([f for f in os.listdir(out) if f.endswith(".nii.gz")]) == 2

    export = ["nnunet-lunet", "export-pruned", "-d", planned_dataset.dataset_id, "-c", configuration, "-tr", TRAINER,
              "-p", plans, "-f", 0, "--step", 1]
    result = run(export, env)
    name = f"{configuration}_pruned_{TRAINER}_f0_step1"
    assert name in result.stdout
    path = os.path.join(planned_dataset.preprocessed, f"{plans}_pruned.json")
    with open(path) as f:
        exported = json.load(f)["configurations"][name]
    assert exported["architecture"]["arch_kwargs"]["layer_widths"] == step["layer_widths"]
    source = PlansManager(os.path.join(planned_dataset.preprocessed, f"{plans}.json")).get_configuration(configuration)
    assert exported["architecture"]["network_class_name"] == PRUNED_CLASSES[source.network_arch_class_name]

    retrained = os.path.join(results, planned_dataset.name, f"nnUNetTrainer_smoke__{plans}_pruned__{name}", "fold_0")
    # (one step of one epoch, its final validation without test-time mirroring: only the trained shapes are checked)
    run(["nnUNetv2_train", planned_dataset.dataset_id, name, 0, "-p", f"{plans}_pruned", "-tr",
         "nnUNetTrainer_smoke", "-device", "cpu"], dict(env, NNUNET_LUNET_VAL_TTA="0", NNUNET_LUNET_EPOCHS="1",
                                                        NNUNET_LUNET_ITERATIONS="1", NNUNET_LUNET_VAL_ITERATIONS="1"))
    retrained_weights = _checkpoint(retrained)["network_weights"]
    assert {k: v.shape for k, v in retrained_weights.items()} == {k: v.shape for k, v in weights.items()}
    assert not os.path.exists(os.path.join(retrained, "pruning_log.json"))  # trained at fixed widths

    # Exporting again under the same name is refused, and the plans file is left as it was.
    before = open(path).read()
    again = run(export, env, check=False)
    assert again.returncode == 2 and "--overwrite" in again.stderr
    assert open(path).read() == before


def test_export_refuses_a_run_that_never_pruned(planned_dataset, train):
    train("3d_fullres", "nnUNetTrainerLUnet16_smoke")
    result = run(["nnunet-lunet", "export-pruned", "-d", planned_dataset.dataset_id, "-c", "3d_fullres", "-tr",
                  "nnUNetTrainerLUnet16_smoke"], planned_dataset.env, check=False)
    assert result.returncode == 2 and "not a pruning run" in result.stderr


def test_export_refuses_a_missing_run(planned_dataset):
    result = run(["nnunet-lunet", "export-pruned", "-d", planned_dataset.dataset_id, "-c", "3d_fullres", "-tr",
                  "nnUNetTrainerPruneWidest", "-f", 3], planned_dataset.env, check=False)
    assert result.returncode == 2 and "no training run" in result.stderr


def test_unreachable_target_fails_before_training(planned_dataset, tmp_path):
    # A user's subclass asking for fewer channels than one per layer: a clear error, nothing trained.
    folder = tmp_path / "trainers"
    folder.mkdir()
    (folder / "my_lunet_trainers.py").write_text(
        "from nnunet_lunet.trainers import nnUNetTrainerPruneWidest_smoke\n"
        "class nnUNetTrainerPruneTooFar(nnUNetTrainerPruneWidest_smoke):\n"
        "    pruning_target_fraction = 0.001\n")
    env = dict(planned_dataset.env, nnUNet_extTrainer=str(folder))
    result = run(["nnUNetv2_train", planned_dataset.dataset_id, "3d_fullres", 0, "-tr", "nnUNetTrainerPruneTooFar",
                  "-device", "cpu"], env, check=False)
    assert result.returncode != 0
    assert "smallest reachable fraction" in result.stdout + result.stderr
    assert_nothing_trained(os.path.join(planned_dataset.results, "nnUNetTrainerPruneTooFar__nnUNetPlans__3d_fullres",
                                        "fold_0"))
