"""The input folder of ``predict``: images as nnU-Net names them, checked before nnU-Net's worker processes start.

Rules: every file with the dataset's ending is ``CASE_XXXX<ending>``, XXXX the channel (four digits, below the number
of channels the model takes); every case has each channel. Other files are ignored, as nnU-Net ignores them. A
wrong folder is one ``LUnetError`` naming the first bad file or missing channel (nnU-Net's workers would otherwise
die with "Background workers died").
"""

import os

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
