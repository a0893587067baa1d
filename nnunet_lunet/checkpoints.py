"""The one way the package reads a checkpoint: ``load_checkpoint``, with ``torch.load(weights_only=True)``.

Rules:

- Unpickling a checkpoint with ``weights_only=False`` (nnU-Net's own loading) runs whatever code the file names, so a
  model folder from someone else could run code on the user's machine. Every checkpoint the package reads goes
  through ``load_checkpoint``, which unpickles only tensors, containers, numbers, strings, ``torch.device`` and the
  globals of ``ALLOWED_GLOBALS``: exactly what nnU-Net's ``nnUNetTrainer.save_checkpoint`` writes beyond those (NumPy
  scalars and arrays in ``logging`` and ``_best_ema``: their reconstructors and dtypes, under NumPy 1 and NumPy 2
  names) plus the pruning trainers' state (a generator state tensor, dicts and lists).
- A file that is missing, not a checkpoint (not a torch file, truncated) or that names anything else (a pickle with a
  payload) is refused with one ``LUnetError`` naming the file; nothing in it has run.
- ``check_model_folder_checkpoint`` loads the checkpoint of a folder that is then handed to nnU-Net's predictor
  (which loads it again with ``weights_only=False``), so a file with a payload never reaches that loader.
"""

import os
import pickle
from typing import Optional

from nnunet_lunet.errors import LUnetError


def _numpy_globals() -> list:
    """NumPy's scalar and array reconstructors and dtype classes, each under every name a pickle may use."""
    import numpy as np

    try:
        from numpy._core import multiarray
    except ImportError:  # NumPy 1
        from numpy.core import multiarray
    names = []
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        names += [(multiarray.scalar, f"{module}.scalar"), (multiarray._reconstruct, f"{module}._reconstruct")]
    names += [np.dtype, np.ndarray]
    dtypes = getattr(np, "dtypes", None)
    for kind in (np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint8, np.bool_):
        if dtypes is not None:
            names.append(type(np.dtype(kind)))
    return names


def allowed_globals() -> list:
    """What ``torch.load(weights_only=True)`` may build from an nnU-Net checkpoint beyond its defaults."""
    return _numpy_globals()


def _refusal(path: str, reason: str) -> LUnetError:
    return LUnetError(f"{path} is not a checkpoint this package can load safely ({reason}); nothing in it was run: "
                      f"use a checkpoint written by nnU-Net's training (nnUNetv2_train) or by nnunet-lunet "
                      f"export-onnx")


def load_checkpoint(path: str, map_location="cpu", mmap: bool = False) -> dict:
    """The checkpoint dict at ``path``, unpickled with ``weights_only=True`` (module rules); LUnetError otherwise."""
    import torch

    if not os.path.isfile(path):
        raise LUnetError(f"no checkpoint {path}: check the path (or train the model first)")
    try:
        with torch.serialization.safe_globals(allowed_globals()):
            try:
                checkpoint = torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
            except RuntimeError as error:
                if not mmap or "mmap" not in str(error):
                    raise
                checkpoint = torch.load(path, map_location=map_location, weights_only=True)  # legacy format
    except pickle.UnpicklingError as error:
        reason = str(error).splitlines()
        detail = next((line.strip() for line in reason if "Unsupported global" in line or "GLOBAL" in line),
                      "it names Python objects beyond tensors, numbers and NumPy values")
        raise _refusal(path, detail) from None
    except Exception as error:  # noqa: BLE001 - a damaged file fails in many ways, each a refusal
        raise _refusal(path, f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else 'unreadable'}") \
            from None
    if not isinstance(checkpoint, dict):
        raise _refusal(path, f"it holds a {type(checkpoint).__name__}, not a dict")
    return checkpoint


def check_model_folder_checkpoint(fold_folder: str, checkpoint_name: str) -> Optional[dict]:
    """Load ``fold_folder/checkpoint_name`` safely before nnU-Net's predictor loads it; returns the dict."""
    checkpoint = load_checkpoint(os.path.join(fold_folder, checkpoint_name))
    if "network_weights" not in checkpoint:
        raise LUnetError(f"{os.path.join(fold_folder, checkpoint_name)} has no network_weights: it is not an nnU-Net "
                         f"checkpoint")
    return checkpoint
