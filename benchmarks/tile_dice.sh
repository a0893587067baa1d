#!/usr/bin/env bash
# Whole-case Dice of larger sliding-window tiles (nnunet-lunet predict --tile-size) on one fold's validation cases:
# against nnU-Net's standard prediction of the same model (REFERENCE_RUNTIME, default torch, at the training patch:
# what nnUNetv2_predict computes, bit for bit) and against the ground truth. InstanceNorm normalises over the tile, so
# a larger tile computes other logits: this measures what that costs, with the runtime and precision of RUNTIME.
#   MODEL=lunet16_onnx DATASET=Dataset037_CHAOS_MR_T2 benchmarks/tile_dice.sh [TILE ...]   (default tiles: 2x 3x)
# MODEL: an export-onnx folder of the fold (with --int8 for RUNTIME=openvino-int8); DATASET: its dataset name; FOLD
# (default: the model's fold); RUNTIME (default openvino; several separated by spaces); OUT (default tile_dice_<dataset>): the reference's and
# each tile's predictions, summary_<name>_vs_reference.json and summary_<name>_vs_gt.json (nnUNetv2_evaluate_folder),
# and dice.csv (name, runtime, tile, mean Dice vs the reference, mean Dice vs the ground truth), each runtime at 1x
# first.
# A tile larger than a validation case (and than the training patch) is refused by predict: choose tiles the
# dataset's cases can hold (MSD Hippocampus cases fit in one training patch, so no larger tile applies there).
# IMAGES and LABELS (both or neither) replace the validation cases with another test set, e.g. the fold's validation
# cases tiled 3x per axis by benchmarks/tiled_cases.py (then DATASET only names the output).
# Needs nnUNet_raw and nnUNet_preprocessed set.
set -euo pipefail
: "${MODEL:?set MODEL to an export-onnx folder}" "${DATASET:?set DATASET to the dataset name}"
RUNTIME=${RUNTIME:-openvino}
OUT=${OUT:-tile_dice_$DATASET}
TILES=("$@")
[ ${#TILES[@]} -gt 0 ] || TILES=(2x 3x)
FOLD=${FOLD:-$(python -c "import json,sys; print(json.load(open(sys.argv[1]))['fold'])" "$MODEL/export.json")}
PRE="$nnUNet_preprocessed/$DATASET"
GT="$PRE/gt_segmentations"
mkdir -p "$OUT/images"
if [ -n "${IMAGES:-}" ]; then
  : "${LABELS:?set LABELS beside IMAGES}"
  rmdir "$OUT/images" 2>/dev/null || true
  rm -f "$OUT/images"; ln -s "$(cd "$IMAGES" && pwd)" "$OUT/images"
  GT="$LABELS"
else
python - "$PRE/splits_final.json" "$FOLD" "$nnUNet_raw/$DATASET/imagesTr" "$OUT/images" <<'PY'
import json, os, sys
splits, fold, src, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
for case in json.load(open(splits))[fold]["val"]:
    for name in sorted(os.listdir(src)):
        if name.rsplit("_", 1)[0] == case and not os.path.exists(os.path.join(dst, name)):
            os.symlink(os.path.join(src, name), os.path.join(dst, name))
PY
fi
evaluate() {  # reference folder, prediction folder, summary file
  nnUNetv2_evaluate_folder "$1" "$2" -djfile "$MODEL/dataset.json" -pfile "$MODEL/plans.json" -o "$3" >/dev/null
  python -c "import json,sys; print(json.load(open(sys.argv[1]))['foreground_mean']['Dice'])" "$3"
}
REFERENCE_RUNTIME=${REFERENCE_RUNTIME:-torch}
nnunet-lunet predict -i "$OUT/images" -o "$OUT/reference" -m "$MODEL" --runtime "$REFERENCE_RUNTIME" --overwrite
echo "name,runtime,tile,dice_vs_reference,dice_vs_gt" > "$OUT/dice.csv"
echo "reference,$REFERENCE_RUNTIME,1x,1,$(evaluate "$GT" "$OUT/reference" "$OUT/summary_reference_vs_gt.json")" \
  | tee -a "$OUT/dice.csv"
for RT in $RUNTIME; do
  for TILE in 1x "${TILES[@]}"; do
    NAME="${RT}_${TILE// /x}"
    if [ "$RT" = "$REFERENCE_RUNTIME" ] && [ "$TILE" = 1x ]; then  # the reference itself
      ln -sfn reference "$OUT/$NAME"
    else
      nnunet-lunet predict -i "$OUT/images" -o "$OUT/$NAME" -m "$MODEL" --runtime "$RT" --tile-size $TILE --overwrite
    fi
    VS_REF=$(evaluate "$OUT/reference" "$OUT/$NAME" "$OUT/summary_${NAME}_vs_reference.json")
    VS_GT=$(evaluate "$GT" "$OUT/$NAME" "$OUT/summary_${NAME}_vs_gt.json")
    echo "$NAME,$RT,${TILE// /x},$VS_REF,$VS_GT" | tee -a "$OUT/dice.csv"
  done
done
