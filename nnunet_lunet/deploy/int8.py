"""INT8: NNCF post-training quantization of an exported graph (the quantiser; its validation is ``int8_validation``).

A leaf of ``deploy``: it imports no other deploy module, so ``graph_runtimes`` (which quantizes the benchmark's graphs
and names the install command) and ``int8_validation`` (which predicts with ``predict``) both import it without an
import circle.

Rules:

- Optional (``pip install 'nnunet-lunet[int8]'``: NNCF and OpenVINO); ``require_int8_packages`` raises the one
  ``LUnetError`` naming that command when either is missing.
- Calibration (``calibration_patches``): ``patches`` crops of the plan's patch size (zero-padded where a case is
  smaller, as nnU-Net's predictor pads), each from a case drawn at random from the fold's training cases (nnU-Net's
  split, ``splits_final.json`` of the preprocessed dataset: ``fold_split``) at a random position, from one seeded
  generator; for a 2D configuration a random slice. The same seed gives the same patches.
- Quantization (``quantize_graph``): OpenVINO reads ``model.onnx``; ``nncf.quantize`` (default preset, every
  calibration patch used) returns the INT8 model, saved as ``model_int8.xml``/``.bin`` (``model_folder.INT8_FILE``)
  beside it, weights not compressed to float16.
"""

import os
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

from nnunet_lunet.errors import LUnetError

CALIBRATION_PATCHES = 300
CALIBRATION_SEED = 0
INSTALL = "pip install 'nnunet-lunet[int8]'"


def int8_packages_missing() -> Optional[str]:
    """Which of NNCF and OpenVINO cannot be imported (None: both can)."""
    missing = []
    for name in ("nncf", "openvino"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    return " and ".join(missing) or None


def require_int8_packages() -> None:
    missing = int8_packages_missing()
    if missing:
        raise LUnetError(f"--int8 needs NNCF and OpenVINO ({missing} not installed): {INSTALL}")


@dataclass(frozen=True)
class Split:
    """The fold's case identifiers in nnU-Net's split."""

    train: List[str]
    val: List[str]


def fold_split(preprocessed_dataset: str, fold: str) -> Split:
    """The fold's training and validation cases from ``splits_final.json``; ``LUnetError`` when there is none."""
    import json

    if fold == "all":
        raise LUnetError("--int8 needs a fold with validation cases (0..4), not fold all: export one fold")
    path = os.path.join(preprocessed_dataset, "splits_final.json")
    if not os.path.isfile(path):
        raise LUnetError(f"--int8 needs nnU-Net's split {path} (written when the fold was trained): train the fold "
                         f"with nnUNetv2_train, or export without --int8")
    with open(path) as f:
        splits = json.load(f)
    if not 0 <= int(fold) < len(splits) or not splits[int(fold)]["val"] or not splits[int(fold)]["train"]:
        raise LUnetError(f"{path} has no fold {fold} with training and validation cases: export another fold, or "
                         f"without --int8")
    return Split(list(splits[int(fold)]["train"]), list(splits[int(fold)]["val"]))


def _random_crop(data: np.ndarray, patch_size: Sequence[int], rng: np.random.Generator) -> np.ndarray:
    if len(patch_size) < data.ndim - 1:  # 2D configuration on a 3D case: a random slice
        data = data[:, rng.integers(data.shape[1])]
    out = np.zeros((data.shape[0], *patch_size), dtype=np.float32)
    src, dst = [slice(None)], [slice(None)]
    for size, want in zip(data.shape[1:], patch_size):
        n = min(size, want)
        start = int(rng.integers(size - n + 1))
        pad = (want - n) // 2
        src.append(slice(start, start + n))
        dst.append(slice(pad, pad + n))
    out[tuple(dst)] = data[tuple(src)]
    return out


def calibration_patches(data_folder: str, cases: Sequence[str], patch_size: Sequence[int], patches: int,
                        seed: int) -> List[np.ndarray]:
    """``patches`` arrays (1, C, patch) per the module rules."""
    from nnunet_lunet.trained_run import preprocessed_case

    rng = np.random.default_rng(seed)
    picks = rng.choice(len(cases), size=patches)
    loaded = {}
    out = []
    for i in picks:
        case = cases[int(i)]
        if case not in loaded:
            loaded[case] = preprocessed_case(data_folder, case)[0]
        out.append(_random_crop(loaded[case], patch_size, rng)[None])
    return out


def quantize_graph(onnx_path: str, patches: Sequence[np.ndarray], xml_path: str) -> None:
    """``xml_path`` (and its ``.bin``): the graph at ``onnx_path`` quantized by NNCF on ``patches``. NNCF's progress
    bars go to stderr: stdout belongs to the caller (the benchmarks print their tables there)."""
    import contextlib
    import sys

    import nncf
    import openvino as ov

    model = ov.Core().read_model(onnx_path)
    with contextlib.redirect_stdout(sys.stderr):
        quantized = nncf.quantize(model, nncf.Dataset(list(patches)), subset_size=len(patches))
    ov.save_model(quantized, xml_path, compress_to_fp16=False)
