"""Export: every figure as offline HTML (app and command line) and PNG, the data as CSV.

* the command line ``python -m vizcore figure NAME --out FILE`` writes, for every registered
  name, a standalone HTML file holding plotly.js and exactly the figure's data; it opens in
  Chromium with the network cut off; PNG through kaleido when it and Chromium are there;
* the figure builders import no streamlit (a notebook can use them);
* in the app, the sidebar's "Export" offers every chart of the page, built only on click, and
  the files a browser downloads are the figure (HTML) and the data (CSV that reads back).
"""
from __future__ import annotations

import importlib.util
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import plotly.io as pio
import pytest

from conftest import ROOT

import vizcore as vc
from vizcore.figures import catalog
from plotly_checks import charts as charts_of  # noqa: E402

PLOTLY_JS_MARK = "plotly.js v"          # the banner at the top of the inlined library


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "vizcore", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, env=env)


def main_inprocess(*args):
    """``python -m vizcore ARGS`` in this interpreter (the same code path, without a new process)."""
    import contextlib
    import io
    from vizcore.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(args))
    return subprocess.CompletedProcess(args, rc, out.getvalue(), err.getvalue())


def figure_data_json(fig) -> str:
    """The JSON of the traces exactly as plotly.io.to_html writes it into the page. A lazy figure drawn
    through a spec step (``Lazy.then``) or written as plotly JSON (a ``*_spec`` builder) exports that spec,
    which to_html validates into a figure first (plotly's own key order): its shown spec is passed through
    the same validation."""
    import plotly.graph_objects as go
    from plotly.io._json import to_json_plotly
    spec = fig.to_dict()
    lazy = getattr(fig, "builder", None) is not None
    if lazy and (fig.post is not None or fig.builder.__name__.endswith("_spec")):
        spec = go.Figure(spec).to_plotly_json()
    return to_json_plotly(spec["data"])


# ---- the command line ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(catalog.FIGURES))
def test_cli_figure_writes_offline_html_with_the_figure_data(tmp_path, name):
    out = tmp_path / f"{name}.html"
    res = main_inprocess("figure", name, "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("wrote ") and str(out) in res.stdout
    html = out.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<html") or html.lstrip().lower().startswith("<!doctype")
    assert PLOTLY_JS_MARK in html and len(html) > 1_000_000          # the library itself, not a CDN link
    assert "<script src=\"http" not in html and "<script src='http" not in html
    expected = catalog.build(name)                                    # the same defaults, in-process
    assert figure_data_json(expected) in html                         # exactly the figure's data
    assert "Plotly.newPlot" in html


def test_cli_figure_options_change_the_figure(tmp_path):
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    assert main_inprocess("figure", "bound-family", "--anchors", "2", "--out", str(a)).returncode == 0
    r = main_inprocess("figure", "bound-family", "--model", "coins", "--dataset", "two_coins", "--anchors", "7",
                "--coord", "heads_probs[1]", "--out", str(b))
    assert r.returncode == 0, r.stderr
    fig = catalog.build("bound-family", model="coins", dataset="two_coins", anchors=7, coord="heads_probs[1]")
    assert figure_data_json(fig) in b.read_text(encoding="utf-8")
    assert figure_data_json(fig) not in a.read_text(encoding="utf-8")
    # a data file: its figure is built from the file's numbers (θ from the data, as for any upload)
    csv = tmp_path / "waiting.csv"
    csv.write_text("\n".join(str(v) for v in vc.load_dataset("faithful_waiting")))
    c = tmp_path / "c.html"
    assert main_inprocess("figure", "elbo-gap", "--data", str(csv), "--t", "0.7", "--out", str(c)).returncode == 0
    expected = catalog.build("elbo-gap", x=vc.load_dataset("faithful_waiting"), t=0.7)
    assert figure_data_json(expected) in c.read_text(encoding="utf-8")


def test_cli_figure_list_names_every_figure():
    res = run_cli("figure", "--list")
    assert res.returncode == 0, res.stderr
    for name in catalog.FIGURES:
        assert name in res.stdout
    assert {"bound-family", "elbo-gap", "em-step", "kl-fit", "mixture-density"} <= set(catalog.FIGURES)


@pytest.mark.parametrize("args, words", [
    (["figure", "nope", "--out", "x.html"], "NAME: expected one of"),
    (["figure", "bound-family", "--out", "x.pdf"], "--out: expected a file name ending in .html or .png"),
    (["figure", "bound-family", "--out", "no/such/folder/x.html"], "does not exist"),
    (["figure", "bound-family"], "--out"),
    (["figure"], "expected a NAME"),
    (["figure", "bound-family", "--coord", "means[9]", "--out", "x.html"], "--coord: expected one of"),
    (["figure", "em-step", "--step", "99999", "--out", "x.html"], "--step: expected a half-step"),
    (["figure", "elbo-gap", "--t", "2", "--out", "x.html"], "--t: expected a number from 0 to 1"),
    (["figure", "elbo-gap", "--params", "{bad", "--out", "x.html"], "--params: expected a JSON object"),
    (["figure", "elbo-gap", "--params", '{"weights":[2,-1],"means":[1,2],"variances":[1,1]}', "--out", "x.html"],
     "weights"),
    (["figure", "mixture-density", "--model", "linkage", "--out", "x.html"], "mixture-density draws gmm1d or coins"),
    (["figure", "kl-fit", "--lang", "fr", "--out", "x.html"], "--lang: expected one of"),
    (["figure", "bound-family", "--dataset", "two_coins", "--model", "gmm1d", "--out", "x.html"], "--dataset"),
])
def test_cli_figure_bad_input_is_one_error_line(tmp_path, args, words):
    res = subprocess.run([sys.executable, "-m", "vizcore", *args], capture_output=True, text=True, cwd=tmp_path,
                         timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    assert words in lines[0]
    assert not list(tmp_path.glob("x.*"))


def _kaleido_ready() -> str | None:
    """Why PNG export cannot be tested here, or None when it can."""
    if importlib.util.find_spec("kaleido") is None:
        return "kaleido is not installed (pip install -r requirements-dev.txt)"
    from vizcore.cli import _browser_path
    if _browser_path() is None:
        return "no Chrome/Chromium for kaleido (apt-get install -y chromium)"
    return None


def test_cli_figure_png_through_kaleido(tmp_path):
    reason = _kaleido_ready()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PNG export must be tested in CI: {reason}")
        pytest.skip(reason)
    out = tmp_path / "fit.png"
    res = run_cli("figure", "kl-fit", "--width", "600", "--scale", "1", "--out", str(out))
    assert res.returncode == 0, res.stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width == 600 and height == catalog.build("kl-fit").layout.height


def test_cli_figure_png_without_kaleido_says_how_to_install_it(tmp_path):
    # a fake, empty "kaleido" that fails to import: the command must say what to install
    fake = tmp_path / "fake"
    (fake / "kaleido").mkdir(parents=True)
    (fake / "kaleido" / "__init__.py").write_text("raise ImportError('no kaleido here')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(fake), str(ROOT)])}
    res = run_cli("figure", "kl-fit", "--out", str(tmp_path / "x.png"), env=env)
    assert res.returncode == 2
    assert res.stderr.startswith("error:") and "pip install kaleido" in res.stderr
    assert not (tmp_path / "x.png").exists()


# ---- figure builders stay usable from a notebook -----------------------------------------------
FIGURE_MODULES = ["vizcore.figures"] + [f"vizcore.figures.{m.name}"
                                        for m in pkgutil.iter_modules([str(ROOT / "vizcore" / "figures")])]


@pytest.mark.parametrize("module", FIGURE_MODULES)
def test_figure_builders_import_no_streamlit(module):
    probe = ("import sys, importlib; importlib.import_module(%r); "
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'streamlit'))" % module)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_catalog_builds_from_a_notebook_without_the_app():
    fig = catalog.build("em-step", model="linkage", step=2)
    assert fig.to_dict()["frames"], "the EM figure keeps its animation frames"
    html = catalog.to_html(fig, title="EM")
    assert PLOTLY_JS_MARK in html and "<title>EM</title>" in html and '"frames"' not in html[:1000]


# ---- helpers the app uses ----------------------------------------------------------------------
@pytest.mark.parametrize("name", list(vc.DATASETS))
def test_data_csv_reads_back_identically(name):
    from pages._export import data_csv
    x = vc.load_dataset(name)
    model = vc.get_model(vc.DATASETS[name].model)
    text = data_csv(model, x)
    assert text.splitlines()[0] == ",".join(model.data_columns)
    np.testing.assert_array_equal(vc.read_csv(text.encode(), model.name), x)


def test_data_csv_of_synthetic_data_is_exact():
    from pages._export import data_csv
    model = vc.get_model("gmm2d")
    x, _ = model.sample(model.make_params(weights=[0.3, 0.7], means=[[0, 1], [2, 3]],
                                          covariances=[np.eye(2), np.eye(2) * 2]), 50, np.random.default_rng(3))
    np.testing.assert_array_equal(vc.read_csv(data_csv(model, x).encode(), "gmm2d"), x)  # repr: no rounding


def test_figure_html_of_an_app_figure_is_offline_and_named():
    from pages._export import figure_html
    fig = catalog.build("elbo-gap")
    html = figure_html(fig, "eg_bar_chart")
    assert PLOTLY_JS_MARK in html and figure_data_json(fig) in html
    assert '"filename": "eg_bar_chart"' in html or '"filename":"eg_bar_chart"' in html


# ---- in the app (AppTest) -------------------------------------------------------------------------
def _page_as_app_py_runs_it(path):
    """What app.py does around a page (AppTest's switch_page would run the page without app.py)."""
    import runpy
    from pages import _export, _url_state
    from pages._common import end_page
    _url_state.begin()
    _export.begin_run()
    runpy.run_path(path, run_name="__main__")
    end_page()


@pytest.mark.parametrize("page", ["pages/lower_bounds.py", "pages/kl_divergence.py", "pages/variational.py",
                                  "pages/em.py"])
def test_export_panel_offers_every_chart_of_the_page(page):
    from streamlit.testing.v1 import AppTest
    from pages import _export
    at = AppTest.from_function(_page_as_app_py_runs_it, args=(str(ROOT / page),), default_timeout=120).run()
    assert not at.exception
    charts = {c.proto.id.rsplit("-", 1)[-1] for c in charts_of(at)}   # the chart keys
    assert charts
    figures = at.session_state[_export.FIGURES]
    assert charts <= set(figures)
    buttons = {b.key[len("_export_fig_"):]: b for b in at.sidebar.get("download_button")
               if b.key.startswith("_export_fig_")}
    assert charts <= set(buttons)
    for b in buttons.values():
        assert b.proto.deferred_file_id, "built on click, not on every rerun"
    for key in charts:  # what a click would produce
        fig = figures[key][0]
        html = _export.figure_html(fig, key)
        assert PLOTLY_JS_MARK in html and figure_data_json(fig) in html


@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "pages").glob("[!_]*.py")))
def test_every_download_of_every_page_is_built_on_click(page):
    """A download sent with its data has an address the browser fetches on arrival to check it; when the next
    run has replaced the file by then (Back pressed right after arriving on EM), the check logs a 404. Built on
    click (``data=callable``), a download sends no address and costs nothing until it is clicked."""
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_function(_page_as_app_py_runs_it, args=(str(ROOT / "pages" / page),),
                               default_timeout=120).run()
    assert not at.exception
    buttons = at.get("download_button")
    if page in ("em.py", "latent_models.py", "lower_bounds.py"):
        assert buttons, "the page offers its data"
    for b in buttons:
        assert b.proto.deferred_file_id and not b.proto.url, b.key


def test_plotly_config_saves_png_at_double_resolution_named_after_the_chart():
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(ROOT / "pages/home.py"), default_timeout=60).run()
    config = json.loads(charts_of(at)[0].proto.config)
    assert config["toImageButtonOptions"] == {"format": "png", "scale": 2, "filename": "home_chart"}


def test_data_pages_offer_their_data_as_csv():
    from streamlit.testing.v1 import AppTest
    from pages._common import presenting  # noqa: F401 - the page helpers import cleanly
    at = AppTest.from_file(str(ROOT / "pages/lower_bounds.py"), default_timeout=60).run()
    assert not at.exception
    assert any(b.key == "lb_data_csv" for b in at.get("download_button"))
    at = AppTest.from_file(str(ROOT / "pages/latent_models.py"), default_timeout=60).run()
    assert any(b.key == "lvm_data_csv" for b in at.get("download_button"))


# ---- in a real browser ---------------------------------------------------------------------------


@pytest.mark.browser
def test_exported_html_opens_offline(browser, tmp_path):
    out = tmp_path / "em.html"
    assert run_cli("figure", "em-step", "--step", "3", "--out", str(out)).returncode == 0
    ctx = browser.new_context(offline=True)
    page = ctx.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(out.as_uri())
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=20000)
    n_traces = page.evaluate("() => document.querySelector('.js-plotly-plot').data.length")
    assert n_traces == len(catalog.build("em-step", step=3).to_dict()["data"])
    assert [u for u in requests if not u.startswith("file:")] == []   # nothing fetched from the network
    ctx.close()


def _open(page, server, path):
    from browser_support import wait_settled
    page.goto(f"{server.url}/{path}", wait_until="domcontentloaded")
    wait_settled(page)
    page.wait_for_selector(".js-plotly-plot >> visible=true", timeout=30000)
    wait_settled(page)


@pytest.mark.browser
def test_app_exports_a_figure_as_html_and_the_data_as_csv(browser, server, tmp_path):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = ctx.new_page()
    _open(page, server, "lower_bounds")
    page.locator('[data-testid="stSidebar"] [data-testid="stExpander"] summary', has_text="Export").click()
    button = page.locator('[data-testid="stSidebar"] .st-key-_export_fig_lb_family_chart button')
    with page.expect_download(timeout=60000) as dl:
        button.click()
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    assert path.name == "lb_family_chart.html"
    html = path.read_text(encoding="utf-8")
    assert PLOTLY_JS_MARK in html and len(html) > 1_000_000
    shown = page.evaluate("""() => {
        const el = document.querySelector('.st-key-lb_family_chart .js-plotly-plot');
        return el.data.map(t => t.name);
    }""")
    assert [name for name in shown if name], "the chart shows no named trace"
    for name in shown:  # every trace the page shows is in the file (as plotly's HTML escapes "<", "/", ">")
        if name:
            assert pio.json.to_json_plotly(name)[1:-1] in html or name in html, name
    with page.expect_download(timeout=60000) as dl:
        page.locator('.st-key-lb_data_csv button').click()
    csv = tmp_path / "data.csv"
    dl.value.save_as(csv)
    np.testing.assert_array_equal(vc.read_csv(csv.read_bytes(), "gmm1d"), vc.load_dataset("faithful_waiting"))
    ctx.close()


@pytest.mark.browser
def test_chart_camera_button_downloads_a_png_named_after_the_chart(browser, server, tmp_path):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = ctx.new_page()
    _open(page, server, "")
    chart = page.locator(".st-key-home_chart .js-plotly-plot")
    chart.hover()
    with page.expect_download(timeout=60000) as dl:
        page.locator('.st-key-home_chart .modebar-btn[data-title^="Download plot"]').click()
    assert dl.value.suggested_filename == "home_chart.png"
    path = tmp_path / "c.png"
    dl.value.save_as(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    css_width = page.evaluate("() => document.querySelector('.st-key-home_chart .js-plotly-plot')"
                              ".getBoundingClientRect().width")
    assert int.from_bytes(data[16:20], "big") == pytest.approx(2 * css_width, abs=4)  # scale 2
    ctx.close()
