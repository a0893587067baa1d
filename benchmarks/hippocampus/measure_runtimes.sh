#!/usr/bin/env bash
# One patch of every width variant of the Hippocampus plan (untrained) under each CPU runtime: PyTorch eager and
# channels-last, ONNX Runtime (graph optimisation levels basic and all), OpenVINO float32 and bfloat16 (where the
# CPU has it), interleaved in a new shuffled order each round, 2 threads, into runtimes.md/.csv
# (benchmarks/bench_runtimes.py). Needs an otherwise idle machine, nnUNet_preprocessed set, and
# pip install ".[openvino]". The trained models' per-patch and per-case timings are in benchmark.md (run.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
rm -f "$HERE/runtimes.csv"
python "$HERE/../bench_runtimes.py" --plans-file "$nnUNet_preprocessed/Dataset004_Hippocampus/nnUNetPlans_b2.json" \
  -c 3d_fullres --widths 32 16 8 --scales --match-parameters 16 --threads 2 --repeats 13 --warmup 2 \
  --runtimes torch_eager torch_channels_last ort_basic ort_all openvino openvino_bf16 --csv "$HERE/runtimes.csv" \
  | tee "$HERE/runtimes.md"
