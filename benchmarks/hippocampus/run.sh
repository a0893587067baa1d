#!/usr/bin/env bash
# The LUnet comparison on MSD Hippocampus (fold 0, 3d_fullres) on a CPU, end to end: one budget (EPOCHS x 25
# iterations of batch 2, 5 validation iterations per epoch) and one recipe (the lean recipe, Adam 1e-3) for every row
# but one: nnU-Net's default network under nnU-Net's own recipe (what users have today; the benchmark flags it as
# trained differently). Rows: default (reference), default with nnU-Net's recipe, LUnet32, LUnet16, LUnet8, the U-Net
# of LUnet16's size, STAMP, random-in-layer, widest-layer, and STAMP's final widths retrained from scratch.
# Then the benchmark (table, CSV, plots) into benchmarks/hippocampus/.
#
# Needs nnUNet_raw/_preprocessed/_results set and Dataset004_Hippocampus in nnUNet_raw (MSD Task04 converted by nnUNetv2_convert_MSD_dataset). Resumable:
# finished runs are skipped, interrupted ones continue from their last checkpoint (saved every 5 epochs) with --c.
# CPU cost on 2 idle cores at EPOCHS=20 (500 steps): see README.md (measured). For nnU-Net's full budget on a GPU: run_gpu.sh.
set -euo pipefail
EPOCHS=${EPOCHS:-20}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
export nnUNet_def_n_proc=${nnUNet_def_n_proc:-2} nnUNet_n_proc_DA=${nnUNet_n_proc_DA:-2} nnUNet_compile=false
export NNUNET_LUNET_EPOCHS=$EPOCHS NNUNET_LUNET_ITERATIONS=25 NNUNET_LUNET_VAL_ITERATIONS=5 NNUNET_LUNET_VAL_TTA=0
PLANS=nnUNetPlans_b2

[ -d "$nnUNet_preprocessed/Dataset004_Hippocampus/nnUNetPlans_3d_fullres" ] || \
  nnUNetv2_plan_and_preprocess -d 4 -c 3d_fullres -np 2 -npfp 2
[ -f "$nnUNet_preprocessed/Dataset004_Hippocampus/$PLANS.json" ] || \
  nnunet-lunet plan -d 4 -c 3d_fullres --widths 32 16 8 --scales 0.25 --match-parameters 16 8 --batch-size 2 -o $PLANS

source "$REPO/benchmarks/hippocampus/train_function.sh"

# The rows the LUnet claim needs first, the extras last (a run cut short still has the comparison).
train 3d_fullres nnUNetTrainerLeanRecipe_smoke $PLANS          # the reference: default network, lean recipe
train 3d_fullres nnUNetTrainerLUnet16_smoke $PLANS
train 3d_fullres_scaled_as_lunet16 nnUNetTrainerLeanRecipe_smoke $PLANS
for trainer in nnUNetTrainerSTAMP_smoke nnUNetTrainerPruneRandomInLayer_smoke nnUNetTrainerPruneWidest_smoke; do
  train 3d_fullres $trainer $PLANS                             # prune to 50% of the channels in 2 steps, then train
done
PRUNED=3d_fullres_pruned_nnUNetTrainerSTAMP_smoke_f0
grep -q "\"$PRUNED\"" "$nnUNet_preprocessed/Dataset004_Hippocampus/${PLANS}_pruned.json" 2>/dev/null || \
  nnunet-lunet export-pruned -d 4 -c 3d_fullres -p $PLANS -tr nnUNetTrainerSTAMP_smoke -f 0
train $PRUNED nnUNetTrainerLeanRecipe_smoke ${PLANS}_pruned    # STAMP's widths, retrained from scratch
train 3d_fullres nnUNetTrainerLUnet8_smoke $PLANS
if [ -z "${CORE_ONLY:-}" ]; then                               # CORE_ONLY=1: skip the two extra rows
  train 3d_fullres nnUNetTrainerLUnet_smoke $PLANS
  train 3d_fullres nnUNetTrainer_smoke $PLANS                  # default network, nnU-Net's recipe (extra row)
fi

nnunet-lunet benchmark -d 4 -c 3d_fullres -f 0 -p $PLANS ${PLANS}_pruned -o "$REPO/benchmarks/hippocampus" \
  --overwrite --repeats 5 --disable-tta --device cpu \
  --reference nnUNetTrainerLeanRecipe_smoke__${PLANS}__3d_fullres
