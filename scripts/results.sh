#!/usr/bin/env bash
# Regenerates every table and figure of docs/results.md (CPU, 2 cores: about seven to eight hours in all, estimated
# from the parts; CALIBRATION_ONLY=1 runs only the current default's §0 matrix and calibration table (about 25
# minutes); STANDING_ONLY=1 runs only §0, the default 'dip' against bicubic and IBP; SKIP_FIT=1 skips the K=4
# full-length fit of the 'consistent' recipe; SKIP_RESIDUAL=1 skips the runs of the older default, 'residual').
# Run from the repository root after `bash scripts/setup.sh`:  bash scripts/results.sh
set -euo pipefail
cd "$(dirname "$0")/.."
D=docs/results
X=".venv/bin/ssh-dip"
mkdir -p $D
stamp() { echo "=== $(date -u +%T) $*"; }
stamp "§10 (issue 26): SST-guided downscaling, three twins and the Black Sea figure (about 30 minutes, one thread;"
stamp "GUIDED_ONLY=1 runs only this)"
GD=$D/guided
mkdir -p $GD
GP=".venv/bin/python scripts/guided.py --threads 1"
GM="bicubic ibp esqg oracle regression default:4 guided:4"
rm -f $GD/sqg.csv $GD/archs.csv $GD/coupling.csv $GD/blacksea.csv $GD/roms.csv   # the script appends
$GP --cases sqg --ratios 4 8 16 --noise 0 0.05 --methods $GM --guides matched white other-region other-day \
    --csv $GD/sqg.csv | tee $GD/sqg.log
$GP --cases sqg --ratios 4 8 16 --noise 0 0.05 --methods guided_skip:4 guided_pix:4 --csv $GD/archs.csv \
    | tee $GD/archs.log
$GP --cases sqg:1:0.25 sqg:1:1.0 sqg:1:2.0 --ratios 8 --noise 0 --methods ibp oracle regression default:4 guided:4 \
    --csv $GD/coupling.csv | tee $GD/coupling.log
$GP --cases blacksea --ratios 2 4 8 --noise 0 0.05 --methods $GM --guides matched white other-region \
    --csv $GD/blacksea.csv | tee $GD/blacksea.log
$GP --cases roms --ratios 4 8 16 --noise 0 0.05 --methods $GM --guides matched white other-region \
    --csv $GD/roms.csv | tee $GD/roms.log
.venv/bin/python scripts/guided_tables.py $GD > $GD/tables.md
.venv/bin/python scripts/guide_figure.py --out docs/guided_blacksea.png | tee $GD/figure.log
[ "${GUIDED_ONLY:-0}" = 1 ] && exit 0
S=$D/standing
mkdir -p $S
P=".venv/bin/python scripts/standing.py --threads 2"
TURB="turbulence:1@0:128,0:128"
stamp "§0 (since 2026-12-06): the settling default, K=4, against bicubic and IBP, and its uncertainty's calibration"
C=$D/calibration
mkdir -p $C
P1=".venv/bin/python scripts/standing.py --threads 1"
G=../shared/data/nrt_global_allsat_phy_l4_20190223_20190226.nc   # unseen crops: Kuroshio 26-58N 140-172E, NE Atlantic
$P1 --cases $TURB gulfstream kuroshio mediterranean agulhas --ratios 8 16 --noise 0 0.05 \
    --methods bicubic ibp default:4 --csv $C/section0_default_k4.csv | tee $C/section0_default_k4.md
$P1 --cases turbulence:5 turbulence:7 $G@464:592,560:688 $G@480:608,1280:1408 roms_txla --ratios 8 16 --noise 0 \
    --methods bicubic ibp default:4 --csv $C/unseen_default_k4.csv | tee $C/unseen_default_k4.md
$P1 --cases blacksea --ratios 4 --noise 0 0.05 --methods bicubic ibp default:4 \
    --csv $C/unseen_blacksea.csv | tee $C/unseen_blacksea.md
.venv/bin/python scripts/calibration_table.py $C > $C/table.md   # also writes $C/reliability.png
[ "${CALIBRATION_ONLY:-0}" = 1 ] && exit 0
# Below: the previous default ('dip1500' since 2026-12-06; these tables were made when it was 'default') and the
# recipes before it.
stamp "§0: the default 'dip' (K=4) against bicubic and IBP, x8 and x16, noise 0"
$P --cases $TURB gulfstream kuroshio mediterranean agulhas --ratios 8 16 --noise 0 --methods bicubic ibp dip1500:4 \
    --csv $S/default_k4.csv | tee $S/default_k4.md
stamp "§0: every architecture at x8 (K=1, each recipe's own iterations)"
$P --cases $TURB gulfstream --ratios 8 --noise 0 --methods paper skip decoder dip1500:1 \
    --csv $S/archs_x8.csv | tee $S/archs_x8.md
stamp "§0: one member against four, Mediterranean and Agulhas"
$P --cases mediterranean agulhas --ratios 8 16 --noise 0 --methods bicubic ibp dip1500:1 dip1500:4 \
    --csv $S/fields_k1_k4.csv | tee $S/fields_k1_k4.md
stamp "§0: with 5 % noise, x8 (the table of docs/results.md)"
$P --cases $TURB gulfstream --ratios 8 --noise 0.05 --methods bicubic ibp dip1500:1 dip1500:4 \
    --csv $S/noise5_x8.csv | tee $S/noise5_x8.md
stamp "§0: the paper's recipe at its 1500 iterations on three more fields, noise 0"
$P --cases kuroshio mediterranean agulhas --ratios 8 16 --noise 0 --methods bicubic ibp paper \
    --csv $S/paper_fields.csv | tee $S/paper_fields.md
stamp "§0: the paper's 4-member ensemble at x16 (the best estimate measured on the Gulf Stream x16)"
$P --cases $TURB kuroshio mediterranean agulhas --ratios 16 --noise 0 --methods bicubic ibp paper:4 \
    --csv $S/paper_k4_x16.csv | tee $S/paper_k4_x16.md
stamp "§0: one member of the default, noise 0, the fields fields_k1_k4 leaves out"
$P --cases $TURB gulfstream kuroshio --ratios 8 16 --noise 0 --methods bicubic ibp dip1500:1 \
    --csv $S/default_k1.csv | tee $S/default_k1.md
stamp "§0: the paper's recipe with 5 % noise"
$P --cases $TURB gulfstream --ratios 8 16 --noise 0.05 --methods bicubic ibp paper \
    --csv $S/paper_noise5.csv | tee $S/paper_noise5.md
stamp "§0: the Deep Decoder at x8 (turbulence, Gulf Stream)"
$P --cases $TURB gulfstream --ratios 8 --noise 0 --methods bicubic ibp decoder \
    --csv $S/decoder_x8.csv | tee $S/decoder_x8.md
stamp "§0: the default with 5 % noise, x16"
$P --cases $TURB gulfstream kuroshio mediterranean agulhas --ratios 16 --noise 0.05 \
    --methods bicubic ibp dip1500:4 --csv $S/noise5_x16.csv | tee $S/noise5_x16.md
stamp "§0: the default and the paper's recipe with 5 % noise, x8, on the three other real fields"
$P --cases kuroshio mediterranean agulhas --ratios 8 --noise 0.05 --methods bicubic ibp dip1500:1 dip1500:4 paper \
    --csv $S/noise5_x8_fields.csv | tee $S/noise5_x8_fields.md
stamp "§0: one member of the default with 5 % noise, x16"
$P --cases $TURB gulfstream kuroshio mediterranean agulhas --ratios 16 --noise 0.05 --methods bicubic ibp dip1500:1 \
    --csv $S/noise5_x16_k1.csv | tee $S/noise5_x16_k1.md
stamp "§0: the paper's recipe with 5 % noise, x16, on the three other real fields"
$P --cases kuroshio mediterranean agulhas --ratios 16 --noise 0.05 --methods bicubic ibp paper \
    --csv $S/paper_noise5_fields.csv | tee $S/paper_noise5_fields.md
stamp "§0: the Deep Decoder and the original DIP ('skip' fitted directly) on every field, noise 0"
$P --cases kuroshio mediterranean agulhas --ratios 8 16 --noise 0 --methods bicubic ibp decoder skip \
    --csv $S/archs_fields.csv | tee $S/archs_fields.md
$P --cases $TURB --ratios 16 --noise 0 --methods bicubic ibp decoder skip \
    --csv $S/archs_x16.csv | tee $S/archs_x16.md
$P --cases gulfstream --ratios 16 --noise 0 --methods bicubic ibp decoder skip \
    --csv $S/archs_gs16.csv | tee $S/archs_gs16.md
$P --cases gulfstream --ratios 8 --noise 0 --methods bicubic ibp skip --csv $S/skip_gs8.csv | tee $S/skip_gs8.md
stamp "§0: the Deep Decoder and 'skip' with 5 % noise"
$P --cases $TURB gulfstream kuroshio mediterranean agulhas --ratios 8 16 --noise 0.05 \
    --methods bicubic ibp decoder skip --csv $S/archs_noise5.csv | tee $S/archs_noise5.md
stamp "§0: the matrix of every point and method run, and the ensemble calibration table"
.venv/bin/python scripts/standing_matrix.py $S > $S/matrix.md
stamp "§0: the paper's recipe as read now (fixed latent centre) and as read before (z redrawn every step)"
$P --cases $TURB --ratios 8 16 --noise 0 --methods paper paper_redraw --csv $S/paper.csv | tee $S/paper.md
stamp "§0: the paper's recipe at its 1500 iterations: ladder x1..x32 (Gulf Stream, turbulence) and ensemble size"
TURB_NC=$D/turbulence1.nc
.venv/bin/python -c "
import numpy as np, xarray as xr; from dipcore.synthetic import turbulence
a = turbulence(256, seed=1)[:128, :128].astype('float32')
xr.Dataset({'ssh': (('y', 'x'), a, {'units': 'm', 'standard_name': 'sea_surface_height'})},
           coords={'y': ('y', np.arange(128) * 2.0, {'units': 'km'}),
                   'x': ('x', np.arange(128) * 2.0, {'units': 'km'})}).to_netcdf('$TURB_NC')"
$X experiment ratios --out $D/ladder-paper-1500 --cases gulfstream $TURB_NC --ratios 1 2 4 8 16 32 --noise 0 \
    --members 1 --recipe paper --device cpu
$X experiment ensemble-size --out $D/ensemble-size-paper --cases gulfstream --ratios 16 --noise 0 --members 4 \
    --recipe paper --device cpu
[ "${STANDING_ONLY:-0}" = 1 ] && exit 0
if [ "${SKIP_FIT:-0}" != 1 ]; then
stamp "fit: Gulf Stream x8, K=4, default recipe and iterations"
$X fit gulfstream --ratio 8 --members 4 --recipe consistent --device cpu --quiet --out /tmp/ssh-dip-gs8.nc \
    --summary $D/fit_gulfstream_x8_k4.json
fi
stamp "previous default 'consistent' (§1-§9): ratios x8/x16 on three real fields, 4 members"
$X experiment ratios --out $D/ratios --cases gulfstream kuroshio mediterranean:3 --ratios 8 16 --noise 0 0.05 \
    --members 4 --recipe consistent --device cpu
stamp "previous default 'consistent': uncertainty at x8 on four real fields"
$X experiment uncertainty --out $D/uncertainty --cases gulfstream kuroshio mediterranean:3 agulhas --ratios 8 \
    --noise 0 --members 4 --latent-samples 16 --recipe consistent --device cpu
stamp "paper recipe: ladder and uncertainty"
$X experiment ratios --out $D/ladder-paper --cases gulfstream --ratios 1 2 4 8 16 32 --noise 0 \
    --members 1 --iters 300 --recipe paper_redraw --device cpu
$X experiment uncertainty --out $D/uncertainty-paper --cases gulfstream --ratios 8 --noise 0 --members 4 \
    --latent-samples 16 --iters 600 --recipe paper_redraw --device cpu
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
