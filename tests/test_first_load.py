"""What a page's first load asks of the browser (bench/README.md, items 40–42), in AppTest through app.py.

* The hidden element that starts loading plotly.js comes before anything else on the page, and draws nothing
  (and, in a browser, takes no room: tests/test_browser_chart.py).
* "Show the code" sends its code only when opened: a closed expander would still make the browser fetch and
  run Streamlit's syntax highlighter before the first chart. Opened, it shows the vizcore source behind the
  page's figures, read from the functions themselves.
"""
from __future__ import annotations

import inspect
import json
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from plotly_checks import charts as charts_of  # noqa: E402

PAGES = sorted(f"pages/{p.name}" for p in (ROOT / "pages").glob("[!_]*.py"))


def _app_on(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    if page != "pages/home.py":
        at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _components(at):
    return [el for el in at.get("bidi_component") if el.proto.component_name == "vlb_chart"]


def _source_of(qualified: str) -> str:
    """The source of ``module.qualname``, found by importing it (independently of pages/_common)."""
    import importlib
    module, _, name = qualified.rpartition(".")
    while module:
        try:
            obj = importlib.import_module(module)
            break
        except ModuleNotFoundError:
            module, _, head = module.rpartition(".")
            name = f"{head}.{name}"
    for part in name.split("."):
        obj = getattr(obj, part)
    return inspect.getsource(inspect.unwrap(obj))


@pytest.mark.parametrize("page", PAGES)
def test_the_code_is_sent_only_when_asked_for_and_is_the_vizcore_source(page):
    from pages._common import CODE_PANEL
    at = _app_on(page)
    assert [e.label for e in at.main.expander].count("Show the code") == 1
    assert not at.code, "a closed 'Show the code' sent its code (the browser loads the syntax highlighter for it)"
    charts_before = {c.key: c.spec for c in charts_of(at)}

    at.session_state[CODE_PANEL] = True   # what opening the expander does (on_change="rerun")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.code, f"{page}: the opened 'Show the code' shows nothing"
    for block in at.code:
        first, _, body = block.value.partition("\n")
        assert first.startswith("# vizcore."), first
        assert body.rstrip() == textwrap.dedent(_source_of(first[2:])).rstrip(), f"{first}: not its source"
    assert {c.key: c.spec for c in charts_of(at)} == charts_before, "opening the code changed a chart"


@pytest.mark.parametrize("page", PAGES)
def test_no_page_sends_a_data_grid_on_arrival(page):
    """st.dataframe and st.table make the browser fetch and run Streamlit's Arrow and data-grid code (1.2 MB)
    before the first chart (bench/README.md, item 45): small tables are Markdown, and em's iteration table is
    sent when its panel is opened."""
    at = _app_on(page)
    assert not at.dataframe and not at.table, f"{page} sends a data grid on arrival"


def test_plotly_js_starts_loading_before_the_page_and_nothing_is_drawn_for_it():
    """On the session's first run (AppTest's switch_page leaves out what app.py draws before the page; a
    browser does not: tests/test_browser_chart.py checks every page there)."""
    from pages._chart import PRELOAD_KEY
    at = _app_on("pages/home.py")
    first = at.main[0]
    assert first.type == "bidi_component" and first.proto.id.endswith("-" + PRELOAD_KEY), (
        f"the first element is {first.type}, not the plotly.js preload")
    assert json.loads(bytes(first.proto.bytes)) == {"preload": True}
    elements = _components(at)
    assert sum(el.proto.id.endswith("-" + PRELOAD_KEY) for el in elements) == 1
    assert len(charts_of(at)) == len(elements) - 1 >= 1    # every other one is a chart
