"""Explorer streaming benchmark: update rate reaching the browser and the fit's speed with/without the page.

Field: 256×256 real altimetry, the Gulf Stream sample (128×256) stacked above the Kuroshio sample (128×256), ratio ×8,
K=4 members, CPU. Four measurements, same process, one after the other:

1. ``dipcore.fit`` alone (every=1, keep_members=True, truth given: what the app's worker asks for);
2. the app's worker without any page (no session: nothing is pushed until the end);
3. the app served by Panel and opened in headless Chromium: progress-text changes per second seen in the browser,
   server pushes per second, and the fit's iterations/s;
4. the same page fed by a stand-in fit emitting 256² K-member events at 20/s: what the streaming pipeline
   (worker slot → 200 ms flush → Bokeh → Chromium) delivers when the fit is not the bottleneck.

Usage: .venv/bin/python benchmarks/bench_explorer.py [--iters 20] [--window 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "ui"))


def field_256():
    from dipcore.io import Field
    from dipcore.samples import load_sample

    a, b = load_sample("gulfstream").values, load_sample("kuroshio").values
    f = Field.from_array(np.concatenate([a, b], axis=0), name="adt", dx_km=25.0)
    f.source = "gulfstream|kuroshio 256x256"
    return f


def bench_fit_alone(f, iters, members):
    from dipcore.fit import fit
    from dipcore.twin import make_twin

    t = make_twin(f, 8, 0.0, 0)
    last = None
    for last in fit(t.observation, t.degradation, members=members, iters=iters, every=1, truth=t.truth,
                    dx_km=t.dx_km, keep_members=True, device="cpu"):
        pass
    return last.iters_per_s


def bench_app_no_page(f, iters, members):
    from explorer.app import ExplorerApp

    app = ExplorerApp()
    app.load_field_object(f, "bench")
    app.param.update(iters=iters, members=members, device="cpu")
    app.run()
    app.wait(600)
    return app.result.iters_per_s


def synthetic_fit(rate: float):
    """A stand-in for dipcore.fit that yields 256² Progress events at ``rate`` per second (pipeline capacity)."""
    from dipcore import metrics
    from dipcore.fit import Progress

    def fake(observation, degradation, recipe=None, *, members=1, latent_samples=0, iters=100, seed=0,
             device="cpu", every=1, truth=None, dx_km=None, keep_members=False, **kw):
        rng = np.random.default_rng(seed)
        t0 = time.perf_counter()
        for step in range(1, iters + 1):
            time.sleep(max(0.0, t0 + step / rate - time.perf_counter()))
            noise = rng.standard_normal((members, *truth.shape)).astype(np.float32) * 0.05 / np.sqrt(step)
            mem = (truth[None] + noise).astype(np.float32)
            est = mem.mean(axis=0)
            yield Progress(step=step, iters=iters, loss=np.zeros(members, np.float32), estimate=est,
                           member_std=mem.std(axis=0, ddof=1), elapsed=time.perf_counter() - t0,
                           metrics={"rmse": metrics.rmse(est, truth), "ssim": 0.9}, members=mem,
                           done=step == iters)
    return fake


def bench_app_page(f, iters, members, window, synthetic: float = 0.0):
    import panel as pn
    from conftest import ARGS, free_port, session_factory, wait_port
    from playwright.sync_api import sync_playwright

    apps = []
    factory = session_factory(apps)

    if synthetic:
        import importlib

        importlib.import_module("dipcore.fit").fit = synthetic_fit(synthetic)
    port = free_port()
    srv = pn.serve({"/": factory}, port=port, threaded=True, show=False, start=True)
    wait_port(port)
    out = {}
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
            page = b.new_page(viewport={"width": 1560, "height": 1300})
            t0 = time.perf_counter()
            page.goto(f"http://localhost:{port}/")
            page.locator(".map-truth canvas").first.wait_for(timeout=120_000)
            page.get_by_text("Loaded sample gulfstream").wait_for(timeout=120_000)
            out["page_load_s"] = time.perf_counter() - t0
            app = apps[-1]
            app.load_field_object(f, "bench 256x256")
            app.param.update(iters=iters, members=members, device="cpu")
            page.get_by_text("Loaded bench 256x256").wait_for(timeout=60_000)
            page.get_by_role("button", name="Run", exact=True).click()
            prog = page.locator(".ssh-progress pre").first
            while not prog.inner_text().startswith("step"):
                time.sleep(0.02)
            changes, last, pushes0 = 0, prog.inner_text(), app.stats["pushes"]
            t1 = time.perf_counter()
            while time.perf_counter() - t1 < window and app.running:
                txt = prog.inner_text()
                if txt != last:
                    changes, last = changes + 1, txt
                time.sleep(0.01)
            dt = time.perf_counter() - t1
            out["browser_updates_per_s"] = changes / dt
            out["server_pushes_per_s"] = (app.stats["pushes"] - pushes0) / dt
            app.stop() if synthetic else None
            app.wait(600)
            out["fit_iters_per_s"] = app.result.iters_per_s
            out["push_ms_mean"] = 1000 * app.stats["push_seconds"] / max(1, app.stats["pushes"])
            b.close()
    finally:
        srv.stop()
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--members", type=int, default=4)
    ap.add_argument("--window", type=float, default=10.0)
    ap.add_argument("--synthetic-rate", type=float, default=20.0,
                    help="events/s of the stand-in fit that measures the streaming pipeline alone")
    ap.add_argument("--only-synthetic", action="store_true")
    args = ap.parse_args(argv)
    f = field_256()
    print(f"field {f.shape[0]}x{f.shape[1]}, ratio 8, K={args.members}, {args.iters} iterations, CPU, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'measurement':<48} value")
    if not args.only_synthetic:
        _real(f, args)
    syn = bench_app_page(f, 20000, args.members, args.window, synthetic=args.synthetic_rate)
    print(f"{'synthetic 256² events at %g/s: browser changes/s' % args.synthetic_rate:<48} "
          f"{syn['browser_updates_per_s']:.2f}")
    print(f"{'synthetic: server pushes per second':<48} {syn['server_pushes_per_s']:.2f}")
    print(f"{'synthetic: mean cost of one push (ms)':<48} {syn['push_ms_mean']:.1f}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


def _real(f, args):
    alone = bench_fit_alone(f, args.iters, args.members)
    nopage = bench_app_no_page(f, args.iters, args.members)
    page = bench_app_page(f, args.iters, args.members, args.window)
    print(f"{'dipcore.fit alone (it/s)':<48} {alone:.2f}")
    print(f"{'app worker, no page (it/s)':<48} {nopage:.2f}")
    print(f"{'app worker, page streaming (it/s)':<48} {page['fit_iters_per_s']:.2f}")
    print(f"{'browser: progress changes per second':<48} {page['browser_updates_per_s']:.2f}")
    print(f"{'server: pushes per second':<48} {page['server_pushes_per_s']:.2f}")
    print(f"{'server: mean cost of one push (ms)':<48} {page['push_ms_mean']:.1f}")
    print(f"{'page load until the three maps show (s)':<48} {page['page_load_s']:.2f}")


if __name__ == "__main__":
    main()
