#!/usr/bin/env bash
# The hardening modes of packaging/setup.sh (README "Set-up"; .ci/run runs all three):
#   packaging/setup.sh sanitize        ASan + UBSan build (build-sanitize/, clang) of models,
#                                      core, the CLI and their tests; runs the whole suite,
#                                      leaks included (suppressions: packaging/lsan.supp)
#   packaging/setup.sh fuzz SECONDS    libFuzzer targets of every reader (fuzz/), each run for
#                                      SECONDS; a crash, leak, timeout or out-of-memory fails,
#                                      and the input is saved under fuzz/regressions/<target>/
#   packaging/setup.sh deb [--install-check]
#                                      animerun-studio_<version>_amd64.deb from build/ (the
#                                      test build's folder: after `setup.sh test` only the
#                                      package is made); --install-check also installs it with
#                                      apt-get, runs `animerun synth` and `animerun eval-match`
#                                      from /usr/bin and removes it again (root or sudo)
# Options: --no-install (skip apt), --gui (sanitize: the Qt widgets and their tests too).
# sanitize and fuzz share build-sanitize/ (one instrumented build for both).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-}"
[ $# -gt 0 ] && shift
seconds=""
install=1
gui=OFF
install_check=0
while [ $# -gt 0 ]; do
  case "$1" in
    --no-install) install=0; shift ;;
    --gui) gui=ON; shift ;;
    --install-check) install_check=1; shift ;;
    [0-9]*) seconds="$1"; shift ;;
    *) echo "setup.sh $mode: unknown option '$1'" >&2; exit 2 ;;
  esac
done
jobs="$(nproc)"
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
elapsed() { echo "$(( $(date +%s) - $1 )) s"; }

if [ "$install" = 1 ]; then
  "$here/packaging/install_deps.sh" --hardening
fi

# ---------------------------------------------------------------------------------------
# The instrumented build shared by sanitize and fuzz.
sanitize_dir="$here/build-sanitize"
configure_sanitize() {
  # Unity batches (ANIMERUN_UNITY): a cold build in 700 s (2 cores) against the 1606 s CI
  # measured per source (clang cannot use the LibTorch PCH).
  # -O1: ASan's recommendation (usable speed, exact reports); line tables for the stacks.
  cmake -S "$here" -B "$sanitize_dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=Debug \
    "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -gline-tables-only" -DANIMERUN_SANITIZE=ON -DANIMERUN_FUZZ=ON -DANIMERUN_CXX_STANDARD=17 \
    -DBUILD_TESTS=ON -DBUILD_GUI="$gui" -DANIMERUN_UNITY=ON >/dev/null
}
export ASAN_OPTIONS="detect_leaks=1:check_initialization_order=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$here/packaging/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"

case "$mode" in
# ---------------------------------------------------------------------------------------
sanitize)
  start=$(date +%s)
  configure_sanitize
  cmake --build "$sanitize_dir" -j "$jobs"
  echo "setup.sh sanitize: build took $(elapsed "$start")"
  start=$(date +%s)
  cd "$sanitize_dir"
  # LibTorch runs 1 thread per test process when tests run in parallel (as in `test`).
  ANIMERUN_THREADS=1 QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j "$jobs" --timeout 1800
  echo "setup.sh sanitize: tests took $(elapsed "$start")"
  ;;
# ---------------------------------------------------------------------------------------
fuzz)
  if [ -z "$seconds" ]; then echo "usage: packaging/setup.sh fuzz SECONDS" >&2; exit 2; fi
  start=$(date +%s)
  configure_sanitize
  cmake --build "$sanitize_dir" -j "$jobs" --target fuzz_targets
  echo "setup.sh fuzz: build took $(elapsed "$start")"
  fz="$sanitize_dir/fuzz"
  "$fz/fuzz_runner" seeds "$fz/seeds" >/dev/null
  targets=$(cd "$here/fuzz/targets" && ls ./*_fuzz.cpp | sed 's|./||; s|_fuzz.cpp||')
  mkdir -p "$fz/logs" "$fz/results"
  rm -f "$fz/results/"*
  run_target() {
    local t=$1 log="$fz/logs/$1.log" art="$fz/artifacts/$1"
    rm -rf "$art"
    mkdir -p "$fz/corpus/$t" "$art"
    # The first folder collects what the fuzzer finds (kept between runs); seeds and saved
    # regressions are read. -timeout: one input running 10 s is a finding; the RSS limit
    # makes an allocation the reader's limits should have refused one too.
    local rc=0
    timeout $((seconds + 300)) "$fz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2560 \
      -print_final_stats=1 -artifact_prefix="$art/" "$fz/corpus/$t" "$fz/seeds/$t" "$here/fuzz/regressions/$t" \
      >"$log" 2>&1 || rc=$?
    local runs
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    if [ "$rc" = 0 ] && [ -n "$runs" ]; then
      echo "fuzz $t: ok, $runs runs ($((runs / seconds))/s)" >"$fz/results/$t"
      return
    fi
    local kind="exit code $rc"
    for k in "deadly signal" "leak" "timeout" "out-of-memory" "AddressSanitizer" "runtime error" "fuzz finding"; do
      if grep -q -- "$k" "$log"; then kind="$k"; break; fi
    done
    local saved=""
    for f in "$art"/*; do
      [ -f "$f" ] || continue
      mkdir -p "$here/fuzz/regressions/$t"
      cp "$f" "$here/fuzz/regressions/$t/"
      saved="$saved fuzz/regressions/$t/$(basename "$f")"
    done
    echo "fuzz $t: FAILED ($kind); input saved as${saved:- (none)}; log $log" >"$fz/results/$t"
  }
  for t in $targets; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    run_target "$t" &
  done
  wait
  failed=0
  for t in $targets; do
    cat "$fz/results/$t"
    grep -q ": ok," "$fz/results/$t" || failed=1
  done
  echo "setup.sh fuzz: $(elapsed "$start") in all"
  if [ "$failed" = 1 ]; then
    echo "setup.sh fuzz: failures above; their inputs are now regression tests (commit them, fix the reader)" >&2
    exit 1
  fi
  ;;
# ---------------------------------------------------------------------------------------
deb)
  start=$(date +%s)
  build_dir="$here/build"
  # The same configuration as `setup.sh test` (so CI reuses its build); installing needs
  # only the binary, not the tests.
  cmake -S "$here" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_GUI=ON -DBUILD_TESTS=ON \
    -DANIMERUN_UNITY=ON -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >/dev/null
  cmake --build "$build_dir" -j "$jobs" --target animerun
  (cd "$build_dir" && cpack -G DEB >/dev/null)
  version=$(sed -n 's/^project(AnimeRunStudio VERSION \([0-9.]*\).*/\1/p' "$here/CMakeLists.txt")
  deb="$build_dir/animerun-studio_${version}_amd64.deb"
  [ -f "$deb" ] || { echo "setup.sh deb: $deb was not made" >&2; exit 1; }

  # What the package holds: the desktop entry validates and its icon is installed.
  check=$(mktemp -d)
  trap 'rm -rf "$check"' EXIT
  dpkg-deb -x "$deb" "$check"
  desktop-file-validate "$check/usr/share/applications/animerun.desktop"
  icon=$(sed -n 's/^Icon=//p' "$check/usr/share/applications/animerun.desktop")
  for size in 16x16 22x22 24x24 32x32 48x48 64x64 128x128 256x256; do
    [ -f "$check/usr/share/icons/hicolor/$size/apps/$icon.png" ] || { echo "setup.sh deb: no $size icon '$icon'" >&2; exit 1; }
  done
  [ -f "$check/usr/share/icons/hicolor/scalable/apps/$icon.svg" ] || { echo "setup.sh deb: no scalable icon" >&2; exit 1; }
  for f in copyright changelog.gz README.md; do
    [ -f "$check/usr/share/doc/animerun-studio/$f" ] || { echo "setup.sh deb: no /usr/share/doc/animerun-studio/$f" >&2; exit 1; }
  done
  depends=$(dpkg-deb -f "$deb" Depends)
  case "$depends" in
    *libtorch*) ;;
    *) echo "setup.sh deb: Depends lacks LibTorch: $depends" >&2; exit 1 ;;
  esac
  echo "setup.sh deb: $deb ($(du -h "$deb" | cut -f1)), Depends: $depends"

  if [ "$install_check" = 1 ]; then
    if dpkg-query -W -f='${Status}' animerun-studio 2>/dev/null | grep -q "install ok installed"; then
      echo "setup.sh deb --install-check: animerun-studio is already installed here; not touching it" >&2
      exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -qq "$deb" >/dev/null
    files=$(dpkg -L animerun-studio)
    work=$(mktemp -d)
    trap 'rm -rf "$check" "$work"' EXIT
    /usr/bin/animerun synth --out "$work/syn" --scenes 1 --frames 3 --size 160x96 --seed 5 --quiet
    /usr/bin/animerun eval-match --data "$work/syn" --pred "$work/syn/test/SegMatching" --json "$work/m.json"
    grep -q '"acc": 1' "$work/m.json" || { echo "setup.sh deb: eval-match from /usr/bin: $(cat "$work/m.json")" >&2; exit 1; }
    $sudo apt-get purge -y -qq animerun-studio >/dev/null
    left=""
    for f in $files; do
      if [ -f "$f" ]; then left="$left $f"; fi
    done
    if [ -n "$left" ] || dpkg-query -W -f='${Status}' animerun-studio 2>/dev/null | grep -q "installed"; then
      echo "setup.sh deb: removal left$left" >&2
      exit 1
    fi
    echo "setup.sh deb: installed with apt-get, ran synth and eval-match from /usr/bin, removed cleanly"
  fi
  echo "setup.sh deb: took $(elapsed "$start")"
  ;;
*)
  sed -n '2,17p' "$0"
  exit 2
  ;;
esac
