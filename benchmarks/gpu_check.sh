#!/usr/bin/env bash
# GPU check, one script: on a machine with CUDA, from the repository root, in under 8 minutes and offline:
#   1. makes dipcore importable with what is installed (pip --no-index, else PYTHONPATH) and says what is missing,
#   2. runs the test suite's CUDA tests (pytest -m "not slow and not ui" -k "cuda or gpu"),
#   3. runs the benchmark table on CUDA (benchmarks/bench_fit.py: K up to 50 at 256², K 4 and 8 at 512²/1024²),
#   4. runs one full default fit (ssh-dip fit gulfstream --ratio 8 --members 4 --device cuda),
# and writes benchmarks/RESULTS-gpu.md (date, nvidia-smi device line, every step's command, exit code, time and
# output), copied to "$OUT/" when $OUT is set. On a machine without CUDA it writes the file saying so, exits 0.
#
#   bash benchmarks/gpu_check.sh                      # RESULTS=path overrides the result file
#   BUDGET=480 bash benchmarks/gpu_check.sh           # total seconds (default 460, under the 8-minute mark)
#   GPU_CHECK_DEVICE=cpu bash benchmarks/gpu_check.sh # a dry run of the script itself on a CPU (tiny sizes)
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
RESULTS=${RESULTS:-benchmarks/RESULTS-gpu.md}
BUDGET=${BUDGET:-460}
DEVICE=${GPU_CHECK_DEVICE:-cuda}
T0=$(date +%s)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

left() { echo $(( BUDGET - ($(date +%s) - T0) )); }
cap() {  # cap SECONDS: the smaller of SECONDS and what is left of the budget (at least 5)
    local l; l=$(left); if [ "$l" -lt "$1" ]; then [ "$l" -lt 5 ] && l=5; echo "$l"; else echo "$1"; fi
}

{
    echo "# GPU check — $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo
    echo "Written by \`bash benchmarks/gpu_check.sh\` (repository root, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' + uncommitted changes'))."
    echo
} > "$RESULTS"

section() { printf '\n## %s\n\n' "$1" >> "$RESULTS"; }
log_block() {  # log_block FILE [LINES]: the file's last LINES lines in a fenced block
    echo '```' >> "$RESULTS"; tail -n "${2:-80}" "$1" >> "$RESULTS"; echo '```' >> "$RESULTS"
}
finish() {
    echo >> "$RESULTS"
    echo "Total: $(( $(date +%s) - T0 )) s." >> "$RESULTS"
    if [ -n "${OUT:-}" ] && [ -d "$OUT" ]; then cp "$RESULTS" "$OUT/" && echo "copied $RESULTS to $OUT/"; fi
    echo "wrote $RESULTS"
}

# ---- device -------------------------------------------------------------------------------------------------
section "Device"
if command -v nvidia-smi >/dev/null 2>&1; then
    SMI=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -n 4)
    echo "- nvidia-smi: $SMI" >> "$RESULTS"
    nvidia-smi -L 2>&1 | head -n 4 | sed 's/^/- /' >> "$RESULTS"
else
    SMI=""
    echo "- nvidia-smi: not found" >> "$RESULTS"
fi

# a Python that has torch, preferring one that sees CUDA (one import per interpreter: each costs seconds)
PY=""; seen=""
for cand in ${PYTHON:-} "$ROOT/.venv/bin/python" python3 python; do
    exe=$(command -v "$cand" 2>/dev/null) || continue
    real=$(readlink -f "$exe"); case " $seen " in *" $real "*) continue;; esac; seen="$seen $real"
    "$exe" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 3)' >/dev/null 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then PY=$exe; break; fi
    if [ "$rc" -eq 3 ] && [ -z "$PY" ]; then
        PY=$exe; [ -z "$SMI" ] && break  # no driver: no other interpreter will see a GPU
    fi
done
if [ -z "$PY" ]; then
    echo "- **no Python with torch found** (tried \$PYTHON, .venv/bin/python, python3, python); nothing to run" \
        >> "$RESULTS"
    echo "no CUDA check possible: no Python with torch"
    finish; exit 0
fi
"$PY" - >> "$RESULTS" 2>&1 <<'EOF2'
import os, platform, sys, torch
print(f"- Python {platform.python_version()} ({os.path.realpath(sys.executable)}), torch "
      f"{torch.__version__}, CUDA runtime {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")
print(f"- torch.cuda.is_available(): {torch.cuda.is_available()}"
      + (f", {torch.cuda.device_count()} device(s): {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""))
print(f"- CPUs: {os.cpu_count()}, torch intra-op threads {torch.get_num_threads()}")
sys.exit(0 if torch.cuda.is_available() else 3)
EOF2
if [ $? -ne 0 ] && [ "$DEVICE" = cuda ]; then
    echo >> "$RESULTS"
    echo "**no CUDA**: torch sees no CUDA GPU on this machine; the GPU check was not run." >> "$RESULTS"
    echo "no CUDA: torch sees no CUDA GPU here; wrote $RESULTS and stopped"
    finish; exit 0
fi

# ---- dependencies (offline) -----------------------------------------------------------------------------------
section "Dependencies"
need_mods="numpy scipy xarray netCDF4 skimage tqdm pytest psutil"
missing() { "$PY" - $need_mods <<'EOF'
import importlib.util, sys
print(" ".join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))
EOF
}
if ! "$PY" -c 'import dipcore.solver' >/dev/null 2>&1; then
    echo "- dipcore not importable: \`pip install --no-index --no-deps --no-build-isolation -e .\`" >> "$RESULTS"
    timeout "$(cap 90)" "$PY" -m pip install --no-index --no-deps --no-build-isolation -e . > "$TMP/pip.log" 2>&1 \
        || { echo "  - pip failed (tail below); using PYTHONPATH=$ROOT" >> "$RESULTS"; log_block "$TMP/pip.log" 5; }
    "$PY" -c 'import dipcore' >/dev/null 2>&1 || export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
fi
MISS=$(missing)
if [ -n "$MISS" ]; then
    # offline only: a local wheelhouse if one is there, else whatever pip can find without an index
    links=""
    for d in "${WHEELS:-}" "$ROOT/shared/wheels" "$ROOT/wheels"; do [ -n "$d" ] && [ -d "$d" ] && links="$links --find-links $d"; done
    pipname() { case $1 in skimage) echo scikit-image;; *) echo "$1";; esac; }
    for m in $MISS; do
        timeout "$(cap 60)" "$PY" -m pip install --no-index $links "$(pipname "$m")" >> "$TMP/pip.log" 2>&1 || true
    done
    MISS=$(missing)
fi
if [ -n "$MISS" ]; then
    echo "- **missing Python modules (no network to install them): $MISS** — steps that need them fail below" \
        >> "$RESULTS"
else
    echo "- all of: $need_mods importable" >> "$RESULTS"
fi
"$PY" -c 'import dipcore.solver' > "$TMP/import.log" 2>&1 \
    && echo "- dipcore imports" >> "$RESULTS" \
    || { echo "- **dipcore.solver does not import:**" >> "$RESULTS"; log_block "$TMP/import.log" 15; }

# ---- steps ----------------------------------------------------------------------------------------------------
run_step() {  # run_step TITLE SECONDS CMD...: run with a time limit, record command, exit code, time, output
    local title=$1 limit; limit=$(cap "$2"); shift 2
    section "$title"
    local shown="" arg
    for arg in "$@"; do case $arg in *" "*) shown="$shown \"$arg\"";; *) shown="$shown $arg";; esac; done
    echo "\`${shown# }\` (time limit ${limit} s)" >> "$RESULTS"
    local t=$(date +%s)
    timeout --kill-after=10 "$limit" "$@" > "$TMP/step.log" 2>&1
    local rc=$?
    local note=""; [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && note=" (**time limit reached**)"
    echo >> "$RESULTS"
    echo "exit code $rc$note, $(( $(date +%s) - t )) s" >> "$RESULTS"
    echo >> "$RESULTS"
    echo "$title: exit $rc$note"
    return 0
}

export PYTHONUNBUFFERED=1
run_step "CUDA tests" 120 "$PY" -m pytest -q -m "not slow and not ui" -k "cuda or gpu" -p no:cacheprovider \
    --continue-on-collection-errors tests
log_block "$TMP/step.log" 40

BENCH_MD="$TMP/bench.md"
if [ "$DEVICE" = cuda ]; then
    BENCH_ARGS="--devices cuda --sizes 256 512 1024 --members 1 4 8 16 50 --big-members 4 8 --time-cap 170"
    FIT_ARGS=""
else  # dry run of this script
    echo "**dry run on $DEVICE (GPU_CHECK_DEVICE): tiny sizes, not a result**" >> "$RESULTS"
    BENCH_ARGS="--devices $DEVICE --quick --archs paper --members 1"
    FIT_ARGS="--iters 3"
fi
# shellcheck disable=SC2086
run_step "Benchmark table ($DEVICE)" 210 "$PY" benchmarks/bench_fit.py $BENCH_ARGS --out "$BENCH_MD"
if [ -s "$BENCH_MD" ]; then
    cat "$BENCH_MD" >> "$RESULTS"
    grep -vxF -f "$BENCH_MD" "$TMP/step.log" > "$TMP/bench-log.txt"  # the log less the table printed above
    echo >> "$RESULTS"; echo "Log (rows as they finished, warnings):" >> "$RESULTS"; log_block "$TMP/bench-log.txt" 60
else  # killed before the end: the rows printed so far are in the log
    echo "No complete table (the rows that finished are in the log):" >> "$RESULTS"; log_block "$TMP/step.log" 80
fi

# shellcheck disable=SC2086
run_step "Full default fit (ssh-dip fit gulfstream --ratio 8 --members 4 --device $DEVICE)" 120 \
    "$PY" -m dipcore.cli fit gulfstream --ratio 8 --members 4 --device "$DEVICE" --quiet $FIT_ARGS \
    --out "$TMP/fit.nc" --summary "$TMP/fit.json"
log_block "$TMP/step.log" 30
if [ -s "$TMP/fit.json" ]; then
    { echo "Summary (JSON, first 60 lines):"; echo '```json'; head -n 60 "$TMP/fit.json"; echo; echo '```'; } >> "$RESULTS"
fi

finish
exit 0
