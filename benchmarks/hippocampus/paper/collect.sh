#!/usr/bin/env bash
# Copy a finished fold's small outputs (no checkpoints) into runs/ beside this script, for committing:
# validation/summary.json, debug.json, the training log and pruning_log.json.
set -euo pipefail
src=${1:?fold folder}
HERE=$(cd "$(dirname "$0")" && pwd)
dst="$HERE/runs/$(basename "$(dirname "$src")")/$(basename "$src")"
mkdir -p "$dst"
[ -f "$src/validation/summary.json" ] && cp "$src/validation/summary.json" "$dst/summary.json"
for f in debug.json pruning_log.json; do [ -f "$src/$f" ] && cp "$src/$f" "$dst/"; done
for f in "$src"/training_log_*.txt; do [ -f "$f" ] && cp "$f" "$dst/"; done
exit 0
