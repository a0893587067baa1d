# Sourced by run.sh and lanes/common.sh: train CONFIGURATION TRAINER PLANS on Dataset004_Hippocampus fold 0 (CPU).
# Skips a finished run (validation/summary.json present); continues an interrupted one with --c.
train() {
  local fold="$nnUNet_results/Dataset004_Hippocampus/${2}__${3}__${1}/fold_0" cont=""
  if [ -f "$fold/validation/summary.json" ]; then echo "done: $2 $1"; return; fi
  if ls "$fold"/checkpoint_*.pth >/dev/null 2>&1; then cont="--c"; fi
  echo "$(date +%T) training $2 $1 ($3) $cont"
  nnUNetv2_train 4 "$1" 0 -p "$3" -tr "$2" -device cpu $cont
  echo "$(date +%T) finished $2 $1"
}
