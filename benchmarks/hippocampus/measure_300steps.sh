#!/usr/bin/env bash
# Size, memory and speed (PyTorch and ONNX Runtime) of the models the recipes sweep trained (recipes/run.sh:
# 300 steps of batch 2 each), measured on an otherwise idle machine, into benchmarks/hippocampus/:
#  1. `nnunet-lunet benchmark` over every trained model of nnUNetPlans_b2, reference = nnU-Net's default network
#     under the lean recipe (rows trained with another recipe are flagged in the table);
#  2. benchmarks/bench_runtimes.py: one patch of every width variant (untrained) in PyTorch eager and ONNX Runtime
#     (graph optimisation levels basic and all), interleaved, 2 threads.
# Needs nnUNet_raw/_preprocessed/_results set, as for recipes/run.sh.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export nnUNet_def_n_proc=2 nnUNet_n_proc_DA=2 nnUNet_compile=false
nnunet-lunet benchmark -d 4 -c 3d_fullres -f 0 -p nnUNetPlans_b2 -o "$HERE" --overwrite --repeats 5 --disable-tta \
  --device cpu --reference nnUNetTrainerLeanRecipe_smoke__nnUNetPlans_b2__3d_fullres
python "$HERE/../bench_runtimes.py" --plans-file "$nnUNet_preprocessed/Dataset004_Hippocampus/nnUNetPlans_b2.json" \
  -c 3d_fullres --widths 32 16 8 --scales --match-parameters 16 --threads 2 --repeats 13 --warmup 2 \
  --runtimes torch_eager ort_basic ort_all --csv "$HERE/runtimes.csv" | tee "$HERE/runtimes.md"
