"""Guards at the app's edges: uploaded files and query strings (pure functions, no streamlit).

* :func:`parse_upload` turns the bytes of an uploaded CSV into data, or into one
  message saying what is wrong and how to fix it (never an exception);
* :func:`escape_markdown` makes user-supplied text (a cell of a CSV, a file name)
  display literally in ``st.error``/``st.caption``, which render Markdown;
* :func:`unknown_query_keys` lists the keys of a URL's query string that no widget
  of the page uses, so that the app can say it ignored them.

Nothing here renders anything: the callers in ``pages/`` and ``app.py`` do.
"""
from __future__ import annotations

import re

import numpy as np

import vizcore as vc
from vizcore.datasets import MAX_CSV_BYTES
from vizcore.i18n import tr, tr_message

MAX_UPLOAD_ROWS = 5_000       # more rows make the EM page slow (every restart and curve costs O(N))
MAX_ABS_VALUE = 1e12          # beyond this, squared distances lose all precision (or overflow)
MIN_ROWS = {"gmm1d": 2, "gmm2d": 2, "coins": 2, "linkage": 1}
STREAMLIT_QUERY_KEYS = frozenset({"embed", "embed_options"})  # Streamlit's own query parameters

LAYOUTS = {
    "gmm1d": "one column of numbers, one data point per row (e.g. 72.5)",
    "gmm2d": "two columns of numbers x1,x2, one data point per row (e.g. 3.6,79)",
    "coins": "two columns heads,tosses with whole numbers, heads ≤ tosses (e.g. 5,10)",
    "linkage": "four whole counts y1,y2,y3,y4 in one row (e.g. 125,18,20,34) or one per line",
}

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:&=\"'])")


def escape_markdown(text: str, limit: int = 400) -> str:
    """``text`` with every Markdown/HTML-significant character backslash-escaped, on one line.

    Streamlit renders Markdown in ``st.error``, ``st.caption``, ``st.toast``; raw HTML
    is never enabled in this app, and escaping also stops links, images, emoji
    short codes, colour directives and LaTeX ($) built from user text.
    """
    text = str(text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = re.sub(r"[\r\n\t\x00-\x1f\x7f]+", " ", text)
    return _MD_SPECIAL.sub(r"\\\1", text)


def unescape_markdown(text: str) -> str:
    """The inverse of :func:`escape_markdown` (for tests and logs)."""
    return re.sub(r"\\(.)", r"\1", text)


def safe_name(name, limit: int = 60) -> str:
    """A file name for display: letters, digits, space, dot, dash and underscore only."""
    cleaned = re.sub(r"[^\w .\-]", "_", str(name or ""), flags=re.UNICODE).strip() or "upload.csv"
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _remedy(message: str, model_name: str, lang: str = "en") -> str:
    """How to fix the file, in ``lang``, chosen from the English ``message``."""
    layout = tr(LAYOUTS[model_name], lang)
    m = message.lower()
    if "utf-8" in m:
        return tr("Save the file as “CSV UTF-8” (in a spreadsheet: Save as → CSV UTF-8) and upload it again.", lang)
    if " mb" in m:
        return tr("Upload at most {mb} MB: keep fewer rows or fewer decimals.", lang).format(mb=MAX_CSV_BYTES // 2**20)
    if "empty" in m or "header only" in m:
        return tr("Add rows of data below the header: {layout}.", lang).format(layout=layout)
    if "column" in m:
        return tr("Give every row the same columns, separated by commas: {layout}.", lang).format(layout=layout)
    if "finite" in m:
        return tr("Replace NaN, infinity and numbers too large for a float (such as 1e400) by ordinary numbers.", lang)
    if "expected numbers" in m:
        return tr("Replace that cell by a number, with a dot as the decimal point (72.5, not 72,5 or text).", lang)
    if "zeros" in m:
        return tr("Give every row at least one count above 0: {layout}.", lang).format(layout=layout)
    if "heads" in m or "whole" in m or "≥ 0" in m or "zero" in m or "count" in m:
        return tr("Counts must be whole numbers ≥ 0: {layout}.", lang).format(layout=layout)
    return _check_layout(model_name, lang)


def _check_layout(model_name: str, lang: str) -> str:
    return tr("Check the file against the expected layout: {layout}.", lang).format(layout=tr(LAYOUTS[model_name], lang))


def _too_many(rows: int, lang: str) -> str:
    return (tr("file: expected at most {most} rows, got {rows}", lang).format(most=f"{MAX_UPLOAD_ROWS:,}", rows=f"{rows:,}")
            + "  \n" + tr("Upload a random sample of at most {most} rows; the pages redraw every curve from all the "
                          "data at each move.", lang).format(most=f"{MAX_UPLOAD_ROWS:,}"))


def parse_upload(raw: bytes, model_name: str, lang: str = "en") -> tuple[np.ndarray | None, str | None]:
    """Read an uploaded CSV for ``model_name``: ``(data, None)`` or ``(None, message)``.

    The message says what is wrong and how to fix it, in ``lang`` (the values from the file come
    through as they are); it is Markdown-escaped (safe to pass to ``st.error``). Beyond
    :func:`vizcore.read_csv` the app asks for at least two rows for a mixture, at most
    :data:`MAX_UPLOAD_ROWS` rows and values within ±:data:`MAX_ABS_VALUE`.
    """
    vc.get_model(model_name)  # an unknown model is a programming error, not a user's
    try:
        if not isinstance(raw, (bytes, bytearray)):
            raise ValueError(f"file: expected the bytes of a CSV file, got {type(raw).__name__}")
        raw = bytes(raw)
        if len(raw) <= MAX_CSV_BYTES:  # count the rows before parsing them (a parse of 10⁶ rows takes ~30 s)
            rows = sum(1 for line in raw.splitlines() if line.strip(b" \t,;\xef\xbb\xbf"))
            if rows > MAX_UPLOAD_ROWS + 1:  # + 1: a header
                return None, _too_many(rows, lang)
        x = vc.read_csv(raw, model_name)
    except ValueError as err:
        msg = str(err)  # translated after the remedy is chosen, escaped after it is translated
        return None, f"{escape_markdown(tr_message(msg, lang))}  \n{_remedy(msg, model_name, lang)}"
    except Exception as err:  # noqa: BLE001 - whatever the parser missed: a message, not a traceback
        return None, (tr("file: could not be read as CSV ({error})", lang).format(
                      error=escape_markdown(str(err) or type(err).__name__, 120))
                      + "  \n" + _check_layout(model_name, lang))
    rows = x.shape[0]
    if rows < MIN_ROWS[model_name]:
        return None, (tr("file: expected at least {least} rows of data, got {rows}", lang).format(
                      least=MIN_ROWS[model_name], rows=rows) + "  \n"
                      + tr("A mixture needs several data points to say anything; add rows: {layout}.", lang).format(
                          layout=tr(LAYOUTS[model_name], lang)))
    if rows > MAX_UPLOAD_ROWS:
        return None, _too_many(rows, lang)
    big = float(np.max(np.abs(x)))
    if big > MAX_ABS_VALUE:
        return None, (tr("file: expected values between −{most} and {most}, got {got}", lang).format(
                      most=f"{MAX_ABS_VALUE:.0e}", got=f"{big:.3g}") + "  \n"
                      + tr("Rescale the column (e.g. divide by 1000: thousands instead of units); the shapes of the "
                           "curves do not change.", lang))
    x = np.array(x, dtype=float)
    x.setflags(write=False)
    return x, None


def unknown_query_keys(query_keys, known_keys) -> list[str]:
    """Keys of the query string that no widget uses: ``set(query) − known − Streamlit's own``, sorted."""
    known = {str(k) for k in known_keys} | STREAMLIT_QUERY_KEYS
    return sorted({str(k) for k in query_keys} - known)


def describe_unknown(keys, limit: int = 5, lang: str = "en") -> str:
    """A safe one-line summary of ignored query keys: plausible names listed, anything else only counted."""
    plain = [k for k in keys if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,39}", k)]
    other = len(keys) - len(plain)
    parts = [escape_markdown(k) for k in plain[:limit]]
    if len(plain) > limit:
        other += len(plain) - limit
    if other:
        parts.append((tr("{n} others", lang) if other > 1 else tr("{n} other", lang)).format(n=other))
    return ", ".join(parts)
