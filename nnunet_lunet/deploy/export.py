"""``export_onnx``: a trained model (LUnet, pruned or nnU-Net's default) as a self-contained model folder.

Rules:

- The run is ``$nnUNet_results/<dataset>/<trainer>__<plans>__<configuration>/fold_<fold>/<checkpoint>``; the network
  is rebuilt as nnU-Net's predictor rebuilds it (``trained_run``: the trainer class named in the checkpoint, deep
  supervision off, pruned networks at their trained widths).
- Checked before anything is written, each with one ``LUnetError``: the dataset, the run folder, the fold, the
  checkpoint, the output (an existing ``output`` needs ``overwrite`` and must be an earlier export: see
  ``safe_output``), the tolerance (>= 0).
- Parity (``parity``): PyTorch vs ONNX Runtime on one patch, judged relative to the logits' scale and on the
  softmax probabilities and argmax that prediction uses; a relative difference above ``tolerance`` (default 1e-3), or
  what ``parity.refusal`` names, refuses the export. The figures go to ``export.json``. Everything is written to a
  staging folder beside ``output`` and moved into place only when parity holds (``safe_output.staged_folder``), so a
  refused, failed or interrupted export leaves nothing at ``output`` (and, with ``overwrite``, the old folder
  untouched).
- With ``int8`` (optional, ``int8``): after parity, the graph is quantized by NNCF on ``calibration_patches`` seeded
  patches of the fold's training cases (``int8``) and the INT8 and float32 graphs' validation Dice are measured
  (``int8_validation``); their figures and the calibration settings go to ``export.json``. An INT8 Dice more than
  ``int8_tolerance`` Dice points below float32's refuses the whole export (nothing written). Checked first as well:
  NNCF and OpenVINO importable, the fold's split, the validation images and ground truth, ``calibration_patches`` >= 1.
- The folder's layout: ``model_folder``.
"""

import os
import shutil
from dataclasses import dataclass
from typing import List, Optional

from nnunet_lunet.deploy.int8 import CALIBRATION_PATCHES, CALIBRATION_SEED
from nnunet_lunet.deploy.int8_validation import INT8_TOLERANCE
from nnunet_lunet.deploy.model_folder import (DATASET_FILE, INT8_FILE, ONNX_FILE, PLANS_FILE, ExportRecord,
                                              reduced_checkpoint, write_record)
from nnunet_lunet.deploy.parity import PARITY_TOLERANCE
from nnunet_lunet.errors import LUnetError
from nnunet_lunet.plans.run_names import fold_name
from nnunet_lunet.safe_output import check_replaceable, staged_folder

COMMAND = "export-onnx"



@dataclass(frozen=True)
class ExportRequest:
    """``nnunet-lunet export-onnx``'s arguments."""

    dataset: str
    configuration: str
    trainer: str
    fold: str
    output: str
    plans: str = "nnUNetPlans"
    checkpoint: str = "checkpoint_final.pth"
    overwrite: bool = False
    tolerance: float = PARITY_TOLERANCE
    int8: bool = False
    int8_tolerance: float = INT8_TOLERANCE  # Dice points
    calibration_patches: int = CALIBRATION_PATCHES
    calibration_seed: int = CALIBRATION_SEED


@dataclass(frozen=True)
class Int8Inputs:
    """What ``--int8`` reads, checked before anything is written."""

    train_cases: List[str]
    validation_images: List[List[str]]
    gt_folder: str


def _check_int8(request: ExportRequest, dataset_name: str) -> Int8Inputs:
    import json
    import math

    from nnunet_lunet.datasets import require_env
    from nnunet_lunet.deploy.int8 import fold_split, require_int8_packages
    from nnunet_lunet.deploy.int8_validation import validation_images

    require_int8_packages()
    if not math.isfinite(request.int8_tolerance):
        raise LUnetError(f"--int8-tolerance {request.int8_tolerance}: give Dice points, e.g. {INT8_TOLERANCE:g}")
    if request.calibration_patches < 1:
        raise LUnetError(f"--calibration-patches {request.calibration_patches}: give at least 1 (default "
                         f"{CALIBRATION_PATCHES})")
    preprocessed = os.path.join(require_env("nnUNet_preprocessed"), dataset_name)
    split = fold_split(preprocessed, request.fold)
    gt_folder = os.path.join(preprocessed, "gt_segmentations")
    with open(os.path.join(preprocessed, "dataset.json")) as f:
        ending = json.load(f)["file_ending"]
    missing = [c for c in split.val if not os.path.isfile(os.path.join(gt_folder, c + ending))]
    if missing:
        raise LUnetError(f"--int8 measures the Dice against {gt_folder}, which lacks {missing[0]}{ending}: run "
                         f"nnUNetv2_plan_and_preprocess for the dataset, or export without --int8")
    images = validation_images(os.path.join(require_env("nnUNet_raw"), dataset_name), split.val, ending)
    return Int8Inputs(split.train, images, gt_folder)


@dataclass(frozen=True)
class ExportedRun:
    """Where the checked run is."""

    dataset_name: str
    model_folder: str  # <trainer>__<plans>__<configuration>
    checkpoint_file: str
    int8_inputs: Optional[Int8Inputs] = None


def check_request(request: ExportRequest) -> ExportedRun:
    """Validate everything the module rules list; nothing is written."""
    from nnunet_lunet.datasets import require_env, resolve_dataset

    if not request.tolerance >= 0:
        raise LUnetError(f"parity tolerance {request.tolerance}: give a number >= 0")
    from nnunet_lunet.trained_run import model_folder as run_folder
    from nnunet_lunet.trained_run import require_fold

    dataset_name = resolve_dataset(request.dataset)
    model_folder = run_folder(require_env("nnUNet_results"), dataset_name, request.trainer, request.plans,
                              request.configuration)
    fold_folder = require_fold(model_folder, request.fold, dataset_name, request.configuration, request.trainer)
    checkpoint_file = os.path.join(fold_folder, request.checkpoint)
    if not os.path.isfile(checkpoint_file):
        raise LUnetError(f"no {request.checkpoint} in {fold_folder} (training unfinished?): pass --checkpoint "
                         f"checkpoint_best.pth or checkpoint_latest.pth, or finish the training")
    int8_inputs = _check_int8(request, dataset_name) if request.int8 else None
    check_replaceable(request.output, COMMAND, request.overwrite)
    return ExportedRun(dataset_name, model_folder, checkpoint_file, int8_inputs)


def _versions() -> dict:
    from importlib.metadata import version
    return {name: version(name) for name in ("torch", "onnx", "onnxruntime", "nnunetv2",
                                             "dynamic-network-architectures", "nnunet-lunet")}


def _write_folder(request: ExportRequest, run: ExportedRun, folder: str) -> ExportRecord:
    """Export, check parity and write every file into ``folder``; LUnetError when parity fails."""
    import torch

    from nnunet_lunet.deploy.onnx_graph import OPSET, export_graph, ort_session, run_session, spatial_divisor
    from nnunet_lunet.deploy.parity import graph_parity, parity_patch, preprocessed_data_folder, refusal
    from nnunet_lunet.trained_run import load_predictor, network_input, read_checkpoint, trained_network

    cpu = torch.device("cpu")
    predictor = load_predictor(run.model_folder, request.fold, request.checkpoint, cpu)
    network = trained_network(predictor, cpu)
    shape = network_input(predictor)
    patch, patch_source = parity_patch(
        preprocessed_data_folder(run.dataset_name, predictor.configuration_manager.data_identifier),
        shape.in_channels, shape.patch_size)
    onnx_path = os.path.join(folder, ONNX_FILE)
    export_graph(network, torch.from_numpy(patch), onnx_path)
    graph = ort_session(onnx_path)
    parity = graph_parity(network, lambda x: run_session(graph, x), patch)
    reason = refusal(parity, request.tolerance)
    if reason:
        raise LUnetError(f"parity check failed: PyTorch vs ONNX Runtime on the {patch_source}: {reason}; nothing "
                         f"was written. Check that onnx/onnxruntime match torch (pip install -U onnx onnxruntime) "
                         f"and report the network")
    for name in (PLANS_FILE, DATASET_FILE):
        shutil.copyfile(os.path.join(run.model_folder, name), os.path.join(folder, name))
    checkpoint = read_checkpoint(run.checkpoint_file)
    axes = checkpoint.get("inference_allowed_mirroring_axes")
    record = ExportRecord(
        dataset=run.dataset_name, configuration=request.configuration, trainer=checkpoint["trainer_name"],
        plans=request.plans, fold=str(request.fold), checkpoint=request.checkpoint,
        inference_allowed_mirroring_axes=None if axes is None else [int(a) for a in axes],
        input_channels=shape.in_channels, output_channels=int(predictor.label_manager.num_segmentation_heads),
        patch_size=list(shape.patch_size), spatial_divisor=list(spatial_divisor(network, len(shape.patch_size))),
        parity_max_abs_diff=parity.max_abs_diff, parity_tolerance=request.tolerance, parity_patch=patch_source,
        opset=OPSET, versions=_versions(), parity_logit_scale=parity.logit_scale,
        parity_relative_diff=parity.relative_diff, parity_max_probability_diff=parity.max_probability_diff,
        parity_argmax_differ_share=parity.argmax_differ_share,
        parity_argmax_differ_beyond_ties=parity.argmax_differ_beyond_ties)
    os.makedirs(os.path.join(folder, fold_name(record.fold)))
    torch.save(reduced_checkpoint(checkpoint), os.path.join(folder, record.checkpoint_path))
    write_record(record, folder)
    if request.int8:
        record = _add_int8(request, run, folder, record,
                           preprocessed_data_folder(run.dataset_name, predictor.configuration_manager.data_identifier))
        write_record(record, folder)
    return record


def _add_int8(request: ExportRequest, run: ExportedRun, folder: str, record: ExportRecord,
              data_folder: str) -> ExportRecord:
    """Quantize, measure and judge (module rules); the record with the INT8 figures, or LUnetError."""
    from dataclasses import replace
    from importlib.metadata import version

    from nnunet_lunet.deploy.int8 import calibration_patches, quantize_graph
    from nnunet_lunet.deploy.int8_validation import refusal, validation_dice

    inputs = run.int8_inputs
    patches = calibration_patches(data_folder, inputs.train_cases, record.patch_size, request.calibration_patches,
                                  request.calibration_seed)
    quantize_graph(os.path.join(folder, ONNX_FILE), patches, os.path.join(folder, INT8_FILE))
    figures = validation_dice(folder, record, inputs.validation_images, inputs.gt_folder)
    reason = refusal(figures, request.int8_tolerance)
    if reason:
        raise LUnetError(f"INT8 refused: {reason}, on {figures.validation_cases} validation case(s); nothing was "
                         f"written. Export without --int8, calibrate on more patches (--calibration-patches), or "
                         f"accept the loss with --int8-tolerance")
    return replace(record, int8_dice=figures.dice, int8_float32_dice=figures.float32_dice,
                   int8_labelled_otherwise_share=figures.labelled_otherwise_share,
                   int8_validation_cases=figures.validation_cases, int8_tolerance=request.int8_tolerance,
                   int8_calibration_patches=request.calibration_patches,
                   int8_calibration_seed=request.calibration_seed, int8_nncf_version=version("nncf"))


def export_onnx(request: ExportRequest) -> ExportRecord:
    """Write the model folder at ``request.output`` (see module rules); returns its record."""
    run = check_request(request)
    with staged_folder(request.output, COMMAND, request.overwrite) as staging:
        return _write_folder(request, run, staging)
