"""``export_onnx``: a trained model (LUnet, pruned or nnU-Net's default) as a self-contained model folder.

Rules:

- The run is ``$nnUNet_results/<dataset>/<trainer>__<plans>__<configuration>/fold_<fold>/<checkpoint>``; the network
  is rebuilt as nnU-Net's predictor rebuilds it (``benchmark.trained_network``: the trainer class named in the
  checkpoint, deep supervision off, pruned networks at their trained widths).
- Checked before anything is written, each with one ``LUnetError``: the dataset, the run folder, the fold, the
  checkpoint, the output (an existing ``output`` needs ``overwrite`` and must be an earlier export: see
  ``safe_output``), the tolerance (>= 0).
- Parity (``parity``): PyTorch vs ONNX Runtime on one patch; above ``tolerance`` (default 1e-3) the export is
  refused. Everything is written to a staging folder beside ``output`` and moved into place only when parity
  holds (``safe_output.staged_folder``), so a refused, failed or interrupted export leaves nothing at ``output``
  (and, with ``overwrite``, the old folder untouched).
- The folder's layout: ``model_folder``.
"""

import os
import shutil
from dataclasses import dataclass

from nnunet_lunet.deploy.model_folder import (DATASET_FILE, ONNX_FILE, PLANS_FILE, ExportRecord, reduced_checkpoint,
                                              write_record)
from nnunet_lunet.errors import LUnetError
from nnunet_lunet.safe_output import check_replaceable, staged_folder

COMMAND = "export-onnx"

# Largest absolute logit difference between PyTorch and the exported graph that export-onnx accepts (module rules).
# Here, not in ``parity``, which imports torch: the command line's parser shows it.
PARITY_TOLERANCE = 1e-3


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
    dataset_name = resolve_dataset(request.dataset)
    model_folder = os.path.join(require_env("nnUNet_results"), dataset_name,
                                f"{request.trainer}__{request.plans}__{request.configuration}")
    fold_folder = os.path.join(model_folder, f"fold_{request.fold}")
    if not os.path.isdir(fold_folder):
        raise LUnetError(f"no training run at {fold_folder}: check -tr, -p, -c and -f (train it with nnUNetv2_train "
                         f"{int(dataset_name[7:10])} {request.configuration} {request.fold} -tr {request.trainer})")
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

    from nnunet_lunet.benchmark.trained_network import load_predictor, network_input, trained_network
    from nnunet_lunet.checkpoints import load_checkpoint
    from nnunet_lunet.deploy.onnx_graph import OPSET, export_graph, ort_session, spatial_divisor
    from nnunet_lunet.deploy.parity import max_abs_diff, parity_patch, preprocessed_data_folder

    cpu = torch.device("cpu")
    predictor = load_predictor(run.model_folder, request.fold, request.checkpoint, cpu)
    network = trained_network(predictor, cpu)
    shape = network_input(predictor)
    patch, patch_source = parity_patch(
        preprocessed_data_folder(run.dataset_name, predictor.configuration_manager.data_identifier),
        shape.in_channels, shape.patch_size)
    onnx_path = os.path.join(folder, ONNX_FILE)
    export_graph(network, torch.from_numpy(patch), onnx_path)
    diff = max_abs_diff(network, ort_session(onnx_path), patch)
    if not diff <= request.tolerance:
        raise LUnetError(f"parity check failed: PyTorch and ONNX Runtime logits differ by up to {diff:.3g} on the "
                         f"{patch_source} (tolerance {request.tolerance:g}); nothing was written. Check that "
                         f"onnx/onnxruntime match torch (pip install -U onnx onnxruntime) and report the network")
    for name in (PLANS_FILE, DATASET_FILE):
        shutil.copyfile(os.path.join(run.model_folder, name), os.path.join(folder, name))
    checkpoint = load_checkpoint(run.checkpoint_file)
    axes = checkpoint.get("inference_allowed_mirroring_axes")
    record = ExportRecord(
        dataset=run.dataset_name, configuration=request.configuration, trainer=checkpoint["trainer_name"],
        plans=request.plans, fold=str(request.fold), checkpoint=request.checkpoint,
        inference_allowed_mirroring_axes=None if axes is None else [int(a) for a in axes],
        input_channels=shape.in_channels, output_channels=int(predictor.label_manager.num_segmentation_heads),
        patch_size=list(shape.patch_size), spatial_divisor=list(spatial_divisor(network, len(shape.patch_size))),
        parity_max_abs_diff=diff, parity_tolerance=request.tolerance, parity_patch=patch_source, opset=OPSET,
        versions=_versions())
    os.makedirs(os.path.join(folder, f"fold_{record.fold}"))
    torch.save(reduced_checkpoint(checkpoint), os.path.join(folder, record.checkpoint_path))
    write_record(record, folder)
    return record


def export_onnx(request: ExportRequest) -> ExportRecord:
    """Write the model folder at ``request.output`` (see module rules); returns its record."""
    run = check_request(request)
    with staged_folder(request.output, COMMAND, request.overwrite) as staging:
        return _write_folder(request, run, staging)
