#!/usr/bin/env bash
# The MSD Hippocampus comparison of benchmarks/hippocampus/README.md, exactly as it was run (CPU, 2 cores):
# fold 0 of 3d_fullres, one equal short budget for every model (10 epochs x 25 iterations of batch 9, 5 validation
# iterations per epoch; nnU-Net's default is 1000 x 250 x 50), then the benchmark.
# Needs nnUNet_raw/nnUNet_preprocessed/nnUNet_results set and Dataset004_Hippocampus in nnUNet_raw.
set -euo pipefail
export nnUNet_def_n_proc=2 nnUNet_n_proc_DA=2
export NNUNET_LUNET_EPOCHS=10 NNUNET_LUNET_ITERATIONS=25 NNUNET_LUNET_VAL_ITERATIONS=5

nnUNetv2_plan_and_preprocess -d 4 -c 2d 3d_fullres -np 2 2
nnunet-lunet plan -d 4
# (LUnet32, LUnet8 and the 25%-width U-Net were planned too but did not fit in the session's CPU time.)
for trainer in nnUNetTrainer_smoke nnUNetTrainerLUnet16_smoke nnUNetTrainerSTAMP_smoke; do
  nnUNetv2_train 4 3d_fullres 0 -tr "$trainer" -device cpu
done
nnunet-lunet benchmark -d 4 -c 3d_fullres -f 0 -p nnUNetPlans -o benchmarks/hippocampus --overwrite --repeats 3 \
    --disable-tta

# The pruned shape, exported and retrained from scratch (smoke budget, 2 x 5 iterations: a check that it trains,
# not part of the equal-budget comparison):
unset NNUNET_LUNET_EPOCHS NNUNET_LUNET_ITERATIONS NNUNET_LUNET_VAL_ITERATIONS
nnunet-lunet export-pruned -d 4 -c 3d_fullres -tr nnUNetTrainerSTAMP_smoke -f 0
nnUNetv2_train 4 3d_fullres_pruned_nnUNetTrainerSTAMP_smoke_f0 0 -p nnUNetPlans_pruned -tr nnUNetTrainer_smoke \
    -device cpu
