#!/usr/bin/env bash
# Run the numerically sensitive tests (fitted numbers compared with golden files or rounded tables) again under
# every instruction set below this CPU's own: PyTorch and oneDNN then pick other kernels (AVX2 or plain SSE
# instead of AVX-512), float32 sums come out in another order, and a tolerance that only holds on one CPU fails
# here, where it is written, instead of on a user's machine. Called by .ci/run after the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
TESTS="tests/test_schema.py tests/test_solver.py tests/test_experiments.py tests/test_generators.py"
native=$($PY -c "import torch; print(torch.backends.cpu.get_cpu_capability())")
case "$native" in
  AVX512*) passes="avx2:AVX2 default:SSE41" ;;
  AVX2) passes="default:SSE41" ;;
  *) passes="" ;;
esac
[ -n "$passes" ] || { echo "other_isa: this CPU's kernels are already the plainest ($native); nothing to add"; exit 0; }
for pass in $passes; do
  aten=${pass%%:*}; onednn=${pass##*:}
  got=$(ATEN_CPU_CAPABILITY=$aten $PY -c "import torch; print(torch.backends.cpu.get_cpu_capability())")
  echo "=== numerically sensitive tests on $got kernels (ATEN_CPU_CAPABILITY=$aten ONEDNN_MAX_CPU_ISA=$onednn;" \
       "native: $native)"
  ATEN_CPU_CAPABILITY=$aten ONEDNN_MAX_CPU_ISA=$onednn $PY -m pytest -q -m "not slow" -p no:cacheprovider $TESTS
done
