#!/usr/bin/env bash
# The paper preset on MSD Hippocampus with nnU-Net's own budget (1000 epochs x 250 iterations of the plan's batch
# size, 50 validation iterations; the pruning rows' gradual schedule laid out over that budget) on one GPU, folds 0,
# 1 and 2, every row with the lean recipe, final validation and benchmark with nnU-Net's test-time mirroring. The
# same rows and order as run.sh; each call writes its own folder beside this script (gpu_claims_ab/, gpu_all_3folds/).
# Resumable: run it again after an interruption. Not run by the project (it has no GPU): roughly a day per run on one
# modern GPU. Needs nnUNet_raw/_preprocessed/_results set, Dataset004_Hippocampus in nnUNet_raw and the package on
# PATH.
set -euo pipefail
: "${nnUNet_raw:?}" "${nnUNet_preprocessed:?}" "${nnUNet_results:?}"
HERE=$(cd "$(dirname "$0")" && pwd)
[ -f "$nnUNet_preprocessed/Dataset004_Hippocampus/.preprocessed_3d_fullres" ] || {
  nnUNetv2_plan_and_preprocess -d 4 -c 3d_fullres
  touch "$nnUNet_preprocessed/Dataset004_Hippocampus/.preprocessed_3d_fullres"; }
COMPARE=(nnunet-lunet compare -d 4 -c 3d_fullres --preset paper -device cuda --c)
"${COMPARE[@]}" -f 0 1 2 --rows default lunet16 unet_as_lunet16 lunet8 unet_as_lunet8 -o "$HERE/gpu_claims_ab"
"${COMPARE[@]}" -f 0 1 2 -o "$HERE/gpu_all_3folds"
