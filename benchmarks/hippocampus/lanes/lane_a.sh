#!/usr/bin/env bash
# Lane a of the Hippocampus comparison (see common.sh); start both: nohup bash lane_a.sh & nohup bash lane_b.sh &
source "$(dirname "$0")/common.sh"
train 3d_fullres nnUNetTrainerLeanRecipe_smoke $PLANS
train 3d_fullres nnUNetTrainerPruneRandomInLayer_smoke $PLANS
train 3d_fullres nnUNetTrainerLUnet8_smoke $PLANS
train 3d_fullres_scaled_as_lunet16 nnUNetTrainerLeanRecipe_smoke $PLANS
train 3d_fullres nnUNetTrainerLUnet_smoke $PLANS
