"""Built-in data sets, CSV loading with validation, and synthetic data.

Built-in data sets (sources in ``vizcore/data/SOURCES.md``):

=====================  ========  ==============================================
name                   model     what
=====================  ========  ==============================================
``old_faithful``       gmm2d     272 eruptions: (duration min, waiting min)
``faithful_waiting``   gmm1d     the waiting times alone
``faithful_eruptions`` gmm1d     the eruption durations alone
``two_coins``          coins     5 sets of 10 tosses, heads 5, 9, 8, 4, 7
``genetic_linkage``    linkage   counts (125, 18, 20, 34)
=====================  ========  ==============================================

CSV layouts: gmm1d one numeric column; gmm2d two; coins two columns
``heads,tosses``; linkage four counts, either in one row or one per line.
A header row is optional.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .models import get_model

DATA_DIR = Path(__file__).parent / "data"
MAX_CSV_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Dataset:
    name: str
    model: str
    title: str
    file: str
    columns: tuple[str, ...]
    source: str


DATASETS: dict[str, Dataset] = {d.name: d for d in (
    Dataset("old_faithful", "gmm2d", "Old Faithful (eruption minutes, waiting minutes)", "old_faithful.csv",
            ("eruptions", "waiting"), "R datasets::faithful (Härdle 1991; Azzalini & Bowman 1990)"),
    Dataset("faithful_waiting", "gmm1d", "Old Faithful waiting times (minutes)", "old_faithful.csv",
            ("waiting",), "R datasets::faithful (Härdle 1991; Azzalini & Bowman 1990)"),
    Dataset("faithful_eruptions", "gmm1d", "Old Faithful eruption durations (minutes)", "old_faithful.csv",
            ("eruptions",), "R datasets::faithful (Härdle 1991; Azzalini & Bowman 1990)"),
    Dataset("two_coins", "coins", "Two coins: five sets of ten tosses", "two_coins.csv",
            ("heads", "tosses"), "Do & Batzoglou, Nature Biotechnology 26 (2008)"),
    Dataset("genetic_linkage", "linkage", "Genetic linkage counts (125, 18, 20, 34)", "genetic_linkage.csv",
            ("y1", "y2", "y3", "y4"), "Dempster, Laird & Rubin, JRSS B 39 (1977)"),
)}


def datasets_for(model: str) -> list[str]:
    """Names of the built-in data sets that fit ``model``."""
    get_model(model)
    return [d.name for d in DATASETS.values() if d.model == model]


@lru_cache(maxsize=None)
def _load(name: str) -> np.ndarray:
    d = DATASETS[name]
    with open(DATA_DIR / d.file, newline="") as fh:
        rows = list(csv.DictReader(fh))
    arr = np.array([[float(r[c]) for c in d.columns] for r in rows])
    arr = arr[:, 0] if arr.shape[1] == 1 else arr
    arr.setflags(write=False)
    return arr


def load_dataset(name: str) -> np.ndarray:
    """The built-in data set ``name`` as a read-only array in its model's layout."""
    if name not in DATASETS:
        raise ValueError(f"dataset: expected one of {sorted(DATASETS)}, got {name!r}")
    return _load(name)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_csv(source, model: str) -> np.ndarray:
    """Read and validate a CSV for ``model`` from a path, bytes or text.

    Raises ValueError saying what is wrong and in which row (rows counted as in a
    spreadsheet, the header being row 1 when there is one).
    """
    m = get_model(model)
    if isinstance(source, (bytes, bytearray)):
        raw = bytes(source)
    elif isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and "," not in source
                                      and Path(source).suffix.lower() in (".csv", ".txt")):
        try:
            path = Path(source)
            if path.stat().st_size > MAX_CSV_BYTES:
                raise ValueError(f"file: expected at most {MAX_CSV_BYTES // 2**20} MB, got {path.stat().st_size / 2**20:.1f} MB")
            raw = path.read_bytes()
        except OSError as err:
            raise ValueError(f"file: cannot read {str(source)!r} ({err.strerror}); check the path") from None
    elif isinstance(source, str):
        raw = source.encode()
    else:
        raise ValueError(f"source: expected a path, bytes or text, got {type(source).__name__}")
    if len(raw) > MAX_CSV_BYTES:
        raise ValueError(f"file: expected at most {MAX_CSV_BYTES // 2**20} MB, got {len(raw) / 2**20:.1f} MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("file: expected UTF-8 text (a CSV saved as UTF-8), got bytes that are not UTF-8") from None
    rows = [r for r in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in r)]
    if not rows:
        raise ValueError("file: expected rows of numbers, got an empty file")
    first = 1
    if not any(_is_number(c) for c in rows[0]):  # a header has no numbers; a typo in row 1 is an error
        rows, first = rows[1:], 2
        if not rows:
            raise ValueError("file: expected rows of numbers below the header, got a header only")
    ncol = len(m.data_columns)
    one_per_line = m.name == "linkage" and len(rows) == 4 and all(len(r) == 1 for r in rows)
    expected = 1 if one_per_line else ncol
    values = []
    for i, r in enumerate(rows):
        cells = [c.strip() for c in r]
        if len(cells) != expected:
            raise ValueError(
                f"row {i + first}: expected {ncol} column(s) {', '.join(m.data_columns)} "
                f"for model {m.name}, got {len(cells)}"
            )
        try:
            nums = [float(c) for c in cells]
        except ValueError:
            bad = next(c for c in cells if not _is_number(c))
            raise ValueError(f"row {i + first}: expected numbers, got {bad[:30]!r}") from None
        if not all(np.isfinite(nums)):
            raise ValueError(f"row {i + first}: expected finite numbers, got {', '.join(cells)[:60]}")
        values.append(nums)
    arr = np.array(values, dtype=float)
    if one_per_line:
        arr = arr.T
    if arr.shape[1] == 1 and m.name == "gmm1d":
        arr = arr[:, 0]
    try:
        return m.validate_data(arr)
    except ValueError as err:  # count rows as the file does (the header, if any, is row 1)
        raise ValueError(re.sub(r"row (\d+)", lambda r: f"row {int(r.group(1)) + first - 1}", str(err))) from None


def synthetic(model: str, params, n_samples: int, seed: int, **options):
    """Samples (x, z) from ``model`` at ``params`` with ``np.random.default_rng(seed)``.

    ``options`` go to the model's ``sample`` (for ``coins``: ``tosses`` per set, default 10).
    """
    m = get_model(model)
    return m.sample(m.make_params(params), n_samples, np.random.default_rng(seed), **options)
