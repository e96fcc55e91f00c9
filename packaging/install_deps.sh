#!/usr/bin/env bash
# Installs the Debian 12 packages AnimeRun Studio needs. Idempotent and non-interactive:
# packages already present are skipped by apt, and nothing is downloaded outside apt.
#   packaging/install_deps.sh           build + GUI + tests
#   packaging/install_deps.sh --no-gui  models/core/CLI only (headless servers)
#   packaging/install_deps.sh --hardening  also clang, libFuzzer, lld and the .deb tools
#                                          (setup.sh sanitize / fuzz / deb)
set -euo pipefail

gui=1
hardening=0
for arg in "$@"; do
  case "$arg" in
    --no-gui) gui=0 ;;
    --hardening) hardening=1 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "install_deps.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

pkgs=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev            # LibTorch 1.13 (CPU)
  libdnnl-dev             # headers of the oneDNN LibTorch links: Winograd 3x3 convolutions in training
  libopenblas0-pthread    # fast BLAS for LibTorch; the reference BLAS is ~20x slower
  libopencv-dev           # OpenCV 4.6: image I/O, drawing, connected components
  libgtest-dev            # GoogleTest
  nlohmann-json3-dev      # JSON (header only)
  zlib1g-dev              # PNG/zip checksums
  libgloo-dev             # gloo/ headers for c10d's Gloo process group (distributed training)
  python3-venv            # the virtual environment of the LibTorch 2.x build (setup.sh test-torch2)
)
if [ "$gui" = 1 ]; then
  pkgs+=(qt6-base-dev libqcustomplot-dev libgl-dev xvfb xauth)
fi
if [ "$hardening" = 1 ]; then
  # clang-14 with its sanitizer and libFuzzer runtimes, lld for the large instrumented
  # links; dpkg-dev (dpkg-shlibdeps) and desktop-file-utils for the package.
  pkgs+=(clang-14 libclang-rt-14-dev lld-14 dpkg-dev desktop-file-utils)
fi

sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install_deps.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install_deps.sh: all packages present"
fi

# LibTorch links libblas.so.3 through the alternatives system; point it at OpenBLAS.
blas=$(update-alternatives --list libblas.so.3-x86_64-linux-gnu 2>/dev/null | grep openblas-pthread | head -n1 || true)
if [ -n "$blas" ]; then
  $sudo update-alternatives --set libblas.so.3-x86_64-linux-gnu "$blas" >/dev/null
fi
lapack=$(update-alternatives --list liblapack.so.3-x86_64-linux-gnu 2>/dev/null | grep openblas-pthread | head -n1 || true)
if [ -n "$lapack" ]; then
  $sudo update-alternatives --set liblapack.so.3-x86_64-linux-gnu "$lapack" >/dev/null
fi
