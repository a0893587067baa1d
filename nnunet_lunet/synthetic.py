"""A small synthetic segmentation dataset in nnU-Net's raw layout, for the demo, tests and trying things out.

Each case is an image of one or more channels with two labelled blobs on a noisy, smoothly shaded background:
label 1 a larger ellipsoid, label 2 a smaller one (a "core" region next to it), as in a two-structure task such as
the hippocampus. With ``n_labels`` 3 or 4, labels 3 and 4 are small separate ellipsoids in two corners (small organs
beside a large one, as in abdominal MRI). Channels differ in contrast. 2D cases are written as 2D NIfTI images, 3D as
3D, by SimpleITK, with voxel ``spacing`` (in the order of ``shape``: e.g. ``(7.7, 1.25, 1.25)`` for thick slices, which
nnU-Net plans with in-plane-only kernels and pooling in its first stages). Cases are reproducible from ``seed``; the
default two labels and unit spacing give the same cases as before these options existed. Layout::

    <nnUNet_raw>/DatasetXXX_Name/dataset.json
    imagesTr/case_0000_0000.nii.gz ... labelsTr/case_0000.nii.gz
    imagesTs/... labelsTs/...   (only with n_test > 0; a held-out test set for the benchmark)
"""

import json
import os
from typing import Optional, Sequence

import numpy as np

from nnunet_lunet.errors import LUnetError
from nnunet_lunet.safe_output import staged_folder

LABELS = {"background": 0, "outer": 1, "inner": 2}
EXTRA_LABELS = {"small_a": 3, "small_b": 4}  # with n_labels 3 or 4
MAX_LABELS = len(LABELS) - 1 + len(EXTRA_LABELS)
# intensity of each label (background first) in even and odd channels
_CONTRASTS = (np.array([0.0, 1.0, 2.0, 1.5, 2.5]), np.array([0.0, 2.0, 0.8, 1.2, 0.4]))


def _blob(shape: Sequence[int], center: np.ndarray, radii: np.ndarray) -> np.ndarray:
    grid = np.meshgrid(*[np.arange(s) for s in shape], indexing="ij")
    distance = sum(((g - c) / r) ** 2 for g, c, r in zip(grid, center, radii))
    return distance <= 1.0


def labels_for(n_labels: int) -> dict:
    """The ``labels`` entry of ``dataset.json`` for ``n_labels`` foreground labels (2 to ``MAX_LABELS``)."""
    assert 2 <= n_labels <= MAX_LABELS, f"expected 2 to {MAX_LABELS} foreground labels, got {n_labels}"
    return {**LABELS, **dict(list(EXTRA_LABELS.items())[:n_labels - 2])}


def make_case(shape: Sequence[int], n_channels: int, rng: np.random.Generator, n_labels: int = 2):
    """(image [C, *shape] float32, label [*shape] uint8) for one synthetic case with ``n_labels`` foreground
    labels."""
    shape = tuple(shape)
    size = np.array(shape, dtype=float)
    label = np.zeros(shape, dtype=np.uint8)
    center = rng.uniform(0.35, 0.65, len(shape)) * size
    outer = _blob(shape, center, rng.uniform(0.15, 0.25, len(shape)) * size)
    offset = rng.uniform(-0.08, 0.08, len(shape)) * size
    inner = _blob(shape, center + offset, rng.uniform(0.07, 0.11, len(shape)) * size)
    label[outer] = 1
    label[inner] = 2
    for value, corner in zip(range(3, n_labels + 1), (0.15, 0.85)):  # small blobs away from the centre
        small = rng.uniform(0.07, 0.1, len(shape)) * size
        label[_blob(shape, np.full(len(shape), corner) * size, small) & (label == 0)] = value
    grid = np.meshgrid(*[np.linspace(-1, 1, s) for s in shape], indexing="ij")
    images = []
    for c in range(n_channels):
        contrast = _CONTRASTS[c % 2]
        shading = sum(rng.uniform(-0.3, 0.3) * g for g in grid)
        image = contrast[label] + shading + rng.normal(0, 0.35, shape)
        images.append((100 + 50 * image).astype(np.float32))
    return np.stack(images), label


def _write(array: np.ndarray, path: str, spacing: Sequence[float]) -> None:
    import SimpleITK as sitk
    image = sitk.GetImageFromArray(array)
    image.SetSpacing([float(s) for s in reversed(spacing)])  # SimpleITK's axis order is the array's reversed
    sitk.WriteImage(image, path, useCompression=True)


def _write_dataset(folder: str, name: str, n_train: int, n_test: int, shape: Sequence[int], n_channels: int,
                   seed: int, spacing: Sequence[float], n_labels: int) -> None:
    rng = np.random.default_rng(seed)
    for split, count in (("Tr", n_train), ("Ts", n_test)):
        if count == 0:
            continue
        os.makedirs(os.path.join(folder, f"images{split}"))
        os.makedirs(os.path.join(folder, f"labels{split}"))
        for i in range(count):
            case = f"case_{split.lower()}{i:03d}"
            image, label = make_case(shape, n_channels, rng, n_labels)
            for c in range(n_channels):
                _write(image[c], os.path.join(folder, f"images{split}", f"{case}_{c:04d}.nii.gz"), spacing)
            _write(label, os.path.join(folder, f"labels{split}", f"{case}.nii.gz"), spacing)
    dataset_json = {
        "channel_names": {str(c): f"synthetic{c}" for c in range(n_channels)},
        "labels": labels_for(n_labels),
        "numTraining": n_train,
        "file_ending": ".nii.gz",
        "name": name,
        "description": f"synthetic {len(shape)}D blobs made by nnunet-lunet (seed {seed})",
    }
    with open(os.path.join(folder, "dataset.json"), "w") as f:
        json.dump(dataset_json, f, indent=4)


def make_synthetic_dataset(raw_folder: str, dataset_id: int = 990, name: str = "LUnetSynthetic",
                           n_train: int = 12, n_test: int = 0, shape: Sequence[int] = (32, 40, 32),
                           n_channels: int = 1, seed: int = 0, overwrite: bool = False,
                           spacing: Optional[Sequence[float]] = None, n_labels: int = 2) -> str:
    """Write the dataset into ``raw_folder`` and return its folder. Refuses to replace one unless ``overwrite``, and
    then only one this command wrote (``safe_output.staged_folder``: written aside, then put in place)."""
    if not 1 <= dataset_id <= 999:
        raise LUnetError(f"invalid dataset id {dataset_id}: nnU-Net ids are 1..999")
    if len(shape) not in (2, 3) or min(shape) < 8:
        raise LUnetError(f"invalid shape {tuple(shape)}: give 2 or 3 sizes of at least 8 voxels, e.g. 32 40 32")
    if n_channels < 1 or n_train < 2:
        raise LUnetError("a dataset needs at least 1 channel and 2 training cases")
    spacing = [1.0] * len(shape) if spacing is None else [float(s) for s in spacing]
    if len(spacing) != len(shape) or min(spacing) <= 0:
        raise LUnetError(f"invalid spacing {tuple(spacing)}: give one positive voxel size per axis of the shape "
                         f"{tuple(shape)}, in the same order, e.g. 7.7 1.25 1.25")
    if not 2 <= n_labels <= MAX_LABELS:
        raise LUnetError(f"invalid number of labels {n_labels}: give 2 to {MAX_LABELS} foreground labels")
    folder = os.path.join(raw_folder, f"Dataset{dataset_id:03d}_{name}")
    with staged_folder(folder, "make-dataset", overwrite, flag="--id") as staging:
        _write_dataset(staging, name, n_train, n_test, shape, n_channels, seed, spacing, n_labels)
    return folder
