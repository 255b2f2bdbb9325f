"""A class at once: simulated sessions speaking Streamlit's websocket protocol to one server.

Each session is a websocket client (the ``websockets`` package, which Streamlit
itself depends on) that talks like the browser does:

1. connects to ``/_stcore/stream`` with the ``streamlit`` subprotocol and sends a
   ``BackMsg.rerun_script`` whose ``ClientState.page_name`` is a page's url path;
2. reads ForwardMsgs up to ``script_finished``, noting every slider (its widget id,
   range, step, value, and the fragment it lives in) outside collapsed expanders, and
   the hashes of cacheable messages (sent back in ``cached_message_hashes``, so the
   server sends references for unchanged large elements, as it does to a browser);
3. every ``period`` seconds moves a slider one or a few steps (a new value each time) and
   sends a rerun with that widget state (a fragment rerun when the slider is in one),
   timing send -> ``script_finished``.

A session moves its next slider only after the previous rerun finished (a student
waits for the plot), at most every ``period`` seconds. Errors: exception elements,
script compile errors, no ``script_finished`` within ``timeout`` seconds, and
connection failures. The server's resident memory is read before the sessions connect
(after one warm-up visit of every page) and at the end, while they are still connected.

Written against the protocol of Streamlit 1.67.0 (pinned in requirements.txt).

    python bench/load.py --sessions 50 --seconds 120 [--url ws://127.0.0.1:8501/_stcore/stream]
"""
from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

PROTOCOL_VERSION = "1.67.0"

from _serve import default_page  # noqa: E402

DEFAULT_PAGE = default_page()  # served at "/": the browser sends an empty page name for it


@dataclass
class SliderInfo:
    id: str
    lo: float
    hi: float
    step: float
    value: float
    is_int: bool
    fragment_id: str


@dataclass
class LoadStats:
    rerun_s: list = field(default_factory=list)
    per_page: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    bytes_in: int = 0
    reruns: int = 0
    sessions_ok: int = 0


class Session:
    def __init__(self, ws_url: str, page: str, stats: LoadStats, timeout: float = 30.0, seed: int = 0):
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
        self.BackMsg, self.ForwardMsg, self.WidgetState, self.WidgetStates = BackMsg, ForwardMsg, WidgetState, WidgetStates
        self.ws_url, self.page, self.stats, self.timeout = ws_url, page, stats, timeout
        self.rng = random.Random(seed)
        self.ws = None
        self.sliders: dict[str, SliderInfo] = {}
        self.collapsed: set[tuple] = set()
        self.cached: set[str] = set()
        self.widget_values: dict[str, tuple[float, bool]] = {}
        self.direction: dict[str, int] = {}
        self.page_hash = ""

    async def connect(self):
        from websockets.asyncio.client import connect
        self.ws = await connect(self.ws_url, subprotocols=["streamlit"], max_size=None, compression=None,
                                ping_interval=None, open_timeout=self.timeout)

    async def close(self):
        if self.ws is not None:
            await self.ws.close()

    def _rerun_msg(self, fragment_id: str = "") -> bytes:
        msg = self.BackMsg()
        cs = msg.rerun_script
        cs.query_string = ""
        cs.page_name = "" if self.page == DEFAULT_PAGE else self.page
        if self.page_hash:
            cs.page_script_hash = self.page_hash
        cs.fragment_id = fragment_id
        cs.cached_message_hashes.extend(sorted(self.cached))
        for wid, (v, is_int) in self.widget_values.items():
            w = cs.widget_states.widgets.add()
            w.id = wid
            w.double_array_value.data.append(float(int(v)) if is_int else float(v))
        return msg.SerializeToString()

    def _note(self, fm) -> str | None:
        """Record what a ForwardMsg says; returns an error description, if it is one."""
        kind = fm.WhichOneof("type")
        if fm.metadata.cacheable and fm.hash:
            self.cached.add(fm.hash)
        if kind == "new_session":
            self.page_hash = fm.new_session.page_script_hash or self.page_hash
        elif kind == "navigation":
            # The page the router settled on, as the browser adopts it. On a fresh server the first run of a
            # session can start in Streamlit's pages-folder mode (its new_session names that mode's page);
            # keeping that hash made later reruns fall back to the default page.
            self.page_hash = fm.navigation.page_script_hash or self.page_hash
        elif kind == "page_info_changed" or kind == "page_not_found":
            if kind == "page_not_found":
                return f"page not found: {self.page}"
        elif kind == "delta":
            d = fm.delta
            path = tuple(fm.metadata.delta_path)
            if d.WhichOneof("type") == "add_block":
                b = d.add_block
                if b.WhichOneof("type") == "expandable" and not b.expandable.expanded:
                    self.collapsed.add(path)
            elif d.WhichOneof("type") == "new_element":
                el = d.new_element
                t = el.WhichOneof("type")
                if t == "exception":
                    return f"exception on {self.page}: {el.exception.type}: {el.exception.message[:120]}"
                if t == "slider":
                    s = el.slider
                    if len(s.value or s.default) != 1 or s.data_type not in (0, 1) or len(s.options):
                        return None  # range sliders, dates, select sliders (their state is the option's text): not moved
                    if any(path[:i] in self.collapsed for i in range(1, len(path))):
                        return None
                    v = (s.value if s.set_value and len(s.value) else s.default)[0]
                    if s.id in self.widget_values:
                        v = self.widget_values[s.id][0]
                    self.sliders[s.id] = SliderInfo(s.id, s.min, s.max, s.step or 1, v, s.data_type == 0,
                                                    d.fragment_id)
        elif kind == "script_finished" and fm.script_finished == 1:
            return f"compile error on {self.page}"
        return None

    async def _until_finished(self) -> tuple[bool, int]:
        """Read messages until script_finished (not the 'finished early' of an interrupted run)."""
        n = 0
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stats.errors.append(f"timeout on {self.page}")
                return False, n
            raw = await asyncio.wait_for(self.ws.recv(), timeout=left)
            if isinstance(raw, str):
                raw = raw.encode()
            n += len(raw)
            fm = self.ForwardMsg()
            fm.ParseFromString(raw)
            err = self._note(fm)
            if err:
                self.stats.errors.append(err)
            if fm.WhichOneof("type") == "script_finished" and fm.script_finished in (0, 1, 3):
                return fm.script_finished != 1, n

    async def first_run(self) -> bool:
        await self.ws.send(self._rerun_msg())
        ok, n = await self._until_finished()
        self.stats.bytes_in += n
        return ok

    def _move(self) -> SliderInfo | None:
        if not self.sliders:
            return None
        ids = sorted(self.sliders)[:3]
        sl = self.sliders[self.rng.choice(ids)]
        d = self.direction.get(sl.id, 1)
        k = self.rng.randint(1, 3)
        nv = sl.value + d * k * sl.step
        if nv > sl.hi or nv < sl.lo:
            d = -d
            nv = sl.value + d * k * sl.step
        nv = min(max(nv, sl.lo), sl.hi)
        self.direction[sl.id] = d
        sl.value = round(nv, 10)
        self.widget_values[sl.id] = (sl.value, sl.is_int)
        return sl

    async def rerun(self) -> float | None:
        sl = self._move()
        if sl is None:
            return None
        t0 = time.perf_counter()
        await self.ws.send(self._rerun_msg(sl.fragment_id))
        ok, n = await self._until_finished()
        dt = time.perf_counter() - t0
        self.stats.bytes_in += n
        return dt if ok else None


async def _one(ws_url, page, stats: LoadStats, until: float, period: float, start_delay: float, seed: int,
               timeout: float, hold: asyncio.Event):
    await asyncio.sleep(start_delay)
    s = Session(ws_url, page, stats, timeout, seed)
    try:
        await s.connect()
        if not await s.first_run():
            return
        stats.sessions_ok += 1
        next_at = time.monotonic() + s.rng.uniform(0, period)
        while time.monotonic() < until:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            if time.monotonic() >= until:
                break
            next_at = time.monotonic() + period
            dt = await s.rerun()
            if dt is not None:
                stats.rerun_s.append(dt)
                stats.per_page.setdefault(page, []).append(dt)
                stats.reruns += 1
        await hold.wait()  # stay connected until the memory reading
    except Exception as err:  # noqa: BLE001 - every failure is a reported error, never a crash of the run
        stats.errors.append(f"{page}: {type(err).__name__}: {str(err)[:120]}")
    finally:
        await s.close()


async def run_load(ws_url: str, pages: list[str], sessions: int = 50, seconds: float = 120, period: float = 2.0,
                   timeout: float = 30.0, ramp: float = 5.0, server_pid: int | None = None) -> dict:
    """Run ``sessions`` simulated students for ``seconds``; returns a dict of results."""
    from _serve import cpu_seconds, rss_kb
    stats = LoadStats()
    # warm-up: one visit of every page, so the server has imported everything before the baseline reading
    for p in pages:
        s = Session(ws_url, p, LoadStats(), timeout)
        try:
            await s.connect()
            await s.first_run()
            await s.rerun()
        finally:
            await s.close()
    await asyncio.sleep(1.0)
    rss0 = rss_kb(server_pid) if server_pid else 0
    cpu0 = cpu_seconds(server_pid) if server_pid else 0.0
    t_start = time.monotonic()
    until = t_start + ramp + seconds
    hold = asyncio.Event()
    tasks = [asyncio.create_task(_one(ws_url, pages[i % len(pages)], stats, until, period,
                                      ramp * i / max(1, sessions), i, timeout, hold))
             for i in range(sessions)]
    samples: list[tuple[float, int]] = []

    async def sample_rss():  # the server's memory every 10 s: growth after the first minute is a leak
        while server_pid and time.monotonic() < until:
            samples.append((time.monotonic() - t_start, rss_kb(server_pid)))
            await asyncio.sleep(10.0)

    sampler = asyncio.create_task(sample_rss())
    await asyncio.sleep(max(0.0, until - time.monotonic()))
    await asyncio.sleep(min(timeout, 5.0))  # let the last reruns finish
    rss1 = rss_kb(server_pid) if server_pid else 0
    sampler.cancel()
    samples.append((time.monotonic() - t_start, rss1))
    after_minute = [kb for t, kb in samples if t >= ramp + 60.0]
    cpu1 = cpu_seconds(server_pid) if server_pid else 0.0
    hold.set()
    await asyncio.wait(tasks, timeout=timeout + 10)
    for t in tasks:
        if not t.done():
            t.cancel()
            stats.errors.append("a session did not end")
    rs = sorted(stats.rerun_s)
    p95 = rs[min(len(rs) - 1, int(round(0.95 * (len(rs) - 1))))] if rs else float("nan")
    return {
        "sessions": sessions, "sessions_ok": stats.sessions_ok, "seconds": seconds, "period": period,
        "reruns": stats.reruns, "median_s": statistics.median(rs) if rs else float("nan"), "p95_s": p95,
        "per_page": {p: (statistics.median(v), sorted(v)[min(len(v) - 1, int(round(0.95 * (len(v) - 1))))], len(v))
                     for p, v in stats.per_page.items()},
        "errors": stats.errors, "rss_before_kb": rss0, "rss_after_kb": rss1,
        "rss_per_session_mb": (rss1 - rss0) / 1024 / max(1, sessions),
        "rss_samples": samples,
        "rss_growth_after_first_minute_mb": (rss1 - after_minute[0]) / 1024 if after_minute else float("nan"),
        "server_cpu_s": cpu1 - cpu0, "server_cpu_per_rerun_ms": 1000 * (cpu1 - cpu0) / max(1, stats.reruns),
        "bytes_in": stats.bytes_in,
    }


def check_version() -> str | None:
    import streamlit
    if streamlit.__version__ != PROTOCOL_VERSION:
        return (f"bench/load.py speaks Streamlit {PROTOCOL_VERSION}'s protocol; installed: "
                f"{streamlit.__version__} (results may not hold)")
    return None


def print_result(r: dict) -> None:
    print(f"{r['sessions_ok']}/{r['sessions']} sessions, {r['reruns']} reruns in {r['seconds']:.0f} s: "
          f"median {1000 * r['median_s']:.0f} ms, p95 {1000 * r['p95_s']:.0f} ms; errors {len(r['errors'])}; "
          f"RSS {r['rss_before_kb'] / 1024:.0f} -> {r['rss_after_kb'] / 1024:.0f} MB "
          f"({r['rss_per_session_mb']:.2f} MB per session); server CPU {r['server_cpu_per_rerun_ms']:.0f} ms per rerun")
    if r.get("rss_samples"):
        print(f"  RSS growth after the first minute: {r['rss_growth_after_first_minute_mb']:.1f} MB; every 10 s (MB): "
              + " ".join(f"{kb / 1024:.0f}" for _, kb in r["rss_samples"]))
    for p, (m, p95, n) in sorted(r["per_page"].items()):
        print(f"  {p:16} median {1000 * m:6.0f} ms  p95 {1000 * p95:6.0f} ms  ({n} reruns)")
    for e in r["errors"][:10]:
        print("  error:", e)


def main():
    from _serve import page_paths, parse_overrides, serve_app
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--period", type=float, default=2.0)
    ap.add_argument("--pages", default=None, help="comma-separated url paths (default: every page)")
    ap.add_argument("--url", default=None, help="an already running server's ws URL (default: start one)")
    ap.add_argument("--set", action="append", metavar="KEY=VALUE", help="config override for the started server")
    a = ap.parse_args()
    warn = check_version()
    if warn:
        print("warning:", warn)
    pages = a.pages.split(",") if a.pages else page_paths()
    if a.url:
        r = asyncio.run(run_load(a.url, pages, a.sessions, a.seconds, a.period))
    else:
        with serve_app(parse_overrides(a.set)) as srv:
            r = asyncio.run(run_load(srv.ws_url, pages, a.sessions, a.seconds, a.period, server_pid=srv.pid))
    print_result(r)


if __name__ == "__main__":
    main()
