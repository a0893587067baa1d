#!/usr/bin/env bash
# The deployment figures of docs/deployment.md, each from one interleaved run of untrained networks of the
# Hippocampus plan (the default network, LUnet16, LUnet8, and the scaled U-Nets of SCALES, default none; speed does
# not depend on the weights):
# - whole_case.md/.csv: one patch and one whole case per runtime (benchmarks/bench_runtimes.py --case): the largest
#   validation case of fold 0 repeated 3x per axis (a multi-tile volume, as CT and MRI have; a Hippocampus case fits
#   one tile), predicted with nnU-Net's own sliding window, no mirroring, at the training patch and at larger tiles
#   (TILES, default 1x 2x; 141x144x123 takes at most 136x144x120 in multiples of the stride 8, 4 passes, but every
#   network, runtime and tile keeps its session for the interleaved rounds, and 1x 2x 136x144x120 together took over
#   20 GB); passes, time per pass and the part that is not forward passes (both from the forward passes timed inside each case run), GMAC/s
#   and the efficiency against the default network in the same runtime; ONNX Runtime at its full graph optimisation
#   (ort_all), OpenVINO with the latency hint, both with THREADS threads;
# - batched_tiles.md/.csv (BATCHED=1, the default; BATCHED=0 skips it): time per tile at 1, 2, 4 and 8 tiles per
#   runtime call (benchmarks/bench_batched_tiles.py).
# THREADS (default 2) threads for every runtime; REPEATS rounds (default 3 for the case, 7 for the batches).
# Needs nnUNet_preprocessed set and pip install ".[openvino]"; absolute times need an otherwise idle machine.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PLANS="$nnUNet_preprocessed/Dataset004_Hippocampus/nnUNetPlans.json"
THREADS=${THREADS:-2}
rm -f "$HERE/whole_case.csv"
python "$HERE/../bench_runtimes.py" --plans-file "$PLANS" -c 3d_fullres --widths 16 8 --scales ${SCALES:-} --threads "$THREADS" \
  --repeats "${REPEATS:-3}" --warmup 1 --runtimes torch_eager ort_all openvino openvino-bf16 openvino-int8 \
  --case largest --case-repeat 3 --tile-sizes ${TILES:-1x 2x} --csv "$HERE/whole_case.csv" \
  | tee "$HERE/whole_case.md"
[ "${BATCHED:-1}" = 1 ] || exit 0
rm -f "$HERE/batched_tiles.csv"
python "$HERE/../bench_batched_tiles.py" --plans-file "$PLANS" -c 3d_fullres --widths 16 8 --threads "$THREADS" \
  --repeats "${REPEATS:-7}" --batches 1 2 4 8 --csv "$HERE/batched_tiles.csv" | tee "$HERE/batched_tiles.md"
