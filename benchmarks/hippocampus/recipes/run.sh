#!/usr/bin/env bash
# Networks x training recipes on MSD Hippocampus, fold 0, 3d_fullres, one short CPU budget for every run:
# 12 epochs x 25 iterations (300 steps) at batch 2, 5 validation iterations per epoch, nnU-Net's final validation
# of the fold's 52 held-out cases (without test-time mirroring).
# Recipes are trainers (the _smoke twins carry the budget): nnU-Net's SGD momentum 0.99 (nnUNetTrainer_smoke), the
# lean recipe Adam 1e-3 (nnUNetTrainerLeanRecipe_smoke) and SGD momentum 0.95 (nnUNetTrainerMomentum095_smoke).
# Networks are configurations of nnUNetPlans_b2, written by `nnunet-lunet plan` (batch 2, same patch and data).
# Needs nnUNet_raw/_preprocessed/_results set and Dataset004_Hippocampus planned and preprocessed for 3d_fullres:
#   nnUNetv2_plan_and_preprocess -d 4 -c 3d_fullres -np 2
# Resumable: finished runs are skipped, unfinished ones continue with --c. Then: python collect.py (same folder).
set -euo pipefail
export nnUNet_def_n_proc=${nnUNet_def_n_proc:-2} nnUNet_n_proc_DA=${nnUNet_n_proc_DA:-2} nnUNet_compile=false
export NNUNET_LUNET_EPOCHS=12 NNUNET_LUNET_ITERATIONS=25 NNUNET_LUNET_VAL_ITERATIONS=5
# One torch thread per run: this sweep ran beside other jobs on 2 cores, where 2 threads wait for each other.
export NNUNET_LUNET_THREADS=${NNUNET_LUNET_THREADS:-1}
# Final validation (all 52 held-out cases of fold 0) without test-time mirroring: 8x fewer forward passes on the CPU.
export NNUNET_LUNET_VAL_TTA=0
PLANS=nnUNetPlans_b2
[ -f "$nnUNet_preprocessed/Dataset004_Hippocampus/$PLANS.json" ] || \
  nnunet-lunet plan -d 4 -c 3d_fullres --widths 32 16 8 --scales 0.25 --match-parameters 16 8 --batch-size 2 -o $PLANS
LEAN=nnUNetTrainerLeanRecipe_smoke; NNUNET=nnUNetTrainer_smoke; M095=nnUNetTrainerMomentum095_smoke
# Most informative runs first, so that an interrupted sweep still answers the main question. LUnet32 and the
# momentum-0.95 recipe only where they answer something (the measurements had them for LUnet16 and the default).
RUNS="3d_fullres_lunet16:$LEAN 3d_fullres_lunet16:$NNUNET 3d_fullres:$LEAN 3d_fullres_scaled_as_lunet16:$LEAN
3d_fullres_lunet16:$M095 3d_fullres_lunet8:$LEAN 3d_fullres_scaled_as_lunet16:$NNUNET 3d_fullres_lunet8:$NNUNET
3d_fullres:$NNUNET 3d_fullres_lunet32:$LEAN 3d_fullres:$M095 3d_fullres_lunet32:$NNUNET"
for run in $RUNS; do
  config=${run%%:*}; trainer=${run##*:}
  fold="$nnUNet_results/Dataset004_Hippocampus/${trainer}__${PLANS}__${config}/fold_0"
  if [ -f "$fold/validation/summary.json" ]; then echo "done: $trainer $config"; continue; fi
  if [ -f "$fold/checkpoint_final.pth" ]; then  # trained, validation missing: nnU-Net's validation only
    echo "$(date +%T) validating $trainer $config"
    nnUNetv2_train 4 "$config" 0 -p $PLANS -tr "$trainer" -device cpu --val
    continue
  fi
  cont=""; ls "$fold"/checkpoint_*.pth >/dev/null 2>&1 && cont="--c"
  echo "$(date +%T) training $trainer $config $cont"
  nnUNetv2_train 4 "$config" 0 -p $PLANS -tr "$trainer" -device cpu $cont
done
