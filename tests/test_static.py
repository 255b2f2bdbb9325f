"""The charts' plotly.js: served by Streamlit from ``static/``, the same file the pinned plotly wheel ships."""
from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_served_plotly_js_is_the_pinned_wheels_own():
    import plotly
    wheel = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    served = ROOT / "static" / "plotly.min.js"
    assert served.is_file(), "static/plotly.min.js is missing: the charts would not draw"
    assert served.read_bytes() == wheel.read_bytes(), (
        f"static/plotly.min.js differs from plotly {plotly.__version__}'s copy: after a plotly upgrade run "
        f"cp {wheel} static/plotly.min.js")


def test_streamlit_serves_the_static_folder_where_the_chart_element_looks():
    from pages import _chart
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["enableStaticServing"] is True
    for name, url in (("plotly.min.js", _chart.PLOTLY_JS), ("vlb_chart.js", _chart.MODULE_JS),
                      ("streamlit_theme.json", _chart.THEME_JSON)):
        assert (ROOT / "static" / name).is_file()
        assert url.startswith(f"app/static/{name}?v=")   # Streamlit serves ./static/<f> at app/static/<f>
        assert f'"{url}"' in _chart.JS


def test_a_changed_file_gets_a_new_address(tmp_path, monkeypatch):
    """No browser keeps an old copy of the chart code after a deploy: the address carries the content hash."""
    from pages import _chart
    (tmp_path / "vlb_chart.js").write_text("export function mount() {}")
    monkeypatch.setattr(_chart, "STATIC", tmp_path)
    first = _chart._versioned("vlb_chart.js")
    (tmp_path / "vlb_chart.js").write_text("export function mount() { return 1; }")
    assert _chart._versioned("vlb_chart.js") != first


def test_the_browsers_chart_theme_is_the_servers():
    """The chart element puts the theme back in from static/streamlit_theme.json, by name: the same file."""
    served = ROOT / "static" / "streamlit_theme.json"
    assert served.read_bytes() == (ROOT / "vizcore" / "figures" / "streamlit_theme.json").read_bytes(), (
        "cp vizcore/figures/streamlit_theme.json static/")


def test_a_chart_names_its_theme_instead_of_carrying_it():
    from pages import _chart
    from vizcore.figures import display
    spec = display.streamlit_themed({"data": [], "layout": {"template": {"data": {"bar": []}}}}, "dark")
    sent, name = _chart._theme_by_name(spec)
    assert name == "dark" and sent["layout"]["template"] == {"data": {"bar": []}}
    assert spec["layout"]["template"]["layout"] is display.streamlit_theme()["dark"]   # the cached spec stays whole
    other = {"data": [], "layout": {"template": {"layout": {"font": {"size": 20}}}}}    # presenter: its own
    assert _chart._theme_by_name(other) == (other, None)
