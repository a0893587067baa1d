#!/usr/bin/env bash
# Claim (a) over budget: the default network and LUnet16 on fold 0 at 2000 and 1000 steps (80 and 40 epochs x 25
# iterations of batch 2; the longer budget first), beside run.sh's 500 steps, with the same recipe and plans. A run
# folder does not encode its budget, so each budget trains into its own results root, ${nnUNet_results}_steps<N>
# (compare refuses to mix budgets in one root). Writes budget_<N>/ beside this script (benchmark and the runs' small
# outputs), then budget_curve.md and budget_curve.png (the three budgets of fold 0 side by side; budget_curve.py).
# Resumable like run.sh.
set -euo pipefail
: "${nnUNet_raw:?}" "${nnUNet_preprocessed:?}" "${nnUNet_results:?}"
HERE=$(cd "$(dirname "$0")" && pwd)
export nnUNet_def_n_proc=${nnUNet_def_n_proc:-2} nnUNet_n_proc_DA=${nnUNet_n_proc_DA:-2} nnUNet_compile=false
export PYTHONUNBUFFERED=1
ROOT=$nnUNet_results
for epochs in 80 40; do
  steps=$((epochs * 25))
  nnUNet_results="${ROOT}_steps$steps" nnunet-lunet compare -d 4 -c 3d_fullres --preset paper --batch-size 2 \
    --epochs "$epochs" --iterations 25 --val-iterations 5 --disable-tta -device cpu --lanes 2 --c -f 0 \
    --rows default lunet16 -o "$HERE/budget_$steps"
done
# the 500-step runs of fold 0 come from run.sh's first call (claims_ab/)
python "$HERE/budget_curve.py" claims_ab budget_1000 budget_2000
