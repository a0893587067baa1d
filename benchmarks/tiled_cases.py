"""Write one fold's validation cases repeated R times along every axis, image and label alike, as a raw test set.

    python benchmarks/tiled_cases.py --raw $nnUNet_raw/Dataset004_Hippocampus \
        --splits $nnUNet_preprocessed/Dataset004_Hippocampus/splits_final.json --fold 0 --repeat 3 -o tiled

Rules:

- Cases: fold ``--fold``'s ``val`` list in ``splits_final.json``; images from ``imagesTr`` (every channel file
  ``<case>_XXXX``), labels from ``labelsTr``, all with nnU-Net's raw file ending (``--ending``, default .nii.gz).
- Each volume is ``np.tile``d ``--repeat`` times per axis; spacing, origin and direction are kept, so the result is
  a larger image of the same voxel size (MSD Hippocampus cases fit one training patch; tiled 3x they take about 200
  sliding-window tiles, as real CT and MRI volumes do). The tiled label is the tiled case's ground truth.
- Output: ``-o``/imagesTs and ``-o``/labelsTs, which must not exist yet (nothing is overwritten).
"""

import argparse
import json
import os
import sys

import numpy as np


def tile_file(source: str, target: str, repeat: int) -> None:
    import SimpleITK as sitk

    image = sitk.ReadImage(source)
    tiled = sitk.GetImageFromArray(np.tile(sitk.GetArrayFromImage(image), (repeat,) * image.GetDimension()))
    tiled.SetSpacing(image.GetSpacing())
    tiled.SetOrigin(image.GetOrigin())
    tiled.SetDirection(image.GetDirection())
    sitk.WriteImage(tiled, target)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="One fold's validation cases tiled R times per axis, with their labels.")
    p.add_argument("--raw", required=True, help="the dataset's nnU-Net raw folder (imagesTr, labelsTr)")
    p.add_argument("--splits", required=True, help="splits_final.json of the dataset")
    p.add_argument("--fold", type=int, default=0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--ending", default=".nii.gz")
    p.add_argument("-o", "--output", required=True)
    args = p.parse_args(argv)
    images, labels = (os.path.join(args.output, d) for d in ("imagesTs", "labelsTs"))
    if os.path.exists(images) or os.path.exists(labels):
        print(f"error: {images} or {labels} exists: choose a new -o", file=sys.stderr)
        return 2
    if args.repeat < 1:
        print(f"error: --repeat {args.repeat}: give at least 1", file=sys.stderr)
        return 2
    with open(args.splits) as f:
        cases = json.load(f)[args.fold]["val"]
    os.makedirs(images)
    os.makedirs(labels)
    for case in cases:
        channels = sorted(n for n in os.listdir(os.path.join(args.raw, "imagesTr"))
                          if n.endswith(args.ending) and n[:-len(args.ending)].rsplit("_", 1)[0] == case)
        for name in channels:
            tile_file(os.path.join(args.raw, "imagesTr", name), os.path.join(images, name), args.repeat)
        tile_file(os.path.join(args.raw, "labelsTr", case + args.ending), os.path.join(labels, case + args.ending),
                  args.repeat)
    print(f"{len(cases)} cases of fold {args.fold}, tiled {args.repeat}x per axis, in {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
