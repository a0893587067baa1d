"""The demo (``compare --preset small``) from nnU-Net's residual encoder preset M (``-p nnUNetResEncUNetMPlans``):
what differs from the default plans' demo (``test_demo.py``) is the comparison's plans, written here from the preset in
2d (a full-width 3D residual encoder takes minutes per smoke epoch on 2 CPU cores): batch 2, residual networks, the
equal-size network smaller at every stage; and a second call adds only what the first lacked, keeping the rest.
"""

import json
import os

from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

from nnunet_lunet.architecture import RESIDUAL_ENCODER_UNET
from nnunet_lunet.compare.plans import compare_plans_name, missing_configurations, write_compare_plans
from nnunet_lunet.compare.presets import preset_rows
from nnunet_lunet.demo import DEMO_BATCH_SIZE, DEMO_PRESET


def test_compare_plans_from_the_residual_encoder_preset(planned_dataset, resenc_plans, monkeypatch):
    for var in ("nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results"):
        monkeypatch.setenv(var, planned_dataset.env[var])
    source = resenc_plans.plans_name
    target = compare_plans_name(source, DEMO_BATCH_SIZE)
    path = os.path.join(planned_dataset.preprocessed, target + ".json")
    if os.path.exists(path):
        os.remove(path)
    rows = [r for r in preset_rows(DEMO_PRESET) if r.kind == "width"]
    source_plans = json.load(open(os.path.join(planned_dataset.preprocessed, source + ".json")))
    first = [r for r in rows if r.key in ("default", "lunet16")]
    missing = missing_configurations(planned_dataset.name, source_plans, target, "2d", first, DEMO_BATCH_SIZE)
    assert missing == ["2d", "2d_lunet16"]
    write_compare_plans(planned_dataset.name, source, target, "2d", first, missing, DEMO_BATCH_SIZE)
    written = os.path.getmtime(path)
    lunet16 = json.load(open(path))["configurations"]["2d_lunet16"]

    missing = missing_configurations(planned_dataset.name, source_plans, target, "2d", rows, DEMO_BATCH_SIZE)
    assert missing == ["2d_lunet8", "2d_scaled_as_lunet16"]
    write_compare_plans(planned_dataset.name, source, target, "2d", rows, missing, DEMO_BATCH_SIZE)
    assert os.path.getmtime(path) >= written and json.load(open(path))["configurations"]["2d_lunet16"] == lunet16
    assert missing_configurations(planned_dataset.name, source_plans, target, "2d", rows, DEMO_BATCH_SIZE) == []

    plans = PlansManager(path)
    widths = resenc_plans.get_configuration("2d").network_arch_init_kwargs["features_per_stage"]
    for name in ("2d", "2d_lunet16", "2d_lunet8", "2d_scaled_as_lunet16"):
        cm = plans.get_configuration(name)
        assert cm.network_arch_class_name == RESIDUAL_ENCODER_UNET and cm.batch_size == DEMO_BATCH_SIZE
    assert plans.get_configuration("2d").network_arch_init_kwargs["features_per_stage"] == widths
    scaled = plans.get_configuration("2d_scaled_as_lunet16").network_arch_init_kwargs["features_per_stage"]
    assert len(scaled) == len(widths) and all(w < s for w, s in zip(scaled, widths))  # the equal-size network
    assert plans.get_configuration("2d_lunet8").network_arch_init_kwargs["features_per_stage"] == [8] * len(widths)
