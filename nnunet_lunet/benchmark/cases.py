"""The whole case a benchmark times sliding-window prediction on.

Rules: the first case (sorted identifiers) of the configuration's preprocessed data folder,
``$nnUNet_preprocessed/<dataset>/<data_identifier>`` (``trained_run.preprocessed_case``), so
every model of a configuration and its variants (which share ``data_identifier``) is timed on the same case. If that
folder is missing or empty: a standard-normal tensor of the plans' median image shape (for 2D configurations the
full-resolution median's first axis times the 2D median, as nnU-Net predicts a volume slice by slice). The
description says which.
"""

import os
from typing import Tuple

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
