"""The demo from nnU-Net's residual encoder preset M (``-p nnUNetResEncUNetMPlans``): what differs from the default
plans' demo (``test_demo.py``) is its plans step and that STAMP prunes a full-width ResidualEncoderUNet.

The demo's training and benchmark are the same code for every plans (``test_demo.py`` runs them end to end); here the
demo's plans step runs on the preset (in 2d: a full-width 3D residual encoder takes minutes per smoke epoch on 2 CPU
cores) and the demo's STAMP model is trained on those plans with the demo's budget, as the demo trains it.
"""

import json
import os

from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

from cli_runner import run
from nnunet_lunet.demo import DEMO_BATCH_SIZE, MATCHED_SUFFIX, Budget, DemoSettings, ensure_demo_plans

RESENC_CLASS = "dynamic_network_architectures.architectures.unet.ResidualEncoderUNet"


def test_demo_plans_and_stamp_from_the_residual_encoder_preset(planned_dataset, resenc_plans, tmp_path):
    settings = DemoSettings(workdir=str(tmp_path), dataset=planned_dataset.name, configuration="2d",
                            plans=resenc_plans.plans_name, budget=Budget(2, 5, 2), overwrite=True)
    ensure_demo_plans(planned_dataset.name, settings, planned_dataset.env)
    plans = PlansManager(os.path.join(planned_dataset.preprocessed, settings.demo_plans + ".json"))
    source = resenc_plans.get_configuration("2d").network_arch_init_kwargs["features_per_stage"]
    for name in ("2d", "2d" + MATCHED_SUFFIX):
        cm = plans.get_configuration(name)
        assert cm.network_arch_class_name == RESENC_CLASS and cm.batch_size == DEMO_BATCH_SIZE
    assert plans.get_configuration("2d").network_arch_init_kwargs["features_per_stage"] == source
    scaled = plans.get_configuration("2d" + MATCHED_SUFFIX).network_arch_init_kwargs["features_per_stage"]
    assert len(scaled) == len(source) and all(w < s for w, s in zip(scaled, source))  # the equal-size network

    run(["nnUNetv2_train", planned_dataset.dataset_id, "2d", 0, "-tr", "nnUNetTrainerSTAMP_smoke", "-p",
         settings.demo_plans, "-device", "cpu"], dict(planned_dataset.env, **settings.budget.env()))
    fold = os.path.join(planned_dataset.results, f"nnUNetTrainerSTAMP_smoke__{settings.demo_plans}__2d", "fold_0")
    with open(os.path.join(fold, "pruning_log.json")) as f:
        log = json.load(f)
    step = log["steps"][-1]
    assert step["parameters"] < log["original_parameters"]
    # STAMP takes channels from the widest stages first: the deepest stage shrinks more than the stem's
    enc, original = step["encoder_stage_widths"], log["encoder_stage_widths"]
    assert original == source and enc[-1] / original[-1] < enc[0] / original[0]
    assert os.path.isfile(os.path.join(fold, "validation", "summary.json"))
