"""Parity of an exported graph: PyTorch's and ONNX Runtime's logits on the same patch.

Rules:

- The patch: a crop of the plan's patch size from the centre of the first case of the configuration's preprocessed
  data (``$nnUNet_preprocessed/<dataset>/<data_identifier>``, as ``benchmark.cases`` reads it), zero-padded where
  the case is smaller (nnU-Net's predictor pads with zeros too); for a 2D configuration the middle slice. Without
  preprocessed data (or without ``nnUNet_preprocessed``): a standard-normal patch (seed 0). The description says
  which.
- The number: the maximum absolute difference between the two logit arrays (batch 1, eval mode, no grad, float32).
"""

import os
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from nnunet_lunet.deploy.onnx_graph import run_session


@dataclass(frozen=True)
class Parity:
    max_abs_diff: float
    patch: str  # where the patch came from


def _centre_crop(data: np.ndarray, patch_size: Sequence[int]) -> np.ndarray:
    """``data`` (C, spatial...) cropped around its centre and zero-padded to ``patch_size``."""
    if len(patch_size) < data.ndim - 1:  # 2D configuration on a 3D case: the middle slice
        data = data[:, data.shape[1] // 2]
    out = np.zeros((data.shape[0], *patch_size), dtype=np.float32)
    src, dst = [slice(None)], [slice(None)]
    for size, want in zip(data.shape[1:], patch_size):
        n = min(size, want)
        start_src, start_dst = (size - n) // 2, (want - n) // 2
        src.append(slice(start_src, start_src + n))
        dst.append(slice(start_dst, start_dst + n))
    out[tuple(dst)] = data[tuple(src)]
    return out


def parity_patch(preprocessed_folder: Optional[str], in_channels: int,
                 patch_size: Sequence[int]) -> Tuple[np.ndarray, str]:
    """``(patch (1, C, spatial), description)`` per the module rules; ``preprocessed_folder`` is the
    configuration's data folder (None: none known)."""
    from nnunet_lunet.benchmark.cases import preprocessed_case

    if preprocessed_folder is not None:
        try:
            data, identifier = preprocessed_case(preprocessed_folder)
            return _centre_crop(data, patch_size)[None], f"preprocessed case {identifier}, centre crop"
        except FileNotFoundError:
            pass
    generator = np.random.default_rng(0)
    patch = generator.standard_normal((1, in_channels, *patch_size)).astype(np.float32)
    return patch, "random standard-normal patch (no preprocessed data found)"


def max_abs_diff(network: nn.Module, session, patch: np.ndarray) -> float:
    """Largest absolute difference between PyTorch's and ONNX Runtime's logits on ``patch``."""
    network.eval()
    with torch.no_grad():
        expected = network(torch.from_numpy(patch)).float().numpy()
    return float(np.max(np.abs(run_session(session, patch) - expected)))


def preprocessed_data_folder(dataset_name: str, data_identifier: str) -> Optional[str]:
    """``$nnUNet_preprocessed/<dataset>/<data_identifier>``, or None when ``nnUNet_preprocessed`` is unset."""
    root = os.environ.get("nnUNet_preprocessed")
    return os.path.join(root, dataset_name, data_identifier) if root else None
