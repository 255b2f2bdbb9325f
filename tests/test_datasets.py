"""Built-in data sets, CSV reading with validation, synthetic data."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import vizcore as vc
from vizcore import datasets as vds

SHARED_FAITHFUL = Path("/work/shared/data/old_faithful.csv")
PACKAGE_DATA = Path(vds.__file__).parent / "data"


# ---------------------------------------------------------------------------------
# built-in data sets
# ---------------------------------------------------------------------------------
def _read_faithful_independently(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["eruptions", "waiting"]
    return np.array([[float(a), float(b)] for a, b in rows[1:]])


def test_old_faithful_shape_and_first_row():
    x = vc.load_dataset("old_faithful")
    assert x.shape == (272, 2)
    assert tuple(x[0]) == (3.6, 79.0)  # R datasets::faithful, first row
    assert tuple(x[1]) == (1.8, 54.0)
    # R's summary(faithful): eruptions 1.600..5.100, waiting 43..96
    assert x[:, 0].min() == 1.6 and x[:, 0].max() == 5.1
    assert x[:, 1].min() == 43 and x[:, 1].max() == 96
    np.testing.assert_array_equal(vc.load_dataset("faithful_eruptions"), x[:, 0])
    np.testing.assert_array_equal(vc.load_dataset("faithful_waiting"), x[:, 1])
    assert vc.load_dataset("faithful_waiting").shape == (272,)


def test_old_faithful_matches_rs_published_statistics():
    """All 272 rows against R's own numbers for datasets::faithful (colMeans, sd, median, the last row):
    eruptions 3.487783, 1.141371, 4; waiting 70.89706, 13.59497, 76; row 272 is (4.467, 74)."""
    x = vc.load_dataset("old_faithful")
    mean, sd = x.mean(0), x.std(0, ddof=1)
    assert abs(mean[0] - 3.487783) < 5e-7 and abs(mean[1] - 70.89706) < 5e-6  # to R's printed digits
    assert abs(sd[0] - 1.141371) < 5e-7 and abs(sd[1] - 13.59497) < 5e-6
    assert np.median(x, 0).tolist() == [4.0, 76.0]
    assert tuple(x[-1]) == (4.467, 74.0)


# The shared copy is outside this repository (../shared/data): compared where it exists, as on the team's
# machines; a fresh clone has R's published statistics above.
@pytest.mark.skipif(not SHARED_FAITHFUL.exists(), reason="the team's shared copy (../shared/data) is not here")
def test_old_faithful_equals_shared_csv():
    ref = _read_faithful_independently(SHARED_FAITHFUL)
    assert ref.shape == (272, 2)
    np.testing.assert_array_equal(vc.load_dataset("old_faithful"), ref)


def test_two_coins_do_batzoglou():
    x = vc.load_dataset("two_coins")
    assert x.shape == (5, 2)
    # Do & Batzoglou (2008), Fig. 1: heads 5, 9, 8, 4, 7 in sets of ten tosses
    np.testing.assert_array_equal(x[:, 0], [5, 9, 8, 4, 7])
    np.testing.assert_array_equal(x[:, 1], [10] * 5)
    with open(PACKAGE_DATA / "two_coins.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["sequence"] for r in rows] == ["HTTTHHTHTH", "HHHHTHHHHH", "HTHHHHHTHH", "HTHTTTHHTT", "THHHTHHHTH"]
    for r, (h, t) in zip(rows, x):
        assert r["sequence"].count("H") == h
        assert len(r["sequence"]) == t


def test_genetic_linkage_dlr():
    y = vc.load_dataset("genetic_linkage")
    assert y.shape == (1, 4)
    np.testing.assert_array_equal(y[0], [125, 18, 20, 34])  # DLR 1977 §1, 197 animals
    assert y.sum() == 197


@pytest.mark.parametrize("name", sorted(vc.DATASETS))
def test_every_dataset_validates_for_its_model_and_is_read_only(name):
    d = vc.DATASETS[name]
    x = vc.load_dataset(name)
    m = vc.get_model(d.model)
    np.testing.assert_array_equal(m.validate_data(x), x)
    assert name in vc.datasets_for(d.model)
    assert isinstance(d.title, str) and d.title
    with pytest.raises(ValueError):
        x[0] = 0  # read-only: a page cannot corrupt the cached array


def test_datasets_for_lists_by_model():
    assert set(vc.datasets_for("gmm1d")) == {"faithful_waiting", "faithful_eruptions"}
    assert vc.datasets_for("gmm2d") == ["old_faithful"]
    assert vc.datasets_for("coins") == ["two_coins"]
    assert vc.datasets_for("linkage") == ["genetic_linkage"]
    with pytest.raises(ValueError, match="model"):
        vc.datasets_for("nope")


def test_unknown_dataset_is_a_value_error():
    with pytest.raises(ValueError, match="old_faithful"):
        vc.load_dataset("old_faithfull")


# ---------------------------------------------------------------------------------
# read_csv: good input
# ---------------------------------------------------------------------------------
def test_read_csv_gmm1d_with_and_without_header():
    np.testing.assert_array_equal(vc.read_csv("waiting\n79\n54\n74\n", "gmm1d"), [79, 54, 74])
    np.testing.assert_array_equal(vc.read_csv("79\n54\n74\n", "gmm1d"), [79, 54, 74])
    assert vc.read_csv("79\n54\n", "gmm1d").shape == (2,)


def test_read_csv_gmm2d_bytes_crlf_bom_and_blank_lines():
    raw = "\ufefferuptions,waiting\r\n3.6,79\r\n\r\n1.8, 54\r\n".encode("utf-8")
    np.testing.assert_array_equal(vc.read_csv(raw, "gmm2d"), [[3.6, 79], [1.8, 54]])


def test_read_csv_coins_and_linkage_layouts():
    np.testing.assert_array_equal(vc.read_csv("heads,tosses\n5,10\n9,10\n", "coins"), [[5, 10], [9, 10]])
    np.testing.assert_array_equal(vc.read_csv("5,10\n9,10\n", "coins"), [[5, 10], [9, 10]])
    np.testing.assert_array_equal(vc.read_csv("y1,y2,y3,y4\n125,18,20,34\n", "linkage"), [[125, 18, 20, 34]])
    np.testing.assert_array_equal(vc.read_csv("125\n18\n20\n34\n", "linkage"), [[125, 18, 20, 34]])


def test_read_csv_from_path_str_and_path(tmp_path):
    f = tmp_path / "data.csv"
    f.write_text("x\n1.5\n2.5\n")
    np.testing.assert_array_equal(vc.read_csv(f, "gmm1d"), [1.5, 2.5])
    np.testing.assert_array_equal(vc.read_csv(str(f), "gmm1d"), [1.5, 2.5])


def test_read_csv_round_trips_the_shared_file():
    if not SHARED_FAITHFUL.exists():
        pytest.skip("shared Old Faithful CSV not present")
    np.testing.assert_array_equal(vc.read_csv(SHARED_FAITHFUL, "gmm2d"), _read_faithful_independently(SHARED_FAITHFUL))


# ---------------------------------------------------------------------------------
# read_csv: the bad-input catalogue
# ---------------------------------------------------------------------------------
def _error(source, model):
    with pytest.raises(ValueError) as info:
        vc.read_csv(source, model)
    return str(info.value)


@pytest.mark.parametrize("source", ["", "\n\n", "  ,  \n", b""])
def test_read_csv_empty(source):
    assert "empty" in _error(source, "gmm1d")


def test_read_csv_header_only():
    assert "header" in _error("eruptions,waiting\n", "gmm2d")


@pytest.mark.parametrize("text,row,bad", [
    ("x\n1.0\n2.0\nabc\n", 4, "abc"),   # header is row 1
    ("1.0\n2.0\nabc\n", 3, "abc"),
    ("a,b\n3.6,79\n1.8,fifty\n", 3, "fifty"),
])
def test_read_csv_text_in_numeric_column(text, row, bad):
    msg = _error(text, "gmm2d" if "," in text else "gmm1d")
    assert f"row {row}" in msg and bad in msg and "number" in msg


def test_read_csv_typo_in_first_data_row_is_not_swallowed_as_header():
    # '3.6,7g' is a data row with a typo, not a header: read_csv should say so instead of dropping it
    msg = _error("3.6,7g\n1.8,54\n3.3,74\n", "gmm2d")
    assert "row 1" in msg and "7g" in msg


@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-inf", "Infinity"])
def test_read_csv_non_finite(cell):
    msg = _error(f"x\n1\n{cell}\n", "gmm1d")
    assert "row 3" in msg and "finite" in msg


@pytest.mark.parametrize("raw", [b"x\n1\n\xff\xfe2\n", "x\n1\n2\n".encode("utf-16"), "café\n1\n".encode("latin-1")])
def test_read_csv_not_utf8(raw):
    assert "UTF-8" in _error(raw, "gmm1d")


@pytest.mark.parametrize("text,model,row,want,got", [
    ("1,2,3\n4,5,6\n", "gmm2d", 1, 2, 3),
    ("a,b\n1,2\n3\n", "gmm2d", 3, 2, 1),
    ("1,2\n3,4\n", "gmm1d", 1, 1, 2),
    ("heads,tosses\n5,10\n9,10,1\n", "coins", 3, 2, 3),
    ("125,18,20\n", "linkage", 1, 4, 3),
])
def test_read_csv_wrong_number_of_columns(text, model, row, want, got):
    msg = _error(text, model)
    assert f"row {row}" in msg and f"expected {want} column" in msg and f"got {got}" in msg


def test_read_csv_heads_above_tosses_without_header():
    msg = _error("5,10\n11,10\n", "coins")
    assert "heads" in msg and "row 2" in msg and "11" in msg


def test_read_csv_heads_above_tosses_with_header_counts_rows_like_a_spreadsheet():
    # read_csv's docstring: rows counted as in a spreadsheet, the header being row 1
    msg = _error("heads,tosses\n5,10\n11,10\n", "coins")
    assert "heads" in msg and "row 3" in msg


@pytest.mark.parametrize("text,model,what", [
    ("-1,10\n", "coins", "-1"),
    ("2.5,10\n", "coins", "2.5"),
    ("3,-10\n", "coins", "-10"),
    ("125,18,-20,34\n", "linkage", "-20"),
    ("125,18.5,20,34\n", "linkage", "18.5"),
])
def test_read_csv_negative_or_fractional_counts(text, model, what):
    msg = _error(text, model)
    assert what in msg and "row 1" in msg and ("whole" in msg or "≥ 0" in msg)


def test_read_csv_linkage_rejects_row_of_zeros():
    assert "zero" in _error("0,0,0,0\n", "linkage")


def test_read_csv_too_large_bytes_and_file(tmp_path):
    big = b"1\n" * (vds.MAX_CSV_BYTES // 2 + 1)
    assert len(big) > 5 * 1024 * 1024
    assert "MB" in _error(big, "gmm1d")
    f = tmp_path / "big.csv"
    f.write_bytes(big)
    assert "MB" in _error(f, "gmm1d")
    assert "MB" in _error(str(f), "gmm1d")


def test_read_csv_missing_file_and_wrong_type(tmp_path):
    assert "path" in _error(tmp_path / "missing.csv", "gmm1d")
    assert "source" in _error(12345, "gmm1d")
    with pytest.raises(ValueError, match="model"):
        vc.read_csv("1\n2\n", "no-such-model")


# ---------------------------------------------------------------------------------
# synthetic
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("model,params", [
    ("gmm1d", dict(weights=[0.3, 0.7], means=[-2, 3], variances=[1, 0.5])),
    ("gmm2d", dict(weights=[0.5, 0.5], means=[[0, 0], [3, 3]], covariances=[[[1, 0.2], [0.2, 1]], [[0.5, 0], [0, 2]]])),
    ("coins", dict(weights=[0.5, 0.5], heads_probs=[0.2, 0.8])),
    ("linkage", dict(theta=[0.6])),
])
def test_synthetic_is_reproducible_with_a_seed(model, params):
    x1, z1 = vc.synthetic(model, params, 200, seed=42)
    x2, z2 = vc.synthetic(model, params, 200, seed=42)
    x3, z3 = vc.synthetic(model, params, 200, seed=43)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(z1, z2)
    assert not (np.array_equal(x1, x3) and np.array_equal(z1, z3))
    m = vc.get_model(model)
    m.validate_data(x1)
    # what was sampled fits the model: every point has positive probability
    assert np.isfinite(vc.log_marginal(m, x1, m.make_params(params)))


def test_synthetic_follows_the_parameters():
    # large-sample check with independent statistics (the law of large numbers, not the code's output)
    x, z = vc.synthetic("gmm1d", dict(weights=[0.25, 0.75], means=[-5, 5], variances=[1, 4]), 40000, seed=1)
    assert abs(np.mean(z == 0) - 0.25) < 0.01
    assert abs(x[z == 0].mean() + 5) < 0.05 and abs(x[z == 1].var() - 4) < 0.15
    y, zl = vc.synthetic("linkage", dict(theta=[0.6]), 100000, seed=2)
    probs = np.array([0.5 + 0.6 / 4, 0.4 / 4, 0.4 / 4, 0.6 / 4])
    np.testing.assert_allclose(y[0] / 100000, probs, atol=0.005)
    assert 0 <= zl[0] <= y[0, 0]


def test_synthetic_bad_params_raise():
    with pytest.raises(ValueError, match="weights"):
        vc.synthetic("gmm1d", dict(weights=[0.3, 0.3], means=[0, 1], variances=[1, 1]), 10, seed=0)
    with pytest.raises(ValueError, match="variances"):
        vc.synthetic("gmm1d", dict(weights=[0.5, 0.5], means=[0, 1], variances=[1, 0]), 10, seed=0)


# ---------------------------------------------------------------------------------
# read_csv: more of the catalogue (overflow, one row, 10^6 rows)
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["1e400", "-1e400", "1e309", "9" * 400])
def test_read_csv_overflowing_numbers_are_not_finite(cell):
    # float("1e400") is inf: the message names the row and says "finite", never a traceback
    msg = _error(f"x\n1\n{cell}\n", "gmm1d")
    assert "row 3" in msg and "finite" in msg


def test_read_csv_largest_finite_numbers_are_read():
    np.testing.assert_array_equal(vc.read_csv("1e308\n-1e308\n", "gmm1d"), [1e308, -1e308])


@pytest.mark.parametrize("text,model,shape", [
    ("x\n72.5\n", "gmm1d", (1,)),
    ("3.6,79\n", "gmm2d", (1, 2)),
    ("heads,tosses\n5,10\n", "coins", (1, 2)),
    ("125,18,20,34\n", "linkage", (1, 4)),
])
def test_read_csv_one_row(text, model, shape):
    # one row is valid data for vizcore (the app asks for two rows for a mixture, see pages/_guards.py)
    x = vc.read_csv(text, model)
    assert x.shape == shape and np.all(np.isfinite(x))


def test_read_csv_a_million_rows_over_the_limit_is_refused_before_parsing(tmp_path):
    big = b"eruptions,waiting\n" + b"3.600000,79.000000\n" * 10**6  # 19 MB
    assert "at most 5 MB" in _error(big, "gmm2d")
    f = tmp_path / "million.csv"
    f.write_bytes(big)
    assert "at most 5 MB" in _error(f, "gmm2d")
