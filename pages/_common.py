"""What every page shares: the language, presenter mode, the translation shortcut, chart display.

Pages stay thin: widgets in, one cached call into vizcore, figures out.

* :func:`settings` draws the two sidebar switches every page shares (called once by
  ``app.py``): the language (key ``lang``, bound to ``?lang=``) and presenter mode
  (key ``present``, bound to ``?present=``);
* :func:`t` translates, :func:`prose` shows an explanation (collapsed in presenter
  mode), :func:`show` draws a chart (presenter styling, colour contrast for the theme,
  alt text), :func:`show_code` shows the source behind a figure, :func:`fail` an error,
  :func:`markdown_table` a small table, :func:`open_panel` an expander sent only while open;
* :func:`lazy` wraps a figure builder and its arguments: ``show(lazy(fig_fn, ...))`` builds the
  chart only when no session of this process has drawn it from the same values (:data:`SPECS`);
* :func:`cache_data` is ``st.cache_data`` for a page's functions, decorated once, not on every rerun.
"""
from __future__ import annotations

import functools
import inspect
import textwrap

import plotly.graph_objects as go
import streamlit as st

from pages import _chart, _export, _url_state
from vizcore.figures import display
from vizcore.figures._style import OKABE_ITO, Figure, finished
from vizcore.figures.speccache import SpecCache
from vizcore.figures.margins import PRESENTER, STREAMLIT, fit_margins
from vizcore.i18n import LANGUAGES, tr, tr_message

# The camera button of each chart saves a PNG at twice the screen resolution, named after the chart key
# (set per chart in show()): PNG export happens in the browser, without a server-side image engine.
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                 "toImageButtonOptions": {"format": "png", "scale": 2, "filename": "figure"}}
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}
# ?present= accepts these (any case) besides the binding's own true/false.
TRUE_WORDS = ("1", "true", "yes", "on")


def lang() -> str:
    """The session's language code: ``"en"`` or ``"zh"``."""
    value = st.session_state.get("lang", "en")
    return value if isinstance(value, str) and value else "en"  # tr() falls back to English for a code it lacks


def presenting() -> bool:
    """True in presenter mode (the sidebar switch, or ``?present=true`` in the URL)."""
    return bool(st.session_state.get("present", False))


def ink(capital: bool = False) -> str:
    """The name of the colour the charts draw their main curve in (log p, p(x), the mixture), translated:
    black, but white in the dark theme, where black ink is drawn light
    (:data:`vizcore.figures.display.DARK_INK`), so that a caption names what the reader sees."""
    if _theme_type() == "dark" and not presenting():
        return t("White") if capital else t("white")
    return t("Black") if capital else t("black")


def browser_lang() -> str:
    """``"zh"`` when the browser prefers Chinese, else ``"en"``.

    Reads ``st.context.locale`` (the browser's ``navigator.language``) and, when that is
    not known, the first language of the ``Accept-Language`` header.
    """
    loc = ""
    try:
        loc = st.context.locale or ""
    except Exception:  # noqa: BLE001 - no browser context (a bare script run)
        loc = ""
    if not loc:
        try:
            loc = st.context.headers.get("Accept-Language") or ""
        except Exception:  # noqa: BLE001
            loc = ""
    return "zh" if loc.strip().lower().startswith("zh") else "en"


def _query_value(key: str) -> str | None:
    try:
        value = st.query_params.get(key)
    except Exception:  # noqa: BLE001
        return None
    return value if isinstance(value, str) else None


def settings() -> None:
    """The language switch and the presenter-mode switch, in the sidebar of every page.

    Both are bound to the URL: ``?lang=zh`` / ``?lang=en`` (the codes; the binding itself
    writes the label, ``?lang=中文`` / ``?lang=English``, which works as well) and
    ``?present=true`` (``1``, ``yes`` and ``on`` work too; ``false`` or no parameter is
    off). Without ``?lang`` the language follows the browser (:func:`browser_lang`).
    """
    code = _query_value("lang")
    if "lang" not in st.session_state and code in LANGUAGES:
        st.session_state["lang"] = code
    flag = _query_value("present")
    if "present" not in st.session_state and flag is not None and flag.strip().lower() in TRUE_WORDS:
        st.session_state["present"] = True
    with st.sidebar:
        extra = {} if "lang" in st.session_state else {"default": browser_lang()}
        st.segmented_control("Language · 语言", LANGUAGES, format_func=LANGUAGE_NAMES.get, required=True,
                             key="lang", bind="query-params", **extra)
        st.toggle(t("Presenter mode"), key="present", bind="query-params",
                  help=t("Large text and thick lines for a projector; explanations fold away and the sidebar "
                         "starts collapsed. Share it as a link with ?present=true."))


def t(text: str) -> str:
    """Translate a user-facing string into the session's language."""
    return tr(text, lang())


# (file, qualified name, options) -> (code object, cached function): see cache_data.
_DECORATED: dict[tuple, tuple] = {}


def cache_data(**options):
    """``st.cache_data(**options)`` for a function defined in a page, made once per compiled function,
    and called with its arguments by name (:func:`by_keyword`).

    A page's script runs again on every widget move, and every ``@st.cache_data`` line in it with it:
    Streamlit then keys the function by reading its source again (``inspect.getsource``, 0.3 ms a
    function; 3–4 ms a rerun on the pages with ten). The server compiles a page once, so a rerun defines
    the function from the same code object, and the cached function made the first time is handed back.
    One entry per function: a new code object (the file was edited) replaces it.

    The function keeps the globals of the run that first defined it, so, as for any ``st.cache_data``
    function (whose key does not include globals either), it must depend only on its arguments,
    constants and imports. (Those globals, one page run's, stay in memory until the file changes; no
    cached function reads them.)
    """
    def decorate(func):
        try:
            key = (func.__code__.co_filename, func.__qualname__, tuple(sorted(options.items())))
            hash(key)
        except TypeError:  # an option that is no key (e.g. hash_funcs, a dict): decorated every time
            return st.cache_data(**options)(func)
        known = _DECORATED.get(key)
        if known is not None and known[0] is func.__code__:
            return known[1]
        cached = by_keyword(st.cache_data(**options)(func), func)
        _DECORATED[key] = (func.__code__, cached)
        return cached
    return decorate


_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def by_keyword(cached, func):
    """``cached`` (``st.cache_data`` of ``func``), called with every argument by its name.

    Streamlit keys a call on each argument's name and value, in order. For an argument passed by
    position it looks the name up in ``inspect.signature(func)``, once per argument and call (about
    50 µs each: a page with a dozen cached calls of four or five arguments spent 1–3 ms a rerun on
    it). Here every argument goes by name, in the order of the signature, so one entry serves a call
    however its arguments came (Streamlit alone keys ``f(a=1, b=2)`` and ``f(b=2, a=1)`` apart). A
    function with ``*args``, ``**kwargs`` or positional-only parameters, and a call that binds an
    argument twice, passes too many or names one it does not have, go to ``cached`` as they came (for
    Streamlit's own handling and errors).
    """
    params = inspect.signature(func).parameters.values()
    if any(p.kind not in _NAMED for p in params):
        return cached
    order = tuple(p.name for p in params)  # the arguments go in this order, however they came
    known = frozenset(order)
    positional = tuple(p.name for p in params if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD)

    @functools.wraps(func)
    def call(*args, **kwargs):
        if len(args) > len(positional) or any(n in kwargs for n in positional[:len(args)]) \
                or not known.issuperset(kwargs):
            return cached(*args, **kwargs)
        given = dict(zip(positional, args), **kwargs)
        return cached(**{n: given[n] for n in order if n in given})

    call.clear = cached.clear
    return call


class Lazy:
    """A figure not built yet: ``builder(*args, **kwargs)``, a pure function of plain data.

    :func:`show` looks its finished spec up in :data:`SPECS` and builds it only when no run of
    any session has drawn it from the same values. :meth:`build` gives the figure itself (the
    sidebar's export builds it on click).
    """

    __slots__ = ("builder", "args", "kwargs", "spec", "post")

    def __init__(self, builder, *args, **kwargs):
        self.builder, self.args, self.kwargs, self.spec, self.post = builder, args, kwargs, None, None

    def then(self, fn, *args) -> "Lazy":
        """Draw ``fn(spec, *args)`` of the built figure's spec: the figure is cached without ``args``.

        For a cheap, pure change of a costly figure, e.g. ``lazy(bound_figure, ...).then(at_frame, i)``:
        the animated figure is built (and styled) once per run and each half-step only selects its frame.
        ``fn`` gets the cached, styled spec: it must not change it, and it must only select or move parts
        of it, so that styling before it draws what styling after it would (``tests/test_em_views.py``).
        """
        self.post = (fn, args)
        return self

    def build(self):
        """The figure as drawn (a plotly figure, or its spec after :meth:`then`), without display styling."""
        fig = self.builder(*self.args, **self.kwargs)
        if self.post is None:
            return Figure(fig) if isinstance(fig, dict) else fig
        fn, args = self.post
        return fn(_spec_of_new(fig), *args)

    def to_dict(self) -> dict:
        """The spec as drawn (after :func:`show`), else the built figure's."""
        return self.spec if self.spec is not None else self.build().to_dict()


def lazy(builder, *args, **kwargs) -> Lazy:
    """``show(lazy(fig_fn, a, b=1), key=...)`` draws ``fig_fn(a, b=1)``, built only if its inputs are new."""
    return Lazy(builder, *args, **kwargs)


# Finished specs of every session of this process (pure functions of their inputs; see speccache).
SPECS = SpecCache(max_bytes=64 * 2 ** 20)


def _theme_type() -> str | None:
    try:
        return st.context.theme.type
    except Exception:  # noqa: BLE001 - no browser context
        return None


def _with_colorway(fig):
    if isinstance(fig, go.Figure) and not fig.layout.colorway:
        fig.update_layout(colorway=OKABE_ITO)
    return fig


def _spec_of_new(fig) -> dict:
    """The spec of a figure just built for it and not kept (no deep copy of its properties); a figure
    written as plotly JSON (a ``*_spec`` builder's dict) is taken as it is."""
    if isinstance(fig, dict):
        return finished(fig)
    fig = _with_colorway(fig)
    return fig.release_dict() if isinstance(fig, Figure) else fig.to_dict()


# Streamlit's main column in a 1400-px window (measured in Chromium): with the sidebar open, and in presenter
# mode, which closes it
MAIN_PX = {"present": 1240}
MAIN_PX_DEFAULT = 940


def _finish(fig, style: str, share: float, *, new: bool = False) -> dict:
    """The spec sent to the browser for ``style``: "present", "light", "dark" or "plain".
    ``share``: the part of the main column it is drawn across. ``new``: the figure was built for this spec
    alone (a :class:`Lazy` one) and is not used again."""
    spec = _spec_of_new(fig) if new else _with_colorway(fig).to_dict()
    return _styled(spec, style, share * MAIN_PX.get(style, MAIN_PX_DEFAULT))


def _styled(spec: dict, style: str, width: float) -> dict:
    """``spec`` (changed in place) styled for its audience, with margins that fit a chart ``width`` px wide."""
    if style == "present":
        return fit_margins(display.ensure_contrast(display.presenter(spec), display.LIGHT_BG), PRESENTER, width)
    dark = style == "dark"
    if style in ("light", "dark"):
        spec = display.ensure_contrast(spec, display.DARK_BG if dark else display.LIGHT_BG)
    spec = display.streamlit_themed(spec, "dark" if dark else "light")  # as st.plotly_chart's theme would
    return fit_margins(spec, STREAMLIT, width)  # plotly then draws it once (vizcore.figures.margins)


def show(fig, key: str, alt: str | None = None, share: float = 0.5) -> None:
    """Draw a plotly figure (or a :class:`Lazy` one) with the project's defaults and a stable key.

    ``alt`` is the chart's accessible name (read by screen readers). The Okabe–Ito
    colours are the default colour cycle. In the browser every line, marker and text
    colour is raised to WCAG AA contrast against the theme's background (light or dark;
    see :func:`vizcore.figures.display.ensure_contrast`), in Streamlit's chart theme
    (:func:`vizcore.figures.display.streamlit_themed`). In presenter mode the chart is
    drawn by :func:`vizcore.figures.display.presenter` (ticks ≥ 20 px, thick lines, white
    background) instead. A :class:`Lazy` figure is built only when its inputs are new to this
    process (:data:`SPECS`).

    The chart element (:mod:`pages._chart`) keeps its plot across reruns and updates it in place.
    The margins are set to what the labels need (:func:`vizcore.figures.margins.fit_margins`), so that
    plotly draws the chart once instead of twice; ``share`` is the part of the main column the chart
    is drawn across (its legend wraps at that width).
    """
    kind = _theme_type()
    style = "present" if presenting() else (kind if kind in ("light", "dark") else "plain")
    if isinstance(fig, Lazy):
        spec = SPECS.get_or_build(fig.builder, fig.args, fig.kwargs, (style, share),
                                  lambda f: _finish(f, style, share, new=True))
        if fig.post is not None:  # selects from the styled, cached spec without changing it
            fn, args = fig.post
            spec = fn(spec, *args)
        fig.spec = spec
    else:
        spec = _finish(fig, style, share)
    _export.register(key, fig, alt)  # the sidebar's "Export" offers it as offline HTML
    config = {**PLOTLY_CONFIG, "toImageButtonOptions": {**PLOTLY_CONFIG["toImageButtonOptions"],
                                                        "filename": _export.file_stem(key)}}
    _chart.chart(spec, key=key, config=config, alt=alt,
                 labels={"fullscreen": t("Full screen"), "failed": t("The chart could not be drawn: reload the page.")})


def prose(text: str, *, caption: bool = False) -> None:
    """An explanatory paragraph (already translated): shown, or folded into an expander in presenter mode."""
    draw = st.caption if caption else st.markdown
    if presenting():
        with st.expander(t("Explanation"), icon=":material/notes:"):
            draw(text)
    else:
        draw(text)


@functools.lru_cache(maxsize=256)
def _source(func) -> str:
    """The source of ``func`` under a comment naming it (read once per process: the code does not change)."""
    func = inspect.unwrap(func)
    return f"# {func.__module__}.{func.__qualname__}\n" + textwrap.dedent(inspect.getsource(func))


CODE_PANEL = "_code_panel"   # the "Show the code" expander's state (not in the address: a reader's own view)


def show_code(*funcs) -> None:
    """A "Show the code" expander with the source of the vizcore functions behind a figure.

    The code is sent only while the expander is open (opening it reruns the page): a closed one would
    still make the browser load and run Streamlit's syntax highlighter (1.5 MB of JavaScript) on the
    page's first load, before its first chart is drawn (bench/README.md, item 41).
    """
    box = open_panel(t("Show the code"), key=CODE_PANEL, icon=":material/code:")
    if box is not None:
        with box:
            for func in funcs:
                st.code(_source(func), language="python")


def open_panel(label: str, *, key: str, icon: str):
    """An expander whose content is sent only while it is open: the expander while open, else ``None``.

    Opening or closing it reruns the page (or the fragment it is in). A closed expander's content would still
    travel and be rendered, and heavy elements make the browser load their code on arrival (the syntax
    highlighter, the data grid: bench/README.md, items 41 and 45).
    """
    box = st.expander(label, icon=icon, key=key, on_change="rerun")
    return box if box.open else None


def markdown_table(header, rows) -> str:
    """A small table as Markdown, for ``st.markdown``: every cell a string, escaped; right-aligned columns
    where every cell is a number.

    ``st.dataframe`` and ``st.table`` make the browser fetch and run Streamlit's Arrow and data-grid code
    (1.2 MB of JavaScript) before it gets to the page's charts (bench/README.md, item 45). A table of a
    dozen rows reads as well as Markdown, which the page has loaded already.
    """
    from pages._guards import escape_markdown
    header = [str(h) for h in header]
    rows = [[str(v) for v in row] for row in rows]
    if any(len(row) != len(header) for row in rows):
        raise ValueError(f"markdown_table: every row needs {len(header)} cells, one per column")

    def numeric(text: str) -> bool:
        try:
            float(text.replace("−", "-"))
            return True
        except ValueError:
            return False

    right = [bool(rows) and all(numeric(row[j]) for row in rows) for j in range(len(header))]
    lines = ["| " + " | ".join(escape_markdown(h) for h in header) + " |",
             "| " + " | ".join("---:" if r else "---" for r in right) + " |"]
    lines += ["| " + " | ".join(escape_markdown(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def fragment(func):
    """``st.fragment``, and after a rerun of the fragment alone the address is settled as after a page run
    (:func:`pages._url_state.after_fragment`): a fragment's callbacks write the address too."""
    @functools.wraps(func)
    def run(*args, **kwargs):
        result = func(*args, **kwargs)
        _url_state.after_fragment()
        return result
    return st.fragment(run)


def end_page() -> None:
    """What follows every page (``app.py``): the sidebar's "Export" panel and the check of the address."""
    _export.panel(t)
    _notice_unknown_query(st.session_state.get(_url_state.INITIAL))
    _url_state.finish(t)  # reruns at once when it clamped a value of the address: the notice waits for that run
    unknown = st.session_state.pop(_UNKNOWN, None)
    if unknown:
        from pages._guards import describe_unknown
        st.toast(t("This address has settings this page does not use; they were ignored:") + " "
                 + describe_unknown(unknown, lang=lang()), icon=":material/link_off:")


_UNKNOWN = "_url_unknown_keys"  # the address's keys no widget uses, until the run that shows them


def _notice_unknown_query(first_query) -> None:
    """Note the keys of the address (as opened) that no widget of this page uses; they are ignored."""
    from pages._guards import unknown_query_keys
    unknown = unknown_query_keys(first_query or (), set(st.session_state.keys()) | _url_state.MIRRORED)
    if unknown:
        st.session_state[_UNKNOWN] = unknown


def stop() -> None:
    """``st.stop()`` for a page that ends early on purpose: export and the address check still happen."""
    end_page()
    st.stop()


def fail(err: Exception, remedy: str) -> None:
    """Show a user-facing error with a remedy instead of a traceback."""
    st.error(f"{tr_message(str(err), lang())}\n\n{t(remedy)}")


def floor_notice(floored: bool) -> None:
    """After an EM run (``trace.floored``): say so when the variance floor had to be used."""
    if floored:
        st.warning(t("Variance floor used: a component collapsed onto (almost) a single point, so its variance "
                     "was held at 10⁻⁶ × the data's variance instead of shrinking to 0 — without the floor "
                     "log p(X|θ) would grow without bound. Try another start, fewer components K, or more data."),
                   icon=":material/vertical_align_bottom:")


def _leave_pages_folder_mode() -> None:
    """Make a deep link on a fresh server go through ``app.py``.

    Streamlit treats a folder named ``pages/`` next to the main script as its old (v1)
    multipage layout until some session has called ``st.navigation``: the first visitor
    of ``/em`` on a freshly started server gets ``pages/em.py`` run on its own — no
    language switch, no presenter mode, every file of ``pages/`` listed as a page. That
    mode is recognisable by Streamlit's ``_mpa_v1`` runner on the stack; leave it once
    (the flag is process-wide) and rerun, which now runs ``app.py`` on the same page.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # Streamlit internals moved: the mode switch is then Streamlit's own business
        return
    if not PagesManager.uses_pages_directory:
        return
    if not any(frame.function == "_mpa_v1" for frame in inspect.stack(0)):
        return
    PagesManager.uses_pages_directory = False
    st.rerun()


_leave_pages_folder_mode()
