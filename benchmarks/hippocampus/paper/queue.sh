#!/usr/bin/env bash
# One lane of the paper preset on MSD Hippocampus: takes the next job of jobs.txt that no lane has taken (a lock file
# per job under $nnUNet_results/.lanes), trains it with nnU-Net's console script, and goes on until none is left.
# Start two lanes of one torch thread each (about the throughput of one lane of two threads, and robust to other
# load):  nohup bash queue.sh a > lane_a.log 2>&1 &  nohup bash queue.sh b > lane_b.log 2>&1 &
# Resumable: a finished run (validation/summary.json) is skipped, an interrupted one continues with --c; a lane
# killed mid-job leaves its lock, which the next start of the same lane takes over.
# Needs nnUNet_raw/_preprocessed/_results set, Dataset004_Hippocampus planned (prepare.sh) and the package on PATH.
set -euo pipefail
: "${nnUNet_raw:?}" "${nnUNet_preprocessed:?}" "${nnUNet_results:?}"
LANE=${1:?lane name}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/budget.sh"
export NNUNET_LUNET_THREADS=1 PYTHONUNBUFFERED=1
LOCKS="$nnUNet_results/.lanes"; mkdir -p "$LOCKS"
while read -r config fold trainer plans; do
  [ -z "$config" ] || [ "${config:0:1}" = "#" ] && continue
  job="${trainer}__${plans}__${config}__f${fold}"
  out="$nnUNet_results/Dataset004_Hippocampus/${trainer}__${plans}__${config}/fold_${fold}"
  [ -f "$out/validation/summary.json" ] && continue
  # take the job: mkdir is atomic; our own lock from an earlier start of this lane is taken over
  if ! mkdir "$LOCKS/$job" 2>/dev/null; then [ "$(cat "$LOCKS/$job/lane" 2>/dev/null)" = "$LANE" ] || continue; fi
  echo "$LANE" > "$LOCKS/$job/lane"
  cont=""; ls "$out"/checkpoint_*.pth >/dev/null 2>&1 && cont="--c"
  echo "$(date -u +%FT%TZ) lane $LANE: $job $cont"
  nnUNetv2_train 4 "$config" "$fold" -p "$plans" -tr "$trainer" -device cpu $cont
  echo "$(date -u +%FT%TZ) lane $LANE: finished $job"
  bash "$HERE/collect.sh" "$out" || true
done < "$HERE/jobs.txt"
echo "$(date -u +%FT%TZ) lane $LANE: no job left"
