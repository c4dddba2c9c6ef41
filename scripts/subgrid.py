"""How well the calibrated sub-grid std tracks the error of the consistent (back-projected bicubic) estimate.

    python scripts/subgrid.py [--cases gulfstream kuroshio ...] [--ratios 8 16] [--noise 0]

No fit: the estimate is IBP, so this runs in seconds; docs/results.md §6 quotes its table.
"""

from __future__ import annotations

import argparse

from dipcore import metrics
from dipcore.samples import load_sample, parse_spec
from dipcore.twin import make_twin
from dipcore.uncertainty import try_subgrid_std


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", nargs="+", default=["gulfstream", "kuroshio", "mediterranean:3", "agulhas",
                                                  "blacksea", "roms_txla:1"])
    p.add_argument("--ratios", type=int, nargs="+", default=[8, 16])
    p.add_argument("--noise", type=float, nargs="+", default=[0.0])
    a = p.parse_args()
    print(f"{'case':>16} {'×':>3} {'noise':>5} {'RMSE cm':>8} {'corr':>6} {'spr/sk':>6} {'c':>6}")
    for spec in a.cases:
        name, t = parse_spec(spec)
        field = load_sample(name, time=t)
        for r in a.ratios:
            for nz in a.noise:
                tw = make_twin(field, r, nz)
                est = tw.degradation.backproject(tw.bicubic, tw.observation)
                sub = try_subgrid_std(est, tw.observation, tw.degradation, tw.mask)
                if sub is None:
                    print(f"{spec:>16} {r:>3} {nz:>5} {'observation too small to calibrate':>30}")
                    continue
                print(f"{spec:>16} {r:>3} {nz:>5} {100 * metrics.rmse(est, tw.truth):8.2f} "
                      f"{metrics.error_std_correlation(sub.std, est, tw.truth):6.2f} "
                      f"{metrics.spread_skill(sub.std, est, tw.truth):6.2f} {sub.factor:6.3f}")


if __name__ == "__main__":
    main()
