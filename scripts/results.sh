#!/usr/bin/env bash
# Regenerates every table and figure of docs/results.md (CPU, 2 cores: about an hour in all; SKIP_FIT=1 skips the
# first, K=4 full-length fit).
# Run from the repository root after `bash scripts/setup.sh`:  bash scripts/results.sh
set -euo pipefail
cd "$(dirname "$0")/.."
D=docs/results
X=".venv/bin/ssh-dip"
mkdir -p $D
stamp() { echo "=== $(date -u +%T) $*"; }
if [ "${SKIP_FIT:-0}" != 1 ]; then
stamp "fit: Gulf Stream x8, K=4, default recipe and iterations"
$X fit gulfstream --ratio 8 --members 4 --device cpu --quiet --out /tmp/ssh-dip-gs8.nc --summary $D/fit_gulfstream_x8_k4.json
fi
stamp "ratios x8/x16 on three real fields"
$X experiment ratios --out $D/ratios --cases gulfstream kuroshio mediterranean:3 --ratios 8 16 --noise 0 0.05 \
    --members 1 --iters 600 --device cpu
stamp "uncertainty, default recipe"
$X experiment uncertainty --out $D/uncertainty --cases gulfstream --ratios 8 --noise 0 --members 4 \
    --latent-samples 16 --iters 600 --device cpu
stamp "ensemble size"
$X experiment ensemble-size --out $D/ensemble-size --cases gulfstream --ratios 16 --noise 0 --members 4 \
    --iters 600 --device cpu
stamp "ratio ladder x1..x32, default and paper recipes"
$X experiment ratios --out $D/ladder --cases gulfstream --ratios 1 2 4 8 16 32 --noise 0 --members 1 \
    --iters 300 --device cpu
$X experiment ratios --out $D/ladder-paper --cases gulfstream --ratios 1 2 4 8 16 32 --noise 0 \
    --members 1 --iters 300 --recipe paper --device cpu
stamp "uncertainty, paper recipe"
$X experiment uncertainty --out $D/uncertainty-paper --cases gulfstream --ratios 8 --noise 0 --members 4 \
    --latent-samples 16 --iters 600 --recipe paper --device cpu
rm -f $D/*/*.nc
stamp done
