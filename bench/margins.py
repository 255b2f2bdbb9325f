"""What plotly's automargin costs in the browser: ``Plotly.react`` time per slider move with the
margins the specs send, against margins that already fit (headless Chromium, the real app).

Streamlit's chart theme turns on ``automargin`` for both axes, and the specs ask for small margins.
Each draw then finds them too small and plots again. This probe learns, for every chart (by its
Streamlit key), the margins plotly settled on in the page's previous draws, and in the "fitted"
rounds hands them to ``Plotly.react`` in the figure itself, so automargin (still on) has nothing to
push. Rounds of both kinds alternate on each page, so drift hits both. Nothing in the app changes:
the probe rewrites the figure in the page, between Streamlit and plotly.js.

    python bench/margins.py [--moves 10] [--pages latent_models,kl_divergence]

Per page: the median ``Plotly.react`` time per move (all charts, each call until its promise
resolves), and the charts per move whose margins plotly still pushed.
"""
from __future__ import annotations

import argparse
import statistics
import time

from _serve import page_paths, serve_app
from browser import Tab, launch

PROBE_JS = r"""
(() => {
  window.__fit = false; window.__margins = {}; window.__reactMs = 0; window.__pushed = 0;
  const keyOf = gd => { const k = gd.closest && gd.closest('[class*="st-key-"]');
    return k ? Array.from(k.classList).find(c => c.startsWith('st-key-')) : null; };
  let P;
  Object.defineProperty(window, 'Plotly', {configurable: true, get() { return P; }, set(v) {
    P = v;
    const react = v.react;
    if (!react || react.__probed) return;
    v.react = function (gd, ...args) {
      const key = keyOf(gd);
      const known = key && window.__margins[key];
      if (window.__fit && known) {
        // in place: a new layout object would make react-plotly's onUpdate set new state, and draw again
        const layout = (args.length === 1 && args[0] && typeof args[0] === 'object' && 'layout' in args[0])
          ? args[0].layout : args[1];
        if (layout) layout.margin = {...known};
      }
      const t0 = performance.now();
      const done = () => {
        window.__reactMs += performance.now() - t0;
        const s = gd._fullLayout && gd._fullLayout._size;
        const m = gd._fullLayout && gd._fullLayout.margin;
        if (s && key) {
          if (window.__fit && known && ['l', 'r', 't', 'b'].some(k => Math.abs(s[k] - known[k]) > 1)) window.__pushed += 1;
          if (!window.__fit || !known) window.__margins[key] = {l: s.l, r: s.r, t: s.t, b: s.b, pad: m ? m.pad : 0};
        }
      };
      const r = react.call(this, gd, ...args);
      if (r && r.then) r.then(done, done); else done();
      return r;
    };
    v.react.__probed = true;
  }});
})();
"""


def probe(browser, url: str, path: str, moves: int, rounds: int = 4, quiet_ms: int = 600) -> dict:
    tab = Tab(browser, height=6000)  # every chart in view: one off the screen is updated only when it comes into view
    tab.ctx.add_init_script(PROBE_JS)
    try:
        tab.open(f"{url}/{path}")
        end = time.time() + 30  # a loaded machine can render the sliders after the first quiet spell
        while not tab.sliders() and time.time() < end:
            tab.page.wait_for_timeout(100)
        if not tab.sliders():
            return {"path": path, "skipped": "no visible slider"}
        tab.press(0, quiet_ms)  # every chart drawn once more: margins known for each key
        per = {False: [], True: []}
        pushed = {False: 0, True: 0}
        for r in range(rounds):
            fit = r % 2 == 1
            tab.page.evaluate(f"() => {{ window.__fit = {'true' if fit else 'false'}; }}")
            for _ in range(max(1, moves // max(1, rounds // 2))):
                tab.page.evaluate("() => { window.__reactMs = 0; window.__pushed = 0; }")
                if tab.press(0, quiet_ms) is None:
                    continue
                ms, n = tab.page.evaluate("() => [window.__reactMs, window.__pushed]")
                per[fit].append(ms)
                pushed[fit] += n
        return {"path": path, "as_sent_ms": statistics.median(per[False]) if per[False] else float("nan"),
                "fitted_ms": statistics.median(per[True]) if per[True] else float("nan"),
                "moves": (len(per[False]), len(per[True])),
                "pushed_per_move_fitted": pushed[True] / max(1, len(per[True]))}
    finally:
        tab.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--moves", type=int, default=10, help="slider moves of each kind per page")
    ap.add_argument("--pages", default=None, help="comma-separated url paths (default: every page)")
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright
    paths = a.pages.split(",") if a.pages else page_paths()
    with serve_app() as app, sync_playwright() as pw:
        browser = launch(pw)
        try:
            print(f"{'page':15s} {'react/move, as sent':>20s} {'margins that fit':>17s} {'ratio':>6s}  still pushed")
            for path in paths:
                r = probe(browser, app.url, path, a.moves)
                if "skipped" in r:
                    print(f"{path or 'home':15s} skipped: {r['skipped']}")
                    continue
                ratio = r["fitted_ms"] / r["as_sent_ms"] if r["as_sent_ms"] else float("nan")
                print(f"{path or 'home':15s} {r['as_sent_ms']:17.1f} ms {r['fitted_ms']:14.1f} ms {ratio:6.2f}  "
                      f"{r['pushed_per_move_fitted']:.1f} chart(s) per move (n = {r['moves'][0]}, {r['moves'][1]})")
        finally:
            browser.close()


if __name__ == "__main__":
    main()
