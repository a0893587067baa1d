"""An input folder whose one image is larger than the training patch, for tiles larger than it (``--tile-size``)."""

import os

import numpy as np

SOURCE = "case_ts000_0000.nii.gz"  # a generated test image: one training patch (32x40x32)


def doubled_image_folder(planned_dataset, folder) -> str:
    """``folder`` with ``big_0000.nii.gz``: the first test image tiled twice along every axis (two training patches
    per axis), with its spacing, origin and direction."""
    import SimpleITK as sitk

    source = sitk.ReadImage(os.path.join(planned_dataset.raw, "imagesTs", SOURCE))
    doubled = sitk.GetImageFromArray(np.tile(sitk.GetArrayFromImage(source), (2, 2, 2)))
    doubled.SetSpacing(source.GetSpacing())
    doubled.SetOrigin(source.GetOrigin())
    doubled.SetDirection(source.GetDirection())
    os.makedirs(folder)
    sitk.WriteImage(doubled, os.path.join(folder, "big_0000.nii.gz"))
    return str(folder)


def source_shape(planned_dataset) -> tuple:
    """The source image's array shape (z, y, x)."""
    import SimpleITK as sitk

    return tuple(sitk.GetArrayFromImage(sitk.ReadImage(os.path.join(planned_dataset.raw, "imagesTs", SOURCE))).shape)
