#!/usr/bin/env bash
# Lane a of the Hippocampus comparison (see common.sh); start both: nohup bash lane_a.sh & nohup bash lane_b.sh &
source "$(dirname "$0")/common.sh"
train 3d_fullres nnUNetTrainerLeanRecipe_smoke $PLANS                 # the reference: default network, lean recipe
train 3d_fullres nnUNetTrainerLUnet16_smoke $PLANS
train 3d_fullres_scaled_as_lunet16 nnUNetTrainerLeanRecipe_smoke $PLANS
train 3d_fullres nnUNetTrainerLUnet8_smoke $PLANS
PRUNED=3d_fullres_pruned_nnUNetTrainerSTAMP_smoke_f0                  # written by lane b after its STAMP run
until grep -q "\"$PRUNED\"" "$nnUNet_preprocessed/Dataset004_Hippocampus/${PLANS}_pruned.json" 2>/dev/null; do sleep 30; done
train $PRUNED nnUNetTrainerLeanRecipe_smoke ${PLANS}_pruned           # STAMP's widths, retrained from scratch
train 3d_fullres nnUNetTrainerLUnet_smoke $PLANS                      # LUnet32
