"""Server work per rerun: Python time of one slider-driven rerun of each page, at N = 10,000.

Each page runs through the real router (``AppTest.from_file("app.py")`` then
``switch_page``), so the navigation's own cost is counted. The built-in data sets
are enlarged to N = 10,000 rows (resampled with a little jitter, same columns) by
patching ``vizcore.load_dataset`` in this process, so every page that reads a
built-in data set works at N = 10,000. Sliders move to a new value on every rerun
(monotonic, bouncing at the ends), as when a student drags: ``st.cache_data``
misses, as it would. The reference is a bare AppTest app (one slider, one
400-point plotly line) timed the same way in the same process; the page's own
work is its median minus the bare median.

    python bench/server_work.py [--reruns 12] [--profile em]
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _serve import BARE_APP, ROOT, page_files  # noqa: E402

N_BIG = 10_000


def enlarge(name: str, x: np.ndarray, n: int = N_BIG, seed: int = 0) -> np.ndarray:
    """A data set with ``n`` rows like ``x``: resampled rows, continuous columns jittered."""
    x = np.asarray(x)
    if x.ndim == 2 and x.shape[0] == 1:  # linkage: one row of counts; its cost does not depend on rows
        return x
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), n)
    big = x[idx].astype(float).copy()
    if name in ("faithful_waiting", "faithful_eruptions", "old_faithful"):
        big += rng.normal(0.0, 0.02 * np.std(x, axis=0), big.shape)
    return big


@contextlib.contextmanager
def big_datasets(n: int = N_BIG):
    """Patch ``vizcore.load_dataset`` (and ``vizcore.datasets.load_dataset``) to return ``n`` rows."""
    import vizcore
    import vizcore.datasets as ds
    orig = ds.load_dataset
    cache: dict[str, np.ndarray] = {}

    def load(name, *a, **kw):
        if name not in cache:
            cache[name] = enlarge(name, orig(name, *a, **kw), n)
        return cache[name].copy()

    vizcore.load_dataset = ds.load_dataset = load
    _clear_caches()
    try:
        yield
    finally:
        vizcore.load_dataset = ds.load_dataset = orig
        _clear_caches()  # results cached from the enlarged data must not outlive the patch (same process)


def _next_value(sl, state: dict):
    """The slider's next value, one to three steps on, bouncing at the ends."""
    v = sl.value
    lo, hi, step = sl.min, sl.max, sl.step or 1
    if isinstance(v, (tuple, list)):
        return None  # range sliders: not moved
    d = state.get(sl.key or sl.id, 1)
    nv = v + d * step
    if nv > hi or nv < lo:
        d = -d
        nv = v + d * step
    state[sl.key or sl.id] = d
    if isinstance(v, int) and isinstance(step, int):
        return int(nv)
    return float(round(nv, 10))


class ScriptClock:
    """Wall and CPU time of the script thread's run (``ScriptRunner._run_script``), profiled on request.

    AppTest polls for the end of a run with sleeps; timing inside the script thread leaves that out.
    Thread CPU time (``time.thread_time``) is the Python work itself, and is far less disturbed by other
    processes on a shared machine than wall time.
    """

    def __init__(self):
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.profile: cProfile.Profile | None = None

    @contextlib.contextmanager
    def installed(self):
        from streamlit.runtime.scriptrunner import script_runner as sr
        orig = sr.ScriptRunner._run_script
        clock = self

        def timed(runner, rerun_data):
            w0, c0 = time.perf_counter(), time.process_time()
            if clock.profile is not None:
                clock.profile.enable()
            try:
                return orig(runner, rerun_data)
            finally:
                if clock.profile is not None:
                    clock.profile.disable()
                clock.wall.append(time.perf_counter() - w0)
                clock.cpu.append(time.process_time() - c0)

        # A real server compiles each script once (one ScriptCache per Runtime); AppTest makes a new cache
        # per run, which would add the compile (and magic) of app.py and the page to every rerun.
        from streamlit.runtime.scriptrunner.script_cache import ScriptCache
        from streamlit.testing.v1 import app_test, local_script_runner
        shared = ScriptCache()
        saved = app_test.ScriptCache, local_script_runner.ScriptCache
        app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared
        sr.ScriptRunner._run_script = timed
        try:
            yield self
        finally:
            sr.ScriptRunner._run_script = orig
            app_test.ScriptCache, local_script_runner.ScriptCache = saved

    def reset(self):
        self.wall.clear()
        self.cpu.clear()


CLOCK = ScriptClock()


def time_reruns(at, reruns: int, sliders: int = 3) -> tuple[list[float], list[float], int]:
    """Move the first ``sliders`` sliders in turn, one rerun each.

    Returns the script thread's wall seconds and CPU seconds per rerun, and the exception count.
    """
    state: dict = {}
    wall, cpu = [], []
    errors = 0
    for i in range(reruns):
        sls = list(at.slider)
        if not sls:
            break
        sl = sls[i % min(sliders, len(sls))]
        nv = _next_value(sl, state)
        if nv is None:
            continue
        sl.set_value(nv)
        CLOCK.reset()
        at.run()
        wall.append(sum(CLOCK.wall))
        cpu.append(sum(CLOCK.cpu))
        errors += len(at.exception)
    return wall, cpu, errors


def _clear_caches():
    import streamlit as st
    st.cache_data.clear()
    st.cache_resource.clear()


def run_page(file: str, reruns: int, profile: bool = False):
    from streamlit.testing.v1 import AppTest
    _clear_caches()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(file)
    at.run()
    time_reruns(at, 2)  # warm-up: first calls, imports
    CLOCK.profile = cProfile.Profile() if profile else None
    try:
        wall, cpu, errors = time_reruns(at, reruns)
    finally:
        prof, CLOCK.profile = CLOCK.profile, None
    return wall, cpu, errors, prof


def run_bare(reruns: int):
    from streamlit.testing.v1 import AppTest
    with tempfile.TemporaryDirectory(prefix="bench_bare_") as d:
        p = Path(d, "bare.py")
        p.write_text(BARE_APP)
        at = AppTest.from_file(str(p), default_timeout=60)
        at.run()
        time_reruns(at, 2)
        wall, cpu, _ = time_reruns(at, reruns)
        return wall, cpu


def gc_cost(repeat: int = 3) -> float:
    """Seconds of one ``gc.collect(2)`` in this process now (what ``runner.postScriptGC`` adds to every rerun)."""
    import gc
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        gc.collect(2)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def server_work(paths: list[str], reruns: int = 12, log=print) -> dict:
    """{path: dict(wall_ms, cpu_ms, errors)}, the bare reference under ``"_bare"`` and the
    cost of a full garbage collection with every page loaded under ``"_gc_ms"``."""
    files = page_files()
    out = {"_bare": {"wall_ms": [], "cpu_ms": [], "errors": 0}}
    with big_datasets(), CLOCK.installed():
        for path in paths:
            wall, cpu = run_bare(max(4, reruns // 2))  # the reference, next to each page (drift)
            out["_bare"]["wall_ms"] += [1000 * t for t in wall]
            out["_bare"]["cpu_ms"] += [1000 * t for t in cpu]
            wall, cpu, errors, _ = run_page(files[path], reruns)
            out[path] = {"wall_ms": [1000 * t for t in wall], "cpu_ms": [1000 * t for t in cpu], "errors": errors}
            med = statistics.median(out[path]["cpu_ms"]) if cpu else float("nan")
            log(f"  {path}: median {med:.1f} ms CPU per rerun ({len(cpu)} reruns at N = {N_BIG}, "
                f"{errors} exceptions)")
        out["_gc_ms"] = 1000 * gc_cost()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reruns", type=int, default=12)
    ap.add_argument("--pages", default=None, help="comma-separated url paths (default: every page)")
    ap.add_argument("--profile", default=None, metavar="PAGE", help="print the top functions of one page's reruns")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--sort", default="cumulative", help="pstats sort key (cumulative, tottime, ...)")
    ap.add_argument("--json", default=None, metavar="FILE", help="also write the results as JSON")
    a = ap.parse_args()
    import os
    os.chdir(ROOT)
    if a.profile:
        with big_datasets(), CLOCK.installed():
            wall, cpu, errors, prof = run_page(page_files()[a.profile], a.reruns, profile=True)
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats(a.sort).print_stats(a.top)
        print(s.getvalue())
        print(f"{a.profile}: median {1000 * statistics.median(cpu):.1f} ms CPU, "
              f"{1000 * statistics.median(wall):.1f} ms wall per rerun over {len(cpu)} reruns (profiled: slower)")
        return
    from _serve import page_paths
    paths = a.pages.split(",") if a.pages else page_paths()
    res = server_work(paths, a.reruns)
    if a.json:
        import json
        Path(a.json).write_text(json.dumps(res))
    bare = statistics.median(res["_bare"]["cpu_ms"])
    print(f"bare app: {bare:.1f} ms CPU per rerun; a full gc.collect(2) with every page loaded: {res['_gc_ms']:.0f} ms")
    for p in paths:
        m = statistics.median(res[p]["cpu_ms"]) if res[p]["cpu_ms"] else float("nan")
        w = statistics.median(res[p]["wall_ms"]) if res[p]["wall_ms"] else float("nan")
        print(f"{p:16} {m:8.1f} ms CPU ({w:8.1f} ms wall)  own work {m - bare:8.1f} ms  exceptions {res[p]['errors']}")


if __name__ == "__main__":
    main()
