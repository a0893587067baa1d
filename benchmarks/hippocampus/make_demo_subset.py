"""Build the demo's MSD Hippocampus subset (``nnunet_lunet/data/hippocampus_subset``) from the full dataset.

The first 40 labelled cases in case-id order: the first 24 are the training cases (imagesTr/labelsTr), the other 16
the held-out test cases (imagesTs/labelsTs). Files are copied byte for byte; dataset.json is the full dataset's with
``numTraining`` set to 24. Run once from the repository root:

    python benchmarks/hippocampus/make_demo_subset.py $nnUNet_raw/Dataset004_Hippocampus
"""

import json
import os
import shutil
import sys

N_TRAIN, N_TEST = 24, 16
TARGET = os.path.join("nnunet_lunet", "data", "hippocampus_subset")


def main(source: str) -> None:
    cases = sorted(f[: -len(".nii.gz")] for f in os.listdir(os.path.join(source, "labelsTr")))[: N_TRAIN + N_TEST]
    if os.path.exists(TARGET):
        sys.exit(f"{TARGET} exists: remove it first")
    for i, case in enumerate(cases):
        images, labels = ("imagesTr", "labelsTr") if i < N_TRAIN else ("imagesTs", "labelsTs")
        for folder in (images, labels):
            os.makedirs(os.path.join(TARGET, folder), exist_ok=True)
        shutil.copyfile(os.path.join(source, "imagesTr", f"{case}_0000.nii.gz"),
                        os.path.join(TARGET, images, f"{case}_0000.nii.gz"))
        shutil.copyfile(os.path.join(source, "labelsTr", f"{case}.nii.gz"), os.path.join(TARGET, labels, f"{case}.nii.gz"))
    with open(os.path.join(source, "dataset.json")) as f:
        dataset = json.load(f)
    dataset.update(numTraining=N_TRAIN, description=dataset["description"] + f"; subset of {N_TRAIN} training and "
                   f"{N_TEST} labelled test cases for the nnunet-lunet demo")
    with open(os.path.join(TARGET, "dataset.json"), "w") as f:
        json.dump(dataset, f, indent=4)


if __name__ == "__main__":
    main(sys.argv[1])
