"""Browser benchmarks in headless Chromium, each against the bare app served alongside.

* ``latency``: key press on a visible slider -> last DOM change of the rerun it causes.
  A page-side MutationObserver stamps every DOM change with ``performance.now()`` and a
  capturing ``keydown`` listener stamps the press; the Python side reads Streamlit's
  websocket (Playwright ``page.on("websocket")``) to know that the press sent a rerun
  and that the script-finished ForwardMsg arrived, then waits for ``quiet_ms`` without
  a DOM change. Latency = last DOM change - key press, both in the page's clock.
  The same loop also counts websocket bytes received per slider move.
  Presses on the page and on the bare app alternate in rounds, so machine drift hits both.
  Sliders move monotonically (bouncing at their ends), so each press is a new value, as
  when dragging: ``st.cache_data`` mostly misses, as it does for a real student.
* ``first_load``: a fresh browser context opens the page; time from navigation start to
  the first ``.js-plotly-plot .main-svg`` in the DOM.
* ``em_playback``: on the EM page, clicks along the plotly frame slider (browser-side
  frames, no server round trip): mouse-down -> last DOM change; and ▶ Play's
  frame-to-frame interval against the frame duration the figure asks for.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

from _serve import CHROMIUM_ARGS, chromium_path

INIT_JS = r"""
(() => {
  window.__last = performance.now(); window.__keyAt = null; window.__firstChart = null;
  const obs = new MutationObserver(() => {
    window.__last = performance.now();
    if (window.__firstChart === null && document.querySelector('.js-plotly-plot .main-svg .trace, .js-plotly-plot .main-svg .hm')) {
      window.__firstChart = performance.now();
    }
  });
  obs.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  // websocket timestamps in the page's clock: when the rerun request left, when the last message arrived
  window.__wsSent = null; window.__wsLast = null;
  const Orig = window.WebSocket;
  window.WebSocket = class extends Orig {
    constructor(...a) { super(...a); this.addEventListener('message', () => { window.__wsLast = performance.now(); }); }
    send(d) { window.__wsSent = performance.now(); return super.send(d); }
  };
  document.addEventListener('keydown', () => { window.__keyAt = performance.now(); }, true);
  document.addEventListener('mousedown', () => { window.__keyAt = performance.now(); }, true);
})();
"""

# Visible sliders: [index among all stSlider, value, min, max]
VISIBLE_SLIDERS_JS = r"""() => Array.from(document.querySelectorAll('[data-testid=stSlider]')).map((el, i) => {
  const r = el.getBoundingClientRect(); const inp = el.querySelector('input[type=range]');
  if (!inp || inp.disabled || r.width === 0 || r.height === 0 || el.offsetParent === null) return null;
  if (el.closest('details:not([open])') || el.closest('[hidden]') || el.closest('[aria-hidden=true]')) return null;
  return [i, parseFloat(inp.value), parseFloat(inp.min), parseFloat(inp.max)];
}).filter(Boolean)"""


def summary(xs):
    """(median, p90) of a list; (nan, nan) when empty."""
    if not xs:
        return float("nan"), float("nan")
    s = sorted(xs)
    return statistics.median(s), s[min(len(s) - 1, int(round(0.9 * (len(s) - 1))))]


def parts_text(parts) -> str:
    """Medians of (widget delay, server, drawing) as text."""
    if not parts:
        return "n/a"
    return "/".join(f"{statistics.median(p[i] for p in parts):.0f}" for i in range(3)) + " ms"


class WsTap:
    """Counts Streamlit websocket traffic of one page (bytes in, reruns sent, scripts finished)."""

    def __init__(self, page):
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        self._fwd, self._back = ForwardMsg, BackMsg
        self.recv_bytes = 0
        self.reruns_sent = 0
        self.finished = 0
        self.exceptions = 0
        page.on("websocket", self._on_ws)

    def _on_ws(self, ws):
        if "_stcore/stream" not in ws.url:
            return
        ws.on("framereceived", self._recv)
        ws.on("framesent", self._sent)

    @staticmethod
    def _bytes(payload) -> bytes:
        return payload if isinstance(payload, (bytes, bytearray)) else str(payload).encode("latin-1", "replace")

    def _recv(self, payload):
        b = self._bytes(payload)
        self.recv_bytes += len(b)
        msg = self._fwd()
        try:
            msg.ParseFromString(b)
        except Exception:  # noqa: BLE001 - not a ForwardMsg (should not happen)
            return
        kind = msg.WhichOneof("type")
        if kind == "script_finished" and msg.script_finished in (0, 3):  # not "finished early for a rerun"
            self.finished += 1
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element" \
                and msg.delta.new_element.WhichOneof("type") == "exception":
            self.exceptions += 1

    def _sent(self, payload):
        msg = self._back()
        try:
            msg.ParseFromString(self._bytes(payload))
        except Exception:  # noqa: BLE001
            return
        if msg.WhichOneof("type") == "rerun_script":
            self.reruns_sent += 1


class Tab:
    """One page in its own browser context (so each is a visible window, never a throttled background tab)."""

    def __init__(self, browser, width=1400, height=900, wire=None):
        """``wire``: a callable giving the bytes the server has sent so far (a counting proxy), if any."""
        self.wire = wire
        self.ctx = browser.new_context(viewport={"width": width, "height": height})
        self.ctx.add_init_script(INIT_JS)
        self.page = self.ctx.new_page()
        self.tap = WsTap(self.page)
        self.direction: dict[int, int] = {}

    def close(self):
        self.ctx.close()

    def wait_quiet(self, quiet_ms: int, limit_s: float = 30) -> bool:
        end = time.time() + limit_s
        while time.time() < end:
            if self.page.evaluate("() => performance.now() - window.__last") >= quiet_ms:
                return True
            self.page.wait_for_timeout(25)
        return False

    def open(self, url: str, quiet_ms: int = 800):
        f0 = self.tap.finished
        self.page.goto(url, wait_until="domcontentloaded")
        end = time.time() + 90
        while self.tap.finished <= f0 and time.time() < end:
            self.page.wait_for_timeout(25)
        self.wait_quiet(quiet_ms)

    def sliders(self):
        return self.page.evaluate(VISIBLE_SLIDERS_JS)

    def press(self, which: int, quiet_ms: int):
        """Press an arrow key on visible slider number ``which``.

        Returns (latency ms, websocket payload bytes, (send, server, draw) ms or None, bytes on the wire or
        None), or None when no rerun followed.
        """
        vis = self.sliders()
        if not vis:
            return None
        idx, value, lo, hi = vis[which % len(vis)]
        d = self.direction.get(idx, 1)
        if (d > 0 and value >= hi) or (d < 0 and value <= lo):
            d = -d
        self.direction[idx] = d
        self.wait_quiet(quiet_ms)
        s0, f0, b0 = self.tap.reruns_sent, self.tap.finished, self.tap.recv_bytes
        w0 = self.wire() if self.wire else None
        self.page.evaluate("() => { window.__keyAt = null; }")
        inp = self.page.locator("[data-testid=stSlider]").nth(idx).locator("input[type=range]")
        inp.focus()
        inp.press("ArrowRight" if d > 0 else "ArrowLeft")
        end = time.time() + 3
        while self.tap.reruns_sent <= s0 and time.time() < end:
            self.page.wait_for_timeout(10)
        if self.tap.reruns_sent <= s0:
            return None
        end = time.time() + 60
        while self.tap.finished <= f0 and time.time() < end:
            self.page.wait_for_timeout(10)
        self.wait_quiet(quiet_ms)
        key_at, last, sent, got = self.page.evaluate("() => [window.__keyAt, window.__last, window.__wsSent, "
                                                     "window.__wsLast]")
        if key_at is None:
            return None
        # the parts: the widget's own delay before it sends, the server's run (and the messages), the drawing
        parts = (max(0.0, sent - key_at), max(0.0, got - sent), max(0.0, last - got)) \
            if sent is not None and got is not None and key_at <= sent <= got else None
        wire = self.wire() - w0 if self.wire else None
        return max(0.0, last - key_at), self.tap.recv_bytes - b0, parts, wire


@dataclass
class PageLatency:
    path: str
    ms: list = field(default_factory=list)
    bare_ms: list = field(default_factory=list)
    bytes: list = field(default_factory=list)       # websocket payload per move (after decompression)
    wire: list = field(default_factory=list)        # bytes the server sent per move (when proxied)
    parts: list = field(default_factory=list)       # (to send, server, drawing) ms per press
    bare_parts: list = field(default_factory=list)
    no_sliders: bool = False
    exceptions: int = 0


def launch(pw):
    kw = {"args": CHROMIUM_ARGS, "headless": True}
    if chromium_path():
        kw["executable_path"] = chromium_path()
    return pw.chromium.launch(**kw)


def latency(browser, app_url: str, bare_url: str, paths: list[str], presses: int = 20, per_round: int = 4,
            bare_per_round: int = 4, sliders: int = 3, quiet_ms: int = 300, log=print,
            app_wire=None, bare_wire=None) -> list[PageLatency]:
    """Slider-to-plot latency and websocket bytes per move on every page, alternating with the bare app.

    ``app_wire`` / ``bare_wire``: callables giving the bytes each server has sent (counting proxies in
    front of both, so that both sides pay the same hop); with them, bytes on the wire are counted too.
    """
    bare, app = Tab(browser, wire=bare_wire), Tab(browser, wire=app_wire)
    out = []
    try:
        bare.open(bare_url)
        for path in paths:
            res = PageLatency(path)
            app.open(f"{app_url}/{path}")
            ex0 = app.tap.exceptions
            for _ in range(20):  # a page may rerun itself once after it opened
                if app.sliders():
                    break
                app.page.wait_for_timeout(500)
                app.wait_quiet(800)
            if not app.sliders():
                res.no_sliders = True
                out.append(res)
                log(f"  {path}: no visible slider")
                continue
            app.press(0, quiet_ms)  # warm-up press (not counted)
            k = 0
            tries = 0
            while len(res.ms) < presses and tries < 3 * presses:
                bare.page.bring_to_front()
                for _ in range(bare_per_round):
                    r = bare.press(0, quiet_ms)
                    if r:
                        res.bare_ms.append(r[0])
                        if r[2]:
                            res.bare_parts.append(r[2])
                app.page.bring_to_front()
                for _ in range(per_round):
                    tries += 1
                    r = app.press(k % sliders, quiet_ms)
                    k += 1
                    if r:
                        res.ms.append(r[0])
                        res.bytes.append(r[1])
                        if r[3] is not None:
                            res.wire.append(r[3])
                        if r[2]:
                            res.parts.append(r[2])
                    if len(res.ms) >= presses:
                        break
            res.exceptions = app.tap.exceptions - ex0
            m, p90 = summary(res.ms)
            bm, _ = summary(res.bare_ms)
            log(f"  {path}: median {m:.0f} ms p90 {p90:.0f} ms ({len(res.ms)} presses); bare {bm:.0f} ms; "
                f"max {max(res.bytes or [0]) / 1024:.1f} KB/move"
                + (f" ({max(res.wire) / 1024:.1f} KB on the wire)" if res.wire else "") + "; parts (send, server, draw) "
                f"{parts_text(res.parts)}, bare {parts_text(res.bare_parts)}")
            out.append(res)
    finally:
        bare.close()
        app.close()
    return out


def _first_chart_ms(ctx, url: str, timeout_ms: int = 60000) -> float | None:
    """Open ``url`` in a new tab of ``ctx``: ms from navigation start to the first drawn chart."""
    page = ctx.new_page()
    try:
        page.goto(url, wait_until="commit")
        page.wait_for_function("() => window.__firstChart !== null", timeout=timeout_ms, polling=50)
        return page.evaluate("() => window.__firstChart")
    except Exception:  # noqa: BLE001 - a page without a chart (or that failed): no sample
        return None
    finally:
        page.close()


def first_load(browser, app_url: str, bare_url: str, paths: list[str], loads: int = 5, log=print):
    """Per page: (list of ms to first chart, list of bare ms from the same rounds).

    Each load is a new tab of a browser that has opened the site before (one context per server, so the
    HTTP cache holds Streamlit's and plotly's JavaScript, as for a student opening a second page): what
    is left is the page's own work: the script run up to its first chart, the messages, the drawing.
    A new Streamlit session starts with every tab.
    """
    out = {p: ([], []) for p in paths}
    ctx_app = browser.new_context(viewport={"width": 1400, "height": 900})
    ctx_bare = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        for ctx in (ctx_app, ctx_bare):
            ctx.add_init_script(INIT_JS)
        _first_chart_ms(ctx_app, f"{app_url}/{paths[0]}")  # warm-up: the HTTP cache of each origin
        _first_chart_ms(ctx_bare, bare_url)
        for _ in range(loads):
            b = _first_chart_ms(ctx_bare, bare_url)  # the reference once per round, next to the pages
            for p in paths:
                a = _first_chart_ms(ctx_app, f"{app_url}/{p}")
                if a is not None:
                    out[p][0].append(a)
                if b is not None:
                    out[p][1].append(b)
    finally:
        ctx_app.close()
        ctx_bare.close()
    for p in paths:
        log(f"  {p}: first chart median {summary(out[p][0])[0]:.0f} ms; bare {summary(out[p][1])[0]:.0f} ms")
    return out


FRAMED_JS = r"""() => {
  const gds = Array.from(document.querySelectorAll('.js-plotly-plot'));
  const gd = gds.find(g => g._transitionData && g._transitionData._frames && g._transitionData._frames.length > 1);
  if (!gd) return null;
  window.__gd = gd; window.__animated = []; window.__frames = [];
  gd.on('plotly_animated', () => window.__animated.push(performance.now()));
  gd.on('plotly_animatingframe', () => window.__frames.push(performance.now()));
  gd.scrollIntoView({block: 'center'});
  const sl = (gd._fullLayout.sliders || [])[0];
  const menu = (gd._fullLayout.updatemenus || [])[0];
  let duration = null;
  try { duration = menu.buttons[0].args[1].frame.duration; } catch (e) {}
  return {frames: gd._transitionData._frames.length, steps: sl ? sl.steps.length : 0, duration: duration};
}"""


def em_playback(browser, app_url: str, path: str = "em", clicks: int = 20, play_frames: int = 10,
                quiet_ms: int = 300, log=print) -> dict:
    """Scrub and play the EM page's browser-side frames. Returns a dict (``skipped`` says why when it could not)."""
    tab = Tab(browser)
    try:
        tab.open(f"{app_url}/{path}", quiet_ms=1000)
        info = tab.page.evaluate(FRAMED_JS)
        if not info:
            return {"skipped": f"no plotly chart with animation frames on /{path}"}
        if not info["steps"]:
            return {"skipped": "the animated chart has no frame slider", **info}
        tab.wait_quiet(quiet_ms)
        rail = tab.page.locator(".js-plotly-plot .slider-rail-touch-rect").first
        box = rail.bounding_box()
        n = info["steps"]
        scrub, scrub_dom = [], []
        order = list(range(n)) if n <= clicks else [round(i * (n - 1) / (clicks - 1)) for i in range(clicks)]
        # alternate ends and middle so every click is a different frame
        order = order[::2] + order[1::2][::-1]
        y = box["y"] + box["height"] / 2
        active = "() => window.__gd._fullLayout.sliders[0].active"
        for i in order:
            tab.wait_quiet(quiet_ms)
            before = tab.page.evaluate(active)
            tab.page.evaluate("() => { window.__keyAt = null; window.__animated = []; }")
            x = box["x"] + 8 + (box["width"] - 16) * (i / max(1, n - 1))
            tab.page.mouse.click(x, y)
            end = time.time() + 10
            while not tab.page.evaluate("() => window.__animated.length") and time.time() < end:
                tab.page.wait_for_timeout(10)
            tab.wait_quiet(quiet_ms)
            key_at, drawn, last = tab.page.evaluate("() => [window.__keyAt, window.__animated[0] ?? null, window.__last]")
            if key_at is not None and drawn is not None and tab.page.evaluate(active) != before:
                scrub.append(max(0.0, drawn - key_at))
                scrub_dom.append(max(0.0, last - key_at))
        # playback from the first frame
        tab.page.mouse.click(box["x"] + 2, y)
        tab.wait_quiet(quiet_ms)
        tab.page.evaluate("() => { window.__frames = []; }")
        play = tab.page.locator(".js-plotly-plot .updatemenu-button").first
        play.click()
        dur = info["duration"] or 0
        end = time.time() + (play_frames + 2) * (dur / 1000 + 1.0)
        while tab.page.evaluate("() => window.__frames.length") < play_frames + 1 and time.time() < end:
            tab.page.wait_for_timeout(50)
        stamps = tab.page.evaluate("() => window.__frames")
        pause = tab.page.locator(".js-plotly-plot .updatemenu-button").nth(1)
        if pause.count():
            pause.click()
        intervals = [b - a for a, b in zip(stamps, stamps[1:])]
        res = {**info, "scrub_ms": scrub, "scrub_dom_ms": scrub_dom, "play_intervals_ms": intervals}
        log(f"  /{path}: {info['frames']} frames; scrub: frame drawn {summary(scrub)[0]:.0f} ms, last DOM change "
            f"{summary(scrub_dom)[0]:.0f} ms (median of {len(scrub)} clicks); "
            f"play interval median {summary(intervals)[0]:.0f} ms (frame duration asked: {dur} ms)")
        return res
    finally:
        tab.close()
