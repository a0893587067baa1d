"""Checks of an nnU-Net ``summary.json`` against the files it describes, so that a Dice in a test is a real number.

``check_summary(path)`` recomputes every case's per-label Dice from its prediction and reference files with numpy
(Dice = 2 TP / (2 TP + FP + FN), NaN when the label is in neither, as nnU-Net's ``compute_metrics``) and the means
(per label: NaN-mean over cases; ``foreground_mean``: mean over labels), and asserts nnU-Net's numbers equal them.
``validation_cases(fold_folder, preprocessed)`` is fold N's validation cases from ``splits_final.json``.
``assert_nothing_trained(fold_folder)``: a run refused before training left no checkpoint and no trained epoch.
"""

import json
import math
import os

import numpy as np
import SimpleITK as sitk


def _dice(prediction: np.ndarray, reference: np.ndarray, label: int) -> float:
    p, r = prediction == label, reference == label
    tp, fp, fn = np.sum(p & r), np.sum(p & ~r), np.sum(~p & r)
    return float("nan") if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def check_summary(summary_file: str) -> dict:
    """The summary, after asserting its per-case Dice and means against the files (see the module docstring)."""
    with open(summary_file) as f:
        summary = json.load(f)
    cases = summary["metric_per_case"]
    assert cases, f"{summary_file} lists no case"
    labels = sorted(cases[0]["metrics"], key=int)
    for case in cases:
        prediction = sitk.GetArrayFromImage(sitk.ReadImage(case["prediction_file"]))
        reference = sitk.GetArrayFromImage(sitk.ReadImage(case["reference_file"]))
        for label in labels:
            ours, theirs = _dice(prediction, reference, int(label)), case["metrics"][label]["Dice"]
            assert _same(ours, float(theirs)), (case["prediction_file"], label, ours, theirs)
    means = {label: float(np.nanmean([float(c["metrics"][label]["Dice"]) for c in cases])) for label in labels}
    for label in labels:
        assert _same(means[label], float(summary["mean"][label]["Dice"])), label
    assert _same(float(np.mean(list(means.values()))), float(summary["foreground_mean"]["Dice"]))
    return summary


def validation_cases(fold_folder: str, preprocessed: str) -> set:
    """Case names of the fold's validation split (``fold_N`` folder name gives N)."""
    fold = int(os.path.basename(fold_folder).split("_")[1])
    with open(os.path.join(preprocessed, "splits_final.json")) as f:
        return set(json.load(f)[fold]["val"])


def summary_cases(summary: dict) -> set:
    """Case names of a summary's predictions (file names without the ending)."""
    return {os.path.basename(c["prediction_file"]).split(".")[0] for c in summary["metric_per_case"]}


def assert_nothing_trained(fold_folder: str) -> None:
    """No checkpoint of any kind and no epoch in nnU-Net's training log: the run stopped before its first step
    (``checkpoint_final.pth`` alone says nothing: a run that fails later never writes it either)."""
    if not os.path.isdir(fold_folder):
        return
    names = os.listdir(fold_folder)
    assert not [n for n in names if n.endswith(".pth")], names
    for name in names:
        if name.startswith("training_log"):
            with open(os.path.join(fold_folder, name)) as f:
                log = f.read()
            assert "train_loss" not in log and "Epoch 0" not in log, log[-2000:]
