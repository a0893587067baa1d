#!/usr/bin/env bash
# INT8 on MSD Hippocampus: export-onnx --int8 of the paper preset's fold-0 runs (../paper/run.sh) of LUnet16, LUnet8
# and the default network. Each export quantizes with NNCF (300 calibration patches, seed 0), measures the INT8 and
# float32 validation Dice on the fold's 52 validation cases and refuses beyond 0.5 Dice point; its export.json is
# copied here as <row>_export.json (the model folders themselves stay outside the repository).
# Needs nnUNet_* set to the paper run's folders and pip install ".[int8]"; OUT (default ./int8_models) holds the models.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-int8_models}
for row in lunet16 lunet8 default; do
  config=3d_fullres; [ "$row" = default ] || config=3d_fullres_$row
  nnunet-lunet export-onnx -d 4 -c "$config" -tr nnUNetTrainerLeanRecipe_budget -p nnUNetPlans_compare_b2 -f 0 \
    -o "$OUT/$row" --int8 --overwrite
  cp "$OUT/$row/export.json" "$HERE/${row}_export.json"
done
