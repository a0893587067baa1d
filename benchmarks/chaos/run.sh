#!/usr/bin/env bash
# The width comparison on CHAOS MR T2-SPIR in 2d on a CPU (README.md beside this script): the default network,
# LUnet32/16/8, the U-Nets of LUnet16's and LUnet8's size and the linearly scaled U-Nets at 50 and 25%, every row
# with the lean recipe and one budget (CHAOS_EPOCHS x 25 iterations of batch 2, 5 validation iterations per epoch;
# the README says how the budget was chosen), final validation without mirroring, on the five folds of nnU-Net's
# split (every case validated once), in two lanes of one torch thread. First the rows of claims (a) and (b), then the
# other width rows. Each call writes its own folder beside this script (claims_ab_2d/, widths_2d/; the second reuses
# the runs the first finished): its benchmark in benchmark/ and each finished run's small outputs in runs/.
# Resumable: run it again after an interruption (compare --c). Needs nnUNet_raw/_preprocessed/_results set,
# Dataset037_CHAOS_MR_T2 in nnUNet_raw and the package on PATH.
set -euo pipefail
: "${nnUNet_raw:?}" "${nnUNet_preprocessed:?}" "${nnUNet_results:?}"
HERE=$(cd "$(dirname "$0")" && pwd)
export nnUNet_def_n_proc=${nnUNet_def_n_proc:-2} nnUNet_n_proc_DA=${nnUNet_n_proc_DA:-2} nnUNet_compile=false
export PYTHONUNBUFFERED=1
# the marker is written only after preprocessing succeeded (nnU-Net writes nnUNetPlans.json before it preprocesses);
# nnU-Net plans every configuration (3d_fullres too, for run_gpu.sh) and preprocesses 2d only
[ -f "$nnUNet_preprocessed/Dataset037_CHAOS_MR_T2/.preprocessed_2d" ] || {
  nnUNetv2_plan_and_preprocess -d 37 -c 2d -np 2 -npfp 2
  touch "$nnUNet_preprocessed/Dataset037_CHAOS_MR_T2/.preprocessed_2d"; }
COMPARE=(nnunet-lunet compare -d 37 -c 2d --preset paper --batch-size 2 --epochs "${CHAOS_EPOCHS:-40}" --iterations 25
         --val-iterations 5 --disable-tta -device cpu --lanes 2 --c -f 0 1 2 3 4)
"${COMPARE[@]}" --rows default lunet16 unet_as_lunet16 lunet8 unet_as_lunet8 -o "$HERE/claims_ab_2d"
"${COMPARE[@]}" --rows default lunet32 lunet16 lunet8 unet_as_lunet16 unet_as_lunet8 scaled50 scaled25 \
  -o "$HERE/widths_2d"
