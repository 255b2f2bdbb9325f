"""Every benchmark of the app in one command, as a table of ratios measured in the same run.

    python bench/run.py            # the full suite (about 20 minutes on a shared 2-core machine)
    python bench/run.py --quick    # fewer repetitions, a 30-second load test (under 10 minutes)

Options: ``--only latency,first_load,em,server,load,core`` runs some sections;
``--pages home,em`` some pages; ``--load-seconds S`` and ``--sessions N`` size the load
test; ``--set runner.postScriptGC=true`` passes a config option to the app's server
(repeatable: how bench/README.md measured each setting before and after);
``--json FILE`` saves every number; ``--baseline FILE`` adds a "before" column from an
earlier ``--json`` file.

Sections (see bench/README.md for the method and the results):

1. latency     slider key press -> last DOM change of the rerun, headless Chromium, every page,
               against a bare one-slider/one-400-point-line app served alongside (default settings).
2. em          EM page: frame slider of the browser-side plotly frames, click -> frame drawn,
               against the bare app's slider latency; ▶ Play's frame interval.
3. first_load  new tab -> first drawn chart, every page, against the bare app.
4. bytes       bytes the server sends per slider move (measured during 1.), counted by a loopback proxy
               in front of each server: what a network carries, compressed when the server compresses;
               the websocket payload the browser decodes is noted beside it.
5. server      Python time per rerun at N = 10,000 (AppTest through the router), minus a bare AppTest app.
6. load        N simulated sessions speaking Streamlit's websocket protocol to one server process.
7. core        bench/bench_core.py (numeric core against scikit-learn / itself).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _serve import ROOT, page_paths, parse_overrides, proxied, serve_app, serve_bare  # noqa: E402

SECTIONS = ("latency", "em", "first_load", "server", "load", "core")

TARGETS = {
    "latency": 1.10,        # page median / bare median
    "em": 0.5,              # frame drawn / bare slider latency
    "first_load": 1.3,      # page / bare
    "bytes_kb": 100.0,      # KB per slider move (max over presses)
    "server_ms": 20.0,      # own Python ms per rerun at N = 10,000
    "load_p95_s": 1.0,
    "load_rss_mb": 10.0,    # resident memory growth per session
}


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def p90(xs):
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(0.9 * (len(s) - 1))))]


class Table:
    def __init__(self):
        self.rows = []

    def add(self, section, item, value, reference, ratio, target, ok, note=""):
        self.rows.append(dict(section=section, item=item, value=value, reference=reference, ratio=ratio,
                              target=target, ok=ok, note=note))

    def print(self, baseline: dict | None = None):
        head = f"{'section':11} {'item':16} {'value':>14} {'reference':>14} {'ratio':>7} {'target':>9}  verdict"
        if baseline:
            head += f"  {'before':>14}"
        print(head)
        print("-" * len(head))
        old = {(r["section"], r["item"]): r for r in (baseline or {}).get("rows", [])}
        for r in self.rows:
            ratio = "" if r["ratio"] is None or (isinstance(r["ratio"], float) and math.isnan(r["ratio"])) \
                else f"{r['ratio']:.2f}"
            verdict = "ok" if r["ok"] else ("—" if r["ok"] is None else "OVER")
            line = (f"{r['section']:11} {r['item']:16} {r['value']:>14} {r['reference']:>14} {ratio:>7} "
                    f"{r['target']:>9}  {verdict}")
            if baseline:
                o = old.get((r["section"], r["item"]))
                line += f"  {(o['value'] + (' (' + format(o['ratio'], '.2f') + ')' if o and o['ratio'] is not None else '')) if o else '':>14}"
            if r["note"]:
                line += f"  {r['note']}"
            print(line)


def run_browser(args, paths, table, results):
    from playwright.sync_api import sync_playwright

    import browser as B
    want = set(args.only)
    overrides = parse_overrides(args.set)
    with serve_bare() as bare, serve_app(overrides) as app, proxied(bare) as bare_px, proxied(app) as app_px, \
            sync_playwright() as pw:
        br = B.launch(pw)
        try:
            bare_pool = []
            if "latency" in want or "em" in want:
                lat_paths = paths if "latency" in want else []
                print(f"[latency] {len(lat_paths)} pages, {args.presses} presses each", flush=True)
                # both through counting proxies (the same extra hop on both sides): bytes on the wire too
                res = B.latency(br, app_px.url, bare_px.url, lat_paths, presses=args.presses,
                                bare_per_round=args.bare_per_round, app_wire=lambda: app_px.down,
                                bare_wire=lambda: bare_px.down) if lat_paths else []
                if not lat_paths:  # the EM comparison still needs the bare app's latency
                    res = B.latency(br, app.url, bare.url, [], presses=0)
                results["latency"] = {r.path: dict(ms=r.ms, bare_ms=r.bare_ms, bytes=r.bytes, wire=r.wire, parts=r.parts,
                                                   bare_parts=r.bare_parts, no_sliders=r.no_sliders,
                                                   exceptions=r.exceptions) for r in res}
                for r in res:
                    bare_pool += r.bare_ms
                    if r.no_sliders:
                        table.add("latency", r.path, "no slider", "", None, "", None)
                        continue
                    m, bm = med(r.ms), med(r.bare_ms)
                    table.add("latency", r.path, f"{m:.0f} ms", f"{bm:.0f} ms", m / bm, f"≤ {TARGETS['latency']}",
                              m / bm <= TARGETS["latency"], f"p90 {p90(r.ms):.0f} ms, bare p90 {p90(r.bare_ms):.0f} ms, "
                              f"n = {len(r.ms)}; send/server/draw {B.parts_text(r.parts)}, "
                              f"bare {B.parts_text(r.bare_parts)}" + (f", {r.exceptions} exceptions" if r.exceptions else ""))
                for r in res:
                    if r.no_sliders or not r.bytes:
                        continue
                    # the target is judged on what the network carries (the same as the payload unless the
                    # server compresses); the payload, as the browser's websocket events see it, is noted
                    sent = r.wire or r.bytes
                    kb = max(sent) / 1024
                    table.add("bytes", r.path, f"{kb:.1f} KB", "", None, f"≤ {TARGETS['bytes_kb']:.0f} KB",
                              kb <= TARGETS["bytes_kb"], f"max per move on the wire; median {med(sent) / 1024:.1f} KB; "
                              f"payload max {max(r.bytes) / 1024:.1f} KB" if r.wire else
                              f"max per move; median {med(r.bytes) / 1024:.1f} KB")
            if "em" in want:
                em_path = "em" if "em" in page_paths() else None
                if em_path is None:
                    table.add("em", "playback", "skipped", "", None, "", None, "no EM page in app.py")
                else:
                    if len(bare_pool) < 5:  # no latency section: measure the bare app's slider now
                        tab = B.Tab(br)
                        tab.open(bare.url)
                        bare_pool = [r[0] for r in (tab.press(0, 300) for _ in range(10)) if r]
                        tab.close()
                    print("[em] browser-side frames", flush=True)
                    em = B.em_playback(br, app.url, em_path, clicks=args.em_clicks)
                    results["em"] = em
                    if "skipped" in em:
                        table.add("em", "playback", "skipped", "", None, "", None, em["skipped"])
                    else:
                        bm = med(bare_pool)
                        s = med(em["scrub_ms"])
                        table.add("em", "scrub frame", f"{s:.0f} ms", f"{bm:.0f} ms", s / bm,
                                  f"≤ {TARGETS['em']}", s / bm <= TARGETS["em"],
                                  f"click on the frame slider -> frame drawn (plotly_animated), n = {len(em['scrub_ms'])}; "
                                  f"to last DOM change {med(em['scrub_dom_ms']):.0f} ms")
                        iv = med(em["play_intervals_ms"])
                        d = em.get("duration") or 0
                        table.add("em", "play interval", f"{iv:.0f} ms", f"{d} ms asked", None, "", None,
                                  f"▶ Play: frame-to-frame; overhead {iv - d:.0f} ms per frame over the asked duration")
            if "first_load" in want:
                print(f"[first_load] {len(paths)} pages, {args.loads} loads each", flush=True)
                fl = B.first_load(br, app.url, bare.url, paths, loads=args.loads)
                results["first_load"] = fl
                for p in paths:
                    a, b = fl[p]
                    if not a:
                        table.add("first_load", p, "no chart", f"{med(b):.0f} ms", None, "", None)
                        continue
                    table.add("first_load", p, f"{med(a):.0f} ms", f"{med(b):.0f} ms", med(a) / med(b),
                              f"≤ {TARGETS['first_load']}", med(a) / med(b) <= TARGETS["first_load"],
                              f"n = {len(a)}")
        finally:
            br.close()
            logs = app.logs()
    bad = [ln for ln in logs.splitlines() if "Traceback" in ln or "Error" in ln]
    if bad:
        print(f"app server log has {len(bad)} error lines, e.g.: {bad[0][:200]}")


def run_server(args, paths, table, results):
    print(f"[server] AppTest, N = 10,000, {args.reruns} reruns per page", flush=True)
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    env = dict(os.environ)
    cmd = [sys.executable, str(HERE / "server_work.py"), "--reruns", str(args.reruns), "--pages", ",".join(paths),
           "--json", out]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("  "):
            print(line)
    if proc.returncode != 0:
        print(proc.stderr[-3000:])
        table.add("server", "all", "failed", "", None, "", False, "see the error above")
        return
    res = json.loads(Path(out).read_text())
    os.unlink(out)
    results["server"] = res
    bare = med(res["_bare"]["cpu_ms"])
    table.add("server", "gc.collect(2)", f"{res['_gc_ms']:.0f} ms", "", None, "", None,
              "one full collection with every page loaded: what runner.postScriptGC=true adds to each rerun")
    for p in paths:
        r = res[p]
        m = med(r["cpu_ms"])
        own = m - bare
        table.add("server", p, f"{own:.1f} ms", f"{bare:.1f} ms", None, f"< {TARGETS['server_ms']:.0f} ms",
                  own < TARGETS["server_ms"],
                  f"own Python CPU per rerun at N = 10,000 (page {m:.1f} ms - bare {bare:.1f} ms); "
                  f"wall {med(r['wall_ms']):.0f} ms; n = {len(r['cpu_ms'])}"
                  + (f"; {r['errors']} exceptions" if r["errors"] else ""))


def run_load(args, paths, table, results):
    import load
    print(f"[load] {args.sessions} sessions, {args.load_seconds:.0f} s, a slider move every 2 s each", flush=True)
    warn = load.check_version()
    if warn:
        print("warning:", warn)
    with serve_app(parse_overrides(args.set)) as srv:
        r = asyncio.run(load.run_load(srv.ws_url, paths, args.sessions, args.load_seconds, 2.0,
                                      server_pid=srv.pid))
    load.print_result(r)
    results["load"] = r
    table.add("load", "p95 rerun", f"{1000 * r['p95_s']:.0f} ms", "", None, f"≤ {1000 * TARGETS['load_p95_s']:.0f} ms",
              r["p95_s"] <= TARGETS["load_p95_s"],
              f"median {1000 * r['median_s']:.0f} ms; {r['reruns']} reruns by {r['sessions_ok']}/{r['sessions']} "
              f"sessions in {r['seconds']:.0f} s; server CPU {r['server_cpu_per_rerun_ms']:.0f} ms per rerun")
    table.add("load", "errors", str(len(r["errors"])), "", None, "0", not r["errors"],
              "; ".join(sorted(set(r["errors"])))[:200])
    table.add("load", "memory/session", f"{r['rss_per_session_mb']:.2f} MB", "", None,
              f"≤ {TARGETS['load_rss_mb']:.0f} MB", r["rss_per_session_mb"] <= TARGETS["load_rss_mb"],
              f"server RSS {r['rss_before_kb'] / 1024:.0f} -> {r['rss_after_kb'] / 1024:.0f} MB")
    growth = r.get("rss_growth_after_first_minute_mb", float("nan"))
    if not math.isnan(growth):
        table.add("load", "memory > 1 min", f"{growth:.1f} MB", "", None, "≈ 0", None,
                  "server RSS growth from the first minute to the end (a leak would grow with the run)")
    for p, (m, q, n) in sorted(r["per_page"].items()):
        table.add("load", p, f"{1000 * q:.0f} ms", "", None, "", None, f"p95 on this page; median {1000 * m:.0f} ms, n = {n}")


def run_core(args, table, results):
    import bench_core
    print("[core] bench/bench_core.py", flush=True)
    rows = bench_core.run(quick=args.quick)
    results["core"] = rows
    for name, r, target, note in rows:
        table.add("core", name.split(":")[0][:16], name.split(": ", 1)[-1][:14], "", r, f"≤ {target}", r <= target,
                  name + ("; " + note if note else ""))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions and a 30-second load test")
    ap.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections: " + ",".join(SECTIONS))
    ap.add_argument("--pages", default=None, help="comma-separated url paths (default: every page in app.py)")
    ap.add_argument("--load-seconds", type=float, default=None, help="load test length (default 120; quick 30)")
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--presses", type=int, default=None, help="slider presses per page (default 30; quick 20)")
    ap.add_argument("--set", action="append", metavar="KEY=VALUE", help="config option for the app's server")
    ap.add_argument("--json", default=None, metavar="FILE", help="save the table and every measurement")
    ap.add_argument("--baseline", default=None, metavar="FILE", help="an earlier --json file: adds a 'before' column")
    args = ap.parse_args(argv)
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        ap.error(f"unknown sections: {', '.join(sorted(unknown))}")
    q = args.quick
    args.load_seconds = args.load_seconds if args.load_seconds is not None else (30.0 if q else 120.0)
    args.presses = args.presses or (20 if q else 30)
    args.bare_per_round = 2 if q else 4
    args.loads = 3 if q else 6
    args.reruns = 4 if q else 10
    args.em_clicks = 12 if q else 24
    paths = args.pages.split(",") if args.pages else page_paths()
    os.chdir(ROOT)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on a kill, too
    load0 = os.getloadavg()[0]
    t0 = time.time()
    table, results = Table(), {"argv": sys.argv[1:], "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                               "set": parse_overrides(args.set), "machine": f"{os.cpu_count()} CPUs"}
    if "core" in args.only:
        run_core(args, table, results)
    if "server" in args.only:
        run_server(args, paths, table, results)
    if {"latency", "em", "first_load"} & set(args.only):
        run_browser(args, paths, table, results)
    if "load" in args.only:
        run_load(args, paths, table, results)
    results["seconds"] = time.time() - t0
    results["loadavg"] = (load0, os.getloadavg()[0])
    results["rows"] = table.rows
    print()
    print(f"bench/run.py {' '.join(sys.argv[1:])} — {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, "
          f"{results['seconds'] / 60:.1f} min, load average {load0:.1f} -> {os.getloadavg()[0]:.1f}"
          + (f", app config: {results['set']}" if results["set"] else ""))
    baseline = json.loads(Path(args.baseline).read_text()) if args.baseline else None
    table.print(baseline)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
        print(f"saved {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
