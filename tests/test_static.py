"""The charts' plotly.js and the chart element's files, served by Streamlit from ``static/`` (static/README.md)."""
from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# SHA-256 of static/plotly-cartesian.min.js as npm delivered it (plotly.js-cartesian-dist-min@4.1.1, checked
# by npm against the registry's integrity hash); static/README.md says how to fetch and record a new one
BUNDLE_SHA256 = "79542150855a52c567260e3137095dbe2b744e6d702a5cabe67da246942fba7a"


def test_the_served_plotly_js_is_plotlys_bundle_of_the_wheels_version():
    """The browser runs the plotly.js the pinned plotly wheel was made for, in plotly's own partial bundle."""
    import plotly.offline
    from pages import _chart
    served = ROOT / "static" / _chart.PLOTLY_BUNDLE
    assert served.is_file(), f"static/{_chart.PLOTLY_BUNDLE} is missing: the charts would not draw"
    head = served.read_bytes()[:400].decode("utf-8", "replace")
    found = re.search(r"plotly\.js \(cartesian - minified\) v(\S+)", head)
    assert found, f"static/{_chart.PLOTLY_BUNDLE} is not plotly's cartesian bundle: {head[:120]!r}"
    wanted = plotly.offline.get_plotlyjs_version()
    assert found.group(1) == wanted, (
        f"static/{_chart.PLOTLY_BUNDLE} is plotly.js {found.group(1)}, the pinned plotly wheel ships {wanted}: "
        "fetch the matching bundle (static/README.md)")
    assert hashlib.sha256(served.read_bytes()).hexdigest() == BUNDLE_SHA256, (
        "the bundle's bytes are not the ones npm delivered: fetch it again (static/README.md)")


def test_streamlit_serves_the_static_folder_where_the_chart_element_looks():
    from pages import _chart
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["enableStaticServing"] is True
    for name, url in ((_chart.PLOTLY_BUNDLE, _chart.PLOTLY_JS), ("vlb_chart.js", _chart.MODULE_JS),
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


def test_a_charts_message_names_its_data_and_carries_the_figure_as_plotly_writes_it():
    """The message holds the figure exactly as plotly's encoder writes it (NaN as null, numpy arrays), and a
    ``datakey`` that changes with the data or the frames and not with the layout: the browser moves shapes
    alone only for the same key (static/vlb_chart.js, shapesOnly)."""
    import json

    import numpy as np
    import plotly.io.json as pjson
    from pages import _chart

    spec = {"data": [{"type": "scatter", "x": np.arange(3.0), "y": np.array([1.0, np.nan, 2.0])}],
            "layout": {"shapes": [{"type": "line", "x0": 1, "x1": 1}], "title": {"text": "t"}},
            "frames": [{"name": "0", "data": [{"y": [3.0]}]}]}

    def msg(s, **kw):
        return json.loads(_chart.payload(s, config={"displaylogo": False}, alt="a", **kw))

    m = msg(spec, template="light")
    assert m["spec"] == json.loads(pjson.to_json_plotly(spec))
    assert (m["config"], m["alt"], m["labels"], m["template"]) == ({"displaylogo": False}, "a", {}, "light")
    moved = {**spec, "layout": {**spec["layout"], "shapes": [{"type": "line", "x0": 2, "x1": 2}]}}
    assert msg(moved)["datakey"] == m["datakey"]
    assert msg({**spec, "data": [{**spec["data"][0], "y": np.array([1.0, 0.0, 2.0])}]})["datakey"] != m["datakey"]
    assert msg({**spec, "frames": [{"name": "0", "data": [{"y": [4.0]}]}]})["datakey"] != m["datakey"]
    assert msg({k: v for k, v in spec.items() if k != "frames"})["datakey"] != m["datakey"]
    assert "frames" not in msg({k: v for k, v in spec.items() if k != "frames"})["spec"]
