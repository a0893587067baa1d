"""nnU-Net's residual encoder presets (``nnUNetPlannerResEncM``): LUnet widths, plans, training and prediction.

The preset is planned on the session's dataset with nnU-Net's own ``nnUNetv2_plan_experiment`` (it reuses the
standard preprocessed data). A LUnet of a residual encoder keeps the residual blocks, the stem and the decoder and
changes only the widths. (Pruning a residual encoder end to end: ``test_e2e_pruning``.)
"""

import json
import os

import torch
from nnunetv2.utilities.get_network_from_plans import get_network_from_plans
from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

from cli_runner import run
from nnunet_summaries import assert_nothing_trained, check_summary, summary_cases, validation_cases

RESENC = "nnUNetResEncUNetMPlans"
RESENC_CLASS = "dynamic_network_architectures.architectures.unet.ResidualEncoderUNet"


def test_plan_writes_flat_and_equal_size_residual_encoders(planned_dataset, resenc_plans):
    run(["nnunet-lunet", "plan", "-d", planned_dataset.dataset_id, "-p", RESENC, "-c", "3d_fullres", "--widths", 16,
         "--scales", "--match-parameters", 16], planned_dataset.env)
    written = PlansManager(os.path.join(planned_dataset.preprocessed, RESENC + "_lunet.json"))
    source = resenc_plans.get_configuration("3d_fullres")
    sizes = {}
    for name in ("3d_fullres", "3d_fullres_lunet16", "3d_fullres_scaled_as_lunet16"):
        cm = written.get_configuration(name)
        assert cm.network_arch_class_name == RESENC_CLASS and cm.data_identifier == source.data_identifier
        kwargs = cm.network_arch_init_kwargs
        assert kwargs["n_blocks_per_stage"] == source.network_arch_init_kwargs["n_blocks_per_stage"]
        net = get_network_from_plans(cm.network_arch_class_name, kwargs, cm.network_arch_init_kwargs_req_import, 1,
                                     3, deep_supervision=True)
        sizes[name] = sum(p.numel() for p in net.parameters())
    widths = written.get_configuration("3d_fullres_lunet16").network_arch_init_kwargs["features_per_stage"]
    assert widths == [16] * len(widths)
    assert abs(sizes["3d_fullres_scaled_as_lunet16"] - sizes["3d_fullres_lunet16"]) < 0.1 * sizes["3d_fullres_lunet16"]
    assert sizes["3d_fullres"] > 30 * sizes["3d_fullres_lunet16"]

    out = run(["nnunet-lunet", "summary", "-d", planned_dataset.dataset_id, "-p", RESENC, "-c", "3d_fullres",
               "--widths", 16, "--scales"], planned_dataset.env).stdout
    assert any(line.startswith("| 3d_fullres") and "16-16-16" in line for line in out.splitlines())


def test_lunet16_trains_and_predicts_with_a_residual_encoder(planned_dataset, resenc_plans, train, tmp_path):
    fold = train("3d_fullres", "nnUNetTrainerLUnet16_smoke", RESENC)
    weights = torch.load(os.path.join(fold, "checkpoint_final.pth"), map_location="cpu",
                         weights_only=False)["network_weights"]
    stem = [v for k, v in weights.items() if k.startswith("encoder.stem") and k.endswith("conv.weight")]
    blocks = [v for k, v in weights.items() if k.startswith("encoder.stages") and ".blocks." in k
              and k.endswith("conv.weight")]
    assert stem and blocks and all(w.shape[0] == 16 for w in stem + blocks)  # residual blocks, 16 wide
    # nnU-Net's final validation ran on the residual LUnet over the fold's cases: its Dice recomputed from the files
    summary = check_summary(os.path.join(fold, "validation", "summary.json"))
    assert summary_cases(summary) == validation_cases(fold, planned_dataset.preprocessed)
    assert 0.0 <= summary["foreground_mean"]["Dice"] <= 1.0  # a number (NaN fails), not just a key
    out = tmp_path / "pred"
    run(["nnUNetv2_predict", "-i", os.path.join(planned_dataset.raw, "imagesTs"), "-o", out, "-d",
         planned_dataset.dataset_id, "-c", "3d_fullres", "-f", 0, "-tr", "nnUNetTrainerLUnet16_smoke", "-p", RESENC,
         "-device", "cpu", "-npp", 1, "-nps", 1], planned_dataset.env)
    assert sorted(f for f in os.listdir(out) if f.endswith(".nii.gz")) == ["case_ts000.nii.gz", "case_ts001.nii.gz"]


def test_pruning_refuses_other_networks(planned_dataset, resenc_plans):
    # The ResEnc plans with nnU-Net's other residual U-Net (residual decoder too): pruning refuses it before training.
    other = "dynamic_network_architectures.architectures.unet.ResidualUNet"
    with open(os.path.join(planned_dataset.preprocessed, RESENC + ".json")) as f:
        plans = json.load(f)
    plans["plans_name"] = "nnUNetResidualUNetPlans"
    plans["configurations"]["3d_fullres"]["architecture"]["network_class_name"] = other
    with open(os.path.join(planned_dataset.preprocessed, "nnUNetResidualUNetPlans.json"), "w") as f:
        json.dump(plans, f)
    result = run(["nnUNetv2_train", planned_dataset.dataset_id, "3d_fullres", 0, "-p", "nnUNetResidualUNetPlans",
                  "-tr", "nnUNetTrainerSTAMP_smoke", "-device", "cpu"], planned_dataset.env, check=False)
    assert result.returncode != 0
    assert (f"nnUNetTrainerSTAMP_smoke: this configuration uses network {other}, but pruning supports only "
            f"dynamic_network_architectures.architectures.unet.PlainConvUNet") in result.stderr
    assert_nothing_trained(os.path.join(planned_dataset.results,
                                        "nnUNetTrainerSTAMP_smoke__nnUNetResidualUNetPlans__3d_fullres", "fold_0"))
