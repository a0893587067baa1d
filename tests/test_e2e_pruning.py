"""End to end on the generated dataset: a STAMP pruning run shrinks the real network, resumes at its exact widths,
predicts, and its exported widths train from scratch with nnU-Net's standard trainer."""

import csv
import json
import os

import torch

from cli_runner import run
from nnunet_summaries import check_summary, summary_cases, validation_cases

TRAINER = "nnUNetTrainerSTAMP_smoke"


def _checkpoint(fold, name="checkpoint_final.pth"):
    return torch.load(os.path.join(fold, name), map_location="cpu", weights_only=False)


def _log(fold):
    with open(os.path.join(fold, "pruning_log.json")) as f:
        return json.load(f)


def test_prune_resume_predict_export_retrain(planned_dataset, train, tmp_path):
    env = planned_dataset.env
    fold = train("3d_fullres", TRAINER)

    log = _log(fold)
    assert log["criterion"] == "stamp" and len(log["steps"]) == 1  # smoke schedule: one step, at epoch 1
    step = log["steps"][0]
    assert step["epoch"] == 1 and step["channels"] < log["original_channels"]
    assert step["parameters"] < log["original_parameters"] and step["pseudo_dice"] is not None
    with open(os.path.join(fold, "pruning_log.csv")) as f:
        csv_rows = list(csv.DictReader(f))
    assert [r["step"] for r in csv_rows] == ["0", "1"] and float(csv_rows[1]["seconds"]) == step["seconds"]
    checkpoint = _checkpoint(fold)
    assert checkpoint["pruning"]["layer_widths"] == step["layer_widths"]
    assert not [f for f in os.listdir(fold) if f.endswith(".partial")]  # the atomic save left no temporary file
    weights = checkpoint["network_weights"]
    unique = {p.data_ptr(): p.numel() for p in weights.values()}  # the state dict lists shared modules twice
    assert sum(unique.values()) == step["parameters"]
    # The widest layers lose channels first (per-layer normalisation): the bottleneck shrinks, the stem barely.
    enc = step["encoder_stage_widths"]
    assert enc[-1] < log["encoder_stage_widths"][-1]
    assert enc[0] / log["encoder_stage_widths"][0] > enc[-1] / log["encoder_stage_widths"][-1]
    # nnU-Net's final validation ran (on the pruned net, the only one in the checkpoint) over the fold's cases
    summary = check_summary(os.path.join(fold, "validation", "summary.json"))
    assert summary_cases(summary) == validation_cases(fold, planned_dataset.preprocessed)
    assert step["seconds"] > 0 and sum(len(v) for v in step["removed_channels"].values()) == step["removed"]

    # Continue with one more epoch: resumes at step 1's widths, takes step 2 at epoch 2, not step 1 again.
    run(["nnUNetv2_train", planned_dataset.dataset_id, "3d_fullres", 0, "-tr", TRAINER, "-device", "cpu", "--c"],
        dict(env, NNUNET_LUNET_EPOCHS="3"))
    log = _log(fold)
    assert [s["step"] for s in log["steps"]] == [1, 2] and log["steps"][1]["epoch"] == 2
    assert log["steps"][1]["channels"] < step["channels"]
    assert log["steps"][0]["layer_widths"] == step["layer_widths"]
    assert _checkpoint(fold)["current_epoch"] == 3

    out = tmp_path / "pred"
    run(["nnUNetv2_predict", "-i", os.path.join(planned_dataset.raw, "imagesTs"), "-o", out, "-d",
         planned_dataset.dataset_id, "-c", "3d_fullres", "-f", 0, "-tr", TRAINER, "-device", "cpu", "-npp", 1,
         "-nps", 1], env)
    assert len([f for f in os.listdir(out) if f.endswith(".nii.gz")]) == 2

    result = run(["nnunet-lunet", "export-pruned", "-d", planned_dataset.dataset_id, "-c", "3d_fullres", "-tr",
                  TRAINER, "-f", 0, "--step", 1], env)
    name = f"3d_fullres_pruned_{TRAINER}_f0_step1"
    assert name in result.stdout
    with open(os.path.join(planned_dataset.preprocessed, "nnUNetPlans_pruned.json")) as f:
        exported = json.load(f)["configurations"][name]
    assert exported["architecture"]["arch_kwargs"]["layer_widths"] == step["layer_widths"]

    retrained = os.path.join(planned_dataset.results, f"nnUNetTrainer_smoke__nnUNetPlans_pruned__{name}", "fold_0")
    run(["nnUNetv2_train", planned_dataset.dataset_id, name, 0, "-p", "nnUNetPlans_pruned", "-tr",
         "nnUNetTrainer_smoke", "-device", "cpu"], env)
    retrained_weights = _checkpoint(retrained)["network_weights"]
    assert {k: v.shape for k, v in retrained_weights.items()} == {k: v.shape for k, v in weights.items()}
    assert not os.path.exists(os.path.join(retrained, "pruning_log.json"))  # trained at fixed widths

    # Exporting again under the same name is refused, and the plans file is left as it was.
    path = os.path.join(planned_dataset.preprocessed, "nnUNetPlans_pruned.json")
    before = open(path).read()
    again = run(["nnunet-lunet", "export-pruned", "-d", planned_dataset.dataset_id, "-c", "3d_fullres", "-tr",
                 TRAINER, "-f", 0, "--step", 1], env, check=False)
    assert again.returncode == 2 and "--overwrite" in again.stderr
    assert open(path).read() == before


def test_export_refuses_a_run_that_never_pruned(planned_dataset, train):
    train("3d_fullres", "nnUNetTrainerLUnet_smoke")
    result = run(["nnunet-lunet", "export-pruned", "-d", planned_dataset.dataset_id, "-c", "3d_fullres", "-tr",
                  "nnUNetTrainerLUnet_smoke"], planned_dataset.env, check=False)
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
    fold = os.path.join(planned_dataset.results, "nnUNetTrainerPruneTooFar__nnUNetPlans__3d_fullres", "fold_0")
    assert not os.path.exists(os.path.join(fold, "checkpoint_final.pth"))
