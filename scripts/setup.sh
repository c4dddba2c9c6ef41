#!/usr/bin/env bash
# Create .venv and install ssh-dip into it. `--test` adds the test tools and Debian's Chromium for the
# browser tests. Torch: the pinned 2.13.0 is a CPU build on machines that have it on disk; on a GPU machine
# install your CUDA torch into .venv first and this script keeps it.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/python -m pip install -q torch==2.13.0
if [ "${1:-}" = "--test" ]; then
  .venv/bin/python -m pip install -q -e ".[test]"
  if [ ! -x /usr/bin/chromium ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -q && $SUDO apt-get install -y -q chromium
  fi
else
  .venv/bin/python -m pip install -q -e .
fi
