#!/usr/bin/env bash
# The Python virtual environment whose pip-installed torch wheel is the LibTorch of the
# CUDA build (packaging/setup.sh test-torch2). Creates it, or reuses it when it already has
# the right torch, and prints the CMake prefix path of that LibTorch on stdout.
#   packaging/torch2_env.sh [VENV_DIR]    default: .venv-torch2 in the checkout (git-ignored)
# Needs Debian's python3-venv and PyPI; the wheel pulls the CUDA runtime libraries (~5 GB).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$(realpath -m "${1:-$here/.venv-torch2}")"
spec="torch==2.15.*"
want_prefix="2.15."

# Debian's interpreter (its python3-venv provides ensurepip), not whatever python3 is first
# on PATH.
python=/usr/bin/python3
[ -x "$python" ] || python="$(command -v python3)"

installed_version() {
  "$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null || true
}

if [ ! -x "$venv/bin/python" ]; then
  echo "torch2_env.sh: creating $venv" >&2
  "$python" -m venv "$venv"
fi
version="$(installed_version)"
if [[ "$version" != "$want_prefix"* ]]; then
  echo "torch2_env.sh: installing $spec into $venv (${version:-no torch yet}; ~2 min, 5.3 GB)" >&2
  start=$(date +%s)
  # No pip cache: it would keep another copy of the ~3 GB of wheels, on a disk that also holds
  # three builds in CI.
  "$venv/bin/python" -m pip install --disable-pip-version-check --no-cache-dir -q "$spec" >&2
  version="$(installed_version)"
  echo "torch2_env.sh: torch $version installed in $(( $(date +%s) - start )) s" >&2
  [[ "$version" == "$want_prefix"* ]] || { echo "torch2_env.sh: pip did not install $spec" >&2; exit 1; }
else
  echo "torch2_env.sh: reusing $venv (torch $version)" >&2
fi

# torch.utils.cmake_prefix_path, found without importing torch (seconds, and no warnings).
"$venv/bin/python" -c 'import importlib.util, os; print(os.path.join(importlib.util.find_spec("torch").submodule_search_locations[0], "share", "cmake"))'
