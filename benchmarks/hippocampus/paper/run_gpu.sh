#!/usr/bin/env bash
# The paper preset on MSD Hippocampus with nnU-Net's own budget (1000 epochs x 250 iterations of the plan's batch
# size, 50 validation iterations; the pruning rows' gradual schedule laid out over that budget), folds 0, 1 and 2,
# every row with the lean recipe, final validation and benchmark with nnU-Net's test-time mirroring: each (row, fold)
# training one SLURM job (docs/compare.md, "Running on a SLURM cluster"). Run it on the cluster's login node; it
# submits and returns (--no-wait). Run it again to follow the jobs: once the width and pruning runs are finished it
# submits the retrain rows, once those are finished it benchmarks into gpu_all_3folds/ beside this script. Not run
# by the project (it has no cluster): roughly a day per training on one modern GPU. Needs nnUNet_raw/_preprocessed/
# _results set (on the shared filesystem), Dataset004_Hippocampus in nnUNet_raw, nnunet-lunet[slurm] on PATH and
# the partition in SLURM_PARTITION (default gpu; SLURM_TIME: default one day per job; more compare options as
# arguments, e.g. --account ACCOUNT).
set -euo pipefail
: "${nnUNet_raw:?}" "${nnUNet_preprocessed:?}" "${nnUNet_results:?}"
HERE=$(cd "$(dirname "$0")" && pwd)
[ -f "$nnUNet_preprocessed/Dataset004_Hippocampus/.preprocessed_3d_fullres" ] || {
  nnUNetv2_plan_and_preprocess -d 4 -c 3d_fullres
  touch "$nnUNet_preprocessed/Dataset004_Hippocampus/.preprocessed_3d_fullres"; }
nnunet-lunet compare -d 4 -c 3d_fullres --preset paper -f 0 1 2 -device cuda --c \
    --executor slurm --partition "${SLURM_PARTITION:-gpu}" --gpus 1 --cpus 12 --mem 64G \
    --time "${SLURM_TIME:-1-00:00:00}" --no-wait -o "$HERE/gpu_all_3folds" "$@"
