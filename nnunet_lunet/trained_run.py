"""A trained nnU-Net run: where it lives, its checkpoint, its preprocessed data, and its network rebuilt exactly as
nnU-Net's predictor rebuilds it. Below ``deploy`` and ``benchmark``, which both read runs through it.

Rules:

- A run of trainer T, plans P and configuration C is the folder ``$nnUNet_results/<dataset>/T__P__C``
  (``model_folder``, nnU-Net's layout, named by ``plans.run_names``) with one ``fold_<F>`` folder per fold (``fold_folder``); ``require_fold``
  raises the one "no training run at ..." ``LUnetError`` naming the ``nnUNetv2_train`` command that makes it.
- Checkpoints are read in one place, ``_load_checkpoint`` (on the CPU, as nnU-Net saved them); ``read_checkpoint``
  is its public entry.
- The network: ``nnUNetPredictor.initialize_from_trained_model_folder(model_folder, use_folds=(fold,),
  checkpoint_name=...)`` finds the trainer class named in the checkpoint, calls its ``build_network_architecture``
  with the model folder's ``plans.json`` and ``dataset.json`` (deep supervision off), and loads the fold's weights;
  the network is then ``predictor.network`` with ``load_state_dict(predictor.list_of_parameters[0])``. Nothing is
  special-cased: networks that resize themselves in ``load_state_dict`` (pruned ones) come out at their trained
  widths, as they do in ``nnUNetv2_predict``.
- A configuration's preprocessed data: ``$nnUNet_preprocessed/<dataset>/<data_identifier>``, read with the dataset
  class nnU-Net infers for the folder (``preprocessed_case``).
- Deep supervision is switched as nnU-Net's trainer switches it: ``network.decoder.deep_supervision``; networks
  without that attribute are used as they are (``set_deep_supervision``).
"""

import contextlib
import os
from dataclasses import dataclass
from typing import List, Tuple

import numpy as np

from nnunet_lunet.datasets import dataset_id
from nnunet_lunet.errors import LUnetError
from nnunet_lunet.plans.run_names import fold_name, model_name


@dataclass(frozen=True)
class NetworkInput:
    """What one patch and one training batch of the model look like."""

    in_channels: int
    patch_size: Tuple[int, ...]
    batch_size: int


def model_folder_name(trainer: str, plans: str, configuration: str) -> str:
    return model_name(trainer, plans, configuration)


def model_folder(results: str, dataset_name: str, trainer: str, plans: str, configuration: str) -> str:
    """``<results>/<dataset>/<trainer>__<plans>__<configuration>``."""
    return os.path.join(results, dataset_name, model_folder_name(trainer, plans, configuration))


def fold_folder(model_folder: str, fold) -> str:
    return os.path.join(model_folder, fold_name(fold))


def require_fold(model_folder: str, fold, dataset_name: str, configuration: str, trainer: str) -> str:
    """The run's fold folder; ``LUnetError`` naming how to train it when it is missing."""
    folder = fold_folder(model_folder, fold)
    if not os.path.isdir(folder):
        raise LUnetError(f"no training run at {folder}: check -tr, -p, -c and -f (train it with nnUNetv2_train "
                         f"{dataset_id(dataset_name)} {configuration} {fold} -tr {trainer})")
    return folder


def _load_checkpoint(path: str) -> dict:
    """The one place a checkpoint is read (module rules): ``weights_only=True`` through
    ``nnunet_lunet.checkpoints.load_checkpoint``, so a checkpoint that holds code is refused, never run."""
    from nnunet_lunet.checkpoints import load_checkpoint

    return load_checkpoint(path, map_location="cpu")


def read_checkpoint(path: str) -> dict:
    """The nnU-Net checkpoint at ``path`` (network weights, trainer name, init args, mirroring axes, ...)."""
    return _load_checkpoint(path)


def load_predictor(model_folder: str, fold: str, checkpoint_name: str, device, mirroring: bool = True,
                   quiet: bool = True):
    """An ``nnUNetPredictor`` initialised from one fold of a trained model, with nnU-Net's default inference
    settings (tile step 0.5, Gaussian weighting, test-time mirroring unless ``mirroring`` is off, as
    ``nnUNetv2_predict --disable_tta``); its printed output goes nowhere when ``quiet``."""
    from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor

    checkpoint = os.path.join(fold_folder(model_folder, fold), checkpoint_name)
    if not os.path.isfile(checkpoint):
        raise FileNotFoundError(f"no {checkpoint_name} in {fold_name(fold)} (train it, or pass --checkpoint)")
    from nnunet_lunet.checkpoints import check_model_folder_checkpoint

    check_model_folder_checkpoint(fold_folder(model_folder, fold), checkpoint_name)  # before nnU-Net unpickles it
    with open(os.devnull, "w") as devnull, (contextlib.redirect_stdout(devnull) if quiet else
                                            contextlib.nullcontext()):
        predictor = nnUNetPredictor(tile_step_size=0.5, use_gaussian=True, use_mirroring=mirroring,
                                    perform_everything_on_device=device.type == "cuda", device=device,
                                    verbose=False, allow_tqdm=False)
        predictor.initialize_from_trained_model_folder(model_folder, use_folds=(fold if fold == "all" else int(fold),),
                                                       checkpoint_name=checkpoint_name)
    return predictor


def trained_network(predictor, device):
    """The predictor's network with the fold's weights loaded, on ``device``; unwrapped from ``torch.compile``
    (which the predictor applies when ``nnUNet_compile`` is true), as nnU-Net loads weights into it."""
    network = getattr(predictor.network, "_orig_mod", predictor.network)
    network.load_state_dict(predictor.list_of_parameters[0])
    return network.to(device)


def network_input(predictor) -> NetworkInput:
    """Input channels as the predictor computes them, patch and batch size from the model's plans."""
    from nnunetv2.utilities.label_handling.label_handling import determine_num_input_channels

    cm = predictor.configuration_manager
    n_in = determine_num_input_channels(predictor.plans_manager, cm, predictor.dataset_json)
    return NetworkInput(int(n_in), tuple(int(s) for s in cm.patch_size), int(cm.batch_size))


def label_names(predictor) -> List[Tuple[str, str]]:
    """``[(summary.json key, label name)]`` of the foreground labels or regions, in nnU-Net's order."""
    def key(value) -> str:  # nnU-Net's label_or_region_to_key: str(int) or str(tuple)
        return str(tuple(value)) if isinstance(value, (list, tuple)) else str(value)

    lm = predictor.label_manager
    by_key = {key(v): name for name, v in predictor.dataset_json["labels"].items()}
    return [(key(k), by_key.get(key(k), key(k)))
            for k in (lm.foreground_regions if lm.has_regions else lm.foreground_labels)]


def set_deep_supervision(network, enabled: bool) -> bool:
    """Switch deep supervision; returns whether the network has the switch."""
    decoder = getattr(network, "decoder", None)
    if decoder is None or not hasattr(decoder, "deep_supervision"):
        return False
    decoder.deep_supervision = enabled
    return True


def preprocessed_case(folder: str, identifier: str = None) -> Tuple[np.ndarray, str]:
    """``(data, identifier)`` of one case (default: the first of nnU-Net's identifiers) in a preprocessed data folder;
    FileNotFoundError if it has none."""
    from nnunetv2.training.dataloading.nnunet_dataset import infer_dataset_class

    if not os.path.isdir(folder) or not os.listdir(folder):
        raise FileNotFoundError(folder)
    dataset = infer_dataset_class(folder)(folder)
    if not dataset.identifiers:
        raise FileNotFoundError(folder)
    identifier = identifier if identifier is not None else dataset.identifiers[0]
    if identifier not in dataset.identifiers:
        raise FileNotFoundError(f"no case {identifier} in {folder}")
    data = dataset.load_case(identifier)[0]
    return np.asarray(data[:], dtype=np.float32), identifier
