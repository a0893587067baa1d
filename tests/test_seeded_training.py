"""``NNUNET_LUNET_SEED``: the same seeded smoke training, run twice with nnU-Net's console script on one machine, ends
with the same weights and the same validation Dice (with an augmentation worker: ``nnUNet_n_proc_DA=1``)."""

import json
import os

import torch

from cli_runner import run

TRAINER = "nnUNetTrainerLUnet8_smoke"


def _seeded_run(planned_dataset, results, seed: str):
    env = dict(planned_dataset.env, nnUNet_results=str(results), NNUNET_LUNET_SEED=seed, nnUNet_n_proc_DA="1")
    run(["nnUNetv2_train", planned_dataset.dataset_id, "3d_fullres", 0, "-tr", TRAINER, "-device", "cpu"], env)
    fold = os.path.join(results, planned_dataset.name, f"{TRAINER}__nnUNetPlans__3d_fullres", "fold_0")
    with open(os.path.join(fold, "validation", "summary.json")) as f:
        dice = json.load(f)["foreground_mean"]["Dice"]
    weights = torch.load(os.path.join(fold, "checkpoint_final.pth"), map_location="cpu",
                         weights_only=False)["network_weights"]
    return dice, weights


def test_seeded_smoke_training_repeats(planned_dataset, tmp_path):
    dice_a, weights_a = _seeded_run(planned_dataset, tmp_path / "a", "7")
    dice_b, weights_b = _seeded_run(planned_dataset, tmp_path / "b", "7")
    print(f"seeded validation Dice: {dice_a!r} and {dice_b!r}")
    assert dice_a == dice_b
    assert weights_a.keys() == weights_b.keys()
    differing = [k for k in weights_a if not torch.equal(weights_a[k], weights_b[k])]
    assert not differing, differing[:5]
