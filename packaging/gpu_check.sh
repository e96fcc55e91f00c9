#!/usr/bin/env bash
# The GPU check (issue 10): on a machine with an NVIDIA GPU and a pip PyTorch but neither Qt nor
# OpenCV, build the LibTorch-only targets (models/, their tests, animerun_model_bench) against
# the wheel's LibTorch, run the golden parity tests on CUDA (the same tolerances; TF32 off) and
# write gpu_check.json: the device's measured multiply-add peak (fp32 with TF32 off, tf32, fp16,
# bf16), `bench flow` of every network at 440x1024 in fp32, fp16 and bf16, and `bench train`
# (raft, 368x768, batch 6), each with its fraction of the peak of its precision (the roofline).
# Unattended; sized to finish within 8 minutes.
# Without a usable GPU the same steps run on the CPU (with --quick at test sizes): the fallback
# the test suite runs (ctest gpu_check_cpu_fallback).
#
#   packaging/gpu_check.sh [--out DIR] [--build-dir DIR] [--no-build] [--quick] [--golden DIR]
#     --out DIR        where gpu_check.json and the logs go (default: build-gpu/gpu_check)
#     --build-dir DIR  the build folder (default: build-gpu); with --no-build an existing one
#     --no-build       use the build folder as it is (its animerun_model_bench and tests)
#     --quick          test sizes (128x160, 2 iterations, raft-small training at batch 1)
#     --golden DIR     the parity fixtures (default ../shared/golden beside the checkout; on the
#                      GPU machine, a copy carried inside the checkout)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="$here/build-gpu"
out=""
build=1
quick=0
golden="$here/../shared/golden"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$(realpath -m "$2")"; shift 2 ;;
    --build-dir) build_dir="$(realpath -m "$2")"; shift 2 ;;
    --no-build) build=0; shift ;;
    --quick) quick=1; shift ;;
    --golden) golden="$(realpath -m "$2")"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "gpu_check.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || out="$build_dir/gpu_check"
mkdir -p "$out"
start=$(date +%s)
log() { echo "gpu_check.sh: $* ($(( $(date +%s) - start )) s)"; }

if [ "$build" = 1 ]; then
  # The wheel's LibTorch; nvcc (when present) for the project's own CUDA kernels.
  py="${PYTHON:-python3}"
  torch_prefix="$("$py" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')" || {
    echo "gpu_check.sh: no Python with torch ($py); set PYTHON" >&2; exit 1; }
  cuda=OFF
  if command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ]; then
    cuda=ON
    command -v nvcc >/dev/null || export PATH="/usr/local/cuda/bin:$PATH"
  fi
  tests=OFF
  # GTest for the parity tests: a system package, where there is one.
  if [ -f /usr/include/gtest/gtest.h ] || [ -f /usr/local/include/gtest/gtest.h ]; then tests=ON; fi
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  cmake -S "$here" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DBUILD_CORE=OFF -DBUILD_GUI=OFF \
    -DBUILD_TESTS="$tests" -DWITH_CUDA="$cuda" -DANIMERUN_UNITY=ON -DCMAKE_PREFIX_PATH="$torch_prefix" \
    -DANIMERUN_GOLDEN_DIR="$golden" >"$out/configure.log" 2>&1 || { tail -20 "$out/configure.log"; exit 1; }
  cmake --build "$build_dir" -j "$(nproc)" >"$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }
  log "built (CUDA kernels: $cuda, parity tests: $tests)"
fi

bench="$build_dir/tools/model_bench/animerun_model_bench"
[ -x "$bench" ] || { echo "gpu_check.sh: $bench not built" >&2; exit 1; }
device="$("$bench" --print-device)"
log "device: $device"

# Parity on the device: every golden case of every network (quick: RAFT-small's).
parity_json=""
failed=0
total_passed=0
filter='*Parity*'
[ "$quick" = 1 ] && filter='RaftParity.SmallMatchesOfficial'
for t in "$build_dir"/tests/test_models_*; do
  [ -f "$t" ] && [ -x "$t" ] || continue  # not the *_autogen folders
  name="$(basename "$t")"
  rc=0
  ANIMERUN_TEST_DEVICE="$device" "$t" --gtest_filter="$filter" >"$out/$name.log" 2>&1 || rc=$?
  passed="$(grep -c '^\[       OK \]' "$out/$name.log" || true)"
  [ "$rc" = 0 ] || failed=1
  total_passed=$((total_passed + passed))
  parity_json="$parity_json${parity_json:+, }{\"tests\": \"$name\", \"passed\": $passed, \"ok\": $([ "$rc" = 0 ] && echo true || echo false)}"
done
if [ "$total_passed" = 0 ]; then
  echo "gpu_check.sh: no parity test ran (built without tests? missing fixtures: --golden)" >&2
  failed=1
fi
log "parity: $([ "$failed" = 0 ] && echo ok || echo FAILED), $total_passed tests passed (logs in $out)"

if [ "$quick" = 1 ]; then
  args=(--size 128x160 --iters 2 --repeats 1 --warmup 0 --train-model raft-small --train-batch 1 --train-crop 128x160
        --train-iters 2 --train-steps 1 --peak-seconds 0.5)
  [ "$device" = cpu ] && args+=(--precisions fp32)
else
  args=(--size 440x1024 --iters 32 --repeats 3 --warmup 1 --train-model raft --train-batch 6 --train-crop 368x768
        --train-iters 12 --train-steps 3)
  # On the CPU the full sizes would take far longer than the 8 minutes: test sizes there.
  [ "$device" = cpu ] && args=(--size 128x160 --iters 2 --repeats 1 --warmup 0 --precisions fp32
        --train-model raft-small --train-batch 1 --train-crop 128x160 --train-iters 2 --train-steps 1 --peak-seconds 0.5)
fi
"$bench" --device "$device" "${args[@]}" --json "$out/bench.json" >"$out/bench.log" 2>&1 || {
  tail -5 "$out/bench.log"; echo "gpu_check.sh: the benchmark failed" >&2; exit 1; }
# An fp32 measurement that failed is a failure; fp16/bf16 may be unsupported where they are.
if grep '"precision": "fp32"' "$out/bench.json" | grep -q '"error"'; then
  grep '"error"' "$out/bench.json" >&2
  failed=1
fi
# The roofline: the device's measured fp32 peak, and every fp32 result as a fraction of it.
if ! grep '"bench": "peak"' "$out/bench.json" | grep '"precision": "fp32"' | grep -q '"peak_gflops"' ||
   grep '"precision": "fp32"' "$out/bench.json" | grep -v '"bench": "peak"' | grep -qv '"fraction_of_peak"'; then
  echo "gpu_check.sh: no fp32 peak, or an fp32 result without its fraction of it" >&2
  failed=1
fi
log "benchmarks written"

{
  echo "{\"gpu_check\": {\"device\": \"$device\", \"quick\": $([ "$quick" = 1 ] && echo true || echo false),"
  echo "  \"seconds\": $(( $(date +%s) - start )), \"parity\": [${parity_json}],"
  echo "  \"bench\":"
  cat "$out/bench.json"
  echo "}}"
} >"$out/gpu_check.json.tmp"
mv "$out/gpu_check.json.tmp" "$out/gpu_check.json"
log "wrote $out/gpu_check.json"
exit "$failed"
