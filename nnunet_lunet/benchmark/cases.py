"""The whole case a benchmark times sliding-window prediction on.

Rules: the first case (sorted identifiers) of the configuration's preprocessed data folder,
``$nnUNet_preprocessed/<dataset>/<data_identifier>`` (``trained_run.preprocessed_case``), so
every model of a configuration and its variants (which share ``data_identifier``) is timed on the same case. If that
folder is missing or empty: a standard-normal tensor of the plans' median image shape (for 2D configurations the
full-resolution median's first axis times the 2D median, as nnU-Net predicts a volume slice by slice). The
description says which.

A chosen case (``chosen_case``): ``largest`` (the fold's largest validation case by voxels, from the dataset's
``splits_final.json``; every case of the folder without one) or a case identifier, optionally repeated ``repeat``
times along every spatial axis (``numpy.tile``), so that a dataset whose cases fit in one tile (MSD Hippocampus:
one 40x56x40 patch) still gives a volume of many tiles (3: 27 copies, 125 tiles at nnU-Net's step 0.5), as real
CT and MRI volumes have. nnU-Net's sliding window does not look at the values: only the shape decides the work.
"""

import json
import os
from typing import List, Optional, Tuple

import numpy as np

import torch

from nnunet_lunet.trained_run import preprocessed_case


def median_shape(plans_manager, configuration_manager) -> Tuple[int, ...]:
    """Spatial shape of a median image as the predictor receives it for this configuration."""
    shape = [int(round(s)) for s in configuration_manager.median_image_size_in_voxels]
    if len(configuration_manager.patch_size) == 2 and len(shape) == 2:
        shape = [int(round(plans_manager.original_median_shape_after_transp[0]))] + shape
    return tuple(shape)


def benchmark_case(preprocessed_dataset_folder: str, plans_manager, configuration_manager,
                   in_channels: int) -> Tuple[torch.Tensor, str]:
    """``(image, description)``: the image as ``predict_sliding_window_return_logits`` takes it (C x spatial)."""
    folder = os.path.join(preprocessed_dataset_folder, configuration_manager.data_identifier)
    try:
        data, identifier = preprocessed_case(folder)
        shape = "x".join(str(s) for s in data.shape[1:])
        return torch.from_numpy(data), f"preprocessed case {identifier} ({shape})"
    except FileNotFoundError:
        shape = median_shape(plans_manager, configuration_manager)
        generator = torch.Generator().manual_seed(0)
        image = torch.randn((in_channels, *shape), generator=generator)
        return image, f"random tensor of the median shape ({'x'.join(str(s) for s in shape)}; no preprocessed data)"


def _validation_cases(preprocessed_dataset_folder: str, fold: int) -> Optional[List[str]]:
    splits = os.path.join(preprocessed_dataset_folder, "splits_final.json")
    if not os.path.isfile(splits):
        return None
    with open(splits) as f:
        return list(json.load(f)[fold]["val"])


def _largest(folder: str, identifiers: Optional[List[str]]) -> str:
    """The identifier (of ``identifiers``, default all) whose preprocessed data has the most voxels."""
    from nnunetv2.training.dataloading.nnunet_dataset import infer_dataset_class

    dataset = infer_dataset_class(folder)(folder)
    candidates = [i for i in (identifiers or dataset.identifiers) if i in set(dataset.identifiers)]
    if not candidates:
        raise FileNotFoundError(folder)
    return max(sorted(candidates), key=lambda i: int(np.prod(dataset.load_case(i)[0].shape[1:])))


def chosen_case(preprocessed_dataset_folder: str, data_identifier: str, which: str, repeat: int = 1,
                fold: int = 0) -> Tuple[torch.Tensor, str]:
    """``(image C x spatial, description)`` of the case ``which`` (``largest`` or an identifier) repeated
    ``repeat`` times per spatial axis (module rules); FileNotFoundError when the folder or case is missing."""
    folder = os.path.join(preprocessed_dataset_folder, data_identifier)
    if not os.path.isdir(folder):
        raise FileNotFoundError(folder)
    identifier = _largest(folder, _validation_cases(preprocessed_dataset_folder, fold)) if which == "largest" \
        else which
    data, identifier = preprocessed_case(folder, identifier)
    if repeat > 1:
        data = np.tile(data, (1,) + (repeat,) * (data.ndim - 1))
    shape = "x".join(str(s) for s in data.shape[1:])
    origin = f"largest validation case of fold {fold}: " if which == "largest" else ""
    tiled = f", tiled {repeat}x per axis" if repeat > 1 else ""
    return torch.from_numpy(np.ascontiguousarray(data)), f"{origin}preprocessed case {identifier}{tiled} ({shape})"
