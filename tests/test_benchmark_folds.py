"""The benchmark over folds: labels, aggregation (n, median, min-max, paired differences), pruning levels, the
pruning-order number, the claims' verdicts, and the files the benchmark command writes from them.

Expected values are written out by hand from the numbers each test feeds in, never computed by the code under test.
The end-to-end test runs ``nnunet-lunet benchmark`` on a private results folder holding the two models this test
run trains (nnU-Net's default network and LUnet16, smoke budget) linked as folds 0 and 1, each fold with a hand-written
``validation/summary.json``, so that the aggregated Dice and differences are known in advance.
"""

import csv
import json
import math
import os

import pytest

from cli_runner import run
from nnunet_lunet.benchmark.aggregate import aggregate, paired_differences, spread, summary_rows
from nnunet_lunet.benchmark.claims import FAILS, HOLDS, OPEN, claim_a, claim_b, claim_c, claim_d, judge_claims
from nnunet_lunet.benchmark.labels import group_name, identify
from nnunet_lunet.benchmark.pruning_order import width_rank_correlation
from nnunet_lunet.benchmark.records import read_levels

C = "3d_fullres"
LEAN = "nnUNetTrainerLeanRecipe_budget"
PLANS = "nnUNetPlans"


def _row(configuration, fold, dice, trainer=LEAN, parameters=None, budget="20x25", reference=False, **extra):
    return dict(model=f"{trainer}__{PLANS}__{configuration}", trainer=trainer, plans=PLANS,
                configuration=configuration, fold=str(fold), status="ok", reference="yes" if reference else "",
                val_dice_mean=dice, parameters=parameters, budget=budget, **extra)


def _rows(configuration, dices, **kwargs):
    return [_row(configuration, fold, d, **kwargs) for fold, d in enumerate(dices) if d is not None]


def _point(points, label):
    found = [p for p in points if p.label == label]
    assert len(found) == 1, [p.label for p in points]
    return found[0]


@pytest.mark.parametrize("trainer, configuration, family, label", [
    (LEAN, C, "default network", "default"),
    ("nnUNetTrainer", C, "default network", "default"),
    (LEAN, C + "_lunet16", "LUnet", "LUnet16"),
    ("nnUNetTrainerLUnet8_smoke", C, "LUnet", "LUnet8"),
    ("nnUNetTrainerLUnet", C, "LUnet", "LUnet32"),
    (LEAN, C + "_scaled50", "U-Net scaled", "U-Net 50%"),
    (LEAN, C + "_scaled_as_lunet16", "U-Net of a LUnet's size", "U-Net of LUnet16's size"),
    ("nnUNetTrainerSTAMP_budget", C, "STAMP", "STAMP"),
    ("nnUNetTrainerPruneRandomInLayer_smoke", C, "Random in layer", "Random in layer"),
    ("nnUNetTrainerPruneWidest", C, "Widest layer", "Widest layer"),
    ("nnUNetTrainerPruneL1Unnormalised_budget", C, "L1 unnormalised", "L1 unnormalised"),
    (LEAN, C + "_pruned_nnUNetTrainerSTAMP_budget_f0_level50", "STAMP retrained", "STAMP 50% retrained"),
    (LEAN, C + "_pruned_nnUNetTrainerPruneWidest_budget_f2", "Widest layer retrained", "Widest layer retrained"),
    (LEAN, C + "_pruned_nnUNetTrainerSTAMP_f1_step3", "STAMP retrained", "STAMP step 3 retrained"),
    ("nnUNetTrainerFoo", C + "_bar", "other", "Foo bar"),
    ("nnUNetTrainer_smoke", C + "_unfinished", "other", "nnUNetTrainer unfinished"),
])
def test_labels_name_each_family_shortly(trainer, configuration, family, label):
    identity = identify(trainer, configuration, C)
    assert (identity.family, identity.label) == (family, label)


def test_a_pruning_level_is_in_the_label_and_a_retrained_shape_of_the_own_fold_is_one_model():
    assert identify("nnUNetTrainerSTAMP_budget", C, C, 25).label == "STAMP 25%"
    own = group_name(LEAN, PLANS, C + "_pruned_nnUNetTrainerSTAMP_budget_f1_level50", "1")
    other = group_name(LEAN, PLANS, C + "_pruned_nnUNetTrainerSTAMP_budget_f1_level50", "2")
    assert own == f"{LEAN}__{PLANS}__{C}_pruned_nnUNetTrainerSTAMP_budget_f*_level50"
    assert other == f"{LEAN}__{PLANS}__{C}_pruned_nnUNetTrainerSTAMP_budget_f1_level50"
    assert group_name(LEAN, PLANS, C + "_lunet16", "1") == f"{LEAN}__{PLANS}__{C}_lunet16"


def test_spread_is_n_median_min_max():
    s = spread([0.80, 0.86, 0.83])
    assert (s.n, s.median, s.min, s.max) == (3, 0.83, 0.80, 0.86)
    s = spread([1, 10, 2, 3])
    assert (s.n, s.median, s.min, s.max) == (4, 2.5, 1, 10)
    assert spread([]) is None


def test_folds_of_a_model_become_one_point_with_paired_differences_to_the_reference():
    rows = (_rows(C, [0.85, 0.87, 0.86], parameters=1000, reference=True)
            + _rows(C + "_lunet16", [0.84, 0.88, 0.83], parameters=30)
            + _rows(C + "_scaled_as_lunet16", [0.80, None, 0.82], parameters=31))
    points = aggregate(rows, C)
    assert [p.label for p in points] == ["default", "LUnet16", "U-Net of LUnet16's size"]
    ref, lunet, unet = points
    assert ref.reference and not lunet.reference
    s = lunet.spread_of("val_dice_mean")
    assert (s.n, s.median, s.min, s.max) == (3, 0.84, 0.83, 0.88)
    diffs = paired_differences(lunet, ref)
    assert diffs.keys() == {"0", "1", "2"}
    for fold, expected in (("0", -0.01), ("1", 0.01), ("2", -0.03)):
        assert math.isclose(diffs[fold], expected, abs_tol=1e-12)
    assert paired_differences(unet, ref).keys() == {"0", "2"}  # only folds both have
    summary = {r["label"]: r for r in summary_rows(points)}
    assert summary["LUnet16"]["diff_to_reference_n"] == 3
    assert math.isclose(summary["LUnet16"]["diff_to_reference_median"], -0.01, abs_tol=1e-12)
    assert math.isclose(summary["LUnet16"]["diff_to_reference_min"], -0.03, abs_tol=1e-12)
    assert math.isclose(summary["LUnet16"]["diff_to_reference_max"], 0.01, abs_tol=1e-12)
    assert summary["U-Net of LUnet16's size"]["diff_to_reference_n"] == 2
    assert math.isclose(summary["U-Net of LUnet16's size"]["diff_to_reference_median"], -0.045, abs_tol=1e-12)
    assert summary["default"]["diff_to_reference_n"] is None
    assert (summary["default"]["n"], summary["default"]["folds"]) == (3, "0 1 2")


def test_rows_read_back_from_a_csv_aggregate_alike():
    rows = [{k: "" if v is None else str(v) for k, v in r.items()}
            for r in _rows(C, [0.85, 0.87, 0.86], parameters=1000, reference=True)]
    (point,) = aggregate(rows, C)
    s = point.spread_of("parameters")
    assert (point.label, s.n, s.median) == ("default", 3, 1000.0)


def test_a_pruning_run_with_level_evaluations_gives_a_point_per_level():
    rows = [_row(C, f, 0.9, trainer="nnUNetTrainerSTAMP_budget", channels_left_percent=25.0,
                 level75_val_dice_mean=d75, level75_parameters=p75, level25_val_dice_mean=d25, level25_parameters=300)
            for f, d75, p75, d25 in ((0, 0.86, 700, 0.80), (1, 0.88, 720, 0.82), (2, 0.87, 710, 0.81))]
    rows += [_row(C, f, 0.83, trainer="nnUNetTrainerPruneWidest_budget", channels_left_percent=50.4) for f in (0, 1)]
    points = {p.label: p for p in aggregate(rows, C)}
    assert set(points) == {"STAMP 75%", "STAMP 25%", "Widest layer 50%"}
    s = points["STAMP 75%"].spread_of("val_dice_mean")
    assert (s.n, s.median, s.min, s.max) == (3, 0.87, 0.86, 0.88)
    s = points["STAMP 75%"].spread_of("parameters")
    assert (s.median, s.min, s.max) == (710, 700, 720)
    assert points["STAMP 25%"].spread_of("val_dice_mean").median == 0.81
    assert points["Widest layer 50%"].spread_of("val_dice_mean").n == 2  # final validation: no level evaluations


def _summary(path, dice):
    os.makedirs(path)
    with open(os.path.join(path, "summary.json"), "w") as f:
        json.dump({"foreground_mean": {"Dice": dice}, "mean": {"1": {"Dice": dice}}}, f)


def _log(original, steps):
    """A pruning log over layer widths ``{"encoder": [[...]], ...}`` (channels counted by hand in ``steps``)."""
    return {"criterion": "stamp", "original_widths": original, "original_channels": 100, "original_parameters": 1000,
            "steps": [{"step": i + 1, "layer_widths": w, "channels": c, "parameters": p}
                      for i, (w, c, p) in enumerate(steps)]}


def test_level_evaluations_are_read_with_the_parameters_of_the_step_that_reached_them(tmp_path):
    _summary(tmp_path / "validation_level75", 0.7)
    _summary(tmp_path / "validation_level50", 0.6)
    os.makedirs(tmp_path / "validation_level25")  # no summary: not evaluated
    w = {"encoder": [[1]]}
    log = _log(w, [(w, 90, 900), (w, 75, 750), (w, 60, 600), (w, 50, 500), (w, 40, 400)])
    levels = read_levels(str(tmp_path), log)
    assert [(lv.level, lv.dice.mean, lv.parameters) for lv in levels] == [(75, 0.7, 750), (50, 0.6, 500)]


def test_width_rank_correlation_is_one_when_the_widest_go_and_minus_one_when_the_narrowest_go():
    original = {"encoder": [[4, 4], [8, 8]], "transpconv": [4], "decoder": [[4, 4]]}
    widest_cut = {"encoder": [[4, 4], [4, 4]], "transpconv": [4], "decoder": [[4, 4]]}
    narrow_cut = {"encoder": [[2, 2], [8, 8]], "transpconv": [2], "decoder": [[2, 2]]}
    # 8 + 8 of 36 channels gone: 72 % left, at the 75 % level
    assert width_rank_correlation(_log(original, [(widest_cut, 72, 10)])) == pytest.approx(1.0)
    assert width_rank_correlation(_log(original, [(narrow_cut, 72, 10)])) == pytest.approx(-1.0)
    assert width_rank_correlation(_log(original, [])) is None
    uniform = {"encoder": [[4, 4], [4, 4]], "transpconv": [4], "decoder": [[4, 4]]}
    assert width_rank_correlation(_log(uniform, [(uniform, 100, 10)])) is None  # one width everywhere


def test_width_rank_correlation_by_hand():
    # widths 2, 4, 6, 8 lose 1/2, 0, 1/2, 1/4 of their channels: width ranks 1 2 3 4, share ranks 3.5 1 3.5 2.
    # Centred: (-1.5, -0.5, 0.5, 1.5) and (1, -1.5, 1, -0.5); products sum to -1.5 + 0.75 + 0.5 - 0.75 = -1;
    # squares sum to 5 and 4.5.
    original = {"encoder": [[2, 4], [6, 8]]}
    pruned = {"encoder": [[1, 4], [3, 6]]}
    expected = -1.0 / math.sqrt(5 * 4.5)
    assert width_rank_correlation(_log(original, [(pruned, 70, 10)])) == pytest.approx(expected)


def _claim_points(lunet, reference, lunet_parameters=30, reference_parameters=1000, lunet_budget="20x25"):
    rows = (_rows(C, reference, parameters=reference_parameters, reference=True)
            + _rows(C + "_lunet16", lunet, parameters=lunet_parameters, budget=lunet_budget))
    return aggregate(rows, C)


@pytest.mark.parametrize("lunet, reference, verdict", [
    ([0.85, 0.86, 0.87], [0.855, 0.865, 0.875], HOLDS),  # -0.5 points on every fold
    ([0.80, 0.81, 0.82], [0.85, 0.86, 0.87], FAILS),  # -5 points on every fold
    ([0.85, 0.80, 0.87], [0.855, 0.865, 0.875], OPEN),  # -0.5, -6.5, -0.5: straddles -1
    ([0.85, 0.86, None], [0.855, 0.865, 0.875], OPEN),  # 2 folds paired: too few
])
def test_claim_a_verdicts(lunet, reference, verdict):
    (result,) = claim_a(_claim_points(lunet, reference))
    assert result.verdict == verdict
    assert result.n == sum(d is not None for d in lunet)


def test_claim_a_needs_over_30x_fewer_parameters_and_one_budget():
    (result,) = claim_a(_claim_points([0.85] * 3, [0.85] * 3, lunet_parameters=40))  # 25x fewer
    assert result.verdict == OPEN and "not among" in result.why
    (result,) = claim_a(_claim_points([0.85] * 3, [0.85] * 3, lunet_budget="40x25"))
    assert result.verdict == OPEN and "budgets differ" in result.why
    (result,) = claim_a(_claim_points([0.85] * 3, [0.851] * 3))
    assert (result.verdict, result.numbers) == (HOLDS, "-0.1 [-0.1, -0.1]")


@pytest.mark.parametrize("lunet, unet, verdict", [
    ([0.85, 0.86, 0.87], [0.84, 0.85, 0.80], HOLDS),
    ([0.85, 0.86, 0.87], [0.85, 0.87, 0.88], FAILS),  # 0, -1, -1 points: never above
    ([0.85, 0.86, 0.87], [0.84, 0.87, 0.86], OPEN),
])
def test_claim_b_verdicts(lunet, unet, verdict):
    rows = _rows(C + "_lunet16", lunet, parameters=30) + _rows(C + "_scaled_as_lunet16", unet, parameters=31)
    (result,) = claim_b(aggregate(rows, C))
    assert (result.verdict, result.comparison) == (verdict, "LUnet16 - U-Net of LUnet16's size")


@pytest.mark.parametrize("random, stamp, verdict", [
    ([0.80, 0.81, 0.82], [0.805, 0.80, 0.82], HOLDS),
    ([0.78, 0.79, 0.80], [0.80, 0.81, 0.82], FAILS),
    ([0.78, 0.81, 0.82], [0.80, 0.81, 0.82], OPEN),
])
def test_claim_c_verdicts_per_level(random, stamp, verdict):
    rows = []
    for trainer, dices in (("nnUNetTrainerSTAMP_budget", stamp), ("nnUNetTrainerPruneRandomInLayer_budget", random)):
        rows += [_row(C, f, 0.5, trainer=trainer, level50_val_dice_mean=d, level50_parameters=100)
                 for f, d in enumerate(dices)]
    (result,) = claim_c(aggregate(rows, C))
    assert (result.verdict, result.comparison) == (verdict, "Random in layer 50% - STAMP 50%")


@pytest.mark.parametrize("rhos, verdict", [
    ([0.9, 0.6, 0.5], HOLDS), ([0.1, -0.3, 0.49], FAILS), ([0.9, 0.2, 0.8], OPEN), ([0.9, 0.9], OPEN)])
def test_claim_d_verdicts(rhos, verdict):
    rows = [_row(C, f, 0.8, trainer="nnUNetTrainerSTAMP_budget", width_rank_correlation=r)
            for f, r in enumerate(rhos)]
    rows += [_row(C, f, 0.8, trainer="nnUNetTrainerPruneWidest_budget", width_rank_correlation=1.0) for f in (0, 1, 2)]
    rows += [_row(C, f, 0.8, trainer="nnUNetTrainerPruneL1_budget", width_rank_correlation=0.1) for f in (0, 1, 2)]
    rows += [_row(C, 0, 0.8, trainer="nnUNetTrainerSTAMP_budget")]  # no log: not counted
    stamp, widest, l1 = claim_d(rows, C)
    assert (stamp.claim, stamp.verdict, stamp.n) == ("(d)", verdict, len(rhos))
    assert (widest.claim, widest.verdict) == ("(d) control", HOLDS)
    assert (l1.claim, l1.verdict, l1.comparison.split(":")[0]) == ("(d) control", FAILS, "L1")


def test_claims_without_their_models_are_not_resolved():
    verdicts = judge_claims(aggregate(_rows(C, [0.8, 0.8, 0.8], reference=True), C), [], C)
    assert [v.claim for v in verdicts] == ["(a)", "(b)", "(c)", "(d)"]
    assert {v.verdict for v in verdicts} == {OPEN}


# --- end to end ----------------------------------------------------------------------------------------------------

DEFAULT = "nnUNetTrainer_smoke__nnUNetPlans__3d_fullres"
LUNET16 = "nnUNetTrainerLUnet16_smoke__nnUNetPlans__3d_fullres"
DICE = {DEFAULT: [0.60, 0.70], LUNET16: [0.62, 0.66]}  # LUnet16 - default: +2, -4 points; median -1


def _link_folds(fold_folder: str, model_folder: str, dices) -> None:
    """The trained model's fold as folds 0..n-1 of ``model_folder``, each with its own hand-written summary."""
    source = os.path.dirname(fold_folder)
    os.makedirs(model_folder)
    for name in ("plans.json", "dataset.json"):
        os.symlink(os.path.join(source, name), os.path.join(model_folder, name))
    for fold, dice in enumerate(dices):
        target = os.path.join(model_folder, f"fold_{fold}")
        os.makedirs(target)
        for name in ("checkpoint_final.pth", "debug.json"):
            os.symlink(os.path.join(fold_folder, name), os.path.join(target, name))
        _summary(os.path.join(target, "validation"), dice)


def test_benchmark_over_two_folds_writes_the_aggregate_and_the_claims(planned_dataset, train, tmp_path):
    folds = {DEFAULT: train("3d_fullres", "nnUNetTrainer_smoke"),
             LUNET16: train("3d_fullres", "nnUNetTrainerLUnet16_smoke")}
    results = tmp_path / "results" / planned_dataset.name
    for name, fold in folds.items():
        _link_folds(fold, str(results / name), DICE[name])
    env = dict(planned_dataset.env, nnUNet_results=str(tmp_path / "results"))
    out = tmp_path / "out"
    run(["nnunet-lunet", "benchmark", "-d", planned_dataset.dataset_id, "-c", "3d_fullres", "-o", out,
         "--repeats", 1, "--warmup", 0, "--disable-tta", "--device", "cpu", "--reference", DEFAULT], env,
        timeout=1800)  # four rows, each exported and timed under ONNX Runtime
    with open(out / "benchmark_folds.csv") as f:
        summary = {r["label"]: r for r in csv.DictReader(f)}
    assert set(summary) == {"default", "LUnet16"}
    lunet = summary["LUnet16"]
    assert (lunet["n"], lunet["folds"], lunet["family"]) == ("2", "0 1", "LUnet")
    assert [float(lunet[f"val_dice_{s}"]) for s in ("median", "min", "max")] == pytest.approx([0.64, 0.62, 0.66])
    assert lunet["diff_to_reference_n"] == "2"
    for stat, expected in (("median", -0.01), ("min", -0.04), ("max", 0.02)):
        assert math.isclose(float(lunet[f"diff_to_reference_{stat}"]), expected, abs_tol=1e-9)
    assert summary["default"]["reference"] == "yes"
    with open(out / "benchmark.csv") as f:
        per_fold = list(csv.DictReader(f))
    assert len(per_fold) == 4 and {r["group"] for r in per_fold} == {DEFAULT, LUNET16}
    assert all(r["status"] == "ok" and r["memory_train_delta_mib"] == "" for r in per_fold)  # BENCH_MEMORY=0: no probe
    diffs = {r["fold"]: float(r["dice_diff_to_reference"]) for r in per_fold if r["model"] == LUNET16}
    assert diffs == pytest.approx({"0": 0.02, "1": -0.04})
    report = (out / "benchmark.md").read_text()
    assert "## Over folds" in report and "-1.0 [-4.0, +2.0] (n=2)" in report
    claims = (out / "claims.md").read_text()
    # (a) has 2 paired folds of the 3 needed, or no LUnet of over 30x fewer parameters: not resolved either way;
    # (b)-(d) lack their models
    verdicts = [line for line in claims.splitlines() if line.startswith("| (")]
    assert [line.split("|")[1].strip() for line in verdicts] == ["(a)", "(b)", "(c)", "(d)"]
    assert all("| not resolved at this budget |" in line for line in verdicts)
    assert "not among the benchmarked models" in verdicts[1]
    assert (out / "dice_vs_params.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_labels_two_models_share_get_the_trainer_then_the_plans():
    from nnunet_lunet.benchmark.labels import disambiguate

    models = [("a", "nnUNetTrainerLeanRecipe_budget", "P"), ("b", "nnUNetTrainer_smoke", "P"),
              ("c", "nnUNetTrainerLeanRecipe_budget", "Q"), ("d", "nnUNetTrainerLeanRecipe_smoke", "P"),
              ("e", "nnUNetTrainerLUnet16", "P")]
    labels = ["default", "default", "U-Net 50%", "U-Net 50%", "LUnet16"]
    assert disambiguate(models, labels) == [
        "default (LeanRecipe)", "default (nnUNetTrainer)", "U-Net 50% (nnUNetTrainerLeanRecipe_budget)",
        "U-Net 50% (nnUNetTrainerLeanRecipe_smoke)", "LUnet16"]
    same_trainer = [("a", "T", "P"), ("b", "T", "Q")]
    assert disambiguate(same_trainer, ["x", "x"]) == ["x (T, P)", "x (T, Q)"]


def test_point_labels_are_placed_inside_the_axes_without_overlapping_each_other():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nnunet_lunet.benchmark.plots import place_labels

    fig, ax = plt.subplots(figsize=(8, 5))
    # nine points in a tight cluster (three criteria at three levels of about the same size), as on a real plot
    items = [(p * f, 0.85 + 0.01 * i + 0.0005 * j, f"{name} {level}%", "C0")
             for i, (p, level) in enumerate(((3e5, 25), (1.3e6, 50), (3e6, 75)))
             for j, (name, f) in enumerate((("STAMP", 1.0), ("Random in layer", 1.01), ("Widest layer", 0.99)))]
    ax.plot([x for x, _, _, _ in items], [y for _, y, _, _ in items], "o")
    ax.set_xscale("log")
    ax.margins(x=0.3, y=0.5)
    fig.canvas.draw()
    notes = place_labels(ax, items, [])
    renderer = fig.canvas.get_renderer()
    boxes = [n.get_window_extent(renderer) for n in notes]
    frame = ax.get_window_extent(renderer)
    assert len(boxes) == 9
    for i, a in enumerate(boxes):
        assert frame.contains(a.x0, a.y0) and frame.contains(a.x1, a.y1), notes[i].get_text()
        for b in boxes[i + 1:]:
            assert not a.overlaps(b)
    plt.close(fig)


def test_claim_d_at_every_level_counts_the_folds_the_guard_stopped():
    rows = [_row(C, f, 0.8, trainer="nnUNetTrainerSTAMP_budget", width_rank_correlation=0.9,
                 level50_width_rank_correlation=0.8, level25_width_rank_correlation=0.7) for f in (0, 1)]
    rows += [_row(C, 2, 0.8, trainer="nnUNetTrainerSTAMP_budget", width_rank_correlation=0.9,
                  level50_width_rank_correlation=0.8, level25_guard="stopped")]
    rows += [_row(C, f, 0.8, trainer="nnUNetTrainerPruneRandom_budget", width_rank_correlation=0.0,
                  level50_width_rank_correlation=0.1, level25_width_rank_correlation=-0.1) for f in (0, 1, 2)]
    verdicts = claim_d(rows, C)
    assert [(v.claim, v.comparison.split(":")[0], v.comparison.rsplit(" ", 1)[1], v.verdict, v.n)
            for v in verdicts] == [
        ("(d)", "STAMP", "75%", HOLDS, 3), ("(d) control", "Uniform random", "75%", FAILS, 3),
        ("(d)", "STAMP", "50%", HOLDS, 3), ("(d) control", "Uniform random", "50%", FAILS, 3),
        ("(d)", "STAMP", "25%", OPEN, 2), ("(d) control", "Uniform random", "25%", FAILS, 3)]
    assert "1 fold(s) did not reach 25% (validation guard)" in verdicts[4].why


def test_width_rank_correlation_of_a_level_the_run_did_not_reach_is_none():
    from nnunet_lunet.benchmark.pruning_order import level_guard, width_rank_correlations

    original = {"encoder": [[4, 4], [8, 8]], "transpconv": [4], "decoder": [[4, 4]]}
    widest_cut = {"encoder": [[4, 4], [4, 4]], "transpconv": [4], "decoder": [[4, 4]]}
    log = _log(original, [(widest_cut, 72, 10)])
    log["levels"] = [{"level": 0.75, "reached": True, "guard": "ok"},
                     {"level": 0.5, "reached": False, "guard": "stopped"}]
    assert width_rank_correlations(log) == {"width_rank_correlation": pytest.approx(1.0),
                                            "level50_width_rank_correlation": None,
                                            "level25_width_rank_correlation": None}
    assert level_guard(log) == {"level50_guard": "stopped"}


def test_each_labels_dice_is_spread_over_the_folds_and_named_in_the_table():
    from nnunet_lunet.benchmark.report import format_summary_table, summary_columns

    rows = (_rows(C, [0.80, 0.82, 0.81], parameters=1000, reference=True)
            + _rows(C + "_lunet16", [0.70, 0.75, 0.72], parameters=30))
    for row, (liver, kidney) in zip(rows, [(0.9, 0.7), (0.92, 0.72), (0.91, 0.71), (0.85, 0.4), (0.8, 0.6),
                                           (0.88, 0.5)]):
        row.update(val_dice_1=liver, val_dice_2=kidney, val_dice_note="")
    summary = {r["label"]: r for r in summary_rows(aggregate(rows, C))}
    lunet = summary["LUnet16"]
    assert [lunet[f"val_dice_2_{s}"] for s in ("median", "min", "max")] == pytest.approx([0.5, 0.4, 0.6])
    assert [lunet[f"val_dice_1_{s}"] for s in ("median", "min", "max")] == pytest.approx([0.85, 0.8, 0.88])
    assert "val_dice_note_median" not in lunet
    columns = summary_columns(list(summary.values()))
    assert columns[-6:] == [f"val_dice_{k}_{s}" for k in ("1", "2") for s in ("median", "min", "max")]
    table = format_summary_table(list(summary.values()), {"1": "liver", "2": "kidney"})
    header = table.splitlines()[0]
    assert "Dice liver" in header and "Dice kidney" in header
    assert "0.500 [0.400, 0.600]" in table.splitlines()[-1]
    # one label: no per-label columns (the mean is that label's Dice)
    for row in rows:
        del row["val_dice_2"]
    one = summary_rows(aggregate(rows, C))
    assert "Dice liver" not in format_summary_table(one, {"1": "liver"})
