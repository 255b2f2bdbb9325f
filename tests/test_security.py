"""Nothing breaks, nothing leaks: bad uploads, hostile URLs, unsafe code paths, configuration.

* the bad-input catalogue of an upload, as a pure function (``pages/_guards.parse_upload``) and
  through a real page (AppTest's file uploader): one message saying what is wrong and how to fix
  it, and the previous good data and the other settings stay in use;
* crafted and random query strings on every page of ``app.py``: no exception, no error, and the
  keys no widget uses are reported (safely) in a toast;
* the code: no ``unsafe_allow_html=True``/``st.html``/``components.html`` fed by anything but a
  constant string; no ``eval``, ``exec`` or unpickling anywhere in the app;
* ``.streamlit/config.toml``: XSRF and CORS protection, the 5 MB upload limit, no error details.
"""
from __future__ import annotations

import ast
import random
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from streamlit.testing.v1 import AppTest  # noqa: E402

from pages._guards import (MAX_UPLOAD_ROWS, describe_unknown, escape_markdown, parse_upload,  # noqa: E402
                           safe_name, unescape_markdown, unknown_query_keys)
from plotly_checks import chart_problems  # noqa: E402
from vizcore.datasets import MAX_CSV_BYTES  # noqa: E402
from plotly_checks import charts as charts_of  # noqa: E402

APP_CODE = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "vizcore").rglob("*.py"))]
PAGES = re.findall(r'st\.Page\(\s*"([^"]+)"', (ROOT / "app.py").read_text())

# ---------------------------------------------------------------------------------------------
# the bad-input catalogue
# ---------------------------------------------------------------------------------------------
# (name, model, bytes, words the message must contain (what is wrong), words of the remedy)
CATALOGUE = [
    ("empty file", "gmm1d", b"", ["empty"], ["Add rows"]),
    ("header only", "gmm2d", b"eruptions,waiting\n", ["header"], ["Add rows"]),
    ("text in a numeric column", "gmm1d", b"x\n1.0\n2.0\nabc\n", ["row 4", "expected numbers", "abc"],
     ["Replace that cell"]),
    ("NaN", "gmm1d", b"x\n1\nnan\n", ["row 3", "finite"], ["Replace NaN"]),
    ("infinity", "gmm2d", b"1,2\n3,-inf\n", ["row 2", "finite"], ["Replace NaN"]),
    ("overflow 1e400", "gmm1d", b"1\n1e400\n3\n", ["row 2", "finite", "1e400"], ["too large"]),
    ("not UTF-8", "gmm1d", "x\n1\n2\n".encode("utf-16"), ["UTF-8"], ["CSV UTF-8"]),
    ("latin-1", "gmm1d", "café\n1\n2\n".encode("latin-1"), ["UTF-8"], ["CSV UTF-8"]),
    ("wrong number of columns", "gmm2d", b"1,2,3\n4,5,6\n", ["row 1", "expected 2 column"], ["same columns"]),
    ("ragged rows", "gmm2d", b"a,b\n1,2\n3\n", ["row 3", "got 1"], ["same columns"]),
    ("one row", "gmm1d", b"x\n72.5\n", ["at least 2 rows", "got 1"], ["add rows"]),
    ("one row, 2-D", "gmm2d", b"3.6,79\n", ["at least 2 rows"], ["add rows"]),
    ("over 5 MB (10^6 rows)", "gmm2d", b"3.600000,79.000000\n" * 10**6, ["at most 5 MB"], ["fewer rows"]),
    ("10^6 short rows, under 5 MB", "gmm1d", b"1\n" * 10**6, [f"at most {MAX_UPLOAD_ROWS:,} rows"], ["sample"]),
    ("huge values", "gmm1d", b"1e200\n2\n3\n", ["between"], ["Rescale"]),
    ("heads above tosses", "coins", b"heads,tosses\n5,10\n11,10\n", ["heads", "row 3", "11"], ["heads ≤ tosses"]),
    ("negative count", "coins", b"-1,10\n3,10\n", ["-1", "row 1"], ["whole numbers"]),
    ("fractional count", "coins", b"2.5,10\n3,10\n", ["2.5", "row 1"], ["whole numbers"]),
    ("negative linkage count", "linkage", b"125,18,-20,34\n", ["-20"], ["whole numbers"]),
    ("fractional linkage count", "linkage", b"125,18.5,20,34\n", ["18.5"], ["whole numbers"]),
    ("linkage zeros", "linkage", b"0,0,0,0\n", ["zeros"], ["above 0"]),
    ("markup in a cell", "gmm1d", b"x\n1\n<img src=x onerror=alert(1)>\n", ["row 3", "expected numbers"],
     ["Replace that cell"]),
    # read_csv lets the csv module's own error through here (reported to the lead); the app still answers
    ("a cell over 128 KB", "gmm1d", b"1" * 200_000 + b"\n2\n", ["could not be read as CSV", "field limit"],
     ["expected layout"]),
]
GOOD = {
    "gmm1d": ("waiting.csv", b"waiting\n" + b"\n".join(str(v).encode() for v in
                                                      [50, 52, 55, 54, 58, 75, 78, 80, 82, 85, 79, 77])),
    "gmm2d": ("faithful.csv", b"eruptions,waiting\n3.6,79\n1.8,54\n3.333,74\n2.283,62\n4.533,85\n2.883,55\n"),
    "coins": ("coins.csv", b"heads,tosses\n5,10\n9,10\n8,10\n4,10\n7,10\n"),
    "linkage": ("linkage.csv", b"y1,y2,y3,y4\n125,18,20,34\n"),
}


def _split(message: str) -> tuple[str, str]:
    """(what is wrong, how to fix it): the two lines of a message, unescaped."""
    lines = [unescape_markdown(s).strip() for s in message.split("  \n")]
    assert len(lines) >= 2 and all(lines[:2]), f"expected 'what' and 'how' lines, got {message!r}"
    return lines[0], lines[1]


@pytest.mark.parametrize("name,model,raw,what,how", CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_parse_upload_gives_one_message_with_a_remedy(name, model, raw, what, how):
    x, message = parse_upload(raw, model)
    assert x is None and isinstance(message, str)
    wrong, fix = _split(message)
    for w in what:
        assert w in wrong, f"{name}: {w!r} not in {wrong!r}"
    for w in how:
        assert w in fix, f"{name}: {w!r} not in {fix!r}"
    assert "Traceback" not in message and len(message) < 600


@pytest.mark.parametrize("name,model,raw,what,how", CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_parse_upload_speaks_the_page_language(name, model, raw, what, how):
    """In Chinese the same two lines come out in Chinese, every number of the English message kept; the only
    English words left are the file's own (a cell it could not read) and the CSV parser's own message."""
    from test_i18n import english_words
    from vizcore.i18n import _NUMBER
    _, english = parse_upload(raw, model)
    _, chinese = parse_upload(raw, model, "zh")
    wrong, fix = _split(chinese)
    assert re.search(r"[\u4e00-\u9fff]", wrong) and re.search(r"[\u4e00-\u9fff]", fix), chinese
    theirs = set(english_words(raw[:2000].decode("latin-1"))) | {"field", "larger", "than", "limit"}
    assert set(english_words(wrong + " " + fix)) <= theirs, (wrong, fix)
    en_wrong, _ = _split(english)
    assert sorted(_NUMBER.findall(en_wrong)) == sorted(_NUMBER.findall(wrong)), (en_wrong, wrong)


@pytest.mark.parametrize("model", sorted(GOOD))
def test_parse_upload_accepts_good_files(model):
    x, message = parse_upload(GOOD[model][1], model)
    assert message is None and np.all(np.isfinite(x))
    assert not x.flags.writeable


def test_parse_upload_never_raises_on_random_bytes():
    rng = random.Random(0)
    alphabet = b"0123456789.,-+eE\n\r \t\"'abcnaif\xff\xfe\x00<>;"
    for _ in range(300):
        raw = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        for model in GOOD:
            x, message = parse_upload(raw, model)
            assert (x is None) != (message is None)
            if x is not None:
                assert np.all(np.isfinite(x))


def test_parse_upload_limits_match_the_server():
    conf = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert conf["server"]["maxUploadSize"] * 2**20 == MAX_CSV_BYTES
    x, _ = parse_upload(b"1\n" * MAX_UPLOAD_ROWS, "gmm1d")
    assert x is not None and x.size == MAX_UPLOAD_ROWS
    x, message = parse_upload(b"1\n" * (MAX_UPLOAD_ROWS + 1), "gmm1d")
    assert x is None and "rows" in message


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>", "[click](javascript:alert(1))", "![x](http://evil.example/t.png)",
    "<img src=x onerror=alert(1)>", "$\\frac{1}{0}$", ":red[boom] :smile:", "# Heading\n\n**bold**", "`code`",
    "&lt;b&gt;", "line\nbreak\r\n- item",
])
def test_escape_markdown_leaves_no_markup(text):
    out = escape_markdown(text)
    assert re.search(r"(?<!\\)[<>\[\]()`*$#:&!]", out) is None, out
    assert "\n" not in out and "\r" not in out
    assert unescape_markdown(out) == re.sub(r"[\r\n]+", " ", text)


def test_markdown_table_keeps_every_cell_whole_and_aligns_numbers():
    """Cells with Markdown in them (a pipe would split a column, a $ start a formula) come back as written."""
    from pages._common import markdown_table
    header = ["seed", "note | why", "log p"]
    rows = [[1, "label switching: $x$ | *same* optimum", "-1044.293306"], [12, "[a](b) <i>", "−3.5"]]
    lines = markdown_table(header, rows).splitlines()
    cells = [[unescape_markdown(c.strip()) for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines]
    assert cells[0] == header
    assert cells[1] == ["---:", "---", "---:"]           # the number columns right-aligned, the text left
    assert cells[2:] == [[str(v) for v in row] for row in rows]
    with pytest.raises(ValueError, match="3 cells"):
        markdown_table(header, [[1, 2]])


def test_safe_name():
    assert safe_name("data.csv") == "data.csv"
    assert safe_name("<script>alert(1)</script>.csv") == "_script_alert_1___script_.csv"
    assert safe_name("") == "upload.csv" and len(safe_name("a" * 500)) <= 60


# ---------------------------------------------------------------------------------------------
# uploads through a real page: one error, the previous data and the other settings kept
# ---------------------------------------------------------------------------------------------
PAGE = str(ROOT / "pages" / "lower_bounds.py")


def _upload(at, model: str, name: str, raw: bytes):
    at.file_uploader(key=f"lb_upload_{model}").set_value((name, raw, "text/csv"))
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _family(at) -> str:
    charts = [el for el in charts_of(at) if el.proto.id.endswith("lb_family_chart")]
    assert charts, "the page drew no family chart"
    return charts[0].proto.spec


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _page_with_upload(model: str):
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    if model != "gmm1d":
        at.selectbox(key="lb_model").set_value(model).run()
    at.selectbox(key=f"lb_data_{model}").set_value("upload").run()
    assert not at.error and not at.exception
    assert any("Choose a CSV file" in i.value for i in at.info)
    assert not charts_of(at)  # nothing to draw yet
    return at


@pytest.mark.parametrize("model", sorted(GOOD))
def test_bad_upload_shows_one_error_and_keeps_the_previous_data(model):
    at = _page_with_upload(model)
    name, raw = GOOD[model]
    _upload(at, model, name, raw)
    assert not at.error, [e.value for e in at.error]
    assert any(f"Data from {name}" == unescape_markdown(c.value).split(":")[0] for c in at.caption)
    at.slider(key="lb_anchors").set_value(7).run()       # another setting the user made
    at.slider(key="lb_blend").set_value(0.8).run()
    before, best = _family(at), _metric(at, "max of f")
    cases = [c for c in CATALOGUE if c[1] == model] + [c for c in CATALOGUE if c[0] in ("empty file", "not UTF-8")]
    assert cases
    for case, _, bad, what, how in cases:
        _upload(at, model, "bad.csv", bad)
        assert len(at.error) == 1, (case, [e.value for e in at.error])
        wrong, fix = _split(at.error[0].value)
        assert all(w in wrong for w in what) and all(w in fix for w in how), (case, wrong, fix)
        assert f"The previous file stays in use: {name}" in unescape_markdown(at.error[0].value), case
        # the previous data are still in use, and the user's other settings are untouched
        assert _family(at) == before, case
        assert _metric(at, "max of f") == best, case
        assert at.selectbox(key="lb_model").value == model
        assert at.slider(key="lb_anchors").value == 7 and at.slider(key="lb_blend").value == 0.8
        assert not chart_problems(at)
    # a good file again replaces the data and clears the error
    _upload(at, model, "again.csv", raw)
    assert not at.error and _family(at) == before


def test_bad_first_upload_shows_the_error_and_waits():
    at = _page_with_upload("gmm1d")
    _upload(at, "gmm1d", "bad.csv", b"x\n1\nabc\n")
    assert len(at.error) == 1 and "abc" in unescape_markdown(at.error[0].value)
    assert not charts_of(at) and at.selectbox(key="lb_model").value == "gmm1d"


def test_an_empty_uploader_keeps_the_last_good_file():
    """The browser empties the uploader while a new file replaces the old one: the data must survive."""
    at = _page_with_upload("gmm1d")
    _upload(at, "gmm1d", *GOOD["gmm1d"])
    before = _family(at)
    at.file_uploader(key="lb_upload_gmm1d").clear().run()
    assert not at.exception and not at.error
    assert _family(at) == before
    assert any(unescape_markdown(c.value).startswith(f"Data from {GOOD['gmm1d'][0]}") for c in at.caption)
    _upload(at, "gmm1d", "bad.csv", b"")
    assert f"The previous file stays in use: {GOOD['gmm1d'][0]}" in unescape_markdown(at.error[0].value)


def test_upload_markup_is_shown_escaped():
    at = _page_with_upload("gmm1d")
    _upload(at, "gmm1d", "<b>x</b>.csv", GOOD["gmm1d"][1])
    _upload(at, "gmm1d", "bad.csv", b"x\n1\n<script>alert(1)</script>\n")
    raw = at.error[0].value
    assert "<script>" not in raw and "\\<script\\>" in raw
    _upload(at, "gmm1d", "bad.csv", b"x\n1\n[a](javascript:alert(1))\n")
    raw = at.error[0].value
    assert "](javascript" not in raw and "\\[a\\]\\(javascript\\:" in raw
    assert all("<b>" not in c.value for c in at.caption)


# ---------------------------------------------------------------------------------------------
# hostile URLs
# ---------------------------------------------------------------------------------------------
CRAFTED = {
    "<script>alert(1)</script>": "1",
    "x": "javascript:alert(document.cookie)",
    "bogus_key": "1e400",
    "lang": "<img src=x onerror=alert(1)>",
    "present": "';alert(1);//",
    "lb_anchors": "99999999999999999999999",
    "lb_blend": "nan",
    "lb_model": "<svg onload=alert(1)>",
    "eg_t": "-inf",
    "eg_n": "1e308",
    "em_step": "10**10",
    "em_view": "plane\"><script>alert(1)</script>",
    "lvm_n": "-5",
    "vi_model": "../../etc/passwd",
    "kl_family": "%3Cscript%3E",
    "home_t": "[1,2,3]",
    "": "empty key",
}


def _random_query(seed: int, keys) -> dict:
    rng = random.Random(seed)
    chars = "abcdefghijklmnopqrstuvwxyz_0123456789<>\"'&;/\\%$#{}[]()=+-.,: \u00e9\u4e2d\U0001f600"
    def word(n):
        return "".join(rng.choice(chars) for _ in range(rng.randint(0, n)))
    q = {}
    for _ in range(8):
        k = rng.choice(list(keys)) if keys and rng.random() < 0.6 else word(12)
        q[k] = rng.choice([word(20), str(rng.uniform(-1e300, 1e300)), str(rng.randint(-10**30, 10**30)),
                           "nan", "inf", "true", "", "<script>alert(1)</script>"])
    return q


def _run_app(page: str, query: dict) -> AppTest:
    """app.py opened with ``query`` (the session's first run, on the home page), then ``page`` with it.

    (AppTest runs a page chosen before the first run without app.py, so the router, the shared
    settings and the address check would be skipped: the session starts on the home page.)
    """
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    _assert_rendered_safely(at, f"home page opened with {query!r}")
    at.first_toasts = [el.value for el in at.toast]
    if page != "pages/home.py":
        for k, v in query.items():
            at.query_params[k] = v
        at.switch_page(page)
        at.run()
    return at


def _assert_rendered_safely(at, what: str):
    assert not at.exception, f"{what}: " + "; ".join(e.message for e in at.exception)
    assert not at.error, f"{what}: " + "; ".join(e.value for e in at.error)
    assert charts_of(at), f"{what}: no chart drawn"
    for el in at.toast:
        assert re.search(r"(?<!\\)[<>\[\]]", el.value) is None, f"{what}: unescaped markup in a toast {el.value!r}"


@pytest.mark.parametrize("page", PAGES)
def test_crafted_query_string(page):
    at = _run_app(page, CRAFTED)
    _assert_rendered_safely(at, page)
    toasts = " ".join(unescape_markdown(v) for v in at.first_toasts)
    assert "does not use" in toasts and "bogus_key" in toasts
    assert "<script>" not in toasts  # an implausible key name is only counted, never echoed


@pytest.mark.parametrize("page", PAGES)
def test_random_query_strings(page):
    keys = [k for k in CRAFTED if k]
    for seed in range(3):
        _assert_rendered_safely(_run_app(page, _random_query(seed, keys)), f"{page} seed {seed}")


@pytest.mark.parametrize("lang,clamped,default,others", [("en", "nearest allowed value", "default", "7 others"),
                                                           ("zh", "最接近的允许值", "默认值", "另外 7 个")])
def test_the_address_notices_speak_the_page_language(lang, clamped, default, others):
    """The toasts about an address's values (one clamped, one unusable, keys no widget uses) in the page's language."""
    junk = {f"<k{i}>": "1" for i in range(7)}  # implausible names: only counted
    at = _run_app("pages/home.py", {"home_t": "7", "lang": lang, **junk})
    toasts = " ".join(unescape_markdown(v) for v in at.first_toasts + [el.value for el in at.toast])
    assert f"home_t = 7 → 1 ({clamped})" in toasts.replace("（", " (").replace("）", ")"), toasts
    assert others in toasts, toasts
    at = _run_app("pages/home.py", {"home_t": "abc", "lang": lang})
    toasts = " ".join(unescape_markdown(v) for v in at.first_toasts + [el.value for el in at.toast])
    assert f"home_t = abc → {default}" in toasts, toasts


def test_known_keys_are_not_reported():
    at = _run_app("pages/home.py", {"home_t": "0.5", "lang": "en", "embed": "true"})
    assert not at.exception
    assert not any("does not use" in el.value for el in at.toast)


def test_unknown_query_keys():
    assert unknown_query_keys([], ["a"]) == []
    assert unknown_query_keys(["a", "b", "embed", "embed_options"], ["a", "c"]) == ["b"]
    assert unknown_query_keys({"z": "1", "y": "2"}, {}) == ["y", "z"]
    assert unknown_query_keys(["<script>"], ["lb_model"]) == ["<script>"]


def test_describe_unknown_echoes_only_plain_names():
    assert describe_unknown(["bogus_key"]) == "bogus\\_key"
    text = describe_unknown(["<script>alert(1)</script>", "javascript:x", "ok1"])
    assert "script" not in text and "javascript" not in text and "ok1" in text and "2 others" in text
    assert describe_unknown([f"k{i}" for i in range(9)]).endswith("4 others")


# ---------------------------------------------------------------------------------------------
# the code: no HTML from user content, no eval/exec/pickle
# ---------------------------------------------------------------------------------------------
def _calls(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def _name(func) -> str:
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))


def _constant_text(node) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _module_constants(path: Path) -> set[str]:
    """Names assigned once, at module level only, and never in a function: fixed when the module loads,
    before any user input exists."""
    tree = ast.parse(path.read_text(), filename=str(path))
    top, counts = set(), {}
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
        for t in targets:
            if isinstance(t, ast.Name):
                counts[t.id] = counts.get(t.id, 0) + 1
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            top.add(node.targets[0].id)
    return {n for n in top if counts.get(n) == 1}


def _project_file(node) -> bool:
    """A path written out from the module's own place, such as ``Path(__file__).parent / "pages" / "x.css"``:
    a file of the project, whatever the user does."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return _project_file(node.left) and (_constant_text(node.right) or _project_file(node.right))
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        return _project_file(node.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "resolve":
        return not node.args and _project_file(node.func.value)
    return (isinstance(node, ast.Call) and _name(node.func) in ("Path", "pathlib.Path") and len(node.args) == 1
            and isinstance(node.args[0], ast.Name) and node.args[0].id == "__file__")


def html_sinks(paths, root: Path = ROOT) -> list[str]:
    """Calls that render raw HTML with anything but a constant string (or a file of the project, named by a
    path built from ``__file__``), and custom components (``st.components.v2.component``) whose HTML, CSS or
    JavaScript is not fixed at module level."""
    out = []
    for path in paths:
        constants = None
        for call in _calls(path):
            name = _name(call.func)
            if name.endswith("components.v2.component"):
                constants = _module_constants(path) if constants is None else constants
                for k in call.keywords:
                    if k.arg in ("html", "css", "js") and not (
                            _constant_text(k.value) or (isinstance(k.value, ast.Name) and k.value.id in constants)):
                        out.append(f"{path.relative_to(root)}:{call.lineno}: {name}({k.arg}=...) not a module constant")
                continue
            unsafe = any(k.arg == "unsafe_allow_html" and not (isinstance(k.value, ast.Constant)
                                                               and k.value.value is False)
                         for k in call.keywords)
            raw_html = name.split(".")[-1] == "html" and name.split(".")[0] in ("st", "streamlit", "components",
                                                                                "stc", "html")
            fixed = call.args and all(_constant_text(a) or (raw_html and _project_file(a)) for a in call.args)
            if (unsafe or raw_html) and not fixed:
                out.append(f"{path.relative_to(root)}:{call.lineno}: {name}(...) with non-constant content")
    return out


def dangerous_calls(paths, root: Path = ROOT) -> list[str]:
    out = []
    banned_modules = {"pickle", "cPickle", "dill", "cloudpickle", "marshal", "shelve", "joblib"}
    for path in paths:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import):
                out += [f"{where}: import {a.name}" for a in node.names if a.name.split(".")[0] in banned_modules]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in banned_modules:
                out.append(f"{where}: from {node.module} import ...")
            elif isinstance(node, ast.Call):
                name = _name(node.func)
                if name in ("eval", "exec", "compile", "__import__", "builtins.eval", "builtins.exec"):
                    out.append(f"{where}: {name}(...)")
                elif name.endswith("read_pickle") or name in ("yaml.load", "yaml.unsafe_load"):
                    out.append(f"{where}: {name}(...)")
                elif any(k.arg == "allow_pickle" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                         for k in node.keywords):
                    out.append(f"{where}: {name}(allow_pickle=...)")
    return out


def test_no_html_rendering_of_user_content():
    assert APP_CODE and any(p.name == "_model_controls.py" for p in APP_CODE)
    assert html_sinks(APP_CODE) == []


def test_no_eval_exec_or_unpickling():
    project = APP_CODE + sorted((ROOT / "bench").glob("*.py"))
    assert dangerous_calls(project) == []


def test_the_scanners_find_what_they_look_for(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import streamlit as st\nimport pickle\nname = st.query_params.get('n')\n"
        "st.markdown(f'<b>{name}</b>', unsafe_allow_html=True)\nst.html(name)\n"
        "st.markdown('<b>fixed</b>', unsafe_allow_html=True)\nst.html('<hr>')\n"
        "eval(name)\nexec('x = 1')\npickle.loads(b'')\nimport numpy as np\nnp.load('f.npy', allow_pickle=True)\n"
        "JS = 'export default function () {}'\nst.components.v2.component('a', js=JS)\n"
        "st.components.v2.component('b', html=f'<p>{name}</p>')\n"
        "from pathlib import Path\nst.html(Path(__file__).parent / 'pages' / 'style.css')\n"
        "st.html(Path(__file__).parent / name)\nst.html(Path(name))\n")
    sinks, calls = html_sinks([bad], tmp_path), dangerous_calls([bad], tmp_path)
    assert len(sinks) == 5 and "bad.py:4" in sinks[0] and "bad.py:5" in sinks[1], sinks
    assert "bad.py:15" in sinks[2] and "html=" in sinks[2]
    assert "bad.py:18" in sinks[3] and "bad.py:19" in sinks[4], sinks  # line 17, the project's own file, passes
    assert len(calls) == 4 and any("import pickle" in c for c in calls) and any("allow_pickle" in c for c in calls)


# ---------------------------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------------------------
def test_streamlit_configuration():
    conf = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert conf["server"]["enableXsrfProtection"] is True
    assert conf["server"]["enableCORS"] is True
    assert conf["server"]["maxUploadSize"] == 5
    assert conf["client"]["showErrorDetails"] == "none"
    assert conf["browser"]["gatherUsageStats"] is False


def test_streamlit_reads_the_configuration():
    """The option names are right: Streamlit itself reports them as set by the project's file."""
    code = ("from streamlit import config\nconfig.get_config_options()\n"
            "for o in ('server.enableXsrfProtection', 'server.enableCORS', 'server.maxUploadSize', "
            "'client.showErrorDetails'):\n"
            "    print(o, repr(config.get_option(o)), config.get_where_defined(o))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(" ", 1) for line in out.stdout.strip().splitlines())
    where = str(ROOT / ".streamlit" / "config.toml")
    assert lines["server.enableXsrfProtection"] == f"True {where}"
    assert lines["server.enableCORS"] == f"True {where}"
    assert lines["server.maxUploadSize"] == f"5 {where}"
    assert lines["client.showErrorDetails"] == f"'none' {where}"


def test_readme_has_a_security_section():
    text = (ROOT / "README.md").read_text()
    assert "## Security" in text
    section = text.split("## Security", 1)[1]
    for word in ("XSRF", "CORS", "5 MB", "showErrorDetails", "unsafe_allow_html", "eval", "pickle", "query"):
        assert word in section, word
    # the two set-up commands are untouched
    assert "pip install -r requirements.txt && streamlit run app.py" in text
    assert "pip install -r requirements-dev.txt && python -m pytest" in text
