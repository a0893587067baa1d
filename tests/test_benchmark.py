"""``nnunet-lunet benchmark`` end to end on the session's trained models, plus its width plot and
``benchmarks/bench_networks.py``.

The benchmark reads a private results folder holding links to the two session models (nnU-Net's default network
and LUnet16, smoke budget) and one model folder with a checkpoint but no ``validation/summary.json``, so that the
shared results folder (which the demo benchmarks too) is never touched.
"""

import csv
import json
import math
import os
import shutil

import pytest
from PIL import Image

from cli_runner import run
from nnunet_lunet.benchmark.ratios import RATIOS, add_ratios
from nnunet_lunet.deploy.graph_runtimes import bf16_supported

DEFAULT = "nnUNetTrainer_smoke__nnUNetPlans__3d_fullres"
LUNET16 = "nnUNetTrainerLUnet16_smoke__nnUNetPlans__3d_fullres"
UNFINISHED = "nnUNetTrainer_smoke__nnUNetPlans__3d_fullres_unfinished"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _link_model(fold_folder: str, model_folder: str, summary: bool = True) -> None:
    """``model_folder`` with the trained model's plans, dataset.json and fold_0 files, as links."""
    source = os.path.dirname(fold_folder)
    os.makedirs(os.path.join(model_folder, "fold_0"))
    for name in ("plans.json", "dataset.json"):
        os.symlink(os.path.join(source, name), os.path.join(model_folder, name))
    for name in ("checkpoint_final.pth", "debug.json"):
        os.symlink(os.path.join(fold_folder, name), os.path.join(model_folder, "fold_0", name))
    if summary:
        os.symlink(os.path.join(fold_folder, "validation"), os.path.join(model_folder, "fold_0", "validation"))


@pytest.fixture(scope="module")
def bench(planned_dataset, train, tmp_path_factory):
    """The benchmark run once: ``(env, output folder, completed process, {model: source fold folder})``."""
    folds = {DEFAULT: train("3d_fullres", "nnUNetTrainer_smoke"),
             LUNET16: train("3d_fullres", "nnUNetTrainerLUnet16_smoke")}
    root = tmp_path_factory.mktemp("benchmark")
    results = root / "results" / planned_dataset.name
    for name, fold in folds.items():
        _link_model(fold, str(results / name))
    _link_model(folds[DEFAULT], str(results / UNFINISHED), summary=False)
    env = dict(planned_dataset.env, nnUNet_results=str(root / "results"))
    env.pop("NNUNET_LUNET_BENCH_RUNTIMES")  # every runtime that can run here (the suite's default: ONNX Runtime only)
    env.pop("NNUNET_LUNET_BENCH_MEMORY")  # and memory (the suite's default: not probed)
    out = root / "out"
    result = run(["nnunet-lunet", "benchmark", "-d", planned_dataset.dataset_id, "-c", "3d_fullres", "-o", out,
                  "--repeats", 1, "--warmup", 1, "--disable-tta", "--device", "cpu",
                  "--test-images", os.path.join(planned_dataset.raw, "imagesTs"),
                  "--test-labels", os.path.join(planned_dataset.raw, "labelsTs")], env)
    return env, str(out), result, folds


def _rows(out):
    with open(os.path.join(out, "benchmark.csv")) as f:
        return {r["model"]: r for r in csv.DictReader(f)}


def _own_parameter_counts(fold_folder):
    """Parameters of the default network and of LUnet16, built from the model's plans by the trainers themselves."""
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

    from nnunet_lunet.model_stats import count_parameters
    from nnunet_lunet.trainers import nnUNetTrainer_smoke, nnUNetTrainerLUnet16_smoke

    model = os.path.dirname(fold_folder)
    with open(os.path.join(model, "plans.json")) as f:
        plans = PlansManager(json.load(f))
    with open(os.path.join(model, "dataset.json")) as f:
        n_out = plans.get_label_manager(json.load(f)).num_segmentation_heads
    cm = plans.get_configuration("3d_fullres")
    return {name: count_parameters(trainer.build_network_architecture(plans, cm, 1, n_out, False))
            for name, trainer in ((DEFAULT, nnUNetTrainer_smoke), (LUNET16, nnUNetTrainerLUnet16_smoke))}


def test_benchmark_writes_report_csv_and_plots(bench):
    env, out, result, folds = bench
    for name in ("benchmark.md", "benchmark.csv", "dice_vs_params.png", "latency_vs_dice.png"):
        assert os.path.isfile(os.path.join(out, name)), name
    for plot in ("dice_vs_params.png", "latency_vs_dice.png"):
        path = os.path.join(out, plot)
        with open(path, "rb") as f:
            assert f.read(8) == PNG_MAGIC
        with Image.open(path) as image:
            image.verify()
        assert f"plot: {path}" in result.stdout
    with open(os.path.join(out, "benchmark.md")) as f:
        report = f.read()
    assert "nnunet-lunet benchmark -d 990 -c 3d_fullres" in report and "torch threads" in report
    for model in (DEFAULT, LUNET16, UNFINISHED):
        assert model in report and model in result.stdout  # the table is printed too


def _assert_plausible_memory(row: dict, parameters: int) -> None:
    """The memory columns (MiB) measure a process that holds the network: after imports <= model ready, and <= the
    inference peak; each delta is its peak minus the process after imports; a training step holds the weights and
    their gradients at least. (Not "more than inference": for a small network the allocator's peaks can come out
    the other way, as a full run showed.)"""
    mib = {k: float(row[f"memory_{k}_mib"]) for k in ("after_imports", "model_ready", "inference_peak",
                                                       "inference_delta", "train_peak", "train_delta")}
    weights = parameters * 4 / 2 ** 20
    assert 0 < mib["after_imports"] <= min(mib["model_ready"], mib["inference_peak"]), mib
    assert math.isclose(mib["inference_delta"], mib["inference_peak"] - mib["after_imports"], abs_tol=0.01), mib
    assert math.isclose(mib["train_delta"], mib["train_peak"] - mib["after_imports"], abs_tol=0.01), mib
    assert mib["train_delta"] >= 2 * weights, (mib, weights)


def _assert_ordered_latencies(row: dict, pattern: str) -> None:
    """min <= median <= max of one latency, all finite and below a minute per patch."""
    low, mid, high = (float(row[pattern.format(k)]) for k in ("min", "median", "max"))
    assert 0 < low <= mid <= high < 60_000, (pattern, low, mid, high)


def test_rows_hold_the_networks_own_parameter_counts_and_the_folds_dice(bench):
    env, out, result, folds = bench
    rows = _rows(out)
    assert set(rows) == {DEFAULT, LUNET16, UNFINISHED}
    own = _own_parameter_counts(folds[DEFAULT])
    for model in (DEFAULT, LUNET16):
        row = rows[model]
        assert row["status"] == "ok" and row["fold"] == "0"
        assert int(row["parameters"]) == own[model]
        with open(os.path.join(folds[model], "validation", "summary.json")) as f:
            summary = json.load(f)
        assert float(row["val_dice_mean"]) == summary["foreground_mean"]["Dice"]
        for label, metrics in summary["mean"].items():
            assert float(row[f"val_dice_{label}"]) == metrics["Dice"]
        for column in ("macs_per_patch", "latency_patch_median_ms", "latency_case_median_s", "epoch_time_median_s"):
            assert float(row[column]) > 0, column
        _assert_plausible_memory(row, own[model])
        _assert_ordered_latencies(row, "latency_patch_{}_ms")
        assert row["case"].startswith("preprocessed case")
        assert os.path.isfile(os.path.join(out, "test_predictions", f"{model}_fold0", "summary.json"))
    assert rows[DEFAULT]["reference"] == "yes" and rows[LUNET16]["reference"] == ""
    assert math.isclose(float(rows[LUNET16]["parameters_ratio"]), own[DEFAULT] / own[LUNET16])
    for ratio, raw in RATIOS.items():  # every x column is reference / model, from the CSV's own raw numbers
        ref_column, column = raw if isinstance(raw, tuple) else (raw, raw)
        expected = float(rows[DEFAULT][ref_column]) / float(rows[LUNET16][column])
        assert math.isclose(float(rows[LUNET16][ratio]), expected, rel_tol=1e-9), ratio


def test_test_set_dice_is_nnunets_own_evaluation_of_the_predictions(bench, planned_dataset, tmp_path):
    """The benchmark evaluates in-process; nnU-Net's ``nnUNetv2_evaluate_simple`` (``compute_metrics_on_folder``)
    on the same predictions must give the same per-class and mean Dice."""
    env, out, result, folds = bench
    rows = _rows(out)
    for model in (DEFAULT, LUNET16):
        predictions = os.path.join(out, "test_predictions", f"{model}_fold0")
        summary_file = tmp_path / f"{model}.json"
        run(["nnUNetv2_evaluate_simple", os.path.join(planned_dataset.raw, "labelsTs"), predictions, "-l", 1, 2,
             "-o", summary_file, "-np", 1], env)
        with open(summary_file) as f:
            summary = json.load(f)
        assert len(summary["metric_per_case"]) == 2
        assert math.isclose(float(rows[model]["test_dice_mean"]), summary["foreground_mean"]["Dice"], abs_tol=1e-12)
        for label, metrics in summary["mean"].items():
            assert math.isclose(float(rows[model][f"test_dice_{label}"]), metrics["Dice"], abs_tol=1e-12)


def test_a_model_without_validation_summary_is_measured_without_dice(bench):
    env, out, result, folds = bench
    row = _rows(out)[UNFINISHED]
    assert row["status"] == "ok" and int(row["parameters"]) == int(_rows(out)[DEFAULT]["parameters"])
    assert float(row["latency_patch_median_ms"]) > 0
    assert row["val_dice_mean"] == "" and "no validation/summary.json" in row["val_dice_note"]
    with open(os.path.join(out, "benchmark.md")) as f:
        assert f"{UNFINISHED} fold 0: no val Dice" in f.read()


def test_rows_trained_unlike_the_reference_are_flagged(bench):
    """nnUNetTrainer_smoke (the reference: SGD 1e-2, momentum 0.99) vs LUnet16's lean recipe (Adam 1e-3)."""
    env, out, result, folds = bench
    rows = _rows(out)
    assert (rows[DEFAULT]["recipe"], rows[DEFAULT]["initial_lr"], rows[DEFAULT]["momentum"]) == ("SGD", "0.01", "0.99")
    assert (rows[LUNET16]["recipe"], rows[LUNET16]["initial_lr"], rows[LUNET16]["momentum"]) == ("Adam", "0.001", "")
    assert rows[DEFAULT]["budget"] == rows[LUNET16]["budget"] == "2x5"
    assert rows[LUNET16]["differs"] == "recipe, initial_lr" and rows[DEFAULT]["differs"] == ""
    assert rows[UNFINISHED]["differs"] == ""  # the same run as the reference
    with open(os.path.join(out, "benchmark.md")) as f:
        report = f.read()
    assert f"not trained like the reference: {LUNET16} fold 0: recipe Adam (reference SGD)" in report


def test_existing_output_folder_is_refused_without_overwrite(bench, planned_dataset):
    env, out, result, folds = bench
    before = {name: os.path.getmtime(os.path.join(out, name)) for name in os.listdir(out)}
    again = run(["nnunet-lunet", "benchmark", "-d", planned_dataset.dataset_id, "-c", "3d_fullres", "-o", out],
                env, check=False)
    assert again.returncode == 2 and again.stderr.startswith("error: ") and "--overwrite" in again.stderr
    assert {name: os.path.getmtime(os.path.join(out, name)) for name in os.listdir(out)} == before


def test_no_models_is_an_error(bench, planned_dataset, tmp_path):
    env, out, result, folds = bench
    missing = run(["nnunet-lunet", "benchmark", "-d", planned_dataset.dataset_id, "-c", "2d", "-o", tmp_path / "b"],
                  env, check=False)
    assert missing.returncode == 2 and "error: no trained model of Dataset990_LUnetSynthetic" in missing.stderr
    assert not os.path.exists(tmp_path / "b")


def test_model_discovery_and_reference_rules(tmp_path):
    from nnunet_lunet.benchmark.discovery import discover_models, pick_reference

    for name in ("nnUNetTrainer__nnUNetPlans__3d_fullres", "nnUNetTrainer_smoke__nnUNetPlans__3d_fullres",
                 "nnUNetTrainerLUnet16__nnUNetPlans__3d_fullres", "nnUNetTrainer__nnUNetPlans_lunet__3d_fullres_lunet8",
                 "nnUNetTrainer__nnUNetPlans__3d_fullres_pruned_x_f0", "nnUNetTrainer__nnUNetPlans__3d_lowres",
                 "nnUNetTrainer__nnUNetPlans__3d_fullresX", "lunet_benchmark_3d_fullres"):
        os.makedirs(tmp_path / name)
    models = discover_models(str(tmp_path), "3d_fullres")
    assert [m.configuration for m in models] == ["3d_fullres", "3d_fullres_pruned_x_f0", "3d_fullres_lunet8",
                                                 "3d_fullres", "3d_fullres"]
    assert pick_reference(models, "3d_fullres").name == "nnUNetTrainer__nnUNetPlans__3d_fullres"
    assert [m.trainer for m in discover_models(str(tmp_path), "3d_fullres", trainers=["nnUNetTrainerLUnet16"])] == [
        "nnUNetTrainerLUnet16"]
    lunet_plans_only = discover_models(str(tmp_path), "3d_fullres", plans=["nnUNetPlans_lunet"])
    assert pick_reference(lunet_plans_only, "3d_fullres") is None
    assert pick_reference(models, "3d_fullres", "nnUNetTrainerLUnet16").trainer == "nnUNetTrainerLUnet16"
    # With the default network trained under the LUnet trainers' recipe, that is the reference (one recipe for all).
    os.makedirs(tmp_path / "nnUNetTrainerLeanRecipe_smoke__nnUNetPlans__3d_fullres")
    assert pick_reference(discover_models(str(tmp_path), "3d_fullres"), "3d_fullres").name == \
        "nnUNetTrainerLeanRecipe_smoke__nnUNetPlans__3d_fullres"


def test_the_reference_is_found_for_budget_trainers_and_comparison_plans(tmp_path):
    """The default network as ``compare`` trains it (``_budget`` trainer, ``nnUNetPlans_compare_b<B>``) is the
    reference when no --reference is given; a width variant or another plans file is not."""
    from nnunet_lunet.benchmark.discovery import discover_models, pick_reference

    for name in ("nnUNetTrainerLUnet16_budget__nnUNetPlans_compare_b2__3d_fullres_lunet16",
                 "nnUNetTrainerLeanRecipe_budget__nnUNetPlans_lunet__3d_fullres",
                 "nnUNetTrainerLeanRecipe_budget__nnUNetPlans_compare_b2__3d_fullres_scaled50"):
        os.makedirs(tmp_path / name)
    assert pick_reference(discover_models(str(tmp_path), "3d_fullres"), "3d_fullres") is None
    for name in ("nnUNetTrainer_budget__nnUNetPlans_compare__3d_fullres",  # each one preferred to those before
                 "nnUNetTrainerLeanRecipe_budget__nnUNetPlans_compare_b2__3d_fullres",
                 "nnUNetTrainerLeanRecipe_budget__nnUNetPlans__3d_fullres"):
        os.makedirs(tmp_path / name)
        assert pick_reference(discover_models(str(tmp_path), "3d_fullres"), "3d_fullres").name == name
    os.makedirs(tmp_path / "nnUNetTrainerLeanRecipe__nnUNetPlans_compare__3d_fullres")  # a full budget beats _budget
    assert pick_reference(discover_models(str(tmp_path), "3d_fullres"), "3d_fullres").name == \
        "nnUNetTrainerLeanRecipe__nnUNetPlans_compare__3d_fullres"


def test_an_exact_model_list_keeps_its_order_and_its_missing_models(tmp_path):
    from nnunet_lunet.benchmark.discovery import check_models, discover_models
    from nnunet_lunet.errors import LUnetError

    for name in ("A__P__3d_fullres", "B__P__3d_fullres_lunet16", "C__P__3d_fullres"):
        os.makedirs(tmp_path / name)
    wanted = [("B", "P", "3d_fullres_lunet16"), ("Missing", "P", "3d_fullres"), ("A", "P", "3d_fullres")]
    check_models(wanted, "3d_fullres", None, None)
    found = discover_models(str(tmp_path), "3d_fullres", models=wanted)
    assert [m.name for m in found] == ["B__P__3d_fullres_lunet16", "Missing__P__3d_fullres", "A__P__3d_fullres"]
    assert [os.path.isdir(m.folder) for m in found] == [True, False, True]  # the missing one: a failed row later
    for models, trainers, message in (
            (wanted[:1] * 2, None, "names B__P__3d_fullres_lunet16 more than once"),
            ([("A", "P", "2d")], None, "A__P__2d: not configuration 3d_fullres or a variant of it"),
            (wanted, ["A"], "leave out -tr and -p")):
        with pytest.raises(LUnetError, match=message):
            check_models(models, "3d_fullres", trainers, None)


def test_widths_plot_of_a_pruning_log(tmp_path):
    from nnunet_lunet.benchmark.plots import plot_widths, width_trajectories

    log = {"criterion": "stamp", "original_widths": {"encoder": [[32, 32], [64, 64], [128, 128]],
                                                     "decoder": [[64, 64], [32, 32]]},
           "steps": [{"step": 1, "epoch": 2, "encoder_stage_widths": [30, 50, 90], "decoder_stage_widths": [60, 31],
                      "parameters": 1000, "channels": 500, "pseudo_dice": None, "extra": "ignored"},
                     {"step": 2, "epoch": 4, "encoder_stage_widths": [29, 40, 60], "decoder_stage_widths": [50, 30],
                      "parameters": 800, "channels": 400, "pseudo_dice": 0.5}]}
    steps, lines = width_trajectories(log)
    assert steps == [0, 1, 2]
    assert lines["encoder stage 2"] == [128, 90, 60] and lines["decoder stage 0"] == [64, 60, 50]
    path = tmp_path / "widths.png"
    plot_widths(log, str(path), "run")
    with Image.open(path) as image:
        assert image.format == "PNG"


def _macs_ratio_of_lunet8(planned_dataset) -> float:
    from nnunet_lunet.datasets import resolved_configuration
    from nnunet_lunet.plans.variants import derive_configuration, flat_variant
    from nnunet_lunet.plans_networks import build_from_plans

    with open(os.path.join(planned_dataset.preprocessed, "nnUNetPlans.json")) as f:
        plans = json.load(f)
    with open(os.path.join(planned_dataset.preprocessed, "dataset.json")) as f:
        dataset_json = json.load(f)
    patch = resolved_configuration(plans, "3d_fullres")["patch_size"]
    lunet8 = derive_configuration(plans, "3d_fullres", flat_variant(8))[1]["architecture"]
    default, thin = (_conv_macs(build_from_plans(plans, "3d_fullres", dataset_json, deep_supervision=True,
                                                 architecture=architecture), 1, patch)
                     for architecture in (None, lunet8))
    return default / thin


def _conv_macs(net, in_channels: int, patch) -> int:
    """MACs of one patch counted by hand, apart from the package's ``count_macs`` (torch's flop counter): a
    convolution costs (output voxels) x (kernel volume) x (input channels per group) x (output channels); a
    transposed one (input voxels) x (kernel volume) x (input channels) x (output channels per group)."""
    import numpy as np
    import torch

    total = []

    def hook(module, inputs, output):
        kernel = int(np.prod(module.kernel_size))
        if isinstance(module, torch.nn.modules.conv._ConvTransposeNd):
            total.append(inputs[0][0].numel() * kernel * module.out_channels // module.groups)
        else:
            total.append(output[0].numel() * kernel * module.in_channels // module.groups)

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, torch.nn.modules.conv._ConvNd)]
    with torch.no_grad():
        net.eval()(torch.zeros(1, in_channels, *patch))
    for h in handles:
        h.remove()
    return sum(total)


def test_bench_networks_script_times_default_and_variants(planned_dataset):
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks",
                          "bench_networks.py")
    result = run(["python", script, "--plans-file", os.path.join(planned_dataset.preprocessed, "nnUNetPlans.json"),
                  "-c", "3d_fullres", "--widths", 8, "--scales", "--repeats", 1, "--warmup", 0],
                 planned_dataset.env)
    lines = [line for line in result.stdout.splitlines() if line.startswith("| ")]  # not the |---| separator
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = {cells[0]: dict(zip(header, cells)) for cells in
            ([c.strip() for c in line.strip("|").split("|")] for line in lines[1:])}
    assert list(rows) == ["default", "lunet8"]
    assert rows["lunet8"]["widths per stage"] == "8-8-8-8"
    # the MACs ratio is default / variant, of the networks nnU-Net builds from the plans (counted here on our own)
    assert rows["lunet8"]["MACs ratio"] == f"{_macs_ratio_of_lunet8(planned_dataset):.2f}x"


def test_ratios_compare_with_the_reference_of_the_same_fold():
    rows = [{"model": "ref", "fold": "0", "status": "ok", "parameters": 100, "macs_per_patch": 50},
            {"model": "ref", "fold": "1", "status": "ok", "parameters": 80, "macs_per_patch": 40},
            {"model": "ref", "fold": "2", "status": "failed: x", "parameters": 1},
            {"model": "thin", "fold": "0", "status": "ok", "parameters": 25, "macs_per_patch": 0},
            {"model": "thin", "fold": "1", "status": "ok", "parameters": 40, "macs_per_patch": None},
            {"model": "thin", "fold": "2", "status": "ok", "parameters": 10, "macs_per_patch": 5}]
    add_ratios(rows, "ref")
    thin = {r["fold"]: r for r in rows if r["model"] == "thin"}
    assert thin["0"]["parameters_ratio"] == 4.0 and thin["0"]["macs_ratio"] is None  # zero: no ratio
    assert thin["1"]["parameters_ratio"] == 2.0 and thin["1"]["macs_ratio"] is None  # missing: no ratio
    # fold 2's reference failed: the first successful reference row (fold 0) stands in
    assert thin["2"]["parameters_ratio"] == 10.0 and thin["2"]["macs_ratio"] == 10.0
    assert thin["0"]["latency_patch_ratio"] is None
    add_ratios(rows, None)
    assert all(r[ratio] is None for r in rows for ratio in RATIOS)


@pytest.fixture
def bad_input_env(planned_dataset, tmp_path):
    """A results folder with one (empty) model folder: enough for every input check to be reached."""
    results = tmp_path / "results"
    os.makedirs(results / planned_dataset.name / "nnUNetTrainer_smoke__nnUNetPlans__3d_fullres" / "fold_0")
    return dict(planned_dataset.env, nnUNet_results=str(results))


def _mismatched_labels(planned_dataset, tmp_path):
    labels = tmp_path / "labels"
    shutil.copytree(os.path.join(planned_dataset.raw, "labelsTs"), labels)
    os.rename(labels / "case_ts001.nii.gz", labels / "case_ts009.nii.gz")
    return str(labels)


@pytest.mark.parametrize("case", ["repeats", "reference", "device", "images_alone", "mismatched_cases",
                                  "model_name", "models_and_filters"])
def test_bad_benchmark_input_is_one_error_line_and_writes_nothing(case, planned_dataset, bad_input_env, tmp_path):
    images = os.path.join(planned_dataset.raw, "imagesTs")
    extra, expected = {
        "repeats": (["--repeats", 0], "--repeats 0"),
        "reference": (["--reference", "nnUNetTrainerNope"], "--reference nnUNetTrainerNope is none of"),
        "device": (["--device", "gpu"], "invalid device 'gpu'"),
        "images_alone": (["--test-images", images], "--test-images and --test-labels go together"),
        "mismatched_cases": (["--test-images", images, "--test-labels", _mismatched_labels(planned_dataset, tmp_path)]
                             if case == "mismatched_cases" else [], "images without labels: case_ts001"),
        "model_name": (["--models", "LUnet16"], "--models LUnet16: give results folder names TRAINER__PLANS__"),
        "models_and_filters": (["--models", "nnUNetTrainer_smoke__nnUNetPlans__3d_fullres", "-tr", "nnUNetTrainer"],
                               "--models names the models exactly: leave out -tr and -p"),
    }[case]
    out = tmp_path / "out"
    result = run(["nnunet-lunet", "benchmark", "-d", planned_dataset.dataset_id, "-c", "3d_fullres", "-o", out,
                  *extra], bad_input_env, check=False)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and expected in errors[0] and "Traceback" not in result.stderr, result.stderr
    assert not os.path.exists(out)


def test_pruning_overhead_is_the_steps_time_over_the_epochs_time(tmp_path):
    from nnunet_lunet.benchmark.records import epoch_times, pruning_overhead
    from nnunet_lunet.pruning.pruning_log import new_log, step_record, write_log

    widths = {"encoder": [[4, 4], [8, 8]], "decoder": [[4, 4]], "transpconv": [4]}
    log = new_log("stamp", {}, widths, 1000)
    log["steps"] = [step_record(1, 1, {"encoder.stages.1.0.convs.0.conv": [0, 3]}, widths, 900, 1.5),
                    step_record(2, 2, {"encoder.stages.1.0.convs.1.conv": [1]}, widths, 800, 0.5)]
    write_log(str(tmp_path), log)
    times = epoch_times({"epoch_start_timestamps": [0.0, 10.0, 30.0], "epoch_end_timestamps": [10.0, 30.0, 40.0]})
    assert (times.epochs, times.median_s, times.total_s) == (3, 10.0, 40.0)
    overhead = pruning_overhead(str(tmp_path), times)
    assert overhead.seconds == 2.0 and overhead.share == 2.0 / 40.0
    assert log["steps"][0]["removed"] == 2 and log["steps"][0]["removed_channels"] == {
        "encoder.stages.1.0.convs.0.conv": [0, 3]}
    assert pruning_overhead(str(tmp_path / "elsewhere"), times) is None  # not a pruning run: no column


def test_rows_time_onnx_runtime_beside_pytorch(bench):
    env, out, result, folds = bench
    rows = _rows(out)
    for model in (DEFAULT, LUNET16):
        row = rows[model]
        for column in ("latency_patch_ort_median_ms", "latency_patch_ort_min_ms", "latency_case_ort_median_s",
                       "latency_patch_ov_median_ms", "latency_case_ov_median_s"):  # OpenVINO: in the test extra
            assert float(row[column]) > 0, column
        # OpenVINO at bfloat16: timed exactly where the CPU computes bf16 natively
        for column in ("latency_patch_ov16_median_ms", "latency_case_ov16_median_s",
                       "latency_patch_ov16_vs_torch_ratio"):
            assert (float(row[column]) > 0) if bf16_supported() else row[column] == "", (column, row[column])
        assert int(row["ort_threads"]) == int(row["torch_threads"])  # both runtimes get the same cores
    ref, lunet = rows[DEFAULT], rows[LUNET16]
    for kind, unit in (("patch", "ms"), ("case", "s")):
        torch_ref = float(ref[f"latency_{kind}_median_{unit}"])
        ort_ref = float(ref[f"latency_{kind}_ort_median_{unit}"])
        ort = float(lunet[f"latency_{kind}_ort_median_{unit}"])
        assert math.isclose(float(lunet[f"latency_{kind}_ort_vs_torch_ratio"]), torch_ref / ort)
        assert math.isclose(float(lunet[f"latency_{kind}_ort_vs_ort_ratio"]), ort_ref / ort)
        assert math.isclose(float(ref[f"latency_{kind}_ort_vs_ort_ratio"]), 1.0)
    with open(os.path.join(out, "benchmark.md")) as f:
        report = f.read()
    assert "ORT patch ms" in report and "ORT case x torch" in report and "intra-op threads" in report
    assert "OV patch ms" in report and "OV case x torch" in report
    assert ("OV bf16 patch x torch" in report) == bf16_supported()
    # the reference against itself: same runs, so every same-runtime ratio is within noise (printed ~1.00x); its
    # other runtimes against its PyTorch timings may or may not be
    noisy = set(ref["ratios_within_noise"].split())
    same_runtime = {"latency_patch_ratio", "latency_case_ratio", "latency_patch_ort_vs_ort_ratio",
                    "latency_case_ort_vs_ort_ratio"}
    assert same_runtime <= noisy and all(r.endswith("_vs_torch_ratio") for r in noisy - same_runtime), noisy
    assert "~1.00x" in report
    for row in (ref, lunet):  # --disable-tta: one pass per tile; at least one tile
        assert int(row["case_forward_passes"]) >= 1


def test_rows_are_timed_interleaved_in_shuffled_rounds_and_a_failing_call_is_dropped():
    import torch

    from nnunet_lunet.benchmark.latency import round_order, time_interleaved

    order = []

    def call(name):
        def fn():
            order.append(name)
            if name == "bad" and order.count("bad") == 2:
                raise RuntimeError("broken graph")
        return fn

    keys = ("a", "bad", "c")
    timings, errors = time_interleaved({k: call(k) for k in keys}, torch.device("cpu"), repeats=3, warmup=1)
    # warm-up of each in turn (bad passes once), then every round in its own order, without bad once it raised
    rounds = [[k for k in round_order(keys, r) if k != "bad" or r == 0] for r in range(3)]
    assert order[:3] == list(keys) and order[3:] == [k for r in rounds for k in r]
    assert set(timings) == {"a", "c"} and [t.repeats for t in timings.values()] == [3, 3]
    assert list(errors) == ["bad"] and "broken graph" in str(errors["bad"])
    assert all(t.minimum <= t.median <= t.maximum for t in timings.values())


def test_round_orders_change_which_call_runs_before_which():
    # A call can slow down the next one (ONNX Runtime's spinning threads did): no call may always follow the same one.
    from nnunet_lunet.benchmark.latency import round_order

    keys = [f"model{i}_{t}" for i in range(5) for t in ("patch", "case", "patch_ort", "case_ort")]
    orders = [round_order(keys, r) for r in range(13)]
    assert all(sorted(o) == sorted(keys) for o in orders) and orders[0] == round_order(keys, 0)
    predecessors = {k: {o[o.index(k) - 1] for o in orders if o.index(k) > 0} for k in keys}
    assert all(len(p) >= 3 for p in predecessors.values()), predecessors


def _timed_row(model, patch_ms, case_s, passes=1):
    """A benchmark row with PyTorch timings ``(median, min, max)`` of patch (ms) and case (s)."""
    row = {"model": model, "fold": "0", "status": "ok", "case_forward_passes": passes, "repeats": 5}
    for prefix, unit, values in (("latency_patch", "ms", patch_ms), ("latency_case", "s", case_s)):
        row.update({f"{prefix}_{stat}_{unit}": v for stat, v in zip(("median", "min", "max"), values)})
    return row


def test_latency_ratios_whose_ranges_overlap_the_reference_are_marked_and_shown_with_a_tilde():
    from nnunet_lunet.benchmark.report import display_rows
    from nnunet_lunet.benchmark.timing_checks import mark_noise

    rows = [_timed_row("ref", (100, 90, 110), (1.0, 0.9, 1.1)),
            _timed_row("near", (95, 85, 105), (0.5, 0.45, 0.55)),   # patch overlaps, case clearly faster
            _timed_row("far", (40, 38, 44), (0.95, 0.5, 2.0))]      # patch clearly faster, case overlaps
    add_ratios(rows, "ref")
    mark_noise(rows, "ref")
    marked = {r["model"]: r["ratios_within_noise"].split() for r in rows}
    assert marked["near"] == ["latency_patch_ratio"] and marked["far"] == ["latency_case_ratio"]
    shown = {r["model"]: r for r in display_rows(rows, {})}
    assert shown["near"]["patch x"] == "~1.05x" and shown["near"]["case x"] == "2.00x"
    assert shown["far"]["patch x"] == "2.50x" and shown["far"]["case x"] == "~1.05x"


def test_a_case_timed_faster_than_its_forward_passes_is_reported():
    from nnunet_lunet.benchmark.timing_checks import inconsistent_cases

    rows = [_timed_row("fine", (100, 90, 110), (0.25, 0.24, 0.3), passes=2),
            _timed_row("one tile, noise", (224, 216, 226), (0.214, 0.209, 0.228), passes=1),  # the demo's STAMP row
            _timed_row("disturbed", (656, 600, 700), (0.49, 0.45, 0.5), passes=1)]  # seen in an earlier Hippocampus benchmark
    lines = inconsistent_cases(rows)
    assert len(lines) == 1
    assert lines[0].startswith("disturbed fold 0, PyTorch: whole case 490 ms, more than 10% below 1 forward")


def test_the_report_shows_a_library_call_with_what_differs_from_the_defaults():
    from nnunet_lunet.benchmark.runner import MeasureOptions, ModelSelection, _default_command_line

    line = _default_command_line("4", "3d_fullres", ModelSelection(folds=[0, "1"], trainers=["T"]),
                                 MeasureOptions(repeats=3), "/out", overwrite=False)
    assert line == ("run_benchmark('4', '3d_fullres', ModelSelection(folds=['0', '1'], trainers=['T']), "
                    "MeasureOptions(repeats=3), output='/out')")
    assert _default_command_line("4", "2d", ModelSelection(), MeasureOptions(), "/out", overwrite=True) == (
        "run_benchmark('4', '2d', ModelSelection(), MeasureOptions(), output='/out', overwrite=True)")


def test_a_row_that_fails_on_a_truncated_json_file_names_the_file(tmp_path):
    from batchgenerators.utilities.file_and_folder_operations import load_json

    from nnunet_lunet.benchmark.runner import _failure_reason

    plans = tmp_path / "plans.json"
    plans.write_text('{"plans_name": "nnUNetPlans", "configurations": {')
    with pytest.raises(ValueError) as raised:
        load_json(str(plans))  # as nnU-Net reads a model's plans
    assert _failure_reason(raised.value).startswith(f"{plans} is not valid JSON")
