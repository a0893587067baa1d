#!/usr/bin/env bash
# The whole case of measure_deployment.sh (the largest validation case of fold 0 tiled 3x per axis, 141x144x123) at
# the largest tile it holds, 136x144x120 (multiples of the network's stride 8; 4 passes), beside the training patch
# (210 passes): the default network and LUnet16 (untrained; speed does not depend on the weights) under PyTorch,
# OpenVINO float32 and OpenVINO INT8, interleaved, THREADS (default 2) threads, REPEATS (default 2) rounds after one
# warm-up, into whole_case_largest_tile.md/.csv. Fewer networks and runtimes than measure_deployment.sh: every network,
# runtime and tile keeps its session for the interleaved rounds, and the large tile's sessions take gigabytes.
# Needs nnUNet_preprocessed set and pip install ".[openvino]"; absolute times need an otherwise idle machine.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PLANS="$nnUNet_preprocessed/Dataset004_Hippocampus/nnUNetPlans.json"
rm -f "$HERE/whole_case_largest_tile.csv"
python "$HERE/../bench_runtimes.py" --plans-file "$PLANS" -c 3d_fullres --widths 16 --scales --threads "${THREADS:-2}" \
  --repeats "${REPEATS:-2}" --warmup 1 --runtimes torch_eager openvino openvino-int8 --case largest --case-repeat 3 \
  --tile-sizes 1x 136x144x120 --csv "$HERE/whole_case_largest_tile.csv" | tee "$HERE/whole_case_largest_tile.md"
