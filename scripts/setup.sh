#!/usr/bin/env bash
# Create .venv and install ssh-dip into it. `--test` adds the test tools, Debian's Chromium for the
# browser tests and Debian's libudunits2-0 for compliance-checker (tests/test_cf.py). Torch: the pinned 2.13.0
# is a CPU build on machines that have it on disk; on a GPU machine install your CUDA torch into .venv first and
# this script keeps it.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/python -m pip install -q torch==2.13.0
if [ "${1:-}" = "--test" ]; then
  .venv/bin/python -m pip install -q -e ".[test]"
  # Debian packages the tests need, when missing: Chromium (browser tests) and libudunits2-0 (compliance-checker)
  PKGS=""
  [ -x /usr/bin/chromium ] || PKGS="$PKGS chromium"
  dpkg -s libudunits2-0 >/dev/null 2>&1 || PKGS="$PKGS libudunits2-0"
  if [ -n "$PKGS" ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -q && $SUDO apt-get install -y -q $PKGS
  fi
else
  .venv/bin/python -m pip install -q -e .
fi
