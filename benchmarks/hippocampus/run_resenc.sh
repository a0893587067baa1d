#!/usr/bin/env bash
# A short equal-budget run of nnU-Net's residual encoder preset M on Hippocampus (fold 0, 3d_fullres): the ResEnc M
# default network against its LUnet16 (and the ResEnc M of LUnet16's size), lean recipe, batch 2, EPOCHS x 25 steps,
# final validation without TTA, in parallel lanes of 1 torch thread. Needs nnUNet_raw/_preprocessed/_results set,
# Dataset004 preprocessed (run.sh) and the venv on PATH.
set -euo pipefail
export nnUNet_def_n_proc=2 nnUNet_n_proc_DA=2 nnUNet_compile=false PYTHONUNBUFFERED=1
export NNUNET_LUNET_EPOCHS=${EPOCHS:-6} NNUNET_LUNET_ITERATIONS=25 NNUNET_LUNET_VAL_ITERATIONS=5 NNUNET_LUNET_VAL_TTA=0
export NNUNET_LUNET_THREADS=1
source "$(dirname "$0")/train_function.sh"
PLANS=nnUNetResEncUNetMPlans_b2
[ -f "$nnUNet_preprocessed/Dataset004_Hippocampus/nnUNetResEncUNetMPlans.json" ] || \
  nnUNetv2_plan_experiment -d 4 -pl nnUNetPlannerResEncM
[ -f "$nnUNet_preprocessed/Dataset004_Hippocampus/$PLANS.json" ] || \
  nnunet-lunet plan -d 4 -p nnUNetResEncUNetMPlans -c 3d_fullres --widths 16 --scales --match-parameters 16 \
    --batch-size 2 -o $PLANS
train 3d_fullres nnUNetTrainerLeanRecipe_smoke $PLANS &                                   # lane 1: the default
{ train 3d_fullres nnUNetTrainerLUnet16_smoke $PLANS; \
  train 3d_fullres_scaled_as_lunet16 nnUNetTrainerLeanRecipe_smoke $PLANS; } &           # lane 2: the thin ones
wait
