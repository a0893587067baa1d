"""End to end with nnU-Net's own console scripts: train a LUnet (smoke budget), predict, read Dice."""

import os

import pytest
import torch

from cli_runner import run
from nnunet_summaries import check_summary, summary_cases, validation_cases


def _check_validation(fold_folder, preprocessed):
    """nnU-Net's final validation covered the fold's validation cases, and its Dice are those of its files."""
    summary = check_summary(os.path.join(fold_folder, "validation", "summary.json"))
    assert summary_cases(summary) == validation_cases(fold_folder, preprocessed)


# (3d with LUnet16, the model other tests train too, so that the session trains one model fewer)
@pytest.mark.parametrize("configuration, trainer, width", [("3d_fullres", "nnUNetTrainerLUnet16_smoke", 16),
                                                           ("2d", "nnUNetTrainerLUnet_smoke", 32)])
def test_train_predict_evaluate_lunet(planned_dataset, train, configuration, trainer, width, tmp_path):
    fold = train(configuration, trainer)
    checkpoint = torch.load(os.path.join(fold, "checkpoint_final.pth"), map_location="cpu", weights_only=False)
    assert checkpoint["trainer_name"] == trainer
    assert checkpoint["current_epoch"] == 2  # the smoke budget: 2 epochs
    convs = [v for k, v in checkpoint["network_weights"].items()
             if k.endswith("conv.weight") and not k.startswith("decoder.encoder")]
    assert convs and all(w.shape[0] == width for w in convs)  # LUnet: the same width in every conv
    _check_validation(fold, planned_dataset.preprocessed)

    out = tmp_path / "pred"
    run(["nnUNetv2_predict", "-i", os.path.join(planned_dataset.raw, "imagesTs"), "-o", out, "-d",
         planned_dataset.dataset_id, "-c", configuration, "-f", 0, "-tr", trainer, "-device",
         "cpu", "-npp", 1, "-nps", 1], planned_dataset.env)
    assert sorted(f for f in os.listdir(out) if f.endswith(".nii.gz")) == ["case_ts000.nii.gz", "case_ts001.nii.gz"]
    run(["nnUNetv2_evaluate_simple", os.path.join(planned_dataset.raw, "labelsTs"), out, "-l", 1, 2],
        planned_dataset.env)
    assert summary_cases(check_summary(str(out / "summary.json"))) == {"case_ts000", "case_ts001"}


def test_standard_trainer_trains_a_lunet_plans_configuration(planned_dataset, train, lunet_plans):
    fold = train("3d_fullres_lunet16", "nnUNetTrainer_smoke", lunet_plans)
    weights = torch.load(os.path.join(fold, "checkpoint_final.pth"), map_location="cpu",
                         weights_only=False)["network_weights"]
    assert weights["encoder.stages.3.0.convs.1.conv.weight"].shape[0] == 16  # bottleneck is 16 wide, not 256
    _check_validation(fold, planned_dataset.preprocessed)


def test_trainers_are_found_in_a_fresh_interpreter_without_setup(nnunet_env):
    code = ("import os; from nnunetv2.utilities.find_objects import recursive_find_trainer_class_by_name as f; "
            "import nnunet_lunet.trainers as t; "
            "assert f('nnUNetTrainerLUnet16_smoke') is t.nnUNetTrainerLUnet16_smoke; print(os.environ['nnUNet_extTrainer'])")
    result = run(["python", "-c", code], nnunet_env)
    assert result.stdout.strip().endswith("ext_trainers")


def test_users_own_trainer_folders_are_kept(nnunet_env, tmp_path):
    env = dict(nnunet_env, nnUNet_extTrainer=str(tmp_path))
    code = "import os; print(os.environ['nnUNet_extTrainer'])"
    folders = run(["python", "-c", code], env).stdout.strip().split(os.pathsep)
    assert folders[0] == str(tmp_path) and folders[1].endswith("ext_trainers") and len(folders) == 2
