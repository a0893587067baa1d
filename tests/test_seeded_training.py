"""``NNUNET_LUNET_SEED``: the same seeded smoke training, run twice with nnU-Net's console script on one machine, ends
with the same validation Dice and the same weights up to float noise (with an augmentation worker:
``nnUNet_n_proc_DA=1``).

Float noise, measured: one suite run in several ended with 0.3% of the 83 k weights apart by more than 1e-6, at most
1.1e-4 (the conv biases before InstanceNorm, whose gradient is zero but for rounding and which Adam's normalised step
turns into up to a step of 1e-4; conv weights at most 1.5e-8 apart), the Dice and every logged loss identical: torch's
CPU kernels do not promise the same order of sums from run to run. Two seeds (7 and 8) leave 99.9% of the weights
apart by more than 1e-6, the median by 0.08."""

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
    apart = torch.cat([(weights_a[k].double() - weights_b[k].double()).abs().flatten() for k in weights_a])
    assert apart.max() <= 1e-3 and (apart > 1e-6).double().mean() <= 0.01, (  # float noise, not another run
        f"max {apart.max().item():.3g}, {(apart > 1e-6).double().mean().item():.1%} of the weights apart by > 1e-6")
