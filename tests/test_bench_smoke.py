"""The benchmark suite (bench/) still runs: its modules import and its measuring functions work on
tiny sizes. Only the structure of the results is checked, never a timing."""
from __future__ import annotations

import asyncio
import math
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import _serve  # noqa: E402
import bench_core  # noqa: E402
import browser  # noqa: E402
import load  # noqa: E402
import run  # noqa: E402
import server_work  # noqa: E402
import margins  # noqa: E402
import slider_latency  # noqa: E402


def _row_ok(row):
    name, ratio, target, note = row
    assert isinstance(name, str) and name
    assert isinstance(ratio, float) and math.isfinite(ratio) and ratio > 0
    assert target > 0
    assert isinstance(note, str)


def test_core_benchmarks_tiny():
    pytest.importorskip("sklearn")
    row = bench_core.bench_em_vs_sklearn(n=600, rounds=1)
    _row_ok(row)
    assert "identical iterates: True" in row[3]  # the two EM steps agree on any data size
    _row_ok(bench_core.bench_bound_flat_in_n(n_small=50, n_big=500, rounds=1, number=1))
    _row_ok(bench_core.bench_log_marginal_grid(n=100, grid_points=8, rounds=1))


def test_app_pages_are_found():
    paths = _serve.page_paths()
    files = _serve.page_files()
    assert paths and set(paths) == set(files)
    assert all((_serve.ROOT / f).exists() for f in files.values())
    assert _serve.default_page() in paths
    assert _serve.parse_overrides(["runner.postScriptGC=false", "a.b = 1"]) == {"runner.postScriptGC": "false",
                                                                                "a.b": "1"}


def test_enlarged_data_keep_columns():
    x = np.array([[1.0, 50.0], [2.0, 60.0], [3.0, 70.0]])
    big = server_work.enlarge("old_faithful", x, n=1000)
    assert big.shape == (1000, 2)
    coins = np.array([[3, 10], [7, 10]])
    big = server_work.enlarge("two_coins", coins, n=50)
    assert big.shape == (50, 2) and set(map(tuple, big.tolist())) <= {(3.0, 10.0), (7.0, 10.0)}
    link = np.array([[125, 18, 20, 34]])
    assert server_work.enlarge("genetic_linkage", link).shape == (1, 4)  # counts: the row stays


def test_server_work_times_the_bare_app():
    with server_work.CLOCK.installed():
        wall, cpu = server_work.run_bare(2)
    assert len(wall) == len(cpu) == 2
    assert all(w >= 0 and c >= 0 for w, c in zip(wall, cpu))


def test_server_work_one_page_through_the_router():
    page = _serve.default_page()
    with server_work.big_datasets(n=300), server_work.CLOCK.installed():
        wall, cpu, errors, _ = server_work.run_page(_serve.page_files()[page], 1)
    assert len(wall) == len(cpu) <= 1 and errors == 0


def test_load_client_messages():
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    stats = load.LoadStats()
    s = load.Session("ws://127.0.0.1:1/_stcore/stream", "lower_bounds", stats)

    def slider_msg(sid, path, lo=0.0, hi=1.0, step=0.1, value=0.5, fragment=""):
        fm = ForwardMsg()
        fm.metadata.delta_path.extend(path)
        fm.delta.fragment_id = fragment
        sl = fm.delta.new_element.slider
        sl.id, sl.min, sl.max, sl.step, sl.data_type = sid, lo, hi, step, 1
        sl.default.append(value)
        return fm

    collapsed = ForwardMsg()
    collapsed.metadata.delta_path.extend([0, 3])
    collapsed.delta.add_block.expandable.expanded = False
    assert s._note(collapsed) is None
    assert s._note(slider_msg("inside", [0, 3, 0])) is None      # in a collapsed expander: not a student's slider
    assert s._note(slider_msg("visible", [0, 4], fragment="f1")) is None
    assert set(s.sliders) == {"visible"}
    moved = s._move()
    assert moved.id == "visible" and moved.value != 0.5 and 0.0 <= moved.value <= 1.0
    back = BackMsg()
    back.ParseFromString(s._rerun_msg(moved.fragment_id))
    cs = back.rerun_script
    assert cs.page_name == "lower_bounds" and cs.fragment_id == "f1"
    assert [(w.id, list(w.double_array_value.data)) for w in cs.widget_states.widgets] == [("visible", [moved.value])]
    exc = ForwardMsg()
    exc.delta.new_element.exception.type = "ValueError"
    assert "ValueError" in s._note(exc)


def test_load_against_the_bare_app():
    """Two simulated sessions for two seconds against a real server: reruns are timed, no errors."""
    with _serve.serve_bare() as srv:
        r = asyncio.run(load.run_load(srv.ws_url, [""], sessions=2, seconds=2.0, period=0.5, ramp=0.2,
                                      server_pid=srv.pid))
    assert r["sessions_ok"] == 2 and r["errors"] == []
    assert r["reruns"] >= 2 and 0 < r["median_s"] <= r["p95_s"]
    assert r["rss_after_kb"] > 0 and r["server_cpu_s"] >= 0


def test_summaries_and_table(capsys):
    assert browser.summary([]) != browser.summary([1.0])
    m, p90 = browser.summary([1.0, 2.0, 3.0, 4.0, 100.0])
    assert m == 3.0 and p90 == 100.0
    t = run.Table()
    t.add("latency", "home", "120 ms", "100 ms", 1.2, "≤ 1.1", False, "n = 20")
    t.print({"rows": [dict(section="latency", item="home", value="150 ms", ratio=1.5)]})
    out = capsys.readouterr().out
    assert "OVER" in out and "150 ms" in out


def test_counting_proxy_forwards_and_counts_what_the_server_sends(tmp_path):
    """The bytes-per-move figure rests on this proxy: it must pass traffic on unchanged and count the
    server's bytes (the response body and its headers), not the client's."""
    import http.server
    import threading
    import urllib.request

    body = b"x" * 50_000
    (tmp_path / "f.bin").write_bytes(body)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(tmp_path), **kw)

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    class Target:
        port = httpd.server_address[1]

    try:
        with _serve.proxied(Target) as px:
            assert px.down == 0
            got = urllib.request.urlopen(px.url + "/f.bin", timeout=10).read()
            assert got == body
            deadline = 50
            while px.down < len(body) and deadline:
                threading.Event().wait(0.05)
                deadline -= 1
            assert len(body) < px.down < len(body) + 1000  # the body and its response headers
    finally:
        httpd.shutdown()


@pytest.mark.browser
def test_margins_probe_times_both_kinds_of_round():
    """bench/margins.py on one page, two moves of each kind: both kinds of round are timed, and handing
    plotly the margins it settled on does not start a loop of redraws (a new layout object each call did)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from browser_support import chromium_path, unavailable
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -r requirements-dev.txt)")
    if chromium_path() is None:
        unavailable("no Chromium found (apt-get install -y chromium)")
    with _serve.serve_app() as app, sync_playwright() as pw:
        b = browser.launch(pw)
        try:
            r = margins.probe(b, app.url, "kl_divergence", moves=2, rounds=2)
        finally:
            b.close()
    assert r["path"] == "kl_divergence" and "skipped" not in r
    assert r["moves"][0] >= 1 and r["moves"][1] >= 1
    assert 0 < r["as_sent_ms"] < 30_000 and 0 < r["fitted_ms"] < 30_000
    assert r["pushed_per_move_fitted"] < 10


def test_slider_latency_names_its_arguments():
    with pytest.raises(SystemExit) as stop:
        slider_latency.main(["--help"])
    assert stop.value.code == 0
    with pytest.raises(SystemExit):
        slider_latency.main(["variational"])        # the sliders are required
