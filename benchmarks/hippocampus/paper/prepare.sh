#!/usr/bin/env bash
# Plan and preprocess MSD Hippocampus (3d_fullres) and write the paper preset's width variants at batch 2:
# LUnet 32/16/8/4, the default widths scaled to 75/50/25%, and the default widths scaled to LUnet16's and LUnet8's
# parameter counts. Needs nnUNet_raw/_preprocessed/_results set and Dataset004_Hippocampus in nnUNet_raw.
set -euo pipefail
source "$(dirname "$0")/budget.sh"
[ -f "$nnUNet_preprocessed/Dataset004_Hippocampus/.preprocessed_3d_fullres" ] || {
  nnUNetv2_plan_and_preprocess -d 4 -c 3d_fullres -np 2 -npfp 2
  touch "$nnUNet_preprocessed/Dataset004_Hippocampus/.preprocessed_3d_fullres"; }
[ -f "$nnUNet_preprocessed/Dataset004_Hippocampus/nnUNetPlans_compare_b2.json" ] || \
  nnunet-lunet plan -d 4 -c 3d_fullres --widths 32 16 8 4 --scales 0.75 0.5 0.25 --match-parameters 16 8 \
    --batch-size 2 -o nnUNetPlans_compare_b2
# nnU-Net's own 5-fold split, written once up front (two lanes starting together would race to write it).
python - <<'PY'
import os
import numpy as np
from batchgenerators.utilities.file_and_folder_operations import isfile, join, save_json
from nnunetv2.training.dataloading.nnunet_dataset import infer_dataset_class
from nnunetv2.utilities.crossval_split import generate_crossval_split
base = join(os.environ["nnUNet_preprocessed"], "Dataset004_Hippocampus")
if not isfile(join(base, "splits_final.json")):
    folder = join(base, "nnUNetPlans_3d_fullres")
    keys = list(np.sort(list(infer_dataset_class(folder).get_identifiers(folder))))
    save_json(generate_crossval_split(keys, seed=12345, n_splits=5), join(base, "splits_final.json"))
PY
