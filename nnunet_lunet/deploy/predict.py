"""``predict_folder``: nnU-Net's prediction of a folder of images with an exported model folder.

Rules:

- The predictor is nnU-Net's own (``nnUNetPredictor``): its preprocessing, sliding window (Gaussian weighting, tile
  step ``step_size``), test-time mirroring (the checkpoint's mirroring axes, unless ``mirroring`` is off), resampling
  and export (segmentations, and with ``save_probabilities`` the same ``.npz``/``.pkl`` files ``nnUNetv2_predict``
  writes), run through ``predict_from_files`` with ``processes`` worker processes for preprocessing and export, or,
  with ``processes`` 0, through ``predict_from_files_sequential`` in this process (no worker starts: each costs an
  interpreter that imports torch and nnU-Net again, seconds that outweigh a few small cases).
  With runtime ``onnxruntime``, ``openvino``, ``openvino-bf16`` or ``openvino-int8`` (optional, ``graph_runtimes``)
  only the network is replaced, by ``onnx_graph.OnnxNetwork`` running the folder's graph (``openvino-int8``: its
  INT8 graph, from ``export-onnx --int8``); with ``torch`` the network is rebuilt from the
  folder's reduced checkpoint as ``nnUNetv2_predict`` rebuilds it. Inference runs on the CPU.
- Checked before anything is written and before nnU-Net's workers start (``LUnetError``): the model folder
  (``model_folder.read_model_folder``), the input folder (``input_cases``: images named ``CASE_XXXX<file ending>``,
  every case with each channel the model takes, no other channel; ``check_images``: every image read in full, of the
  model's dimensions), the output (an existing, non-empty folder needs
  ``overwrite`` and must be an earlier prediction: ``safe_output``), ``step_size`` in (0, 1], ``processes`` >= 0,
  ``threads`` >= 0.
- The segmentations are written into a staging folder that replaces the output folder only when every case is done
  (``safe_output.staged_folder``, with its completion marker), so an interrupted prediction leaves the earlier one,
  and ``overwrite`` leaves no stale case of an earlier run.
- A progress bar over cases goes to stderr (with worker processes); nnU-Net's per-case messages are silenced.
"""

import contextlib
import os
import sys
from dataclasses import dataclass

from nnunet_lunet.deploy.graph_runtimes import GRAPH_RUNTIMES, graph_runner, require_graph_file, require_runtime
from nnunet_lunet.deploy.input_folder import check_images, input_cases
from nnunet_lunet.deploy.model_folder import DATASET_FILE, ONNX_FILE, PLANS_FILE, ExportRecord, read_model_folder
from nnunet_lunet.errors import LUnetError
from nnunet_lunet.plans.run_names import fold_name
from nnunet_lunet.safe_output import check_replaceable, staged_folder

COMMAND = "predict"
RUNTIMES = GRAPH_RUNTIMES + ("torch",)


@dataclass(frozen=True)
class PredictRequest:
    """``nnunet-lunet predict``'s arguments."""

    input_folder: str
    output_folder: str
    model_folder: str
    runtime: str = "onnxruntime"
    mirroring: bool = True
    step_size: float = 0.5
    save_probabilities: bool = False
    overwrite: bool = False
    processes: int = 2
    threads: int = 0  # the graph runtime's intra-op threads; 0 = its default


def check_request(request: PredictRequest) -> ExportRecord:
    """Validate everything the module rules list; nothing is written."""
    import json

    if request.runtime not in RUNTIMES:
        raise LUnetError(f"--runtime {request.runtime}: use one of {', '.join(RUNTIMES)}")
    if request.runtime != "torch":
        require_runtime(request.runtime)
    if not 0 < request.step_size <= 1:
        raise LUnetError(f"--step-size {request.step_size}: give a tile step in (0, 1] (nnU-Net's default 0.5)")
    if request.processes < 0:
        raise LUnetError(f"--processes {request.processes}: give 0 (no worker processes) or more")
    if request.threads < 0:
        raise LUnetError(f"--threads {request.threads}: give 0 (the runtime's default) or more")
    record = read_model_folder(request.model_folder, need_checkpoint=request.runtime == "torch")
    if request.runtime != "torch":
        require_graph_file(os.path.join(request.model_folder, ONNX_FILE), request.runtime)
    with open(os.path.join(request.model_folder, DATASET_FILE)) as f:
        dataset_json = json.load(f)
    input_cases(request.input_folder, dataset_json["file_ending"], record.input_channels)
    check_images(request.input_folder, dataset_json, len(record.patch_size))
    check_replaceable(request.output_folder, COMMAND, request.overwrite)
    return record


def _predictor_class():
    """``nnUNetPredictor`` with a progress bar over the cases it predicts."""
    from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor
    from tqdm import tqdm

    class ProgressPredictor(nnUNetPredictor):
        def _internal_get_data_iterator_from_lists_of_filenames(self, input_list_of_lists, *args, **kwargs):
            iterator = super()._internal_get_data_iterator_from_lists_of_filenames(input_list_of_lists, *args,
                                                                                   **kwargs)
            return tqdm(iterator, total=len(input_list_of_lists), desc="predict", unit="case", file=sys.stderr,
                        dynamic_ncols=True)

    return ProgressPredictor


def _graph(folder: str, request: PredictRequest, record: ExportRecord):
    """The runtime's session on the folder's graph; a file it cannot load is a ``LUnetError`` naming the file and the
    export that remakes it."""
    path = require_graph_file(os.path.join(folder, ONNX_FILE), request.runtime)
    try:
        return graph_runner(os.path.join(folder, ONNX_FILE), request.runtime, request.threads)
    except LUnetError:
        raise
    except Exception as error:  # noqa: BLE001 - a damaged model fails in each runtime's own way
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else "unreadable"
        raise LUnetError(f"{path} cannot be loaded by --runtime {request.runtime} ({type(error).__name__}: "
                         f"{reason}): it is damaged; export the model again into a new folder with {remake(record)}, "
                         f"and pass that folder with -m") from None


def remake(record: ExportRecord) -> str:
    """The ``export-onnx`` command line that writes the model of ``record`` again."""
    extra = "" if record.checkpoint == "checkpoint_final.pth" else f" --checkpoint {record.checkpoint}"
    extra += " --int8" if record.int8_dice is not None else ""
    return (f"nnunet-lunet export-onnx -d {record.dataset} -c {record.configuration} -tr {record.trainer} -p "
            f"{record.plans} -f {record.fold}{extra} -o NEW_FOLDER")


def build_predictor(request: PredictRequest, record: ExportRecord):
    """A CPU ``nnUNetPredictor`` (with progress) whose network is the ONNX graph or the folder's checkpoint."""
    import json

    import torch
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

    from nnunet_lunet.checkpoints import check_model_folder_checkpoint
    from nnunet_lunet.deploy.onnx_graph import OnnxNetwork

    predictor = _predictor_class()(tile_step_size=request.step_size, use_gaussian=True,
                                   use_mirroring=request.mirroring, perform_everything_on_device=False,
                                   device=torch.device("cpu"), verbose=False, allow_tqdm=False)
    folder = request.model_folder
    if request.runtime == "torch":
        check_model_folder_checkpoint(os.path.join(folder, fold_name(record.fold)), record.checkpoint)
        predictor.initialize_from_trained_model_folder(folder, use_folds=(record.fold if record.fold == "all" else
                                                                          int(record.fold),),
                                                       checkpoint_name=record.checkpoint)
        return predictor
    with open(os.path.join(folder, PLANS_FILE)) as f:
        plans_manager = PlansManager(json.load(f))
    with open(os.path.join(folder, DATASET_FILE)) as f:
        dataset_json = json.load(f)
    network = OnnxNetwork(_graph(folder, request, record))
    axes = record.inference_allowed_mirroring_axes
    predictor.manual_initialization(network, plans_manager, plans_manager.get_configuration(record.configuration),
                                    [{}], dataset_json, record.trainer, None if axes is None else tuple(axes))
    predictor.network = network  # never a torch.compile wrapper (nnUNet_compile) around a session
    return predictor


def predict_folder(request: PredictRequest) -> int:
    """Predict every image of the input folder into the output folder (see module rules); returns the number of
    input cases."""
    record = check_request(request)
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        predictor = build_predictor(request, record)
        with staged_folder(request.output_folder, COMMAND, request.overwrite) as staging:
            if request.processes == 0:
                predictor.predict_from_files_sequential(os.path.abspath(request.input_folder), staging,
                                                        save_probabilities=request.save_probabilities, overwrite=True)
            else:
                predictor.predict_from_files(os.path.abspath(request.input_folder), staging,
                                             save_probabilities=request.save_probabilities, overwrite=True,
                                             num_processes_preprocessing=request.processes,
                                             num_processes_segmentation_export=request.processes)
    return len(input_cases(request.input_folder, predictor.dataset_json["file_ending"], record.input_channels))
