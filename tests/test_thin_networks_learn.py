"""Thin networks learn under nnU-Net: LUnet16 on real MRI (the packaged MSD Hippocampus subset) leaves "all
background" within 125 steps.

Why the LUnet trainers use the lean recipe (benchmarks/hippocampus/recipes). Under nnU-Net's own recipe (SGD, momentum 0.99) LUnet16 stayed at validation Dice 0.000
for 300 steps on full MSD Hippocampus; the LUnet trainers' lean recipe (Adam 1e-3) must get it well above 0.3 with
5 epochs x 25 iterations at batch 2 on the subset's 24 training cases (fold 0: 19 train, 5 validation). The run is
seeded, so on one machine and one set of versions its Dice is one number, not a draw.
"""

import json
import os
import shutil

from cli_runner import run
from nnunet_lunet.demo import SUBSET_FOLDER, SUBSET_ID, SUBSET_NAME

# Seeded (docs/reproducibility.md): unseeded, the Dice of 8 epochs varied from run to run and fell below the
# threshold about one run in ten (0.274). At 8 epochs seed 0 gave 0.720 (torch 2.14, nnunetv2 2.8.1, 2-core CPU)
# and seeds 0-9 all passed, from 0.394 (seed 7) to 0.749, median 0.73 (benchmarks/thin_networks_seeds.csv). The
# budget is now 5 epochs (the suite's time): seed 0 gives 0.637 there, still twice the bar, so other CPUs and
# versions, where the seeded figure moves, keep a wide margin.
# NNUNET_LUNET_TEST_SEED replaces it, to see the spread over seeds (benchmarks/thin_networks_seeds.sh).
SEED = os.environ.get("NNUNET_LUNET_TEST_SEED", "0")


def test_lunet16_leaves_background_on_hippocampus(nnunet_env):
    shutil.copytree(SUBSET_FOLDER, os.path.join(nnunet_env["nnUNet_raw"], SUBSET_NAME))
    run(["nnUNetv2_plan_and_preprocess", "-d", SUBSET_ID, "-c", "3d_fullres", "-np", 1, "-npfp", 1], nnunet_env)
    run(["nnunet-lunet", "plan", "-d", SUBSET_ID, "-c", "3d_fullres", "--widths", "--scales", "--batch-size", 2,
         "-o", "nnUNetPlans_b2"], nnunet_env)
    budget = dict(nnunet_env, NNUNET_LUNET_EPOCHS="5", NNUNET_LUNET_ITERATIONS="25", NNUNET_LUNET_VAL_ITERATIONS="2",
                  NNUNET_LUNET_SEED=SEED)
    run(["nnUNetv2_train", SUBSET_ID, "3d_fullres", 0, "-tr", "nnUNetTrainerLUnet16_smoke", "-p", "nnUNetPlans_b2",
         "-device", "cpu"], budget, timeout=1200)
    fold = os.path.join(nnunet_env["nnUNet_results"], SUBSET_NAME,
                        "nnUNetTrainerLUnet16_smoke__nnUNetPlans_b2__3d_fullres", "fold_0")
    with open(os.path.join(fold, "debug.json")) as f:
        debug = json.load(f)
    assert debug["batch_size"] == "2" and debug["optimizer"].startswith("Adam")
    with open(os.path.join(fold, "validation", "summary.json")) as f:
        dice = json.load(f)["foreground_mean"]["Dice"]
    print(f"seed {SEED}: LUnet16 validation Dice {dice:.4f}")
    assert dice > 0.3, f"LUnet16 validation Dice {dice:.3f}: the thin network did not leave background"
