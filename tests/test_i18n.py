"""简体中文: every string the pages show goes through the translation table, and no English is left.

* a static scan (ast) of every ``t("…")``/``tr("…", lang)`` call (and ``fail(err, "remedy")``) in
  ``app.py``, ``pages/`` and ``vizcore/figures/``: the template is a constant (no f-string, so it
  can be looked up) and has a Chinese entry that keeps its ``{placeholders}``;
* every page run by AppTest in Chinese: no English word left in titles, markdown, captions,
  widget labels/options/help, metrics, alerts, expanders, tabs, table headers, and the
  plotly charts' titles, axis titles, legend/trace names, annotations and buttons.

"English left" = an ASCII word of three letters or more, once LaTeX, code, plotly markup,
identifiers such as ``means[0]`` and the allow-list below (notation, acronyms, proper
names) are taken out.
"""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from google.protobuf.message import Message
from streamlit.testing.v1 import AppTest

from vizcore.i18n import LANGUAGES, tr
from vizcore.i18n_zh import ZH
from plotly_checks import Chart, charts as charts_of  # noqa: E402
from pages import _chart  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "vizcore" / "figures").glob("*.py"))]
TRANSLATING = {"t": 0, "tr": 0, "fail": 1}  # callable name -> index of the translated argument

ALLOWED = {
    # acronyms the brief keeps
    "ELBO", "KL", "EM", "IWAE", "CAVI", "CSV", "PNG", "HTML", "SE", "UTF",
    # notation written as words
    "log", "exp", "max", "min", "argmax", "Var", "Bin", "Mult", "Binomial", "Mean", "nan", "inf",
    "theta",  # θ spelled in ASCII in the EM page's copyable block of exact values
    # proper names
    "Old", "Faithful", "Dempster", "Laird", "Rubin", "Bishop", "Batzoglou", "Kullback", "Leibler", "Okabe", "Ito",
    # units and the k-means++ initialiser
    "means",
}
LATEX = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|\\\(.*?\\\)|\\\[.*?\\\]", re.S)
MARKUP = re.compile(r"<sub>[^<]*</sub>|<[^>]+>|%\{[^}]*\}|\{\w*\}|:material/[a-z_]+:|:[a-z]+\[|\*\*|\?[a-z]+=[a-z]+|_[A-Za-z]+")
IDENTIFIER = re.compile(r"\b[a-z_]+(?:\[\d+\])+|\bk-means\+\+|\b[a-z]+_[a-z_]+\b")
WORD = re.compile(r"[A-Za-z]{3,}")


def english_words(text: str) -> list[str]:
    """ASCII words of ≥ 3 letters left in ``text`` once notation, markup and the allow-list are removed."""
    text = LATEX.sub(" ", str(text))
    text = IDENTIFIER.sub(" ", text)
    text = MARKUP.sub(" ", text)
    return [w for w in WORD.findall(text) if w not in ALLOWED]


def test_english_words_detector():
    assert english_words("The ELBO L(q, θ)") == ["The"]
    assert english_words("证据下界 ELBO，$\\log p(x)$ 与 KL(q‖p)") == []
    assert english_words("μ₁   (means[0])") == []
    assert english_words("p₁   (heads_probs[0])") == []
    assert english_words("<b>E 步 3</b>: L = %{y:.3f}") == []
    assert english_words("在 θ<sub>old</sub> 处相切") == []  # a subscript is notation (θ_old in the figures' source)
    assert english_words("touch at θ<sub>old</sub>") == ["touch"]
    assert english_words("posterior p(z|x)") == ["posterior"]


# ---- the static scan ------------------------------------------------------------------------------
def translated_calls():
    """(file:line, first-argument node) of every translating call in the sources."""
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            fn = node.func
            name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else None
            idx = TRANSLATING.get(name)
            if idx is None or len(node.args) <= idx:
                continue
            yield f"{path.relative_to(ROOT)}:{node.lineno}", node.args[idx]


def constant_templates() -> dict[str, str]:
    out = {}
    for where, arg in translated_calls():
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            out.setdefault(arg.value, where)
    return out


def test_scan_finds_the_pages_strings():
    found = constant_templates()
    assert len(found) > 300
    assert "Variational lower bounds, live" in found and "KL divergence" in found


def test_no_f_string_is_translated():
    """t(f"… {x} …") cannot be looked up: use t("… {x} …").format(x=…)."""
    bad = [where for where, arg in translated_calls() if isinstance(arg, ast.JoinedStr) and arg.values
           and any(isinstance(v, ast.FormattedValue) for v in arg.values)]
    assert not bad, bad


def test_every_template_has_a_chinese_entry():
    missing = {text: where for text, where in constant_templates().items() if text not in ZH}
    assert not missing, "\n".join(f"{w}: {t!r}" for t, w in sorted(missing.items(), key=lambda kv: kv[1]))


def test_entries_keep_placeholders_and_are_chinese():
    placeholder = re.compile(r"\{\w*\}")
    for en, zh in ZH.items():
        assert sorted(placeholder.findall(en)) == sorted(placeholder.findall(zh)), en
        assert zh.strip(), en
        if english_words(en):  # a phrase with words (not bare notation) must come out in Chinese
            assert re.search(r"[\u4e00-\u9fff]", zh), (en, zh)
            assert not english_words(zh), (en, zh, english_words(zh))


def test_tr_falls_back_to_english():
    assert tr("Home", "zh") == "首页"
    assert tr("Home", "en") == "Home"
    assert tr("a phrase nobody wrote", "zh") == "a phrase nobody wrote"
    assert LANGUAGES == ("en", "zh")


# ---- every page in Chinese ------------------------------------------------------------------------
SKIP_FIELDS = {"id", "form_id", "format", "type", "url", "theme", "config", "spec", "icon", "default",
               "tag", "page_script_hash", "page", "mime", "data", "key", "query_param_key", "code_text",
               "language", "anchor", "value", "deprecated_value", "width", "height", "style", "columns",
               "deferred_file_id"}


def _proto_strings(msg: Message, path: str = ""):
    for fd, val in msg.ListFields():
        if fd.name in SKIP_FIELDS:
            continue
        name = f"{path}.{fd.name}"
        values = list(val) if fd.is_repeated else [val]
        if fd.type == fd.TYPE_MESSAGE:
            for v in values:
                if isinstance(v, Message):
                    yield from _proto_strings(v, name)
        elif fd.type == fd.TYPE_STRING:
            for v in values:
                yield name, v


def _plotly_strings(spec: str):
    fig = json.loads(spec)
    layout = fig.get("layout", {})

    def title(obj):
        t = obj.get("title") if isinstance(obj, dict) else None
        return t.get("text") if isinstance(t, dict) else t

    yield "title", title(layout)
    for k, ax in layout.items():
        if re.match(r"^[xy]axis\d*$", k) and isinstance(ax, dict):
            yield k, title(ax)
            yield k + ".ticktext", " ".join(str(v) for v in ax.get("ticktext") or [])
    for ann in layout.get("annotations") or []:
        yield "annotation", ann.get("text")
    for menu in layout.get("updatemenus") or []:
        for b in menu.get("buttons") or []:
            yield "button", b.get("label")
    for slider in layout.get("sliders") or []:
        yield "slider", (slider.get("currentvalue") or {}).get("prefix")
        for step in slider.get("steps") or []:
            yield "slider step", step.get("label")
    traces = list(fig.get("data") or [])
    for frame in fig.get("frames") or []:
        traces += frame.get("data") or []
        yield "frame title", title(frame.get("layout") or {})
    for tr_ in traces:
        yield "trace name", tr_.get("name")
        yield "hover", tr_.get("hovertemplate") if isinstance(tr_.get("hovertemplate"), str) else None
        yield "colorbar", title(tr_.get("colorbar") or {})
        if tr_.get("type") in ("bar", "waterfall") or tr_.get("orientation"):
            for axis in ("x", "y"):
                vals = tr_.get(axis)
                if isinstance(vals, list) and vals and all(isinstance(v, str) for v in vals):
                    yield "category", " ".join(vals)


def page_texts(at: AppTest):
    """(where, text) of everything a reader sees on the page (LaTeX and code blocks excluded)."""
    out = []

    def walk(node):
        proto = getattr(node, "proto", None)
        kind = getattr(node, "type", "")
        if isinstance(proto, Message) and type(proto).__name__ == "BidiComponent" \
                and proto.component_name == _chart.NAME:  # the app's chart: its words, not its code
            chart = Chart(node)
            out.extend([(f"chart {chart.key} alt", chart.alt)] + [(f"chart {chart.key} {k}", v) for k, v in chart.labels.items()])
            out.extend((f"plotly {chart.key} {name}", text) for name, text in _plotly_strings(chart.spec) if text)
        elif isinstance(proto, Message) and kind not in ("latex", "code"):
            for name, text in _proto_strings(proto, type(proto).__name__):
                out.append((f"{kind}{name}", text))
        children = getattr(node, "children", None)
        for child in (children.values() if isinstance(children, dict) else children or []):
            walk(child)

    walk(at._tree)
    for df in at.dataframe:  # the header a reader sees: a column's configured label, else its name
        config = json.loads(df.proto.columns or "{}")
        shown = [(config.get(str(c)) or {}).get("label") or str(c) for c in df.value.columns]
        out.append(("dataframe columns", " | ".join(shown)))
    return out


def run_zh(page: str, setup=None, timeout: int = 120) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=timeout)
    at.session_state["lang"] = "zh"
    if setup:
        setup(at)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def english_left(at: AppTest) -> list[tuple[str, str, list[str]]]:
    return [(where, text[:120], words) for where, text in page_texts(at) if (words := english_words(text))]


def _radio(key, value):
    def setup(at):
        at.session_state[key] = value
    return setup


CASES = [
    ("home", None),
    ("latent_models", None),
    ("latent_models", _radio("lvm_model", "gmm2d")),
    ("latent_models", _radio("lvm_model", "coins")),
    ("latent_models", _radio("lvm_model", "linkage")),
    ("lower_bounds", None),
    ("lower_bounds", _radio("lb_data_gmm1d", "synthetic")),
    ("lower_bounds", _radio("lb_model", "gmm2d")),
    ("elbo_gap", _radio("eg_model", "coins")),
    ("elbo_gap", _radio("eg_model", "linkage")),
    ("kl_divergence", _radio("kl_family", "bernoulli")),
    ("kl_divergence", _radio("kl_family", "mixture")),
    ("kl_divergence", None),
    ("kl_divergence", _radio("kl_family", "categorical")),
    ("kl_divergence", _radio("kl_family", "uniform")),
    ("elbo_gap", None),
    ("em", None),
    ("em", _radio("em_model", "coins")),
    ("em", _radio("em_model", "linkage")),
    ("em", _radio("em_view", "plane")),
    ("variational", None),
    ("variational", _radio("vi_model", "linear_gaussian")),
    # only the open tab runs: open each of the others (the address holds the tab's translated label)
    *[("variational", _radio("vi_tab", tr(tab, "zh"))) for tab in
      ("Maximising the ELBO", "A richer family", "Tighter bounds (IWAE)", "Mean-field", "Variational EM")],
]


@pytest.mark.parametrize("page,setup", CASES, ids=[f"{p}-{i}" for i, (p, _) in enumerate(CASES)])
def test_page_in_chinese_has_no_english_left(page, setup):
    at = run_zh(page, setup)
    texts = page_texts(at)
    assert len(texts) > 5
    assert any(re.search(r"[\u4e00-\u9fff]", t) for _, t in texts)
    left = english_left(at)
    assert not left, "\n".join(f"{w}: {t!r} {ws}" for w, t, ws in left)


def test_switching_the_language_changes_the_page():
    at = AppTest.from_file(str(ROOT / "pages" / "lower_bounds.py"), default_timeout=120)
    at.run()
    assert at.title[0].value == "Maximising through lower bounds"
    en_axis = json.loads(charts_of(at)[0].proto.spec)["data"][0]["name"]
    at.session_state["lang"] = "zh"
    at.run()
    assert at.title[0].value == ZH["Maximising through lower bounds"]
    zh_axis = json.loads(charts_of(at)[0].proto.spec)["data"][0]["name"]
    assert en_axis != zh_axis and re.search(r"[\u4e00-\u9fff]", zh_axis)
    assert at.slider(key="lb_anchors").label == ZH["Number of anchors θ′"]


@pytest.mark.parametrize("model", ["gmm1d", "coins"])
def test_em_after_steps_and_at_convergence_in_chinese(model, monkeypatch):
    # AppTest formats option labels outside the page's session (no session state: English), which breaks
    # clicking on a page whose labels are Chinese; the language is fixed for the whole process instead.
    import pages._common
    monkeypatch.setattr(pages._common, "lang", lambda: "zh")
    at = run_zh("em", _radio("em_model", model))
    for key in ("em_e", "em_m"):
        at.button(key=key).click().run()
        assert not at.exception, [e.value for e in at.exception]
    assert not english_left(at), english_left(at)
    at.button(key="em_run").click().run()
    at.select_slider(key=f"em_ga_step_{model}").set_value(10.0).run()  # gradient ascent diverges: a warning
    assert not at.exception, [e.value for e in at.exception]
    assert at.warning or at.info
    left = english_left(at)
    assert not left, "\n".join(f"{w}: {t!r} {ws}" for w, t, ws in left)
