"""A trained model's network, rebuilt exactly as nnU-Net's predictor rebuilds it.

``nnUNetPredictor.initialize_from_trained_model_folder(model_folder, use_folds=(fold,), checkpoint_name=...)`` finds
the trainer class named in the checkpoint, calls its ``build_network_architecture`` with the model folder's
``plans.json`` and ``dataset.json``, and loads the fold's weights; the network is then ``predictor.network`` with
``load_state_dict(predictor.list_of_parameters[0])``. Nothing is special-cased: networks that resize themselves in
``load_state_dict`` (pruned ones) come out at their trained widths, as they do in ``nnUNetv2_predict``.
"""

import contextlib
import os
from dataclasses import dataclass
from typing import List, Tuple

import torch
from torch import nn


@dataclass(frozen=True)
class NetworkInput:
    """What one patch and one training batch of the model look like."""

    in_channels: int
    patch_size: Tuple[int, ...]
    batch_size: int


def fold_folder(model_folder: str, fold: str) -> str:
    return os.path.join(model_folder, f"fold_{fold}")


def load_predictor(model_folder: str, fold: str, checkpoint_name: str, device: torch.device, mirroring: bool = True,
                   quiet: bool = True):
    """An ``nnUNetPredictor`` initialised from one fold of a trained model, with nnU-Net's default inference
    settings (tile step 0.5, Gaussian weighting, test-time mirroring unless ``mirroring`` is off, as
    ``nnUNetv2_predict --disable_tta``); its printed output goes nowhere when ``quiet``."""
    from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor

    from nnunet_lunet.checkpoints import check_model_folder_checkpoint

    checkpoint = os.path.join(fold_folder(model_folder, fold), checkpoint_name)
    if not os.path.isfile(checkpoint):
        raise FileNotFoundError(f"no {checkpoint_name} in fold_{fold} (train it, or pass --checkpoint)")
    check_model_folder_checkpoint(fold_folder(model_folder, fold), checkpoint_name)  # before nnU-Net unpickles it
    with open(os.devnull, "w") as devnull, (contextlib.redirect_stdout(devnull) if quiet else
                                            contextlib.nullcontext()):
        predictor = nnUNetPredictor(tile_step_size=0.5, use_gaussian=True, use_mirroring=mirroring,
                                    perform_everything_on_device=device.type == "cuda", device=device,
                                    verbose=False, allow_tqdm=False)
        predictor.initialize_from_trained_model_folder(model_folder, use_folds=(fold if fold == "all" else int(fold),),
                                                       checkpoint_name=checkpoint_name)
    return predictor


def trained_network(predictor, device: torch.device) -> nn.Module:
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
