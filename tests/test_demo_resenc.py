"""The demo from nnU-Net's residual encoder preset M (``-p nnUNetResEncUNetMPlans``): what differs from the default
plans' demo (``test_demo.py``) is its plans step and the residual networks it trains and benchmarks.

The demo's steps are the same code for every plans (``test_demo.py`` runs them end to end); here, in 2d (a full-width
3D residual encoder takes minutes per smoke epoch on 2 CPU cores), the demo's plans step runs on the preset, the
demo's STAMP model is trained with the demo's own command and budget, and the benchmark measures the pruned
ResidualEncoderUNet (rebuilt at its pruned widths, exported to ONNX, timed, its memory probed).
"""

import csv
import json
import os

from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

from cli_runner import run
from nnunet_lunet.architecture import RESIDUAL_ENCODER_UNET
from nnunet_lunet.demo import (DEMO_BATCH_SIZE, DEMO_MODELS, MATCHED_SUFFIX, Budget, DemoSettings, ensure_demo_plans,
                               train_command)

STAMP = next(m for m in DEMO_MODELS if m.trainer.startswith("nnUNetTrainerSTAMP"))


def test_demo_plans_and_stamp_from_the_residual_encoder_preset(planned_dataset, resenc_plans, tmp_path):
    settings = DemoSettings(workdir=str(tmp_path), dataset=planned_dataset.name, configuration="2d",
                            plans=resenc_plans.plans_name, budget=Budget(2, 5, 2), overwrite=True)
    ensure_demo_plans(planned_dataset.name, settings, planned_dataset.env)
    plans = PlansManager(os.path.join(planned_dataset.preprocessed, settings.demo_plans + ".json"))
    source = resenc_plans.get_configuration("2d").network_arch_init_kwargs["features_per_stage"]
    for name in ("2d", "2d" + MATCHED_SUFFIX):
        cm = plans.get_configuration(name)
        assert cm.network_arch_class_name == RESIDUAL_ENCODER_UNET and cm.batch_size == DEMO_BATCH_SIZE
    assert plans.get_configuration("2d").network_arch_init_kwargs["features_per_stage"] == source
    scaled = plans.get_configuration("2d" + MATCHED_SUFFIX).network_arch_init_kwargs["features_per_stage"]
    assert len(scaled) == len(source) and all(w < s for w, s in zip(scaled, source))  # the equal-size network

    run(train_command(planned_dataset.name, settings, STAMP), dict(planned_dataset.env, **settings.budget.env()))
    name = f"{STAMP.trainer}__{settings.demo_plans}__2d"
    fold = os.path.join(planned_dataset.results, name, "fold_0")
    with open(os.path.join(fold, "pruning_log.json")) as f:
        log = json.load(f)
    step = log["steps"][-1]
    assert step["parameters"] < log["original_parameters"]
    # STAMP takes channels from the widest stages first: the deepest stage shrinks more than the stem's
    enc, original = step["encoder_stage_widths"], log["encoder_stage_widths"]
    assert original == source and enc[-1] / original[-1] < enc[0] / original[0]

    out = tmp_path / "benchmark"
    run(["nnunet-lunet", "benchmark", "-d", planned_dataset.dataset_id, "-c", "2d", "-m", name, "--repeats", 1,
         "--warmup", 0, "--disable-tta", "--device", "cpu", "-o", out], planned_dataset.env)
    with open(out / "benchmark.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["model"] for r in rows] == [name] and rows[0]["status"] == "ok", rows
    assert int(rows[0]["parameters"]) == step["parameters"] and float(rows[0]["latency_patch_ort_median_ms"]) > 0
