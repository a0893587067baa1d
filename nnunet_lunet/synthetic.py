"""A small synthetic segmentation dataset in nnU-Net's raw layout, for the demo, tests and trying things out.

Each case is an image of one or more channels with two labelled blobs on a noisy, smoothly shaded background:
label 1 a larger ellipsoid, label 2 a smaller one (a "core" region next to it), as in a two-structure task such as
the hippocampus. Channels differ in contrast. 2D cases are written as 2D NIfTI images, 3D as 3D, by SimpleITK.
Cases are reproducible from ``seed``. Layout::

    <nnUNet_raw>/DatasetXXX_Name/dataset.json
    imagesTr/case_0000_0000.nii.gz ... labelsTr/case_0000.nii.gz
    imagesTs/... labelsTs/...   (only with n_test > 0; a held-out test set for the benchmark)
"""

import json
import os
from typing import Sequence

import numpy as np

from nnunet_lunet.errors import LUnetError
from nnunet_lunet.safe_output import staged_folder

LABELS = {"background": 0, "outer": 1, "inner": 2}


def _blob(shape: Sequence[int], center: np.ndarray, radii: np.ndarray) -> np.ndarray:
    grid = np.meshgrid(*[np.arange(s) for s in shape], indexing="ij")
    distance = sum(((g - c) / r) ** 2 for g, c, r in zip(grid, center, radii))
    return distance <= 1.0


def make_case(shape: Sequence[int], n_channels: int, rng: np.random.Generator):
    """(image [C, *shape] float32, label [*shape] uint8) for one synthetic case."""
    shape = tuple(shape)
    size = np.array(shape, dtype=float)
    label = np.zeros(shape, dtype=np.uint8)
    center = rng.uniform(0.35, 0.65, len(shape)) * size
    outer = _blob(shape, center, rng.uniform(0.15, 0.25, len(shape)) * size)
    offset = rng.uniform(-0.08, 0.08, len(shape)) * size
    inner = _blob(shape, center + offset, rng.uniform(0.07, 0.11, len(shape)) * size)
    label[outer] = 1
    label[inner] = 2
    grid = np.meshgrid(*[np.linspace(-1, 1, s) for s in shape], indexing="ij")
    images = []
    for c in range(n_channels):
        contrast = np.array([0.0, 1.0, 2.0]) if c % 2 == 0 else np.array([0.0, 2.0, 0.8])
        shading = sum(rng.uniform(-0.3, 0.3) * g for g in grid)
        image = contrast[label] + shading + rng.normal(0, 0.35, shape)
        images.append((100 + 50 * image).astype(np.float32))
    return np.stack(images), label


def _write(array: np.ndarray, path: str) -> None:
    import SimpleITK as sitk
    image = sitk.GetImageFromArray(array)
    image.SetSpacing([1.0] * array.ndim)
    sitk.WriteImage(image, path, useCompression=True)


def _write_dataset(folder: str, name: str, n_train: int, n_test: int, shape: Sequence[int], n_channels: int,
                   seed: int) -> None:
    rng = np.random.default_rng(seed)
    for split, count in (("Tr", n_train), ("Ts", n_test)):
        if count == 0:
            continue
        os.makedirs(os.path.join(folder, f"images{split}"))
        os.makedirs(os.path.join(folder, f"labels{split}"))
        for i in range(count):
            case = f"case_{split.lower()}{i:03d}"
            image, label = make_case(shape, n_channels, rng)
            for c in range(n_channels):
                _write(image[c], os.path.join(folder, f"images{split}", f"{case}_{c:04d}.nii.gz"))
            _write(label, os.path.join(folder, f"labels{split}", f"{case}.nii.gz"))
    dataset_json = {
        "channel_names": {str(c): f"synthetic{c}" for c in range(n_channels)},
        "labels": LABELS,
        "numTraining": n_train,
        "file_ending": ".nii.gz",
        "name": name,
        "description": f"synthetic {len(shape)}D blobs made by nnunet-lunet (seed {seed})",
    }
    with open(os.path.join(folder, "dataset.json"), "w") as f:
        json.dump(dataset_json, f, indent=4)


def make_synthetic_dataset(raw_folder: str, dataset_id: int = 990, name: str = "LUnetSynthetic",
                           n_train: int = 12, n_test: int = 0, shape: Sequence[int] = (32, 40, 32),
                           n_channels: int = 1, seed: int = 0, overwrite: bool = False) -> str:
    """Write the dataset into ``raw_folder`` and return its folder. Refuses to replace one unless ``overwrite``, and
    then only one this command wrote (``safe_output.staged_folder``: written aside, then put in place)."""
    if not 1 <= dataset_id <= 999:
        raise LUnetError(f"invalid dataset id {dataset_id}: nnU-Net ids are 1..999")
    if len(shape) not in (2, 3) or min(shape) < 8:
        raise LUnetError(f"invalid shape {tuple(shape)}: give 2 or 3 sizes of at least 8 voxels, e.g. 32 40 32")
    if n_channels < 1 or n_train < 2:
        raise LUnetError("a dataset needs at least 1 channel and 2 training cases")
    folder = os.path.join(raw_folder, f"Dataset{dataset_id:03d}_{name}")
    with staged_folder(folder, "make-dataset", overwrite, flag="--id") as staging:
        _write_dataset(staging, name, n_train, n_test, shape, n_channels, seed)
    return folder
