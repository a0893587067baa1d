"""INT8's validation: ``export-onnx --int8`` accepts the quantized graph (``int8.quantize_graph``) only when its
validation Dice holds.

Rules:

- The measurement (``validation_dice``): the fold's validation cases (``int8.fold_split``) are predicted from the raw
  images (``$nnUNet_raw/<dataset>/imagesTr``, ``validation_images``) by nnU-Net's predictor with the graph as its
  network (``predict.build_predictor``; float32: the parity-checked ``model.onnx`` in ONNX Runtime; INT8:
  ``openvino-int8``): preprocessing, sliding window with Gaussian weighting at tile step 0.5, resampling,
  export, in this process: ``predict_from_files_sequential``, as ``predict --processes 0``; a few validation cases do
  not repay starting worker interpreters), without test-time mirroring (the comparison is between the two graphs under
  the same settings; mirroring would make it 8x slower in 3D); then nnU-Net's ``compute_metrics_on_folder`` (its
  pool in threads: ``thread_pools``) against
  ``$nnUNet_preprocessed/<dataset>/gt_segmentations`` gives the mean foreground Dice of each graph. The share of
  voxels labelled otherwise compares the two graphs' segmentations voxel by voxel over all validation cases.
- The judgement (``refusal``): refused when the INT8 Dice is more than ``tolerance`` Dice points (percent: 0.5 means
  0.005) below float32's, with the difference in the message.
"""

import os
import tempfile
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from nnunet_lunet.errors import LUnetError

INT8_TOLERANCE = 0.5  # Dice points


@dataclass(frozen=True)
class Int8Figures:
    """What ``export.json`` stores as ``int8_*``."""

    dice: float  # mean foreground Dice of the INT8 graph on the validation cases
    float32_dice: float
    labelled_otherwise_share: float  # voxels whose label differs between the two graphs
    validation_cases: int


def refusal(figures: Int8Figures, tolerance: float) -> Optional[str]:
    drop = 100.0 * (figures.float32_dice - figures.dice)
    if drop > tolerance:
        return (f"the INT8 model's validation Dice {figures.dice:.4f} is {drop:.3g} Dice points below float32's "
                f"{figures.float32_dice:.4f} (tolerance {tolerance:g})")
    return None


def _predict(model_folder: str, runtime: str, record, image_lists: List[List[str]], output: str) -> None:
    import contextlib

    from nnunet_lunet.deploy.predict import PredictRequest, build_predictor

    request = PredictRequest(input_folder="", output_folder=output, model_folder=model_folder, runtime=runtime,
                             mirroring=False, processes=0)
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        predictor = build_predictor(request, record)
        os.makedirs(output, exist_ok=True)  # (predict_from_files makes it; the sequential one writes into it first)
        predictor.predict_from_files_sequential(image_lists, output, save_probabilities=False, overwrite=True)


def _mean_dice(reference: str, predicted: str, model_folder: str) -> Tuple[float, dict]:
    import contextlib
    import json

    from nnunetv2.evaluation.evaluate_predictions import compute_metrics_on_folder
    from nnunetv2.imageio.reader_writer_registry import determine_reader_writer_from_dataset_json
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

    from nnunet_lunet.deploy.model_folder import DATASET_FILE, PLANS_FILE
    from nnunet_lunet.thread_pools import pools_as_threads

    with open(os.path.join(model_folder, DATASET_FILE)) as f:
        dataset_json = json.load(f)
    ending = dataset_json["file_ending"]
    first = sorted(n for n in os.listdir(predicted) if n.endswith(ending))[0]
    reader = determine_reader_writer_from_dataset_json(dataset_json, os.path.join(predicted, first))()
    labels = PlansManager(os.path.join(model_folder, PLANS_FILE)).get_label_manager(dataset_json)
    # (its pool in threads: a spawned worker would import torch and nnU-Net again for a few cases)
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull), \
            pools_as_threads(["nnunetv2.evaluation.evaluate_predictions"]):
        metrics = compute_metrics_on_folder(reference, predicted, None, reader, ending,
                                            labels.foreground_regions if labels.has_regions else
                                            labels.foreground_labels, labels.ignore_label, num_processes=1)
    return float(metrics["foreground_mean"]["Dice"]), {"reader": reader, "ending": ending}


def _labelled_otherwise(a: str, b: str, reader, ending: str) -> float:
    differ = total = 0
    for name in sorted(n for n in os.listdir(a) if n.endswith(ending)):
        seg_a, _ = reader.read_seg(os.path.join(a, name))
        seg_b, _ = reader.read_seg(os.path.join(b, name))
        differ += int(np.sum(seg_a != seg_b))
        total += seg_a.size
    return differ / total


def validation_images(raw_dataset: str, cases: Sequence[str], file_ending: str) -> List[List[str]]:
    """Each validation case's channel files (``CASE_XXXX<file ending>``) in ``imagesTr``, as nnU-Net lists them;
    ``LUnetError`` when a case has none."""
    import re

    folder = os.path.join(raw_dataset, "imagesTr")
    names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    lists = [[os.path.join(folder, n) for n in names if re.fullmatch(re.escape(case) + r"_\d{4}" +
                                                                     re.escape(file_ending), n)] for case in cases]
    if not all(lists):
        raise LUnetError(f"--int8 measures the Dice on the fold's validation cases, whose images are not all in "
                         f"{folder}: set nnUNet_raw to the dataset's raw folder, or export without --int8")
    return lists


def validation_dice(model_folder: str, record, image_lists: List[List[str]], gt_folder: str) -> Int8Figures:
    """The module rules' measurement of ``model_folder``'s float32 graph and INT8 graph."""
    with tempfile.TemporaryDirectory(prefix="int8-validation-") as tmp:
        outputs = {}
        for runtime in ("onnxruntime", "openvino-int8"):
            outputs[runtime] = os.path.join(tmp, runtime)
            _predict(model_folder, runtime, record, image_lists, outputs[runtime])
        float32_dice, io = _mean_dice(gt_folder, outputs["onnxruntime"], model_folder)
        int8_dice, _ = _mean_dice(gt_folder, outputs["openvino-int8"], model_folder)
        share = _labelled_otherwise(outputs["onnxruntime"], outputs["openvino-int8"], io["reader"], io["ending"])
    return Int8Figures(dice=int8_dice, float32_dice=float32_dice, labelled_otherwise_share=share,
                       validation_cases=len(image_lists))
