"""Test-set Dice: predict a folder of images with the model, evaluate against a folder of labels, with nnU-Net's
own code.

Rules:

- Prediction: ``nnUNetPredictor.predict_from_files_sequential`` (preprocessing, sliding window with the predictor's
  settings, resampling back, export: what ``nnUNetv2_predict`` does, without worker processes) into
  ``output_folder``.
- Evaluation: nnU-Net's ``compute_metrics`` for every label file (the labels or regions and ignore label of the
  model's ``dataset.json`` / ``plans.json``, the reader of its file ending), aggregated as
  ``compute_metrics_on_folder`` aggregates (per class: NaN-mean over cases; ``foreground_mean``: mean over the
  classes) and written with ``save_summary_json`` to ``output_folder/summary.json``. It runs in this process:
  ``compute_metrics_on_folder`` always starts a spawn pool, whose workers re-run the caller's ``__main__`` (slow,
  and it never finishes when the caller is a script read from stdin).
- A label file without a prediction fails the evaluation (nnU-Net's ``chill=False``).
"""

import contextlib
import os

from nnunet_lunet.benchmark.records import Dice, read_dice
from nnunet_lunet.errors import LUnetError


def check_test_folders(images: str, labels: str) -> None:
    """LUnetError unless both folders are given and exist (or neither is given)."""
    if (images is None) != (labels is None):
        raise LUnetError("--test-images and --test-labels go together: pass both folders (or neither)")
    for option, folder in (("--test-images", images), ("--test-labels", labels)):
        if folder is not None and not os.path.isdir(folder):
            raise LUnetError(f"{option} {folder} is not a folder: pass nnU-Net's imagesTs / labelsTs layout")


def check_test_cases(images: str, labels: str, file_ending: str) -> None:
    """LUnetError unless the image cases (``CASE_XXXX<ending>``) and label cases (``CASE<ending>``) are the same
    non-empty set."""
    from nnunetv2.utilities.utils import get_identifiers_from_splitted_dataset_folder

    image_cases = {str(c) for c in get_identifiers_from_splitted_dataset_folder(images, file_ending)}
    label_cases = {f[: -len(file_ending)] for f in os.listdir(labels) if f.endswith(file_ending)}
    if not label_cases:
        raise LUnetError(f"--test-labels {labels} holds no {file_ending} label files: pass nnU-Net's labelsTs layout "
                         f"(CASE{file_ending})")
    if image_cases != label_cases:
        only_images, only_labels = sorted(image_cases - label_cases), sorted(label_cases - image_cases)
        details = "; ".join(part for part in (
            f"images without labels: {', '.join(only_images[:3])}" if only_images else "",
            f"labels without images: {', '.join(only_labels[:3])}" if only_labels else "") if part)
        raise LUnetError(f"--test-images and --test-labels hold different cases ({details}): pass matching folders "
                         f"(images CASE_0000{file_ending}, labels CASE{file_ending})")


def evaluate_folder(labels: str, predictions: str, dataset_json_file: str, plans_file: str, output_file: str) -> dict:
    """nnU-Net's summary (``metric_per_case``, ``mean``, ``foreground_mean``) of ``predictions`` vs ``labels``."""
    import numpy as np
    from batchgenerators.utilities.file_and_folder_operations import load_json
    from nnunetv2.evaluation.evaluate_predictions import compute_metrics, save_summary_json
    from nnunetv2.imageio.reader_writer_registry import determine_reader_writer_from_dataset_json
    from nnunetv2.utilities.json_export import recursive_fix_for_json_export
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

    dataset_json = load_json(dataset_json_file)
    ending = dataset_json["file_ending"]
    files = sorted(f for f in os.listdir(labels) if f.endswith(ending))
    if not files:
        raise FileNotFoundError(f"no {ending} label files in {labels}")
    missing = [f for f in files if not os.path.isfile(os.path.join(predictions, f))]
    if missing:
        raise FileNotFoundError(f"no prediction for {missing[0]} (test images and labels do not match?)")
    reader = determine_reader_writer_from_dataset_json(dataset_json, os.path.join(labels, files[0]))()
    lm = PlansManager(plans_file).get_label_manager(dataset_json)
    keys = lm.foreground_regions if lm.has_regions else lm.foreground_labels
    per_case = [compute_metrics(os.path.join(labels, f), os.path.join(predictions, f), reader, keys, lm.ignore_label)
                for f in files]
    metrics = list(per_case[0]["metrics"][keys[0]].keys())
    means = {k: {m: np.nanmean([c["metrics"][k][m] for c in per_case]) for m in metrics} for k in keys}
    foreground = {m: np.mean([means[k][m] for k in keys if k not in (0, "0")]) for m in metrics}
    for item in per_case + [means, foreground]:
        recursive_fix_for_json_export(item)
    summary = {"metric_per_case": per_case, "mean": means, "foreground_mean": foreground}
    save_summary_json(summary, output_file)
    return summary


def predict_and_evaluate(predictor, model_folder: str, images: str, labels: str, output_folder: str,
                         log_file: str) -> Dice:
    """Predict ``images`` into ``output_folder`` and return the Dice against ``labels``; nnU-Net's printed output goes
    to ``log_file``."""
    os.makedirs(output_folder, exist_ok=True)
    summary = os.path.join(output_folder, "summary.json")
    with open(log_file, "a") as log, contextlib.redirect_stdout(log):
        predictor.predict_from_files_sequential(images, output_folder, save_probabilities=False, overwrite=True)
        evaluate_folder(labels, output_folder, os.path.join(model_folder, "dataset.json"),
                        os.path.join(model_folder, "plans.json"), summary)
    return read_dice(summary)
