"""Parity of an exported graph: PyTorch's and ONNX Runtime's logits on the same patch, judged on what prediction uses.

Rules:

- The patch: a crop of the plan's patch size from the centre of the first case of the configuration's preprocessed
  data (``$nnUNet_preprocessed/<dataset>/<data_identifier>``, as ``trained_run.preprocessed_case`` reads it),
  zero-padded where the case is smaller (nnU-Net's predictor pads with zeros too); for a 2D configuration the middle
  slice. Without preprocessed data (or without ``nnUNet_preprocessed``): a standard-normal patch (seed 0). The
  description says which.
- The figures (``Parity``, batch 1, eval mode, no grad, float32): the largest absolute logit difference; the logits'
  scale (PyTorch's largest absolute logit, at least 1); the relative difference (the first over the second); the
  largest difference of the softmax probabilities; the share of voxels whose argmax differs; and how many of those
  are not near-ties (PyTorch's top two probabilities more than ``NEAR_TIE`` apart).
- Two correct convolution implementations differ by float32 rounding, which grows with the logits: on a 2-channel
  MRI dataset whose logits reached 18-27, a correct graph differed by 0.002-0.0025 in absolute terms, 7e-5-1.4e-4
  relative to the scale, 6e-4 in probability. So the judgement (``refusal``) is relative: accepted when the relative
  difference is at most the tolerance (default ``PARITY_TOLERANCE``, 1e-3), the probabilities differ by at most
  ``PROBABILITY_TOLERANCE`` and no voxel's argmax differs except at near-ties. A graph that computes something else
  (a wrong weight, swapped channels, a missing layer) misses all three by orders of magnitude.
"""

import os
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np

# Largest relative logit difference accepted by default; here (a light module for the command line's parser too).
PARITY_TOLERANCE = 1e-3
# Largest softmax probability difference accepted: below what nnU-Net's own float16 accumulation moves a probability
# by where its Gaussian weight is small (up to 0.1, tests/test_onnx.py's _resolved_by_float16), far below a wrong graph.
PROBABILITY_TOLERANCE = 1e-2
# Top two probabilities this close are a near-tie, which rounding may swap: four float16 steps at 0.5 (nnU-Net
# accumulates in float16), three times the largest probability difference of the correct MRI graphs above.
NEAR_TIE = 2e-3


@dataclass(frozen=True)
class Parity:
    """The figures of the module rules (stored in ``export.json`` as ``parity_*``)."""

    max_abs_diff: float
    logit_scale: float
    relative_diff: float
    max_probability_diff: float
    argmax_differ_share: float
    argmax_differ_beyond_ties: int


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted, dtype=np.float64)
    return e / e.sum(axis=1, keepdims=True)


def compare_logits(expected: np.ndarray, got: np.ndarray) -> Parity:
    """The module rules' figures of ``got`` against ``expected`` (both (N, C, spatial), C the classes)."""
    expected, got = expected.astype(np.float64), got.astype(np.float64)
    diff = float(np.max(np.abs(got - expected)))
    scale = max(1.0, float(np.max(np.abs(expected))))
    probabilities = _softmax(expected)
    differ = expected.argmax(axis=1) != got.argmax(axis=1)
    top_two = np.sort(probabilities, axis=1)[:, -2:]
    margin = top_two[:, -1] - top_two[:, 0]
    return Parity(max_abs_diff=diff, logit_scale=scale, relative_diff=diff / scale,
                  max_probability_diff=float(np.max(np.abs(_softmax(got) - probabilities))),
                  argmax_differ_share=float(differ.mean()),
                  argmax_differ_beyond_ties=int(np.sum(differ & (margin > NEAR_TIE))))


def refusal(parity: Parity, tolerance: float) -> Optional[str]:
    """Why the graph is refused (module rules), or None when parity holds."""
    reasons = []
    if not parity.relative_diff <= tolerance:
        reasons.append(f"logits differ by up to {parity.max_abs_diff:.3g}, {parity.relative_diff:.3g} of their scale "
                       f"{parity.logit_scale:.3g} (tolerance {tolerance:g})")
    if not parity.max_probability_diff <= PROBABILITY_TOLERANCE:
        reasons.append(f"probabilities differ by up to {parity.max_probability_diff:.3g} (tolerance "
                       f"{PROBABILITY_TOLERANCE:g})")
    if parity.argmax_differ_beyond_ties:
        reasons.append(f"{parity.argmax_differ_beyond_ties} voxel(s) labelled otherwise where PyTorch's top two "
                       f"probabilities are more than {NEAR_TIE:g} apart")
    return "; ".join(reasons) or None


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
    from nnunet_lunet.trained_run import preprocessed_case

    if preprocessed_folder is not None:
        try:
            data, identifier = preprocessed_case(preprocessed_folder)
            return _centre_crop(data, patch_size)[None], f"preprocessed case {identifier}, centre crop"
        except FileNotFoundError:
            pass
    generator = np.random.default_rng(0)
    patch = generator.standard_normal((1, in_channels, *patch_size)).astype(np.float32)
    return patch, "random standard-normal patch (no preprocessed data found)"


def graph_parity(network, run, patch: np.ndarray) -> Parity:
    """``compare_logits`` of ``network`` (PyTorch, eval mode) and ``run`` (the graph: numpy in, numpy out) on
    ``patch``."""
    import torch

    network.eval()
    with torch.no_grad():
        expected = network(torch.from_numpy(patch)).float().numpy()
    return compare_logits(expected, run(patch))


def preprocessed_data_folder(dataset_name: str, data_identifier: str) -> Optional[str]:
    """``$nnUNet_preprocessed/<dataset>/<data_identifier>``, or None when ``nnUNet_preprocessed`` is unset."""
    root = os.environ.get("nnUNet_preprocessed")
    return os.path.join(root, dataset_name, data_identifier) if root else None
