#!/usr/bin/env bash
# Regenerates every table and figure of docs/results.md (CPU, 2 cores: three to four hours in all; SKIP_FIT=1 skips
# the first, K=4 full-length fit; SKIP_RESIDUAL=1 skips the runs of the previous default, 'residual').
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
stamp "default recipe: ratios x8/x16 on three real fields, 4 members"
$X experiment ratios --out $D/ratios --cases gulfstream kuroshio mediterranean:3 --ratios 8 16 --noise 0 0.05 \
    --members 4 --device cpu
stamp "default recipe: uncertainty at x8 on four real fields"
$X experiment uncertainty --out $D/uncertainty --cases gulfstream kuroshio mediterranean:3 agulhas --ratios 8 \
    --noise 0 --members 4 --latent-samples 16 --device cpu
stamp "paper recipe: ladder and uncertainty"
$X experiment ratios --out $D/ladder-paper --cases gulfstream --ratios 1 2 4 8 16 32 --noise 0 \
    --members 1 --iters 300 --recipe paper --device cpu
$X experiment uncertainty --out $D/uncertainty-paper --cases gulfstream --ratios 8 --noise 0 --members 4 \
    --latent-samples 16 --iters 600 --recipe paper --device cpu
if [ "${SKIP_RESIDUAL:-0}" != 1 ]; then
stamp "previous default 'residual': fit, ratios (K=1 and K=4 at x16), uncertainty, ladder, ensemble size"
[ "${SKIP_FIT:-0}" = 1 ] || $X fit gulfstream --ratio 8 --members 4 --recipe residual --device cpu --quiet \
    --out /tmp/ssh-dip-gs8-residual.nc --summary $D/residual/fit_gulfstream_x8_k4.json
$X experiment ratios --out $D/residual/ratios --cases gulfstream kuroshio mediterranean:3 --ratios 8 16 \
    --noise 0 0.05 --members 1 --iters 600 --recipe residual --device cpu
$X experiment ratios --out $D/residual/ratios-k4 --cases gulfstream kuroshio mediterranean:3 --ratios 16 \
    --noise 0 0.05 --members 4 --iters 600 --recipe residual --device cpu
$X experiment uncertainty --out $D/residual/uncertainty --cases gulfstream --ratios 8 --noise 0 --members 4 \
    --latent-samples 16 --iters 600 --recipe residual --device cpu
$X experiment ratios --out $D/residual/ladder --cases gulfstream --ratios 1 2 4 8 16 32 --noise 0 --members 1 \
    --iters 300 --recipe residual --device cpu
$X experiment ensemble-size --out $D/residual/ensemble-size --cases gulfstream --ratios 16 --noise 0 \
    --members 4 --iters 600 --recipe residual --device cpu
fi
rm -f $D/*/*.nc $D/residual/*/*.nc
stamp done
