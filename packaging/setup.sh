#!/usr/bin/env bash
# One-command set-up on Debian 12 (see README):
#   packaging/setup.sh demo   install dependencies, build, open the GUI on the embedded demo
#   packaging/setup.sh test   install dependencies, build with tests, run every test (ctest)
#   packaging/setup.sh test-torch2  the same with LibTorch 2.x + CUDA (pip wheel) in build-torch2/
#   packaging/setup.sh sanitize | fuzz SECONDS | deb [--install-check]   see packaging/hardening.sh
# Options after the mode: --build-dir DIR (default: build, build-torch2), --no-install (skip apt),
# --no-gui (test-torch2: without the Qt GUI and its tests, as CI runs it; see .ci/run).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-}"
[ $# -gt 0 ] && shift
# Hardening modes: ASan/UBSan suite, fuzzing, Debian package (deb reuses build/ of `test`).
case "$mode" in
  sanitize|fuzz|deb) exec "$here/packaging/hardening.sh" "$mode" "$@" ;;
esac
build_dir="$here/build"
install=1
gui=ON
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir="$(realpath -m "$2")"; shift 2 ;;
    --no-install) install=0; shift ;;
    --no-gui) gui=OFF; shift ;;
    *) echo "setup.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
case "$mode" in
  demo|test) ;;
  test-torch2)
    # The second build (issue 10): the LibTorch of the pip torch wheel, WITH_CUDA=ON (nvcc of
    # the CUDA toolkit compiles models/*.cu), Debian's Qt/OpenCV/GTest; every test on the CPU.
    [ "$build_dir" = "$here/build" ] && build_dir="$here/build-torch2"
    [ "$install" = 1 ] && "$here/packaging/install_deps.sh"
    t0=$(date +%s)
    torch_prefix="$("$here/packaging/torch2_env.sh")"
    if [ -z "${CUDACXX:-}" ] && ! command -v nvcc >/dev/null; then
      export CUDACXX=/usr/local/cuda/bin/nvcc
      [ -x "$CUDACXX" ] || { echo "setup.sh: no nvcc (install the CUDA 13 toolkit, or set CUDACXX)" >&2; exit 1; }
      export PATH="$(dirname "$CUDACXX"):$PATH"  # LibTorch's CMake looks for the toolkit through nvcc
    fi
    t1=$(date +%s)
    cmake -S "$here" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_GUI="$gui" -DBUILD_TESTS=ON \
      -DWITH_CUDA=ON -DCMAKE_PREFIX_PATH="$torch_prefix" -DANIMERUN_UNITY=ON
    t2=$(date +%s)
    cmake --build "$build_dir" -j "$(nproc)"
    t3=$(date +%s)
    (cd "$build_dir" && ANIMERUN_THREADS=1 ctest --output-on-failure -j "$(nproc)" --timeout 1200)
    t4=$(date +%s)
    echo "setup.sh test-torch2: venv $((t1 - t0)) s, configure $((t2 - t1)) s, build $((t3 - t2)) s, tests $((t4 - t3)) s"
    exit 0
    ;;
  *) sed -n '2,7p' "$0"; exit 2 ;;
esac

if [ "$install" = 1 ]; then
  "$here/packaging/install_deps.sh"
fi

jobs="$(nproc)"
tests=OFF
[ "$mode" = test ] && tests=ON
# Unity batches: a one-shot build (ANIMERUN_UNITY in CMakeLists.txt); configure a folder of
# your own without it for day-to-day work.
cmake -S "$here" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_GUI=ON -DBUILD_TESTS="$tests" -DANIMERUN_UNITY=ON
start=$(date +%s)
cmake --build "$build_dir" -j "$jobs"
echo "setup.sh: build took $(( $(date +%s) - start )) s"

if [ "$mode" = test ]; then
  cd "$build_dir"
  # Each test process uses 1 LibTorch thread when tests run in parallel.
  ANIMERUN_THREADS=1 ctest --output-on-failure -j "$jobs" --timeout 1200
else
  if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    echo "setup.sh: no display found; starting under xvfb-run would show nothing. Run $build_dir/app/animerun gui --demo from a desktop session." >&2
    exit 1
  fi
  exec "$build_dir/app/animerun" gui --demo
fi
