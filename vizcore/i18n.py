"""One translation function for every user-facing string.

English text is the key: ``tr("Mean", "zh")`` looks the phrase up in the
table for that language and falls back to the English text when no
translation exists yet. Mathematical notation never goes through here.
Pure Python: importable from figure builders and the command line.
"""
from __future__ import annotations

import re

from .i18n_zh import ZH

LANGUAGES = ("en", "zh")

# English is the key and needs no table; vizcore/i18n_zh.py holds 简体中文.
_TABLES: dict[str, dict[str, str]] = {"zh": ZH}


def tr(text: str, lang: str = "en") -> str:
    """Return ``text`` in ``lang`` (English when no translation is known)."""
    if lang == "en":
        return text
    return _TABLES.get(lang, {}).get(text, text)


# vizcore's errors read "<name>: expected <what>, got <value>" (see vizcore/_validation.py).
_EXPECTED = re.compile(r"^(?P<name>[^:\n]{1,80}): expected (?P<what>.+?), got (?P<got>.*)$", re.S)


def tr_message(message: str, lang: str = "en") -> str:
    """A vizcore error message in ``lang``.

    A message with its own entry is looked up whole. Otherwise a message of the form
    ``"<name>: expected <what>, got <value>"`` is rebuilt from the template
    ``"{name}: expected {what}, got {got}"`` with ``name``, ``what`` and ``got`` each looked
    up (``what`` under ``"expected <what>"``); a part without an entry stays as it is, so
    the values (numbers, shapes, file contents) always come through unchanged.
    """
    if lang == "en":
        return message
    whole = tr(message, lang)
    if whole != message:
        return whole
    m = _EXPECTED.match(message)
    if not m:
        return message
    what = tr_numbered("expected " + m["what"], lang)
    what = m["what"] if what == "expected " + m["what"] else what
    return tr("{name}: expected {what}, got {got}", lang).format(
        name=tr_numbered(m["name"], lang), what=what, got=tr_numbered(m["got"], lang))


# a number as vizcore's messages write it: -1, 2.5, 1e+200, 5,000 (not the digits of a name such as x1 or gmm2d)
_NUMBER = re.compile(r"(?<![\w.])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")


def tr_numbered(text: str, lang: str = "en") -> str:
    """``text`` in ``lang``, its numbers kept as they are.

    A phrase with its own entry is looked up whole; otherwise its numbers are looked up as ``{0}``,
    ``{1}``, …: ``"row 3"`` under ``"row {0}"``, ``"11 heads in 10 tosses in row 3"`` under
    ``"{0} heads in {1} tosses in row {2}"``. Without an entry the text stays as it is.
    """
    whole = tr(text, lang)
    if whole != text or lang == "en":
        return whole
    numbers = _NUMBER.findall(text)
    if not numbers:
        return text
    slots = iter(range(len(numbers)))
    template = _NUMBER.sub(lambda _: "{%d}" % next(slots), text)
    found = tr(template, lang)
    return found.format(*numbers) if found != template else text
