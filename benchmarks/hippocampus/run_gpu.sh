#!/usr/bin/env bash
# The same comparison as run.sh with nnU-Net's full budget (1000 epochs x 250 iterations) and the plan's own batch
# size, on one GPU: the trainers without _smoke, the pruning trainers with their default schedule (warm-up 50 epochs,
# 5% of the channels every 10 epochs, down to 10%). Needs nnUNet_raw/_preprocessed/_results set and
# Dataset004_Hippocampus in nnUNet_raw. Resumable (nnU-Net's --c). Roughly a day per row on one modern GPU.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PLANS=nnUNetPlans_lunet
RESULTS="$nnUNet_results/Dataset004_Hippocampus"
[ -d "$nnUNet_preprocessed/Dataset004_Hippocampus/nnUNetPlans_3d_fullres" ] || nnUNetv2_plan_and_preprocess -d 4 -c 3d_fullres
[ -f "$nnUNet_preprocessed/Dataset004_Hippocampus/$PLANS.json" ] || \
  nnunet-lunet plan -d 4 -c 3d_fullres --widths 32 16 8 --scales 0.25 --match-parameters 16 8 -o $PLANS

train() {  # train CONFIGURATION TRAINER PLANS
  local fold="$RESULTS/${2}__${3}__${1}/fold_0" cont=""
  if [ -f "$fold/validation/summary.json" ]; then echo "done: $2 $1"; return; fi
  if ls "$fold"/checkpoint_*.pth >/dev/null 2>&1; then cont="--c"; fi
  nnUNetv2_train 4 "$1" 0 -p "$3" -tr "$2" $cont
}

train 3d_fullres nnUNetTrainerLeanRecipe $PLANS
train 3d_fullres nnUNetTrainerLUnet16 $PLANS
train 3d_fullres nnUNetTrainer $PLANS
train 3d_fullres_scaled_as_lunet16 nnUNetTrainerLeanRecipe $PLANS
train 3d_fullres nnUNetTrainerLUnet8 $PLANS
train 3d_fullres nnUNetTrainerLUnet $PLANS
for trainer in nnUNetTrainerSTAMP nnUNetTrainerPruneRandomInLayer nnUNetTrainerPruneWidest; do
  train 3d_fullres $trainer $PLANS
done
PRUNED=3d_fullres_pruned_nnUNetTrainerSTAMP_f0
grep -q "\"$PRUNED\"" "$nnUNet_preprocessed/Dataset004_Hippocampus/${PLANS}_pruned.json" 2>/dev/null || \
  nnunet-lunet export-pruned -d 4 -c 3d_fullres -p $PLANS -tr nnUNetTrainerSTAMP -f 0
train $PRUNED nnUNetTrainerLeanRecipe ${PLANS}_pruned

nnunet-lunet benchmark -d 4 -c 3d_fullres -f 0 -p $PLANS ${PLANS}_pruned -o "$REPO/benchmarks/hippocampus/gpu" \
  --overwrite --reference nnUNetTrainerLeanRecipe__${PLANS}__3d_fullres
