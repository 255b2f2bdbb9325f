"""Start the app and a headless Chromium for the browser tests.

Chromium is found through ``$CHROMIUM``, the system path (Debian's
``chromium``), or Playwright's own browser. Without one, browser tests are
skipped with the reason, except under ``CI=true``, where they fail: CI
installs Debian's chromium and must run them.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def page_paths() -> list[str]:
    """The url paths of every page registered in app.py, in navigation order."""
    paths = []
    for line in (ROOT / "app.py").read_text().splitlines():
        m = re.search(r'url_path="([^"]+)"', line)
        if m:  # the default page is served at the root, not at its url_path
            paths.append("" if "default=True" in line else m.group(1))
    return paths


def chromium_path() -> str | None:
    for p in (os.environ.get("CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser"),
              "/usr/bin/chromium"):
        if p and os.path.exists(p):
            return p
    return None


def unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests must run in CI: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, app: str = "app.py", cwd: Path = ROOT):
        """``streamlit run app`` in ``cwd`` (the project's app by default)."""
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile("w+", prefix="app_", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", app, "--server.headless", "true",
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false"],
            cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(self.url + "/_stcore/health", timeout=1).read() == b"ok":
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the app did not start; see {self.log.name}")

    def logs(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# Every typeset formula of the main column, as text (KaTeX's MathML annotation holds the TeX source).
FORMULAS_JS = """() => Array.from(document.querySelectorAll('[data-testid=stMain] .katex-display annotation'))
    .map(el => el.textContent)"""


def wait_settled(page, timeout_ms: int = 30000):
    """Wait until Streamlit has finished the current run (no running indicator, charts drawn)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_function(
        """() => {
            const s = document.querySelector('[data-testid="stStatusWidget"]');
            return !s || !/Running|Connecting/i.test(s.innerText);
        }""", timeout=timeout_ms)
    page.wait_for_timeout(400)


def open_page(page, url: str, timeout_ms: int = 60000):
    """Open ``url`` and wait until its run has ended and its first chart is visible (the page has run)."""
    page.goto(url, wait_until="domcontentloaded")
    wait_settled(page, timeout_ms)
    page.wait_for_selector(".js-plotly-plot >> visible=true", timeout=timeout_ms)
    wait_settled(page, timeout_ms)


def view_every_chart(page, timeout_ms: int = 15000):
    """Scroll each chart into view in turn, and back to where the page was, until none has an update waiting.

    A chart off the screen is updated when it comes into view (static/vlb_chart.js): a test that reads every
    chart after a move brings each into view first, as a reader scrolling down the page would."""
    at = page.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]'); return m ? m.scrollTop : 0; }")
    charts = page.locator("div.vlb-chart")
    for i in range(charts.count()):
        if charts.nth(i).is_visible():
            charts.nth(i).scroll_into_view_if_needed()
            page.wait_for_timeout(50)
    page.wait_for_function("() => Array.from(document.querySelectorAll('div.vlb-chart'))"
                           ".filter(gd => gd.offsetParent !== null).every(gd => !gd.__vlbPending)",
                           timeout=timeout_ms)
    page.evaluate("(y) => { const m = document.querySelector('[data-testid=\"stMain\"]'); if (m) m.scrollTop = y; }", at)
    page.wait_for_timeout(300)   # plotly draws after the promise of each update


def press_slider(page, key: str, value: str, timeout_ms: int = 60000):
    """Press ArrowRight on the slider with key ``key`` and wait until the run has ended and the address says
    ``key=value`` (every slider is bound to the address)."""
    page.locator(f".st-key-{key} input[type=range]").focus()
    page.keyboard.press("ArrowRight")
    wait_settled(page, timeout_ms)
    page.wait_for_function("([k, v]) => new URLSearchParams(location.search).get(k) === v", arg=[key, value],
                           timeout=15000)
    wait_settled(page, timeout_ms)


def rerun_requests(page) -> list[str]:
    """The rerun requests the tab sends from now on: a list of their fragment ids ("" for a whole-page run)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    sent = []

    def on_ws(ws):
        def on_frame(payload):
            msg = BackMsg()
            try:
                msg.ParseFromString(payload if isinstance(payload, bytes) else payload.encode("latin-1"))
            except Exception:  # noqa: BLE001 - not a BackMsg
                return
            if msg.WhichOneof("type") == "rerun_script":
                sent.append(msg.rerun_script.fragment_id)
        ws.on("framesent", on_frame)
    page.on("websocket", on_ws)
    return sent


def assert_no_errors(page, server) -> None:
    """No exception box, no st.error box, and no console error (``page.console_errors``) on the page."""
    assert page.locator('[data-testid="stException"]').count() == 0, server.logs()[-3000:]
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    real = [e for e in page.console_errors if "favicon" not in e]
    assert not real, real
