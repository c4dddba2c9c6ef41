"""Explorer streaming benchmark: update rate reaching the browser and the fit's speed with/without the page.

Field: 256×256 real altimetry, the Gulf Stream sample (128×256) stacked above the Kuroshio sample (128×256), ratio ×8,
K=4 members, CPU. Four measurements, same process, one after the other:

1. ``dipcore.solver`` alone (every=1, keep_members=True, truth given: what the app's worker asks for);
2. the app's worker without any page (no session: nothing is pushed until the end);
3. the app served by Panel and opened in headless Chromium: progress-text changes per second seen in the browser,
   server pushes per second, and the fit's iterations/s;
4. the same page fed by a stand-in fit emitting 256² K-member events at 20/s: what the streaming pipeline
   (worker slot → flush → one Bokeh message → Chromium paints → ack) delivers when the fit is not the
   bottleneck, and how long a Stop click takes to show "stopped". ``--size 1024`` feeds a 1024² field instead
   (rasterised for display, pushed at most every ``LARGE_PERIOD``). The stand-in is injected into each page's app
   (``ExplorerApp(fit=…)``); the push counters are the session's (``app.session.stats``).

Usage: .venv/bin/python benchmarks/bench_explorer.py [--iters 20] [--window 10] [--only-synthetic] [--size 1024]
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
    from dipcore.solver import fit
    from dipcore.twin import make_twin

    t = make_twin(f, 8, 0.0, 0)
    last = None
    for last in fit(t.observation, t.degradation, members=members, iters=iters, every=1, truth=t.truth,
                    dx_km=t.dx_km, keep_members=True, device="cpu"):
        pass
    return last.iters_per_s


def cpu_seconds() -> tuple[float, float]:
    """(CPU seconds used so far by this process: the server and the fit; by its child processes: Chromium and
    Playwright's driver), user + system."""
    import psutil

    me = psutil.Process()
    kids = 0.0
    for c in me.children(recursive=True):
        try:
            t = c.cpu_times()
            kids += t.user + t.system
        except psutil.Error:  # a renderer that just ended
            pass
    t = me.cpu_times()
    return t.user + t.system, kids


def bench_app_no_page(f, iters, members):
    from explorer.app import ExplorerApp

    app = ExplorerApp()
    app.load_field_object(f, "bench")
    app.param.update(iters=iters, members=members, device="cpu")
    cpu0 = cpu_seconds()[0]
    app.run()
    app.wait(600)
    return app.result.iters_per_s, (cpu_seconds()[0] - cpu0) / max(1, app.result.step)


OBSERVE_JS = """(host) => {
    window.__ssh_dip_changes = [];
    window.__ssh_dip_stopped = null;
    new MutationObserver(() => {
        const t = performance.now();
        window.__ssh_dip_changes.push(t);
        if (window.__ssh_dip_stopped === null && host.shadowRoot.textContent.includes("stopped"))
            window.__ssh_dip_stopped = t;
    }).observe(host.shadowRoot, {childList: true, characterData: true, subtree: true});
    document.addEventListener("pointerdown", () => { window.__ssh_dip_click = performance.now(); }, true);
    // the browser's main thread blocked (tasks over 50 ms): after Stop, the run's end is laid out and painted
    window.__ssh_dip_long = [];
    new PerformanceObserver((l) => l.getEntries().forEach((e) => window.__ssh_dip_long.push([e.startTime, e.duration])))
        .observe({entryTypes: ["longtask"]});
}"""


def bench_app_page(f, iters, members, window, synthetic: float = 0.0, stop: bool = False):
    """Serve the app, open it in headless Chromium, run a fit on ``f`` and measure for ``window`` seconds.

    The browser's update rate is counted in the page (a MutationObserver on the progress text records each change;
    the test thread sleeps meanwhile, polling from Python would compete for the CPU and the server's GIL) and by
    the image updates the browser acknowledged after painting them (``LiveMaps.acked``)."""
    import panel as pn
    from conftest import ARGS, free_port, session_factory, wait_port
    from playwright.sync_api import sync_playwright

    apps = []
    if synthetic:  # the stand-in is injected into each page's app (ExplorerApp(fit=…))
        from conftest import stand_in_fit

        factory = session_factory(apps, {"fit": stand_in_fit(synthetic)})
    else:
        factory = session_factory(apps)
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
            for n in ("truth", "observation", "bicubic"):
                page.locator(f".map-{n} canvas").first.wait_for(state="visible", timeout=120_000)
            page.get_by_text("Loaded sample gulfstream").wait_for(timeout=120_000)
            out["page_load_s"] = time.perf_counter() - t0
            app = apps[-1]
            app.load_field_object(f, f"bench {f.shape[0]}x{f.shape[1]}")
            app.param.update(iters=iters, members=members, device="cpu")
            page.get_by_text(f"Loaded bench {f.shape[0]}x{f.shape[1]}").wait_for(timeout=60_000)
            page.get_by_role("button", name="Run", exact=True).click()
            page.locator(".ssh-progress pre").get_by_text("step").wait_for(timeout=120_000)
            page.locator(".ssh-progress").first.evaluate(OBSERVE_JS)
            live, stats = app.live, app.session.stats  # the push counters live in the session
            pushes0, acked0, t1 = stats["pushes"], live.acked, time.perf_counter()
            cpu0, step0 = cpu_seconds(), app.step
            time.sleep(window)
            dt = time.perf_counter() - t1
            cpu1, step1 = cpu_seconds(), app.step
            # where the two cores went during the window (CPU seconds per wall second, 2.0 = both cores)
            out["cpu_server_fit_per_s"] = (cpu1[0] - cpu0[0]) / dt
            out["cpu_browser_per_s"] = (cpu1[1] - cpu0[1]) / dt
            out["window_steps"], out["window_s"] = step1 - step0, dt
            changes = page.evaluate("window.__ssh_dip_changes")
            out["browser_updates_per_s"] = len(changes) / dt
            out["browser_acks_per_s"] = (live.acked - acked0) / dt
            out["server_pushes_per_s"] = (stats["pushes"] - pushes0) / dt
            out["ack_ms_median"] = 1000 * float(np.median(live.rtts[-50:])) if live.rtts else float("nan")
            if stop or synthetic:  # a plain mouse click (no Playwright actionability waits), timed in the page
                box = page.get_by_role("button", name="Stop", exact=True).bounding_box()
                stop_at = time.perf_counter()
                page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
                page.locator(".ssh-progress pre").get_by_text("stopped").wait_for(timeout=30_000)
                t_click, t_shown = page.evaluate("[window.__ssh_dip_click, window.__ssh_dip_stopped]")
                out["stop_s"] = (t_shown - t_click) / 1000
                out["stop_server_s"] = stats.get("end_shown", float("nan")) - stop_at
                out["stop_called_s"] = stats.get("stop_called", float("nan")) - stop_at
                app.wait(600)
                time.sleep(3.0)  # the run's end (buttons, verdict, result views) reaches the page and is painted
                long = page.evaluate("window.__ssh_dip_long.filter(e => e[0] >= window.__ssh_dip_click)")
                out["after_stop_blocked_ms"] = sum(d for _, d in long)
                out["after_stop_longest_ms"] = max((d for _, d in long), default=0.0)
            app.wait(600)
            p_last = app.result or app.last
            out["fit_iters_per_s"] = p_last.iters_per_s if p_last is not None else float("nan")
            out["push_ms_mean"] = 1000 * stats["push_seconds"] / max(1, stats["pushes"])
            b.close()
    finally:
        srv.stop()
    return out


def _report(label: str, r: dict) -> None:
    print(f"{label + ': browser progress changes/s':<56} {r['browser_updates_per_s']:.2f}")
    print(f"{label + ': image updates painted (acked)/s':<56} {r['browser_acks_per_s']:.2f}")
    print(f"{label + ': server pushes/s':<56} {r['server_pushes_per_s']:.2f}")
    print(f"{label + ': mean server cost of one push (ms)':<56} {r['push_ms_mean']:.1f}")
    print(f"{label + ': push-to-paint ack, median (ms)':<56} {r['ack_ms_median']:.0f}")
    if "cpu_browser_per_s" in r:
        print(f"{label + ': CPU s/s of the server + fit process':<56} {r['cpu_server_fit_per_s']:.2f}")
        print(f"{label + ': CPU s/s of Chromium + Playwright':<56} {r['cpu_browser_per_s']:.2f}")
    if "stop_s" in r:
        print(f"{label + ': Stop click until the page shows stopped (s)':<56} {r['stop_s']:.2f} "
              f"(click reached the server after {r['stop_called_s']:.2f} s, 'stopped' sent after "
              f"{r['stop_server_s']:.2f} s)")
        print(f"{label + ': browser blocked in the 3 s after Stop (ms)':<56} {r['after_stop_blocked_ms']:.0f} "
              f"(longest task {r['after_stop_longest_ms']:.0f} ms)")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--members", type=int, default=4)
    ap.add_argument("--window", type=float, default=10.0)
    ap.add_argument("--synthetic-rate", type=float, default=20.0,
                    help="events/s of the stand-in fit that measures the streaming pipeline alone")
    ap.add_argument("--only-synthetic", action="store_true")
    ap.add_argument("--size", type=int, default=256,
                    help="field side for the stand-in fit (e.g. 1024: the real 256² field tiled; the page "
                         "rasterises it for display)")
    args = ap.parse_args(argv)
    f = field_256()
    print(f"field {f.shape[0]}x{f.shape[1]}, ratio 8, K={args.members}, {args.iters} iterations, CPU, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if not args.only_synthetic:
        _real(f, args)
    from conftest import field_tiled

    g = f if args.size == 256 else field_tiled(f, args.size)
    syn = bench_app_page(g, 20000, args.members, args.window, synthetic=args.synthetic_rate)
    _report(f"stand-in {g.shape[0]}x{g.shape[1]} at {args.synthetic_rate:g}/s", syn)
    print(f"{'page load until the three maps show (s)':<56} {syn['page_load_s']:.2f}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


def _real(f, args):
    alone = bench_fit_alone(f, args.iters, args.members)
    nopage, cpu_iter = bench_app_no_page(f, args.iters, args.members)
    page = bench_app_page(f, args.iters, args.members, args.window)
    print(f"{'dipcore.solver alone (it/s)':<56} {alone:.2f}")
    print(f"{'app worker, no page (it/s)':<56} {nopage:.2f}")
    print(f"{'app worker, page streaming (it/s)':<56} {page['fit_iters_per_s']:.2f}")
    print(f"{'CPU s per iteration, no page (the whole process)':<56} {cpu_iter:.3f}")
    if page["window_steps"]:
        print(f"{'CPU s per iteration, page streaming (server + fit)':<56} "
              f"{page['cpu_server_fit_per_s'] * page.get('window_s', 0) / page['window_steps']:.3f}")
    _report("real fit", page)
    print(f"{'page load until the three maps show (s)':<56} {page['page_load_s']:.2f}")


if __name__ == "__main__":
    main()
