# Shared by lane_a.sh and lane_b.sh: the trainings of ../run.sh (same budget and recipe), split into two lanes that
# run in parallel with 1 torch thread each (faster on 2 cores than one lane with 2 threads, and robust to other load).
# Needs nnUNet_raw/_preprocessed/_results set and the package's venv on PATH.
set -euo pipefail
: "${nnUNet_raw:?}" "${nnUNet_preprocessed:?}" "${nnUNet_results:?}"
export nnUNet_def_n_proc=2 nnUNet_n_proc_DA=2 nnUNet_compile=false PYTHONUNBUFFERED=1
export NNUNET_LUNET_EPOCHS=20 NNUNET_LUNET_ITERATIONS=25 NNUNET_LUNET_VAL_ITERATIONS=5 NNUNET_LUNET_VAL_TTA=0
export NNUNET_LUNET_THREADS=1
PLANS=nnUNetPlans_b2
source "$(dirname "${BASH_SOURCE[0]}")/../train_function.sh"
