#!/usr/bin/env bash
# What bfloat16 inference (predict --runtime openvino-bf16) costs in accuracy on MSD Hippocampus, after run.sh: the
# trained models exported, fold 0's 52 validation cases predicted (no test-time mirroring, as the benchmark) in
# OpenVINO at float32 and at bfloat16, each evaluated against the labels with nnU-Net's nnUNetv2_evaluate_simple, and
# the two segmentations compared voxel by voxel. Writes benchmarks/hippocampus/bf16_accuracy.md.
# Needs nnUNet_raw/nnUNet_preprocessed/nnUNet_results set (as for run.sh) and a CPU with native bf16.
set -euo pipefail
export nnUNet_def_n_proc=2 nnUNet_n_proc_DA=2 nnUNet_compile=false
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python - "$nnUNet_preprocessed/Dataset004_Hippocampus/splits_final.json" "$nnUNet_raw/Dataset004_Hippocampus" \
    "$WORK" <<'PY'
import json, os, shutil, sys
splits, raw, work = sys.argv[1:]
os.makedirs(f"{work}/images"); os.makedirs(f"{work}/labels")
for case in json.load(open(splits))[0]["val"]:
    shutil.copy(f"{raw}/imagesTr/{case}_0000.nii.gz", f"{work}/images/")
    shutil.copy(f"{raw}/labelsTr/{case}.nii.gz", f"{work}/labels/")
PY
{
echo "# bfloat16 vs float32 inference on MSD Hippocampus (fold 0 validation, $(ls "$WORK/images" | wc -l) cases)"
echo
echo "Exact script: bf16_accuracy.sh. OpenVINO $(python -c 'import openvino; print(openvino.__version__)'), no test-time mirroring."
echo
echo "| model | Dice float32 | Dice bfloat16 | voxels labelled differently |"
echo "|---|---|---|---|"
} > "$WORK/report.md"
# trainer:plans:configuration of each model (MODELS to choose others)
MODELS=${MODELS:-"nnUNetTrainerLeanRecipe_smoke:nnUNetPlans_b2:3d_fullres nnUNetTrainerLUnet16_smoke:nnUNetPlans_b2:3d_fullres
  nnUNetTrainerLUnet8_smoke:nnUNetPlans_b2:3d_fullres nnUNetTrainerLeanRecipe_smoke:nnUNetPlans_b2:3d_fullres_scaled_as_lunet16
  nnUNetTrainerSTAMP_smoke:nnUNetPlans_b2:3d_fullres"}
for model in $MODELS; do
  IFS=: read -r trainer plans config <<< "$model"
  folder="$WORK/${trainer}__${config}"
  nnunet-lunet export-onnx -d 4 -c "$config" -p "$plans" -tr "$trainer" -f 0 -o "$folder" > /dev/null
  for runtime in openvino openvino-bf16; do
    nnunet-lunet predict -i "$WORK/images" -o "$folder/$runtime" -m "$folder" --runtime "$runtime" --disable-tta \
        --threads 2 > "$folder/$runtime.log" 2>&1 || { cat "$folder/$runtime.log"; exit 1; }
    nnUNetv2_evaluate_simple "$WORK/labels" "$folder/$runtime" -l 1 2 -np 2 > /dev/null
  done
  python - "$folder" "${trainer}__${config}" >> "$WORK/report.md" <<'PY'
import json, os, sys
import numpy as np, SimpleITK as sitk
folder, name = sys.argv[1:]
dice = {rt: json.load(open(f"{folder}/{rt}/summary.json"))["foreground_mean"]["Dice"] for rt in ("openvino", "openvino-bf16")}
files = sorted(f for f in os.listdir(f"{folder}/openvino") if f.endswith(".nii.gz"))
seg = lambda rt, f: sitk.GetArrayFromImage(sitk.ReadImage(f"{folder}/{rt}/{f}"))
differ = sum(int((seg("openvino", f) != seg("openvino-bf16", f)).sum()) for f in files)
total = sum(seg("openvino", f).size for f in files)
print(f"| {name} | {dice['openvino']:.4f} | {dice['openvino-bf16']:.4f} | {differ} of {total} ({100 * differ / total:.3f}%) |")
PY
done
cp "$WORK/report.md" "${REPORT:-$HERE/bf16_accuracy.md}"
cat "$WORK/report.md"
