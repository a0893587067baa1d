#!/usr/bin/env bash
# The paper preset on MSD Hippocampus (docs/compare.md): every row with the lean recipe at 20 epochs x 25 iterations of
# batch 2 (500 steps), 5 validation iterations per epoch, final validation without mirroring, on folds 0, 1 and 2, in
# two lanes of one torch thread each. First the rows of the paper's claims (a) and (b) on the three folds, then the
# pruning rows and STAMP's retrained levels on fold 0, then every width row (LUnets, scaled U-Nets) on fold 0 and on
# the three folds, then every row on the three folds. Each call writes into its own folder beside this script
# (claims_ab/, pruning_fold0/, widths_fold0/, widths_3folds/, all_3folds/; a later call reuses the runs an earlier
# one finished): its benchmark in benchmark/ and each finished
# run's small outputs in runs/ (no checkpoints). Resumable: run it again after an interruption (finished runs are kept,
# interrupted ones continue with nnU-Net's --c, a run of another budget is refused). Needs
# nnUNet_raw/_preprocessed/_results set, Dataset004_Hippocampus in nnUNet_raw and the package on PATH.
set -euo pipefail
: "${nnUNet_raw:?}" "${nnUNet_preprocessed:?}" "${nnUNet_results:?}"
HERE=$(cd "$(dirname "$0")" && pwd)
export nnUNet_def_n_proc=${nnUNet_def_n_proc:-2} nnUNet_n_proc_DA=${nnUNet_n_proc_DA:-2} nnUNet_compile=false
export PYTHONUNBUFFERED=1
# the marker is written only after preprocessing succeeded (nnU-Net writes nnUNetPlans.json before it preprocesses)
[ -f "$nnUNet_preprocessed/Dataset004_Hippocampus/.preprocessed_3d_fullres" ] || {
  nnUNetv2_plan_and_preprocess -d 4 -c 3d_fullres -np 2 -npfp 2
  touch "$nnUNet_preprocessed/Dataset004_Hippocampus/.preprocessed_3d_fullres"; }
COMPARE=(nnunet-lunet compare -d 4 -c 3d_fullres --preset paper --batch-size 2 --epochs 20 --iterations 25
         --val-iterations 5 --disable-tta -device cpu --lanes 2 --c)
"${COMPARE[@]}" -f 0 1 2 --rows default lunet16 unet_as_lunet16 lunet8 unet_as_lunet8 -o "$HERE/claims_ab"
"${COMPARE[@]}" -f 0 --rows default stamp random_in_layer widest l1_unnormalised l1 uniform_random stamp75_retrained \
  stamp50_retrained stamp25_retrained -o "$HERE/pruning_fold0"
WIDTHS=(default lunet32 lunet16 lunet8 lunet4 scaled75 scaled50 scaled25 unet_as_lunet16 unet_as_lunet8)
"${COMPARE[@]}" -f 0 --rows "${WIDTHS[@]}" -o "$HERE/widths_fold0"
"${COMPARE[@]}" -f 0 1 2 --rows "${WIDTHS[@]}" -o "$HERE/widths_3folds"
"${COMPARE[@]}" -f 0 1 2 -o "$HERE/all_3folds"
