"""The view in the address: what a URL asked for, what the page could use, and a notice for the rest.

Every keyed widget of every page is bound to the URL (``bind="query-params"``: the key is the
query parameter, defaults are left out). Streamlit ignores a value it cannot use (not an option,
not a number, outside the slider) and drops it from the address; the widget then shows its
default. This module adds, around one page run (``app.py``):

* :func:`begin` — on the first run of a session, remember the query string as it arrived;
  on the run after a correction, apply the clamped values;
* :func:`finish` — after the page ran, compare: a number outside a slider's or number
  input's range is clamped to the nearest end (one extra rerun), anything else that was
  dropped is reported. The notice (a toast) lists the parameters and what happened.

Keys no widget of the page uses are left to :func:`pages._guards.unknown_query_keys`.
Streamlit internals are used read-only and defensively: when they change, the notice is
simply not shown (the fallback to defaults is Streamlit's own and does not depend on this).
"""
from __future__ import annotations

import functools
import math
import time
import weakref

import streamlit as st

INITIAL = "_url_initial"      # the query string of the session's first run: {key: [values]}
PENDING = "_url_pending"      # {key: clamped value} to apply at the start of the next run
NOTICE = "_url_notice"        # [(key, value given, value used or None for the default)] to show after the run that applied them
CLAIMED = "_url_claimed"      # hand-mirrored keys (see mirror) written by this run's page
LAGGING = "_url_lagging"      # the browser's address lags a bound widget (found before the page ran)
SENT = "_url_sent"            # (the run, time.monotonic()) of the server's last write to the address
RECENT = 3.0                  # seconds: an earlier run's write this recent may reach the browser after its own
# State no widget holds (a frozen θ, a count of button presses), written to the address by hand.
MIRRORED = frozenset({"lvm_frozen", "vi_mf_n"})
WORDS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def _query_snapshot() -> dict[str, list[str]]:
    try:
        return {str(k): [str(v) for v in st.query_params.get_all(k)] for k in st.query_params}
    except Exception:  # noqa: BLE001 - a malformed query string must never break the page
        return {}


def begin() -> None:
    """Call before the page runs."""
    if "_url_seen" not in st.session_state:  # the session's first run: the address as it was opened
        st.session_state["_url_seen"] = True
        st.session_state[INITIAL] = _query_snapshot()
        _drop_non_finite()
    else:  # only the first run is checked (it may have ended early, e.g. waiting for an upload)
        st.session_state.pop(INITIAL, None)
        _adopt_browser_address()
    st.session_state[CLAIMED] = set()
    pending = st.session_state.pop(PENDING, None)
    if pending:
        for key, value in pending.items():
            st.session_state[key] = value


def _adopt_browser_address() -> None:
    """Make Streamlit's server-side copy of the address the one the browser sent with this rerun.

    Streamlit 1.67 does not refresh that copy on a rerun of the same page, so after quick
    successive changes (arrow keys on a slider) it can hold a bound widget's earlier value; the
    next write to the address (:func:`mirror`, or a callback that sets a bound widget) sends
    the whole copy back to the browser, and a copied link would then reopen an older view.
    Sends nothing itself (:func:`finish` sends the address if it lagged). Defensive: if Streamlit's internals
    change, this does nothing.
    """
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx
        ctx = get_script_run_ctx()
        if ctx is not None and isinstance(ctx.query_string, str):
            _internal_state().query_params.populate_from_query_string(ctx.query_string)
        # The copy now holds the widgets' values. If the browser's address did not, it must be sent after
        # the run: Streamlit sends a bound widget's new value only when it differs from this copy, so a
        # callback that set the widget (EM's step buttons, after the first click) would otherwise leave
        # the address behind.
        st.session_state[LAGGING] = _bound_params_follow_widgets()
    except Exception:  # noqa: BLE001 - the address is a convenience; the page works without it
        pass


def _bound_params_follow_widgets() -> bool:
    """Give every bound widget's parameter in the server-side copy of the address the widget's value.

    The browser's own address can lag too (it is sent with the rerun that the first of several quick
    changes started). Only parameters already in the address are touched (a widget at its default is
    left out of it). Returns whether anything changed.
    """
    from streamlit.runtime.state.query_params import _coerce_value_for_query_url
    ss = _internal_state()
    qp = ss.query_params
    metadata = ss._new_widget_state.widget_metadata
    changed = False
    for key, binding in list(qp._bindings_by_param.items()):
        md = metadata.get(binding.widget_id)
        if md is None or not qp.has_param(key) or key not in st.session_state:
            continue
        value = _coerce_value_for_query_url(md.serializer(st.session_state[key]), md.value_type)
        if qp._query_params.get(key) != value:
            qp.set_with_no_forward_msg(key, value)
            changed = True
    return changed


def _send_if_stale() -> None:
    """After a run (the page's, or a fragment's): send the address again if the browser's may be older than it.

    Two ways it can be, both after quick successive changes (an arrow key held on a slider):

    * the address the browser sent with this rerun lags behind a bound widget (found here, or by
      :func:`begin`);
    * an earlier run wrote the address (a callback that set a bound widget: elbo_gap's q following t, EM's
      step buttons) and its message reached the browser after the browser had already written a newer value
      and asked for this run. Streamlit's browser side then puts the whole older address back (t = 0.41 in
      the address while the slider and the page show 0.42), and nothing in this run would correct it.
      The server cannot tell whether that message arrived before or after, so it sends this run's
      address again whenever an earlier run wrote one within :data:`RECENT` seconds; the last run of a
      burst has the last word. An address the browser already has costs it no history entry.
    """
    try:
        run, sent = this_run(), st.session_state.get(SENT)
        recent = (sent is not None and run is not None and sent[0]() is not run
                  and time.monotonic() - sent[1] < RECENT)
        lagging = st.session_state.pop(LAGGING, False)
        if _bound_params_follow_widgets() or lagging or recent:
            _internal_state().query_params._send_query_param_msg()
    except Exception:  # noqa: BLE001 - the address is a convenience; the page works without it
        pass


def this_run():
    """What identifies the script run under way (the same object throughout one run), or None outside a run.
    Streamlit makes a new ``parallel_coordinator`` for every run of a session, the fragment runs too; keep it
    by a weak reference (``weakref.ref``), so that a stored run does not outlive its run."""
    ctx = _run_context()
    return ctx.parallel_coordinator if ctx is not None else None


def _run_context():
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    return get_script_run_ctx()


def _note_sends() -> None:
    """Note in the session when (and in which run) the server last wrote the address (see :func:`_send_if_stale`).

    Wraps Streamlit's ``QueryParams._send_query_param_msg``, through which every write to the address goes
    (``st.query_params``, a callback that sets a bound widget, a clamped value). A run is told apart by its
    ``ScriptRunContext.parallel_coordinator``, which Streamlit makes anew for every run. Defensive: if the
    internals change, nothing is wrapped and the address is only corrected by :func:`begin`.
    """
    try:
        from streamlit.runtime.state.query_params import QueryParams
        original = QueryParams._send_query_param_msg
        if getattr(original, "_vlb_noted", False):
            return

        @functools.wraps(original)
        def send(self) -> None:
            original(self)
            try:
                run = this_run()
                if run is not None:  # in the session's own state: st.session_state may stop the run here
                    _internal_state()[SENT] = (weakref.ref(run), time.monotonic())
            except Exception:  # noqa: BLE001 - the address is a convenience; the page works without it
                pass

        send._vlb_noted = True
        QueryParams._send_query_param_msg = send
    except Exception:  # noqa: BLE001
        pass


def after_fragment() -> None:
    """Call at the end of a fragment: in a rerun of the fragment alone, settle the address as a page run does."""
    try:
        ctx = _run_context()
        if ctx is not None and ctx.fragment_ids_this_run:
            _send_if_stale()
    except Exception:  # noqa: BLE001
        pass


def mirror(key: str, value: str | None) -> None:
    """Write state that no widget holds into the address (``None`` removes it); ``key`` is in :data:`MIRRORED`.

    Keys of :data:`MIRRORED` that the page did not write in a run are removed after it (:func:`finish`),
    so they do not follow the user to another page.
    """
    st.session_state.setdefault(CLAIMED, set()).add(key)
    try:
        if value is None:
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get(key) != value:
            st.query_params[key] = value
    except Exception:  # noqa: BLE001 - the address is a convenience; the page works without it
        pass


def mirrored(key: str) -> str | None:
    """The value of a hand-mirrored key in the address, or None."""
    try:
        value = st.query_params.get(key)
    except Exception:  # noqa: BLE001
        return None
    return value if isinstance(value, str) else None


def early_value(key: str, default, lo=None, hi=None, cast=float):
    """The value a bound widget drawn *later* in the script will take, for a figure drawn before it.

    Its value in session state; else, in a fresh session, the address's value when the widget will
    accept it (a number within [lo, hi]); else ``default``.
    """
    if key in st.session_state:
        return cast(st.session_state[key])
    try:
        v = cast(float(st.query_params.get(key)))
    except (TypeError, ValueError, OverflowError):
        return default
    if not math.isfinite(float(v)) or (lo is not None and v < lo) or (hi is not None and v > hi):
        return default
    return v


def _non_finite(text: str) -> bool:
    try:
        return not math.isfinite(float(text))
    except (TypeError, ValueError):
        return False


def _drop_non_finite() -> None:
    """Remove ``?key=1e999`` / ``inf`` / ``nan`` before any widget reads them.

    No widget of the app takes a non-finite number, and Streamlit 1.67's integer number input
    raises OverflowError on one (``int(float('inf'))``) instead of ignoring it. The check after
    the run still reports them (they are in the snapshot), as values replaced by defaults.
    """
    try:  # what bound widgets seed from (Streamlit keeps the address as opened apart from st.query_params)
        initial = _internal_state().query_params._initial_query_params
    except Exception:  # noqa: BLE001
        initial = {}
    for key in list(_query_snapshot()):
        try:
            if any(_non_finite(v) for v in st.query_params.get_all(key)):
                del st.query_params[key]
                initial.pop(key, None)
        except Exception:  # noqa: BLE001
            continue


def _internal_state():
    from streamlit.runtime.state import get_session_state
    ss = get_session_state()
    return getattr(ss, "_state", ss)


def _widget_metadata(inner, key: str):
    try:
        wid = inner.get_widget_id_from_key(key)
        return inner.get_widget_metadata(wid) if wid else None
    except Exception:  # noqa: BLE001
        return None


def _normal(v):
    """A comparable form of a parsed or serialised widget value (numbers as floats, lists as tuples)."""
    if isinstance(v, (list, tuple)):
        return tuple(_normal(x) for x in v)
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    return v


def _accepted(md, raw: list[str], current) -> bool | None:
    """True if the URL value is what the widget now holds; None if that cannot be told."""
    from streamlit.runtime.state.query_params import parse_url_param
    if len(raw) == 1:
        word = raw[0].strip().lower()
        if md.value_type == "string_value" and raw[0] == str(current):
            return True  # an option's own value (e.g. ?lang=zh) where the binding writes its label
        if md.value_type == "bool_value" and isinstance(current, bool) and word in WORDS:
            return WORDS[word] == current  # ?present=1 / yes / on, read by pages._common.settings
    value = raw[0] if len(raw) == 1 and not md.value_type.endswith("array_value") else raw
    try:
        parsed = parse_url_param(value, md.value_type)
    except Exception:  # noqa: BLE001 - not even parseable: certainly not accepted
        return False
    try:
        ser = md.serializer(current)
    except Exception:  # noqa: BLE001
        return None
    if _normal(parsed) == _normal(ser):
        return True
    if md.value_type == "double_array_value" and isinstance(ser, (list, tuple)) and isinstance(parsed, (list, tuple)):
        try:
            return len(ser) == len(parsed) and all(math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)
                                                   for a, b in zip(ser, parsed))
        except (TypeError, ValueError):
            return False
    return False


def _clamped(md, raw: list[str]):
    """A number outside a slider's or number input's range, clamped to the nearest end (else None)."""
    serde = getattr(md.deserializer, "__self__", None)
    lo, hi = getattr(serde, "min_value", None), getattr(serde, "max_value", None)
    if not isinstance(lo, (int, float)) or not isinstance(hi, (int, float)) or len(raw) != 1:
        return None
    if getattr(serde, "single_value", True) is False:
        return None
    try:
        v = float(raw[0])
    except ValueError:
        return None
    if not math.isfinite(v) or lo <= v <= hi:
        return None
    v = min(max(v, lo), hi)
    return int(round(v)) if isinstance(lo, int) and isinstance(hi, int) and not isinstance(lo, bool) else float(v)


def check(snapshot: dict[str, list[str]]) -> tuple[dict, list[tuple[str, str, str | None]]]:
    """``(clamped, problems)`` for a query string after the page ran: values to set, and what to report.

    Only keys that are widgets of this page are looked at.
    """
    inner = _internal_state()
    clamped, problems = {}, []
    for key, raw in snapshot.items():
        md = _widget_metadata(inner, key)
        if md is None or key not in st.session_state or getattr(md, "bind", "query-params") != "query-params":
            continue  # not a bound widget of this page: pages._guards reports unknown keys
        ok = _accepted(md, raw, st.session_state[key])
        if ok is not False:
            continue
        c = _clamped(md, raw)
        current = st.session_state[key]
        if c is not None and isinstance(current, int) and not isinstance(current, bool):
            c = int(round(c))
        shown = ",".join(raw)
        if c is not None:
            clamped[key] = c
            problems.append((key, shown, f"{c:g}"))
        else:
            problems.append((key, shown, None))
    return clamped, problems


def finish(t) -> None:
    """Call after the page ran (``t`` translates)."""
    claimed = st.session_state.get(CLAIMED, set())
    for key in MIRRORED - claimed:
        if key in st.query_params:
            mirror(key, None)
    _send_if_stale()
    notice = st.session_state.pop(NOTICE, None)
    snapshot = st.session_state.pop(INITIAL, None)
    if snapshot:
        try:
            clamped, problems = check(snapshot)
        except Exception:  # noqa: BLE001 - internals changed: no notice, defaults still apply
            clamped, problems = {}, []
        if clamped:
            st.session_state[PENDING] = clamped
            st.session_state[NOTICE] = problems
            st.rerun()
        notice = problems or notice
    if notice:
        from pages._guards import escape_markdown
        lines = [f"{escape_markdown(k, 60)} = {escape_markdown(given, 60)} → "
                 + (t("{value} (nearest allowed value)").format(value=escape_markdown(value, 20)) if value is not None
                    else t("default")) for k, given, value in notice[:6]]
        more = len(notice) - len(lines)
        st.toast(t("Some values in this address could not be used, so defaults (or the nearest allowed value) "
                   "were taken:") + "  \n" + "  \n".join(lines) + (f"  \n… (+{more})" if more > 0 else ""),
                 icon=":material/link_off:", duration="long")


_note_sends()
