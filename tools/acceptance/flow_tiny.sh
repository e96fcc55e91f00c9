#!/usr/bin/env bash
# Issue 9's flow-tiny acceptance: for each network, 300 flow-tiny updates from the golden
# (official-format) start weights on generated frames, then `eval-flow` of the start weights,
# the trained weights and zero flow on a generated test split that training never reads.
# (The golden start weights are the official architectures' random initialisations.)
#
#   tools/acceptance/flow_tiny.sh [--animerun BIN] [--golden DIR] [--work DIR] [MODEL ...]
#
# MODELs: raft-small (default set: raft-small pwcnet gmflow). Prints one line per model and
# writes WORK/flow_tiny.jsonl. Minutes per model on 2 cores.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$here/build/app/animerun"
golden="$here/../shared/golden"
work="${TMPDIR:-/tmp}/animerun_flow_tiny"
models=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --animerun) bin="$2"; shift 2 ;;
    --golden) golden="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    -h|--help) sed -n 2,9p "$0"; exit 0 ;;
    -*) echo "flow_tiny.sh: unknown option $1" >&2; exit 2 ;;
    *) models+=("$1"); shift ;;
  esac
done
[[ ${#models[@]} -gt 0 ]] || models=(raft-small pwcnet gmflow)
[[ -x "$bin" ]] || { echo "flow_tiny.sh: $bin not found (build first or pass --animerun)" >&2; exit 1; }

start_weights() {
  case "$1" in
    raft-small) echo "$golden/raft-small/raft-small.pth" ;;
    pwcnet) echo "$golden/pwc/pwc.pytorch" ;;
    gmflow) echo "$golden/gmflow/gmflow.pth" ;;
    *) echo "flow_tiny.sh: no golden start weights known for $1" >&2; exit 2 ;;
  esac
}

mkdir -p "$work"
data="$work/data"
if [[ ! -d "$data/test" ]]; then
  # Train and test come from different seeds: the test scenes are never trained on.
  "$bin" synth --split train --scenes 12 --frames 5 --size 384x256 --seed 11 --color-passes 0 --out "$data" --quiet
  "$bin" synth --split test --scenes 4 --frames 3 --size 384x256 --seed 12 --color-passes 0 --out "$data" --quiet
fi

epe() {  # epe MODEL WEIGHTS -> the pooled EPE of eval-flow on the test split
  "$bin" eval-flow --data "$data" --model "$1" --weights "$2" --iters 12 --no-scenes \
    --json "$work/eval.json" >/dev/null 2>&1
  # The overall EPE is the top-level "epe" (one space of indent; scenes are nested deeper).
  sed -n 's/^ "epe": \([0-9.eE+-]*\),*$/\1/p' "$work/eval.json" | head -n 1
}

# Zero flow as a reference: the ground truth's .flo header (tag, width, height) and zeros.
zero="$work/zero_flow"
if [[ ! -d "$zero" ]]; then
  for gt in "$data"/test/Flow/*/forward/*.flo; do
    scene="$(basename "$(dirname "$(dirname "$gt")")")"
    mkdir -p "$zero/$scene/forward"
    read -r w h < <(od -An -t d4 -j 4 -N 8 "$gt")
    { head -c 12 "$gt"; head -c $((w * h * 8)) /dev/zero; } > "$zero/$scene/forward/$(basename "$gt")"
  done
fi
"$bin" eval-flow --data "$data" --pred "$zero" --no-scenes --json "$work/eval.json" >/dev/null 2>&1
epe_zero="$(sed -n 's/^ "epe": \([0-9.eE+-]*\),*$/\1/p' "$work/eval.json" | head -n 1)"

out="$work/flow_tiny.jsonl"
: > "$out"
for m in "${models[@]}"; do
  w0="$(start_weights "$m")"
  [[ -f "$w0" ]] || { echo "flow_tiny.sh: $w0 missing" >&2; exit 1; }
  run="$work/run_$m"
  rm -rf "$run"
  t0=$(date +%s)
  "$bin" train --preset flow-tiny --set model="$m" --set data="$data" --set init_weights="$w0" \
    --set iterations=300 --out "$run" --quiet > "$work/train_$m.log" 2>&1
  t1=$(date +%s)
  before="$(epe "$m" "$w0")"
  after="$(epe "$m" "$run/flow_weights_last.pth")"
  line=$(awk -v m="$m" -v b="$before" -v a="$after" -v z="$epe_zero" -v s=$((t1 - t0)) 'BEGIN {
    printf "{\"model\":\"%s\",\"epe_start\":%.4f,\"epe_trained\":%.4f,\"reduction\":%.4f,\"epe_zero_flow\":%.4f,\"train_seconds\":%d}", m, b, a, 1 - a / b, z, s }')
  echo "$line" | tee -a "$out"
done
