#!/usr/bin/env bash
# Fast inference of the lean networks on MSD Hippocampus, to run on an IDLE machine after run.sh (it needs
# the models run.sh trains). Writes benchmarks/hippocampus/onnx/: the runtimes table of every width variant, the
# benchmark with its ONNX Runtime columns, and a check that `nnunet-lunet predict` matches nnUNetv2_predict.
# Needs nnUNet_raw/nnUNet_preprocessed/nnUNet_results set. 2 threads everywhere.
set -euo pipefail
export nnUNet_def_n_proc=2 nnUNet_n_proc_DA=2 nnUNet_compile=false OMP_NUM_THREADS=2
OUT=benchmarks/hippocampus/onnx
mkdir -p "$OUT"
MODELS=$(mktemp -d)

for trainer in nnUNetTrainerLeanRecipe_smoke nnUNetTrainerLUnet16_smoke nnUNetTrainerSTAMP_smoke; do
  nnunet-lunet export-onnx -d 4 -c 3d_fullres -p nnUNetPlans_b2 -tr "$trainer" -f 0 -o "$MODELS/$trainer" | tee -a "$OUT/export.log"
done

# Every width variant (untrained) and the three trained models, one patch, every CPU runtime, interleaved.
python benchmarks/bench_runtimes.py --plans-file "$nnUNet_preprocessed/Dataset004_Hippocampus/nnUNetPlans_b2.json" \
    -c 3d_fullres --threads 2 --repeats 13 --warmup 2 \
    --runtimes torch_eager torch_channels_last torch_compile ort_basic ort_extended ort_all openvino \
    --model-folder "$MODELS"/* --csv "$OUT/runtimes.csv" | tee "$OUT/runtimes.md"

# Patch and whole-case latency of the trained models in PyTorch and ONNX Runtime, with ratios.
nnunet-lunet benchmark -d 4 -c 3d_fullres -f 0 -p nnUNetPlans_b2 -o "$OUT/benchmark" --overwrite --repeats 5 \
    --disable-tta

# predict vs nnUNetv2_predict on 10 training images (MSD Hippocampus has no test labels; any images do).
IMAGES=$(mktemp -d)
ls "$nnUNet_raw/Dataset004_Hippocampus/imagesTr"/*_0000.nii.gz | head -10 | xargs -I{} cp {} "$IMAGES/"
nnUNetv2_predict -i "$IMAGES" -o "$MODELS/pred_nnunet" -d 4 -c 3d_fullres -f 0 -p nnUNetPlans_b2 -tr nnUNetTrainerLUnet16_smoke \
    -device cpu --save_probabilities -npp 2 -nps 2
/usr/bin/time -v nnunet-lunet predict -i "$IMAGES" -o "$MODELS/pred_onnx" -m "$MODELS/nnUNetTrainerLUnet16_smoke" \
    --save-probabilities 2> "$OUT/predict_time.txt"
python - "$MODELS/pred_nnunet" "$MODELS/pred_onnx" <<'PY' | tee "$OUT/predict_parity.txt"
import os, sys, numpy as np, SimpleITK as sitk
ref, ours = sys.argv[1:]
for f in sorted(x for x in os.listdir(ref) if x.endswith(".nii.gz")):
    a = sitk.GetArrayFromImage(sitk.ReadImage(os.path.join(ref, f)))
    b = sitk.GetArrayFromImage(sitk.ReadImage(os.path.join(ours, f)))
    p = np.load(os.path.join(ref, f[:-7] + ".npz"))["probabilities"]
    q = np.load(os.path.join(ours, f[:-7] + ".npz"))["probabilities"]
    print(f"{f}: max |prob diff| {np.abs(p - q).max():.2e}, voxels differing {int((a != b).sum())} of {a.size}")
PY
