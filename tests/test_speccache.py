"""The figure-spec cache (vizcore/figures/speccache.py) and its use by pages._common.show.

A cached chart must be the chart the builder would draw now: equal inputs give the same
fingerprint, and any change in a value, a type, a keyword or the display style gives another.
"""
from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

from vizcore.figures.speccache import SpecCache, Unfingerprintable, fingerprint, spec_size
from plotly_checks import charts as charts_of  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def line(y, *, name="y", lang="en"):
    return go.Figure(go.Scatter(y=np.asarray(y), name=f"{name}:{lang}"))


@dataclasses.dataclass(frozen=True)
class Trace:
    values: np.ndarray
    label: str


def test_equal_values_give_equal_fingerprints():
    a = fingerprint(line, (np.arange(5.0),), {"name": "a", "lang": "en"}, "light")
    b = fingerprint(line, (np.arange(5.0).copy(),), {"lang": "en", "name": "a"}, "light")  # kwargs in any order
    assert a == b and len(a) == 20
    t1 = Trace(np.linspace(0, 1, 7), "t")
    assert fingerprint(line, (t1,)) == fingerprint(line, (Trace(np.linspace(0, 1, 7), "t"),))


@pytest.mark.parametrize("other", [
    ((np.arange(5.0) + 1e-12,), {"name": "a"}, "light"),       # one value, by the smallest step
    ((np.arange(5),), {"name": "a"}, "light"),                  # same numbers, another dtype
    ((np.arange(5.0).reshape(5, 1),), {"name": "a"}, "light"),  # another shape
    ((np.arange(5.0),), {"name": "b"}, "light"),                # a keyword's value
    ((np.arange(5.0),), {"name": "a", "lang": "zh"}, "light"),  # one more keyword
    ((np.arange(5.0),), {"name": "a"}, "dark"),                 # the display style
    ((np.arange(5.0),), {"name": "a"}, "present"),
    ((list(range(5)),), {"name": "a"}, "light"),                # a list, not an array
])
def test_any_difference_gives_another_fingerprint(other):
    base = fingerprint(line, (np.arange(5.0),), {"name": "a"}, "light")
    assert fingerprint(line, *other) != base


def test_types_and_builders_are_part_of_the_key():
    assert fingerprint(line, (1,)) != fingerprint(line, (1.0,)) != fingerprint(line, (True,))
    assert fingerprint(line, ((1, 2),)) != fingerprint(line, ([1, 2],))
    assert fingerprint(line, (np.float64(0.5),)) != fingerprint(line, (0.5,))
    assert fingerprint(line, (Trace(np.zeros(2), "a"),)) != fingerprint(line, (Trace(np.zeros(2), "b"),))
    assert fingerprint(line, ()) != fingerprint(go.Figure, ())


def test_objects_it_cannot_see_into_are_refused_and_then_built_every_time():
    class Opaque:
        pass
    with pytest.raises(Unfingerprintable):
        fingerprint(line, (Opaque(),))
    with pytest.raises(Unfingerprintable):
        fingerprint(line, (lambda: 0,))
    cache, built = SpecCache(), []

    def fig(obj):
        built.append(obj)
        return {"data": []}
    o = Opaque()
    for _ in range(3):
        cache.get_or_build(fig, (o,), {}, None, lambda f: f)
    assert len(built) == 3 and len(cache) == 0


def test_get_or_build_builds_once_per_distinct_input_and_returns_the_builders_spec():
    cache, calls = SpecCache(), []

    def builder(y, lang="en"):
        calls.append((tuple(y), lang))
        return line(y, lang=lang)

    def finish(fig):
        return fig.to_dict()

    y = np.array([1.0, 3.0, 2.0])
    first = cache.get_or_build(builder, (y,), {"lang": "en"}, "plain", finish)
    again = cache.get_or_build(builder, (y.copy(),), {"lang": "en"}, "plain", finish)
    other = cache.get_or_build(builder, (y,), {"lang": "zh"}, "plain", finish)
    assert len(calls) == 2 and again is first and cache.hits == 1 and cache.misses == 2
    assert json.dumps(first, sort_keys=True) == json.dumps(line(y, lang="en").to_dict(), sort_keys=True)
    assert other["data"][0]["name"] == "y:zh"


def test_the_cache_stays_within_its_byte_budget_and_forgets_the_least_recently_used():
    spec = {"data": [{"y": {"bdata": "x" * 1000}}]}
    size = spec_size(spec)
    cache = SpecCache(max_bytes=10 * size)
    for i in range(25):
        cache.put(bytes([i]), {"data": [{"y": {"bdata": "x" * 1000}}]})
        if i == 5:
            assert cache.get(bytes([0])) is not None  # 0 is now recently used
        assert cache.nbytes <= cache.max_bytes
    assert len(cache) == 10
    assert cache.get(bytes([24])) is not None and cache.get(bytes([1])) is None
    huge = {"data": [{"y": {"bdata": "x" * (10 * size)}}]}
    assert cache.put(b"huge", huge) is huge and cache.get(b"huge") is None  # too big to keep


def test_threads_share_one_cache_safely():
    cache, errors = SpecCache(max_bytes=50_000), []

    def work(seed):
        try:
            rng = np.random.default_rng(seed)
            for _ in range(200):
                v = int(rng.integers(0, 40))
                spec = cache.get_or_build(line, (np.full(8, float(v)),), {}, None, lambda f: f.to_dict())
                assert spec["data"][0]["y"] == line(np.full(8, float(v))).to_dict()["data"][0]["y"]
        except Exception as err:  # noqa: BLE001
            errors.append(err)
    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors and cache.nbytes <= cache.max_bytes


def test_a_page_rerun_with_unchanged_inputs_builds_no_figure_and_sends_the_same_charts():
    """AppTest: the second run of a page takes every chart from the cache, byte for byte the same."""
    from streamlit.testing.v1 import AppTest
    from pages import _common
    _common.SPECS.clear()
    at = AppTest.from_file(str(ROOT / "pages" / "elbo_gap.py"), default_timeout=120).run()
    assert not at.exception
    first = [c.proto.spec for c in charts_of(at)]
    misses = _common.SPECS.misses
    at.run()
    assert [c.proto.spec for c in charts_of(at)] == first
    assert _common.SPECS.misses == misses and _common.SPECS.hits >= len(first)
    # a slider that one chart depends on rebuilds that chart (and the spec changes)
    at.slider[0].set_value(at.slider[0].max).run()
    assert not at.exception and _common.SPECS.misses > misses
    assert [c.proto.spec for c in charts_of(at)] != first


def test_scrubbing_the_em_half_steps_builds_the_animated_figure_once(monkeypatch):
    """The EM figure (all frames) is built once per run; a half-step or a play speed only selects (at_frame)."""
    import functools
    from streamlit.testing.v1 import AppTest
    from pages import _common
    from vizcore.figures import em as emfig
    calls, pictured = [], []
    real = emfig.bound_figure
    real_pictures = emfig.coordinate_pictures

    @functools.wraps(real)
    def counting(*args, **kwargs):
        calls.append(args[2])
        return real(*args, **kwargs)

    @functools.wraps(real_pictures)
    def counting_pictures(*args, **kwargs):
        pictured.append(args[3])
        return real_pictures(*args, **kwargs)
    monkeypatch.setattr(emfig, "bound_figure", counting)
    monkeypatch.setattr(emfig, "coordinate_pictures", counting_pictures)
    _common.SPECS.clear()
    at = AppTest.from_file(str(ROOT / "pages" / "em.py"), default_timeout=120).run()
    assert not at.exception and len(calls) == 1 and len(pictured) == 1

    def shown():
        return next(json.loads(c.proto.spec) for c in charts_of(at) if c.proto.id.endswith("em_figure"))
    first = shown()
    step = next(s for s in at.slider if s.key and s.key.startswith("em_step"))
    for value in (1, 2, 5):
        step.set_value(value).run()
        spec = shown()
        assert not at.exception and spec["layout"]["sliders"][0]["active"] == value
        assert spec["frames"] == first["frames"] and spec["data"] != first["data"]
    assert len(calls) == 1, "scrubbing rebuilt the animated figure"
    assert len(pictured) == 1, "scrubbing made the figure's 60 pictures again (the figure's own inputs)"
    at.select_slider(key="em_speed").set_value(150).run()      # a new play speed is only the Play button's
    spec = shown()
    assert not at.exception and spec["layout"]["updatemenus"][0]["buttons"][0]["args"][1]["frame"]["duration"] == 150
    assert spec["frames"] == first["frames"]
    assert len(calls) == 1, "a new play speed rebuilt the animated figure"


PAGE_SOURCE = '''
from pages._common import cache_data

@cache_data(show_spinner=False, max_entries=8)
def square(x):
    CALLS.append(x)
    return x * x
'''


def test_a_page_function_is_decorated_once_per_compiled_code(monkeypatch):
    """``pages._common.cache_data``: reruns of one compiled page reuse the cached function (Streamlit
    re-reads a function's source each time it is decorated); an edited page is decorated afresh."""
    import streamlit as st

    from pages import _common
    made = []
    real = st.cache_data

    def counting(**options):
        made.append(options)
        return real(**options)
    monkeypatch.setattr(st, "cache_data", counting)
    monkeypatch.setattr(_common, "_DECORATED", {})
    code = compile(PAGE_SOURCE, "/virtual/page_a.py", "exec")
    runs = [{"CALLS": []} for _ in range(3)]
    for g in runs:
        exec(code, g)
    assert len(made) == 1
    assert runs[0]["square"] is runs[1]["square"] is runs[2]["square"]
    assert runs[2]["square"](7) == 49 and runs[2]["square"](7) == 49
    assert runs[0]["CALLS"] == [7]  # cached: computed once (in the globals of the run that defined it)

    edited = compile(PAGE_SOURCE.replace("x * x", "x * x + 1"), "/virtual/page_a.py", "exec")
    g = {"CALLS": []}
    exec(edited, g)
    assert len(made) == 2 and g["square"] is not runs[0]["square"]
    assert g["square"](7) == 50
    other = compile(PAGE_SOURCE, "/virtual/page_b.py", "exec")  # same name, another page: its own
    h = {"CALLS": []}
    exec(other, h)
    assert len(made) == 3 and h["square"] is not runs[0]["square"]
    hashed = compile(PAGE_SOURCE.replace("max_entries=8", "hash_funcs={int: str}"), "/virtual/page_c.py", "exec")
    exec(hashed, {"CALLS": []})  # an option that cannot be part of a key: decorated every time, no error
    exec(hashed, {"CALLS": []})
    assert len(made) == 5


PAGE_BY_NAME = '''
from pages._common import cache_data

@cache_data(show_spinner=False)
def scaled(a, b, *, unit=1):
    CALLS.append((a, b, unit))
    return a * b * unit
'''


def test_a_cached_page_function_takes_its_arguments_by_name(monkeypatch):
    """``pages._common.by_keyword``: Streamlit looks up a positional argument's name with
    ``inspect.signature`` on every call; by name it does not, and the key (hence the entry) is the same
    however the arguments came. Mistakes in a call still raise as a plain call would."""
    import inspect

    from pages import _common
    monkeypatch.setattr(_common, "_DECORATED", {})
    g = {"CALLS": []}
    exec(compile(PAGE_BY_NAME, "/virtual/page_by_name.py", "exec"), g)
    scaled = g["scaled"]
    looked_up = []
    real = inspect.signature
    monkeypatch.setattr(inspect, "signature",
                        lambda obj, *a, **k: (looked_up.append(obj), real(obj, *a, **k))[1])
    assert scaled(2, 3) == scaled(2, b=3) == scaled(a=2, b=3) == scaled(b=3, a=2) == 6
    assert g["CALLS"] == [(2, 3, 1)]  # one entry for all four
    assert scaled(2, 3, unit=10) == 60 and g["CALLS"][-1] == (2, 3, 10)
    assert scaled.__wrapped__ not in looked_up
    with pytest.raises(TypeError):
        scaled(1, 2, 3)
    with pytest.raises(TypeError):
        scaled(1, a=2)
    scaled.clear()
    assert scaled(2, 3) == 6 and g["CALLS"][-1] == (2, 3, 1) and len(g["CALLS"]) == 3


def test_an_object_shared_by_many_specs_is_not_counted_in_each():
    from vizcore.figures._style import finished
    from vizcore.figures.bounds import evidence_bar_figure, evidence_bar_spec
    shared = finished(evidence_bar_spec(-10.0, -12.0, 2.0))       # the default template, shared
    own = evidence_bar_figure(-10.0, -12.0, 2.0).to_dict()           # its own deep copy of the template
    assert shared["layout"]["template"] and own["layout"]["template"] == shared["layout"]["template"]
    assert spec_size(own) > spec_size(shared) + 2000


def _page_constants(tree) -> set[str]:
    """Names a page binds once and for all: imports, functions, classes, and UPPER_CASE names assigned
    from those alone (``GRID = 300``, not ``STEP_KEY = f"em_step_{run_id}"``, which changes with the run)."""
    import ast
    import builtins
    names: set[str] = set(dir(builtins))
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            flat = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
            used = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
            bound_in_value = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            if used - bound_in_value <= names:  # (names bound inside a comprehension are its own)
                names.update(t.id for t in flat if isinstance(t, ast.Name) and t.id.isupper())
    return names


@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "pages").glob("*.py")))
def test_cached_page_functions_read_only_arguments_constants_and_imports(page):
    """A page's ``@cache_data`` function keeps the globals of the run that first defined it
    (``pages._common.cache_data``), and Streamlit's key holds only its arguments. A body that reads a
    page variable (``params``, ``model``, ``x``…) would compute from a stale value: it must be an argument.
    (This caught ``compute_family`` reading ``params`` after its argument became ``held``.) A fragment
    reruns alone with the arguments of the last full run: the same rule keeps it honest."""
    import ast
    import symtable
    src = (ROOT / "pages" / page).read_text(encoding="utf-8")
    tree = ast.parse(src)
    allowed = _page_constants(tree)
    top = symtable.symtable(src, page, "exec")
    cached = [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and any(
        "cache_data" in ast.unparse(d) or "fragment" in ast.unparse(d) for d in n.decorator_list)]

    def free_globals(table) -> set[str]:
        out = {s.get_name() for s in table.get_symbols() if s.is_global() and s.is_referenced()}
        for child in table.get_children():
            out |= free_globals(child)
        return out
    bad = {}
    for child in top.get_children():
        if child.get_name() in cached:
            stale = sorted(free_globals(child) - allowed)
            if stale:
                bad[child.get_name()] = stale
    assert not bad, f"cached functions read page variables (pass them as arguments): {bad}"
