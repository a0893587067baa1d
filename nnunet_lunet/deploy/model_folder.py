"""The exported model folder (``export-onnx -o DIR``, ``predict -m DIR``): everything inference needs, nothing else.

Layout:

- ``model.onnx``: the network without deep supervision (see ``onnx_graph``);
- ``plans.json``, ``dataset.json``: the trained model's own copies (from its results folder), which nnU-Net's
  preprocessing and export read;
- ``export.json``: the ``ExportRecord`` (configuration, trainer, plans, fold, checkpoint, mirroring axes,
  input/output channels, patch size, spatial divisor, parity figures (``parity.Parity``), opset, versions; with
  ``--int8`` the INT8 figures and calibration settings, ``int8_*``);
- ``model_int8.xml``/``.bin`` (only with ``export-onnx --int8``): the graph quantized to INT8 by NNCF, in OpenVINO's
  format (``int8``), which ``predict --runtime openvino-int8`` runs;
- ``fold_<F>/<checkpoint>``: the checkpoint reduced to what nnU-Net's predictor reads (network weights, trainer
  name, init args, mirroring axes; no optimizer state), so ``predict --runtime torch`` (and
  ``nnUNetv2_predict_from_modelfolder -m DIR -f F``) runs the same model in PyTorch.

``read_model_folder`` checks the folder before anything is predicted and raises ``LUnetError`` naming what is missing.
"""

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

from nnunet_lunet.errors import LUnetError
from nnunet_lunet.plans.run_names import fold_name

ONNX_FILE = "model.onnx"
INT8_FILE = "model_int8.xml"  # with its weights in model_int8.bin
PLANS_FILE = "plans.json"
DATASET_FILE = "dataset.json"
RECORD_FILE = "export.json"
FORMAT_VERSION = 1


@dataclass
class ExportRecord:
    """What ``export.json`` holds."""

    dataset: str
    configuration: str
    trainer: str
    plans: str
    fold: str
    checkpoint: str
    inference_allowed_mirroring_axes: Optional[List[int]]
    input_channels: int
    output_channels: int
    patch_size: List[int]
    spatial_divisor: List[int]
    parity_max_abs_diff: float
    parity_tolerance: float
    parity_patch: str
    opset: int
    versions: Dict[str, str] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    # ``parity.Parity``'s other figures (absent from folders exported before they were recorded)
    parity_logit_scale: Optional[float] = None
    parity_relative_diff: Optional[float] = None  # the judged figure: parity_max_abs_diff / parity_logit_scale
    parity_max_probability_diff: Optional[float] = None
    parity_argmax_differ_share: Optional[float] = None
    parity_argmax_differ_beyond_ties: Optional[int] = None
    # ``int8_validation.Int8Figures`` and the calibration settings (only in folders exported with --int8)
    int8_dice: Optional[float] = None  # mean foreground Dice on the fold's validation cases, INT8 graph
    int8_float32_dice: Optional[float] = None  # the same for the float32 graph
    int8_labelled_otherwise_share: Optional[float] = None
    int8_validation_cases: Optional[int] = None
    int8_tolerance: Optional[float] = None  # Dice points
    int8_calibration_patches: Optional[int] = None
    int8_calibration_seed: Optional[int] = None
    int8_nncf_version: Optional[str] = None

    @property
    def checkpoint_path(self) -> str:
        """Relative path of the reduced checkpoint in the folder."""
        return os.path.join(fold_name(self.fold), self.checkpoint)


def write_record(record: ExportRecord, folder: str) -> None:
    with open(os.path.join(folder, RECORD_FILE), "w") as f:
        json.dump(asdict(record), f, indent=2)
        f.write("\n")


def read_record(folder: str) -> ExportRecord:
    with open(os.path.join(folder, RECORD_FILE)) as f:
        data = json.load(f)
    if data.get("format_version") != FORMAT_VERSION:
        raise LUnetError(f"{os.path.join(folder, RECORD_FILE)} has format version {data.get('format_version')}, "
                         f"this nnunet-lunet reads {FORMAT_VERSION}: export the model again with nnunet-lunet "
                         f"export-onnx")
    return ExportRecord(**data)


def read_model_folder(folder: str, need_checkpoint: bool = False) -> ExportRecord:
    """The folder's record, after checking that every file inference needs is there."""
    if not os.path.isdir(folder):
        raise LUnetError(f"model folder {folder} does not exist: pass the -o folder of nnunet-lunet export-onnx "
                         f"with -m")
    for name in (RECORD_FILE, ONNX_FILE, PLANS_FILE, DATASET_FILE):
        if not os.path.isfile(os.path.join(folder, name)):
            raise LUnetError(f"model folder {folder} has no {name}: it is not an export-onnx folder; export a "
                             f"trained model into a new folder with nnunet-lunet export-onnx -d DATASET -c "
                             f"CONFIGURATION -tr TRAINER -f FOLD -o NEW_FOLDER, and pass that folder with -m")
    record = read_record(folder)
    if need_checkpoint and not os.path.isfile(os.path.join(folder, record.checkpoint_path)):
        raise LUnetError(f"model folder {folder} has no {record.checkpoint_path}, which --runtime torch needs: "
                         f"export the model again, or use --runtime onnxruntime")
    return record


def reduced_checkpoint(checkpoint: dict) -> dict:
    """The keys of an nnU-Net checkpoint that its predictor reads."""
    keep = ("network_weights", "trainer_name", "init_args", "inference_allowed_mirroring_axes")
    return {k: checkpoint[k] for k in keep if k in checkpoint}
