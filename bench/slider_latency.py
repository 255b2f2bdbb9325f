"""Latency of chosen sliders of one page, against the bare app, in the same run.

``bench/run.py``'s latency section presses the first three visible sliders of each page. A page whose most
used slider comes later (variational's q, below its model controls) is measured here:

    python bench/slider_latency.py variational 4,5,0 --rounds 12

The sliders are numbered among the page's visible ones, in page order (``VISIBLE_SLIDERS_JS``). Each round
presses each chosen slider once and the bare app's slider once; the table gives each slider's median
(ms, and as a ratio to the bare app's median) and the median of its parts (the widget's own delay before it
sends, the server's run with its messages, the drawing after the last message).
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _serve import CHROMIUM_ARGS, chromium_path, serve_app, serve_bare  # noqa: E402
from browser import Tab  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("page", help="url path of the page, e.g. variational")
    ap.add_argument("sliders", help="comma-separated numbers among the page's visible sliders, e.g. 4,5,0")
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--quiet-ms", type=int, default=300)
    args = ap.parse_args(argv)
    chosen = [int(s) for s in args.sliders.split(",")]
    from playwright.sync_api import sync_playwright
    with serve_app() as app, serve_bare() as bare, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page, ref = Tab(browser), Tab(browser)
        page.open(f"{app.url}/{args.page}")
        ref.open(bare.url)
        visible = len(page.sliders())
        if not visible or max(chosen) >= visible:
            print(f"{args.page} shows {visible} sliders; asked for {chosen}")
            return 2
        ms = {k: [] for k in chosen}
        parts = {k: [] for k in chosen}
        bare_ms, bare_parts = [], []
        for _ in range(args.rounds):
            for k in chosen:
                r = page.press(k, args.quiet_ms)
                if r:
                    ms[k].append(r[0])
                    if r[2]:
                        parts[k].append(r[2])
            r = ref.press(0, args.quiet_ms)
            if r:
                bare_ms.append(r[0])
                if r[2]:
                    bare_parts.append(r[2])
        browser.close()
    ref_median = statistics.median(bare_ms)
    print(f"{args.page}, {args.rounds} rounds; bare app median {ref_median:.0f} ms")
    print("slider  median   ratio   send/server/draw")
    split = "/".join(f"{statistics.median(p[i] for p in bare_parts):.0f}" for i in range(3)) if bare_parts else "-"
    print(f"{'bare':>6}  {ref_median:4.0f} ms  {1:5.2f}   {split} ms")
    for k in chosen:
        med = statistics.median(ms[k]) if ms[k] else float("nan")
        split = "/".join(f"{statistics.median(p[i] for p in parts[k]):.0f}" for i in range(3)) if parts[k] else "-"
        print(f"{k:>6}  {med:4.0f} ms  {med / ref_median:5.2f}   {split} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
