"""The input folder of ``predict``: images as nnU-Net names them, checked before nnU-Net's worker processes start.

Rules: every file with the dataset's ending is ``CASE_XXXX<ending>``, XXXX the channel (four digits, below the number
of channels the model takes); every case has each channel. Other files are ignored, as nnU-Net ignores them. A
wrong folder is one ``LUnetError`` naming the first bad file or missing channel (nnU-Net's workers would otherwise
die with "Background workers died").

``check_images`` then reads every image in full before anything is predicted: NIfTI files (``.nii``, ``.nii.gz``)
with nibabel, every byte of the data the header announces (nnU-Net's SimpleITK reader segments a truncated ``.nii.gz``
without a word: the missing voxels read as zeros), other formats with the dataset's nnU-Net reader. A truncated or
corrupt file is one ``LUnetError`` naming it, and so is an image of other than the model's dimensions (3D models: 3D
images; 2D models: 2D or 3D), e.g. a 4D file (one channel per file: ``CASE_0000``, ``CASE_0001``, ...).
"""

import os
from typing import Sequence

from nnunet_lunet.errors import LUnetError


def _input_files(folder: str, file_ending: str) -> list:
    return sorted(f for f in os.listdir(folder) if f.endswith(file_ending))


def input_cases(folder: str, file_ending: str, channels: int) -> list:
    """The case names of an input folder, after checking that every image is named ``CASE_XXXX<file_ending>`` (XXXX:
    a channel below ``channels``) and that every case has all its channels; LUnetError naming the first problem."""
    if not os.path.isdir(folder):
        raise LUnetError(f"input folder {folder} does not exist: pass a folder of images named as nnU-Net names them "
                         f"(CASE_0000{file_ending}) with -i")
    files = _input_files(folder, file_ending)
    if not files:
        raise LUnetError(f"input folder {folder} has no {file_ending} images: pass a folder of images named "
                         f"CASE_0000{file_ending} with -i")
    found: dict = {}
    for name in files:
        stem = name[:-len(file_ending)]
        case, _, channel = stem.rpartition("_")
        if not case or len(channel) != 4 or not channel.isdigit():
            raise LUnetError(f"input image {name} is not named CASE_XXXX{file_ending} (XXXX: the channel, 0000 to "
                             f"{channels - 1:04d}): rename the files of {folder} as nnU-Net names them")
        if int(channel) >= channels:
            raise LUnetError(f"input image {name} is channel {int(channel)}, but the model takes {channels} "
                             f"channel(s) (_0000 to _{channels - 1:04d}): remove it or use the model it belongs to")
        found.setdefault(case, set()).add(int(channel))
    for case, have in sorted(found.items()):
        missing = sorted(set(range(channels)) - have)
        if missing:
            raise LUnetError(f"case {case} in {folder} lacks channel(s) "
                             f"{', '.join(f'{case}_{c:04d}{file_ending}' for c in missing)}: the model takes "
                             f"{channels} channel(s); add them or leave the case out")
    return sorted(found)


def _nifti_shape(path: str) -> tuple:
    """The shape of the NIfTI image at ``path`` after reading all its voxels (exceptions: it cannot be)."""
    import nibabel as nib
    import numpy as np

    image = nib.load(path, mmap=False)
    np.asanyarray(image.dataobj)  # every voxel: a short or damaged file fails here
    return tuple(image.shape)


def _reader_shape(path: str, dataset_json: dict) -> tuple:
    """The spatial shape nnU-Net's reader for the dataset gives the image at ``path``."""
    from nnunetv2.imageio.reader_writer_registry import determine_reader_writer_from_dataset_json

    reader = determine_reader_writer_from_dataset_json(dataset_json, path, verbose=False)()
    data, _ = reader.read_images([path])
    return tuple(data.shape[1:])


def _dimensions(shape: Sequence[int]) -> int:
    """The number of dimensions, not counting singleton ones after the third (a 3D NIfTI stored as X x Y x Z x 1)."""
    dims = len(shape)
    while dims > 3 and shape[dims - 1] == 1:
        dims -= 1
    return dims


def check_images(folder: str, dataset_json: dict, spatial_dims: int) -> None:
    """Read every input image of ``folder`` in full and check its dimensions (module rules); LUnetError naming the
    first that fails. ``spatial_dims``: the model's (2 or 3)."""
    file_ending = dataset_json["file_ending"]
    allowed = (3,) if spatial_dims == 3 else (2, 3)
    for name in _input_files(folder, file_ending):
        path = os.path.join(folder, name)
        try:
            shape = _nifti_shape(path) if file_ending in (".nii.gz", ".nii") else _reader_shape(path, dataset_json)
        except Exception as error:  # noqa: BLE001 - a damaged file fails in many ways, each a refusal
            reason = str(error).strip().splitlines()[0] if str(error).strip() else "unreadable"
            raise LUnetError(f"input image {path} cannot be read in full ({type(error).__name__}: {reason[:200]}): "
                             f"it is truncated or not a {file_ending} image; nothing was predicted: replace it, or "
                             f"move it out of {folder}") from None
        if _dimensions(shape) not in allowed:
            raise LUnetError(f"input image {path} has {len(shape)} dimensions (shape {'x'.join(map(str, shape))}), "
                             f"but the model takes {' or '.join(f'{d}D' for d in allowed)} images, one channel per "
                             f"file (CASE_0000{file_ending}, CASE_0001{file_ending}, ...): nothing was predicted; "
                             f"split it or move it out of {folder}")
