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
  ``threads`` >= 0, ``tile_size`` (``tiles.resolve_tile``: whole, positive, a multiple of the network's stride).
- Tile size (``tile_size``, ``tiles``): nnU-Net's sliding window with tiles of that size instead of the training
  patch, for every runtime (the graphs' spatial axes are dynamic). For a graph runtime and a tile other than the
  training patch, the folder's ONNX graph is first checked against its PyTorch weights at the tile size (``parity``'s
  judgement and the folder's parity tolerance, on a seeded standard-normal tile; in the runtime itself for
  ``openvino``, in ONNX Runtime for ``openvino-bf16`` and ``openvino-int8``, which do not compute the float32 graph,
  whose output shape is checked instead); a refusal is one ``LUnetError`` before anything is predicted. A tile larger
  than both the training patch and a case's preprocessed image is refused at that case (``tiles.check_fits``).
- The segmentations are written into a staging folder that replaces the output folder only when every case is done
  (``safe_output.staged_folder``, with its completion marker), so an interrupted prediction leaves the earlier one,
  and ``overwrite`` leaves no stale case of an earlier run.
- A progress bar over cases goes to stderr (with worker processes); nnU-Net's per-case messages are silenced.
"""

import contextlib
import os
import sys
from dataclasses import dataclass
from functools import partial
from typing import Optional, Sequence

from nnunet_lunet.deploy.graph_runtimes import GRAPH_RUNTIMES, graph_runner, require_graph_file, require_runtime
from nnunet_lunet.deploy.input_folder import check_images, input_cases
from nnunet_lunet.deploy.model_folder import DATASET_FILE, ONNX_FILE, PLANS_FILE, ExportRecord, read_model_folder
from nnunet_lunet.deploy.tiles import Tile, check_fits, resolve_tile, tile_text, tiled_configuration
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
    tile_size: Optional[Sequence[str]] = None  # ``tiles.parse_tile_size``'s strings; None: the training patch


def request_tile(request: PredictRequest, record: ExportRecord) -> Tile:
    """The request's tile in voxels (``tiles.resolve_tile``; the training patch without ``tile_size``)."""
    return resolve_tile(request.tile_size, record.patch_size, record.spatial_divisor)


def _needs_tile_parity(request: PredictRequest, record: ExportRecord) -> bool:
    return request.runtime != "torch" and list(request_tile(request, record)) != list(record.patch_size)


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
    if _needs_tile_parity(request, record) and not os.path.isfile(os.path.join(request.model_folder,
                                                                                record.checkpoint_path)):
        raise LUnetError(f"model folder {request.model_folder} has no {record.checkpoint_path}, against which "
                         f"--tile-size checks the graph at the new size: export the model again, or leave out "
                         f"--tile-size")
    with open(os.path.join(request.model_folder, DATASET_FILE)) as f:
        dataset_json = json.load(f)
    input_cases(request.input_folder, dataset_json["file_ending"], record.input_channels)
    check_images(request.input_folder, dataset_json, len(record.patch_size))
    check_replaceable(request.output_folder, COMMAND, request.overwrite)
    return record


def _predictor_class():
    """``nnUNetPredictor`` with a progress bar over the cases it predicts, refusing a tile that does not fit a case
    (``tiles.check_fits``; ``training_patch`` is set by ``build_predictor``)."""
    from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor
    from tqdm import tqdm

    class ProgressPredictor(nnUNetPredictor):
        def _internal_get_data_iterator_from_lists_of_filenames(self, input_list_of_lists, *args, **kwargs):
            iterator = super()._internal_get_data_iterator_from_lists_of_filenames(input_list_of_lists, *args,
                                                                                   **kwargs)
            return tqdm(iterator, total=len(input_list_of_lists), desc="predict", unit="case", file=sys.stderr,
                        dynamic_ncols=True)

        def predict_sliding_window_return_logits(self, input_image):
            check_fits(self.configuration_manager.patch_size, self.training_patch, input_image.shape[1:])
            return super().predict_sliding_window_return_logits(input_image)

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
    """A CPU ``nnUNetPredictor`` (with progress) whose network is the ONNX graph or the folder's checkpoint, tiling at
    the request's tile size."""
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
        return _tiled(predictor, request, record)
    with open(os.path.join(folder, PLANS_FILE)) as f:
        plans_manager = PlansManager(json.load(f))
    with open(os.path.join(folder, DATASET_FILE)) as f:
        dataset_json = json.load(f)
    network = OnnxNetwork(_graph(folder, request, record))
    axes = record.inference_allowed_mirroring_axes
    predictor.manual_initialization(network, plans_manager, plans_manager.get_configuration(record.configuration),
                                    [{}], dataset_json, record.trainer, None if axes is None else tuple(axes))
    predictor.network = network  # never a torch.compile wrapper (nnUNet_compile) around a session
    return _tiled(predictor, request, record)


def _tiled(predictor, request: PredictRequest, record: ExportRecord):
    predictor.training_patch = tuple(predictor.configuration_manager.patch_size)
    predictor.configuration_manager = tiled_configuration(predictor.configuration_manager,
                                                          request_tile(request, record))
    return predictor


def check_tile_parity(request: PredictRequest, record: ExportRecord):
    """The module rules' check of the graph at the request's tile (``parity.Parity``, or None where none is
    needed); LUnetError on a refusal."""
    if not _needs_tile_parity(request, record):
        return None
    import torch

    from nnunet_lunet.deploy.onnx_graph import ort_session, run_session
    from nnunet_lunet.deploy.parity import graph_parity, parity_patch, refusal
    from nnunet_lunet.trained_run import load_predictor, trained_network

    tile = request_tile(request, record)
    patch, _ = parity_patch(None, record.input_channels, tile)
    onnx_path = os.path.join(request.model_folder, ONNX_FILE)
    cpu = torch.device("cpu")
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        network = trained_network(load_predictor(request.model_folder, record.fold, record.checkpoint, cpu), cpu)
    if request.runtime in ("onnxruntime", "openvino"):
        float32 = graph_runner(onnx_path, request.runtime, request.threads)
    else:  # bf16 and INT8 are not the float32 computation: check the graph they come from, and their shape
        float32 = partial(run_session, ort_session(onnx_path, threads=request.threads))
        shape = graph_runner(onnx_path, request.runtime, request.threads)(patch).shape
        if shape != (1, record.output_channels, *tile):
            raise LUnetError(f"--runtime {request.runtime} returned logits of shape {shape} for a {tile_text(tile)} "
                             f"tile: export the model again with nnunet-lunet export-onnx, or leave out --tile-size")
    parity = graph_parity(network, float32, patch)
    reason = refusal(parity, record.parity_tolerance)
    if reason:
        raise LUnetError(f"--tile-size {tile_text(tile)}: the graph differs from the model's PyTorch weights at "
                         f"that size ({reason}); nothing was written. Leave out --tile-size, or export the model "
                         f"again with nnunet-lunet export-onnx and report the network")
    return parity


@dataclass(frozen=True)
class Predicted:
    """What ``predict_folder`` did."""

    cases: int
    tile: Tile
    tile_parity: object = None  # ``parity.Parity`` of the graph at the tile, where it was checked


def predict_folder(request: PredictRequest) -> Predicted:
    """Predict every image of the input folder into the output folder (see module rules)."""
    record = check_request(request)
    parity = check_tile_parity(request, record)
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
    cases = input_cases(request.input_folder, predictor.dataset_json["file_ending"], record.input_channels)
    return Predicted(len(cases), request_tile(request, record), parity)
