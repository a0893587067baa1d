"""``nnunet-lunet plan`` and ``summary`` on a dataset planned by the real nnU-Net, and their refusals."""

import hashlib
import json
import os

import pytest
from nnunetv2.utilities.get_network_from_plans import get_network_from_plans
from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

from cli_runner import run


def _digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_written_plans_load_and_build_with_nnunet(planned_dataset, lunet_plans):
    path = os.path.join(planned_dataset.preprocessed, lunet_plans + ".json")
    with open(path) as f:
        plans = json.load(f)
    manager = PlansManager(plans)
    assert manager.plans_name == lunet_plans
    source = PlansManager(os.path.join(planned_dataset.preprocessed, "nnUNetPlans.json"))
    for source_name in ("2d", "3d_fullres"):
        src = source.get_configuration(source_name)
        for suffix, expected in (("lunet32", lambda n: [32] * n), ("lunet16", lambda n: [16] * n),
                                 ("lunet8", lambda n: [8] * n),
                                 ("scaled75", lambda n: [round(0.75 * w) for w in src.network_arch_init_kwargs["features_per_stage"]]),
                                 ("scaled25", lambda n: [max(1, round(0.25 * w)) for w in src.network_arch_init_kwargs["features_per_stage"]])):
            cm = manager.get_configuration(f"{source_name}_{suffix}")
            n_stages = cm.network_arch_init_kwargs["n_stages"]
            assert cm.network_arch_init_kwargs["features_per_stage"] == expected(n_stages)
            # Everything but the widths is inherited: same data (no second preprocessing), patch and batch size.
            assert cm.data_identifier == src.data_identifier
            assert cm.patch_size == src.patch_size and cm.batch_size == src.batch_size
            net = get_network_from_plans(cm.network_arch_class_name, cm.network_arch_init_kwargs,
                                         cm.network_arch_init_kwargs_req_import, 1, 3, deep_supervision=True)
            assert net.encoder.output_channels == expected(n_stages)


def test_plan_refuses_to_overwrite_and_keeps_the_file(planned_dataset, lunet_plans):
    path = os.path.join(planned_dataset.preprocessed, lunet_plans + ".json")
    before = _digest(path)
    result = run(["nnunet-lunet", "plan", "-d", planned_dataset.dataset_id, "--widths", 4, "-o", lunet_plans],
                 planned_dataset.env, check=False)
    assert result.returncode != 0
    assert "--overwrite" in result.stderr and result.stderr.count("\n") == 1
    assert _digest(path) == before


def test_plan_overwrite_with_custom_name(planned_dataset):
    args = ["nnunet-lunet", "plan", "-d", planned_dataset.name, "-c", "3d_fullres", "--scales", "-o",
            "nnUNetPlans_w4"]
    run(args + ["--widths", 4], planned_dataset.env)
    run(args + ["--widths", 6, "--overwrite"], planned_dataset.env)  # other widths: a no-op would keep lunet4
    with open(os.path.join(planned_dataset.preprocessed, "nnUNetPlans_w4.json")) as f:
        plans = json.load(f)
    assert set(plans["configurations"]) == {"2d", "3d_fullres", "3d_fullres_lunet6"}
    assert plans["written_by"]["package"] == "nnunet-lunet" and plans["written_by"]["command"] == "plan"


def test_plan_overwrite_refuses_plans_it_did_not_write(planned_dataset):
    """--overwrite replaces only a plans file nnunet-lunet wrote: here a copy of nnU-Net's own plans."""
    import shutil

    path = os.path.join(planned_dataset.preprocessed, "nnUNetPlans_copy.json")
    shutil.copy(os.path.join(planned_dataset.preprocessed, "nnUNetPlans.json"), path)
    before = _digest(path)
    result = run(["nnunet-lunet", "plan", "-d", planned_dataset.dataset_id, "--widths", 4, "-o", "nnUNetPlans_copy",
                  "--overwrite"], planned_dataset.env, check=False)
    assert result.returncode == 2 and result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "was not written by nnunet-lunet" in result.stderr
    assert _digest(path) == before


@pytest.mark.parametrize("args, message", [
    (["-d", 123], "unknown dataset 123"),
    (["-d", "Dataset990_Nope"], "unknown dataset Dataset990_Nope"),
    (["-d", 990, "-p", "nnUNetPlansMissing", "-o", "x"], "run nnUNetv2_plan_and_preprocess"),
    (["-d", 990, "-c", "3d_lowres", "-o", "x"], "unknown configuration '3d_lowres'"),
    (["-d", 990, "--widths", 0, "-o", "x"], "invalid width 0"),
    (["-d", 990, "--scales", 1.5, "-o", "x"], "invalid scale 1.5"),
    (["-d", 990, "--scales", 0, "-o", "x"], "invalid scale 0"),
    (["-d", 990, "-o", "nnUNetPlans"], "equals the source plans"),
    (["-d", 990, "--match-parameters", 0, "-o", "x"], "invalid width 0"),
    (["-d", 990, "--batch-size", 0, "-o", "x"], "--batch-size must be at least 1"),
])
def test_plan_bad_input_is_one_clear_line_and_writes_nothing(planned_dataset, args, message):
    # Other workers of the session write their own plans into the same folder meanwhile: check this command's output
    # (the -o plans file) only, and that the source plans file is untouched.
    name = str(args[args.index("-o") + 1]) if "-o" in args else "nnUNetPlans_lunet"  # the plan command's default
    output = os.path.join(planned_dataset.preprocessed, name + ".json")
    source = os.path.join(planned_dataset.preprocessed, "nnUNetPlans.json")
    existed, source_before = os.path.exists(output), open(source).read()
    result = run(["nnunet-lunet", "plan"] + args, planned_dataset.env, check=False)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert os.path.exists(output) == existed and open(source).read() == source_before


def test_plan_matched_size_and_batch_size(planned_dataset):
    """``--match-parameters 16``: the default shape scaled to LUnet16's size; ``--batch-size 2`` for all."""
    run(["nnunet-lunet", "plan", "-d", 990, "-c", "3d_fullres", "--widths", 16, "--scales", "--match-parameters", 16,
         "--batch-size", 1, "-o", "nnUNetPlans_matched"], planned_dataset.env)
    manager = PlansManager(os.path.join(planned_dataset.preprocessed, "nnUNetPlans_matched.json"))
    default = PlansManager(os.path.join(planned_dataset.preprocessed, "nnUNetPlans.json")).get_configuration(
        "3d_fullres")
    assert default.batch_size != 1  # else the test below proves nothing

    def parameters(configuration):
        cm = manager.get_configuration(configuration)
        assert cm.batch_size == 1 and cm.patch_size == default.patch_size
        net = get_network_from_plans(cm.network_arch_class_name, cm.network_arch_init_kwargs,
                                     cm.network_arch_init_kwargs_req_import, 1, 3, deep_supervision=True)
        return sum(p.numel() for p in net.parameters()), cm.network_arch_init_kwargs["features_per_stage"]

    lunet, _ = parameters("3d_fullres_lunet16")
    matched, widths = parameters("3d_fullres_scaled_as_lunet16")
    full, full_widths = parameters("3d_fullres")
    assert abs(matched - lunet) / lunet < 0.1, (matched, lunet)
    # The default's shape: a width that doubles per stage (up to rounding), not a flat one.
    assert widths == sorted(widths) and widths[-1] > 3 * widths[1]
    assert full_widths == default.network_arch_init_kwargs["features_per_stage"]
    assert full > 10 * matched


def test_plan_refuses_a_dataset_that_is_not_preprocessed(planned_dataset, tmp_path):
    env = dict(planned_dataset.env, nnUNet_preprocessed=str(tmp_path))
    os.makedirs(tmp_path / planned_dataset.name)
    with open(os.path.join(planned_dataset.preprocessed, "nnUNetPlans.json")) as f:
        plans = json.load(f)
    with open(tmp_path / planned_dataset.name / "nnUNetPlans.json", "w") as f:
        json.dump(plans, f)  # planned (nnUNetv2_plan_experiment) but never preprocessed
    result = run(["nnunet-lunet", "plan", "-d", 990], env, check=False)
    assert result.returncode == 2 and "nnUNetv2_preprocess -d 990" in result.stderr
    assert os.listdir(tmp_path / planned_dataset.name) == ["nnUNetPlans.json"]


def test_plan_refuses_an_unsupported_network(planned_dataset, tmp_path):
    env = dict(planned_dataset.env, nnUNet_preprocessed=str(tmp_path))
    os.makedirs(tmp_path / planned_dataset.name)
    with open(os.path.join(planned_dataset.preprocessed, "nnUNetPlans.json")) as f:
        plans = json.load(f)
    plans["configurations"]["3d_fullres"]["architecture"]["network_class_name"] = \
        "dynamic_network_architectures.architectures.unet.ResidualUNet"
    with open(tmp_path / planned_dataset.name / "nnUNetPlans.json", "w") as f:
        json.dump(plans, f)
    for data in ("nnUNetPlans_3d_fullres", "nnUNetPlans_2d"):
        os.makedirs(tmp_path / planned_dataset.name / data)
    result = run(["nnunet-lunet", "plan", "-d", 990, "-c", "3d_fullres"], env, check=False)
    assert result.returncode == 2 and "supports only" in result.stderr and "ResidualUNet" in result.stderr
    assert "PlainConvUNet" in result.stderr and "ResidualEncoderUNet" in result.stderr
    assert not os.path.exists(tmp_path / planned_dataset.name / "nnUNetPlans_lunet.json")


def test_summary_table(planned_dataset):
    out = run(["nnunet-lunet", "summary", "-d", 990, "-c", "3d_fullres"], planned_dataset.env).stdout
    rows = [line for line in out.splitlines() if line.startswith("| 3d_fullres")]
    assert [r.split("|")[2].strip() for r in rows] == ["default", "lunet32", "lunet16", "lunet8", "scaled75",
                                                        "scaled50", "scaled25"]
    lunet16 = next(r for r in rows if "lunet16" in r)
    assert "16-16-16-16" in lunet16
    ratio = float(lunet16.split("|")[6].strip().rstrip("x"))
    assert ratio > 30  # the paper's claim: >30x fewer parameters than the default
