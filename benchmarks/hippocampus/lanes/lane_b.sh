#!/usr/bin/env bash
# Lane b of the Hippocampus comparison (see common.sh); start both: nohup bash lane_a.sh & nohup bash lane_b.sh &
source "$(dirname "$0")/common.sh"
train 3d_fullres nnUNetTrainerSTAMP_smoke $PLANS
PRUNED=3d_fullres_pruned_nnUNetTrainerSTAMP_smoke_f0
grep -q "\"$PRUNED\"" "$nnUNet_preprocessed/Dataset004_Hippocampus/${PLANS}_pruned.json" 2>/dev/null || \
  nnunet-lunet export-pruned -d 4 -c 3d_fullres -p $PLANS -tr nnUNetTrainerSTAMP_smoke -f 0
train 3d_fullres nnUNetTrainerPruneRandomInLayer_smoke $PLANS
train 3d_fullres nnUNetTrainerPruneWidest_smoke $PLANS
train 3d_fullres nnUNetTrainer_smoke $PLANS                           # default network, nnU-Net's recipe (extra row)
