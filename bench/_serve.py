"""Start Streamlit servers for the benchmarks: the app, and the bare reference app.

The bare app is one slider and one 400-point Plotly line, written to a temporary
directory with no ``.streamlit/config.toml``, so it runs with Streamlit's default
settings. The app runs from the project root and so uses the project's
``.streamlit/config.toml``; ``overrides`` (``{"runner.postScriptGC": "true"}``)
are passed on the command line and win over the file.
"""
from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BARE_APP = '''\
import numpy as np
import plotly.graph_objects as go
import streamlit as st

v = st.slider("v", 0.0, 10.0, 5.0, 0.01, key="bare_v")
g = np.linspace(-5, 5, 400)
st.plotly_chart(go.Figure([go.Scatter(x=g, y=np.sin(g + v))]), key="bare_chart")
'''

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def page_paths() -> list[str]:
    """The url paths of every page registered in app.py, in navigation order."""
    return re.findall(r'url_path="([^"]+)"', (ROOT / "app.py").read_text())


def default_page() -> str | None:
    """The url path of the page registered with ``default=True`` (served at "/")."""
    m = re.search(r'url_path="([^"]+)"[^\n]*default=True|default=True[^\n]*url_path="([^"]+)"',
                  (ROOT / "app.py").read_text())
    return (m.group(1) or m.group(2)) if m else None


def page_files() -> dict[str, str]:
    """url path -> page file (relative to the project root), from app.py."""
    text = (ROOT / "app.py").read_text()
    return {m.group(2): m.group(1) for m in re.finditer(r'st\.Page\("([^"]+)"[^\n]*?url_path="([^"]+)"', text)}


def chromium_path() -> str | None:
    import shutil
    for p in (os.environ.get("CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser"),
              "/usr/bin/chromium"):
        if p and os.path.exists(p):
            return p
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid: int) -> int:
    """Resident memory of a process in KiB (psutil if installed, else /proc/<pid>/status VmRSS)."""
    try:
        import psutil  # type: ignore
        return psutil.Process(pid).memory_info().rss // 1024
    except ImportError:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """A ``streamlit run`` child process on a free loopback port."""

    def __init__(self, app: str, cwd: Path, overrides: dict[str, str] | None = None, name: str = "app"):
        self.port = free_port()
        self.name = name
        self.log_path = Path(tempfile.gettempdir()) / f"bench_{name}_{self.port}.log"
        self._log = open(self.log_path, "w")
        args = [sys.executable, "-m", "streamlit", "run", app, "--server.headless", "true",
                "--server.port", str(self.port), "--server.address", "127.0.0.1",
                "--browser.gatherUsageStats", "false"]
        for k, v in (overrides or {}).items():
            args += [f"--{k}", str(v)]
        self.proc = subprocess.Popen(args, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/_stcore/stream"
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if urllib.request.urlopen(self.url + "/_stcore/health", timeout=1).read() == b"ok":
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{name} did not start; see {self.log_path}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def logs(self) -> str:
        self._log.flush()
        return self.log_path.read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


class CountingProxy:
    """A loopback TCP proxy in front of a server that counts the bytes the server sends.

    These are the bytes a network carries: websocket frames as sent, compressed when the server
    negotiated ``permessage-deflate`` (``server.enableWebsocketCompression``), headers included.
    The browser's own websocket events only show messages after decompression.
    """

    def __init__(self, target_port: int):
        self.target = target_port
        self.down = 0
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._sock.accept()
                server = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                return
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pipe, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, True), daemon=True).start()

    def _pipe(self, src, dst, count: bool) -> None:
        try:
            while True:
                data = src.recv(1 << 16)
                if not data:
                    break
                if count:
                    with self._lock:
                        self.down += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._sock.close()


@contextlib.contextmanager
def proxied(server):
    """``server`` behind a :class:`CountingProxy`: yields the proxy (``.url``, ``.down``)."""
    p = CountingProxy(server.port)
    try:
        yield p
    finally:
        p.close()


@contextlib.contextmanager
def serve_app(overrides: dict[str, str] | None = None):
    s = Server("app.py", ROOT, overrides, "app")
    try:
        yield s
    finally:
        s.stop()


@contextlib.contextmanager
def serve_bare():
    with tempfile.TemporaryDirectory(prefix="bench_bare_") as d:
        Path(d, "bare.py").write_text(BARE_APP)
        s = Server("bare.py", Path(d), None, "bare")
        try:
            yield s
        finally:
            s.stop()


def parse_overrides(items: list[str] | None) -> dict[str, str]:
    """``["runner.postScriptGC=true", ...]`` -> ``{"runner.postScriptGC": "true"}``."""
    out = {}
    for item in items or []:
        if "=" not in item:
            raise SystemExit(f"--set expects KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out
