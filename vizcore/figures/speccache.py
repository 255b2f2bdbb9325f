"""Build each figure once: finished plotly specs memoised on what the figure is drawn from.

Building a plotly figure is most of a rerun's work (graph objects validate every property,
arrays are checked and base64-encoded), yet most charts on a page do not change when one
slider moves. :class:`SpecCache` keeps the finished spec (the ``dict`` Streamlit serialises)
under a fingerprint of the builder and its arguments, so a chart is built again only when
something it is drawn from has changed. The cache is shared by every session of a process:
a spec is a pure function of its inputs (the builders in :mod:`vizcore.figures` are pure),
so a class of students on the same settings builds each chart once.

* :func:`fingerprint` hashes plain data (numbers, strings, numpy arrays, tuples, lists,
  dicts, dataclasses, enums) by value, with its type, and refuses anything else, so a
  figure drawn from an object it cannot see into is simply built every time;
* :class:`SpecCache` is a thread-safe LRU bounded by the size of the specs it holds.

No streamlit here: the page helper (``pages/_common.show``) decides how a spec is styled for
its audience and passes the style as part of the key.
"""
from __future__ import annotations

import dataclasses
import enum
import hashlib
import threading
from collections import OrderedDict
from typing import Any, Callable

import numpy as np


class Unfingerprintable(TypeError):
    """An argument whose value :func:`fingerprint` cannot see (the figure is then not cached)."""


def _feed(h, obj: Any, depth: int = 0) -> None:
    if depth > 64:
        raise Unfingerprintable("nested too deeply")
    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes)):
        # the type is part of the key: 1, 1.0 and True draw differently ("1" vs "1.0" on a label)
        h.update(f"{type(obj).__name__}:{obj!r};".encode())
    elif isinstance(obj, np.ndarray):
        h.update(f"nd:{obj.dtype.str}:{obj.shape};".encode())
        if obj.dtype.hasobject:
            for item in obj.ravel().tolist():
                _feed(h, item, depth + 1)
        else:
            h.update(np.ascontiguousarray(obj).tobytes())
    elif isinstance(obj, np.generic):
        h.update(f"np:{obj.dtype.str}:{obj.item()!r};".encode())
    elif isinstance(obj, enum.Enum):
        h.update(f"enum:{type(obj).__qualname__}.{obj.name};".encode())
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        h.update(f"dc:{type(obj).__module__}.{type(obj).__qualname__}(".encode())
        for f in dataclasses.fields(obj):
            h.update(f.name.encode() + b"=")
            _feed(h, getattr(obj, f.name), depth + 1)
        h.update(b")")
    elif isinstance(obj, (tuple, list)):
        # namedtuples keep their type name (two with equal fields but different meaning differ)
        h.update(f"{type(obj).__qualname__}[{len(obj)}](".encode())
        for item in obj:
            _feed(h, item, depth + 1)
        h.update(b")")
    elif isinstance(obj, dict):
        h.update(f"dict[{len(obj)}](".encode())
        for k, v in obj.items():
            _feed(h, k, depth + 1)
            _feed(h, v, depth + 1)
        h.update(b")")
    elif isinstance(obj, (set, frozenset)):
        h.update(f"set[{len(obj)}](".encode())
        for item in sorted(obj, key=repr):
            _feed(h, item, depth + 1)
        h.update(b")")
    else:
        raise Unfingerprintable(f"cannot fingerprint a {type(obj).__qualname__}")


def fingerprint(builder: Callable, args: tuple = (), kwargs: dict | None = None, style: Any = None) -> bytes:
    """A 20-byte digest of ``builder(*args, **kwargs)`` drawn in ``style``, by value.

    Equal inputs give equal digests (numpy arrays by dtype, shape and bytes; dataclasses field by
    field); any difference in a value, a type or a keyword gives another. Raises
    :class:`Unfingerprintable` for an argument that is not plain data.
    """
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{builder.__module__}.{builder.__qualname__};".encode())
    _feed(h, tuple(args))
    _feed(h, dict(sorted((kwargs or {}).items())))
    _feed(h, style)
    return h.digest()


_SHARED: set[int] = set()


def mark_shared(obj) -> None:
    """``obj`` (kept alive elsewhere for the whole process) is one object in many specs: :func:`spec_size`
    counts it as nothing (e.g. the default template the specs written as plotly JSON share)."""
    _SHARED.add(id(obj))


def spec_size(spec: Any) -> int:
    """Approximate bytes of a spec: the length of its strings (base64 arrays dominate) plus 8 per number.
    An object marked with :func:`mark_shared` is not counted (nor walked)."""
    stack, total = [spec], 0
    while stack:
        node = stack.pop()
        if id(node) in _SHARED:
            continue
        if isinstance(node, dict):
            stack.extend(node.values())
            total += 16 * len(node)
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
        elif isinstance(node, str):
            total += len(node)
        elif isinstance(node, np.ndarray):
            total += node.nbytes
        else:
            total += 8
    return total


class SpecCache:
    """A thread-safe LRU of finished specs, bounded by their total size (:func:`spec_size`).

    Specs are shared, never copied: whoever gets one must not change it (Streamlit only reads it
    to serialise it). A spec larger than a quarter of the budget is not kept.
    """

    def __init__(self, max_bytes: int = 64 * 2 ** 20):
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[bytes, tuple[dict, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        return self._bytes

    def get(self, key: bytes) -> dict | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, key: bytes, spec: dict) -> dict:
        size = spec_size(spec)
        if size > self.max_bytes // 4:
            return spec
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (spec, size)
            self._bytes += size
            while self._bytes > self.max_bytes and self._items:
                _, (_, s) = self._items.popitem(last=False)
                self._bytes -= s
        return spec

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
            self.hits = self.misses = 0

    def get_or_build(self, builder: Callable, args: tuple, kwargs: dict, style: Any,
                     finish: Callable[[Any], dict]) -> dict:
        """The spec of ``finish(builder(*args, **kwargs))``: from the cache, or built and kept.

        ``finish`` turns the built figure into its spec for ``style`` (part of the key). When an
        argument cannot be fingerprinted the figure is built and nothing is kept.
        """
        try:
            key = fingerprint(builder, args, kwargs, style)
        except Unfingerprintable:
            return finish(builder(*args, **kwargs))
        spec = self.get(key)
        if spec is None:
            spec = self.put(key, finish(builder(*args, **kwargs)))
        return spec
