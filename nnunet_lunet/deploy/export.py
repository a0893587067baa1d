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
- The folder's layout: ``model_folder``.
"""

import os
import shutil
from dataclasses import dataclass

from nnunet_lunet.deploy.model_folder import (DATASET_FILE, ONNX_FILE, PLANS_FILE, ExportRecord, reduced_checkpoint,
                                              write_record)
from nnunet_lunet.deploy.parity import PARITY_TOLERANCE
from nnunet_lunet.errors import LUnetError
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


@dataclass(frozen=True)
class ExportedRun:
    """Where the checked run is."""

    dataset_name: str
    model_folder: str  # <trainer>__<plans>__<configuration>
    checkpoint_file: str


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
    check_replaceable(request.output, COMMAND, request.overwrite)
    return ExportedRun(dataset_name, model_folder, checkpoint_file)


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
    os.makedirs(os.path.join(folder, f"fold_{record.fold}"))
    torch.save(reduced_checkpoint(checkpoint), os.path.join(folder, record.checkpoint_path))
    write_record(record, folder)
    return record


def export_onnx(request: ExportRequest) -> ExportRecord:
    """Write the model folder at ``request.output`` (see module rules); returns its record."""
    run = check_request(request)
    with staged_folder(request.output, COMMAND, request.overwrite) as staging:
        return _write_folder(request, run, staging)
