#!/usr/bin/env bash
# The width comparison on CHAOS MR T2-SPIR (Dataset037_CHAOS_MR_T2, README.md beside this script) in 3d_fullres with
# nnU-Net's own budget (1000 epochs x 250 iterations of the plan's batch size, 2; 50 validation iterations) on one
# GPU: the default network, LUnet32/16/8, the U-Nets of LUnet16's and LUnet8's size and the linearly scaled U-Nets at
# 50 and 25%, every row with the lean recipe, on the five folds of nnU-Net's split (every case validated once), final
# validation and benchmark with nnU-Net's test-time mirroring. Writes gpu_widths_5folds/ beside this script (the
# benchmark and each run's small outputs). Resumable: run it again after an interruption (compare --c).
# Not run by the project (it has no GPU): 40 trainings of nnU-Net's full budget, several GPU-days.
# Needs nnUNet_raw/_preprocessed/_results set, Dataset037_CHAOS_MR_T2 in nnUNet_raw and the package on PATH.
# A setup check on a CPU: shrink the budget with CHAOS_EPOCHS, CHAOS_ITERATIONS and CHAOS_VAL_ITERATIONS and pass
# compare options after the script's name; they come last, so they override the script's (README.md shows one).
set -euo pipefail
: "${nnUNet_raw:?}" "${nnUNet_preprocessed:?}" "${nnUNet_results:?}"
HERE=$(cd "$(dirname "$0")" && pwd)
[ -f "$nnUNet_preprocessed/Dataset037_CHAOS_MR_T2/.preprocessed_3d_fullres" ] || {
  nnUNetv2_plan_and_preprocess -d 37 -c 3d_fullres
  touch "$nnUNet_preprocessed/Dataset037_CHAOS_MR_T2/.preprocessed_3d_fullres"; }
nnunet-lunet compare -d 37 -c 3d_fullres --preset paper -device cuda --c -f 0 1 2 3 4 \
  --epochs "${CHAOS_EPOCHS:-1000}" --iterations "${CHAOS_ITERATIONS:-250}" \
  --val-iterations "${CHAOS_VAL_ITERATIONS:-50}" \
  --rows default lunet32 lunet16 lunet8 unet_as_lunet16 unet_as_lunet8 scaled50 scaled25 \
  -o "$HERE/gpu_widths_5folds" "$@"
