"""The command line, run as a user runs it: a subprocess, JSON out, one error line."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import multinomial

from conftest import ROOT


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "vizcore", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def strict_json(text):
    def no_constant(name):
        raise AssertionError(f"non-finite number {name} in output")
    return json.loads(text, parse_constant=no_constant)


def test_linkage_trace_matches_dempster_laird_rubin_table_1():
    out = run("em", "--model", "linkage", "--dataset", "genetic_linkage", "--init", '{"theta": 0.5}', "--iters", "8")
    assert out.returncode == 0, out.stderr
    d = strict_json(out.stdout)
    assert d["model"] == "linkage" and d["n_samples"] == 1 and len(d["steps"]) == 9
    # Dempster, Laird & Rubin (1977), Table 1, θ^(p) for p = 0..8
    published = [0.5, 0.608247423, 0.624321051, 0.626488879, 0.626777323, 0.626815632, 0.626820719,
                 0.626821395, 0.626821484]
    got = [s["params"]["theta"] for s in d["steps"]]
    np.testing.assert_allclose(got, published, atol=2e-9)
    # log_likelihood is the multinomial log pmf of the four counts, constants kept
    for s in d["steps"]:
        th = s["params"]["theta"]
        ref = multinomial.logpmf([125, 18, 20, 34], 197, [0.5 + th / 4, (1 - th) / 4, (1 - th) / 4, th / 4])
        assert s["log_likelihood"] == pytest.approx(ref, rel=1e-12)
    assert d["steps"][0]["elbo"] is None
    for prev, cur in zip(d["steps"], d["steps"][1:]):
        assert prev["log_likelihood"] - 1e-9 <= cur["elbo"] <= cur["log_likelihood"] + 1e-9


def test_csv_with_and_without_header_and_fix(tmp_path):
    f = tmp_path / "coins.csv"
    f.write_text("heads,tosses\n5,10\n9,10\n8,10\n4,10\n7,10\n")
    g = tmp_path / "coins_noheader.csv"
    g.write_text("5,10\n9,10\n8,10\n4,10\n7,10\n")
    init = '{"weights": [0.5, 0.5], "heads_probs": [0.6, 0.5]}'
    a = strict_json(run("em", "--model", "coins", "--data", str(f), "--init", init, "--fix", "weights", "--iters", "10").stdout)
    b = strict_json(run("em", "--model", "coins", "--data", str(g), "--init", init, "--fix", "weights", "--iters", "10").stdout)
    assert a["steps"] == b["steps"]
    last = a["steps"][-1]["params"]
    assert last["weights"] == [0.5, 0.5]
    # Do & Batzoglou (2008), Fig. 1: θ_A ≈ 0.80, θ_B ≈ 0.52 after 10 iterations
    assert round(last["heads_probs"][0], 2) == 0.80 and round(last["heads_probs"][1], 2) == 0.52


def test_tol_stops_early_and_reports_convergence():
    init = '{"weights": [0.5, 0.5], "means": [55, 80], "variances": [25, 25]}'
    d = strict_json(run("em", "--model", "gmm1d", "--dataset", "faithful_waiting", "--init", init,
                        "--iters", "1000", "--tol", "1e-8").stdout)
    assert d["converged"] is True and d["n_iter"] < 1000
    lls = [s["log_likelihood"] for s in d["steps"]]
    assert all(b >= a - 1e-9 for a, b in zip(lls, lls[1:]))
    assert lls[-1] - lls[-2] < 1e-8


def test_gmm2d_on_old_faithful():
    init = json.dumps({"weights": [0.5, 0.5], "means": [[2, 55], [4.5, 80]],
                       "covariances": [[[0.1, 0], [0, 30]], [[0.1, 0], [0, 30]]]})
    out = run("em", "--model", "gmm2d", "--dataset", "old_faithful", "--init", init, "--iters", "30")
    assert out.returncode == 0, out.stderr
    d = strict_json(out.stdout)
    assert d["n_samples"] == 272
    assert np.shape(d["steps"][-1]["params"]["covariances"]) == (2, 2, 2)
    lls = [s["log_likelihood"] for s in d["steps"]]
    assert len(lls) == 31 and all(b >= a - 1e-9 for a, b in zip(lls, lls[1:]))  # EM never lowers log p
    # the reported log p of the last θ, recomputed with scipy from the data and that θ alone
    from scipy.stats import multivariate_normal
    last = d["steps"][-1]["params"]
    x = np.loadtxt(ROOT / "vizcore" / "data" / "old_faithful.csv", delimiter=",", skiprows=1)
    dens = sum(w * multivariate_normal(m, c).pdf(x) for w, m, c in
               zip(last["weights"], last["means"], last["covariances"]))
    assert lls[-1] == pytest.approx(np.log(dens).sum(), rel=1e-12)


def test_degenerate_data_gives_finite_numbers(tmp_path):
    f = tmp_path / "same.csv"
    f.write_text("3\n3\n3\n3\n")
    out = run("em", "--model", "gmm1d", "--data", str(f), "--init",
              '{"weights": [0.5, 0.5], "means": [0, 5], "variances": [1, 1]}', "--iters", "40")
    assert out.returncode == 0, out.stderr
    d = strict_json(out.stdout)
    assert d["variance_floor_used"] is True
    assert min(d["steps"][-1]["params"]["variances"]) > 0


BAD = [
    (["--model", "gmm9", "--dataset", "faithful_waiting", "--init", "{}"], "model"),
    (["--model", "gmm1d", "--dataset", "nope", "--init", "{}"], "--dataset"),
    (["--model", "gmm1d", "--dataset", "two_coins", "--init", "{}"], "--dataset"),
    (["--model", "linkage", "--dataset", "genetic_linkage", "--init", "{theta: 1"], "--init"),
    (["--model", "linkage", "--dataset", "genetic_linkage", "--init", "[0.5]"], "--init"),
    (["--model", "linkage", "--dataset", "genetic_linkage", "--init", '{"theta": 1.5}'], "theta"),
    (["--model", "gmm1d", "--dataset", "faithful_waiting", "--init", '{"weights": [0.5, 0.5], "means": [1], "variances": [1, 1]}'], "means"),
    (["--model", "gmm1d", "--dataset", "faithful_waiting", "--init", '{"weights": [0.5, 0.5], "means": [1, 2], "variances": [1, -1]}'], "variances"),
    (["--model", "gmm1d", "--dataset", "faithful_waiting", "--init", '{"weights": [1.0], "means": [1], "variances": [1]}', "--iters", "x"], "--iters"),
    (["--model", "gmm1d", "--dataset", "faithful_waiting", "--init", '{"weights": [1.0], "means": [1], "variances": [1]}', "--tol", "nan"], "--tol"),
    (["--model", "gmm1d", "--dataset", "faithful_waiting", "--init", '{"weights": [1.0], "means": [1], "variances": [1]}', "--fix", "bogus"], "fixed"),
    (["--model", "gmm1d", "--data", "/nonexistent/file.csv", "--init", "{}"], "file"),
    (["--model", "gmm1d"], "required"),
]


@pytest.mark.parametrize("args,word", BAD)
def test_bad_input_one_error_line_exit_2(args, word):
    out = run("em", *args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), out.stderr
    assert word in lines[0]
    assert "Traceback" not in out.stderr and out.stdout == ""


@pytest.mark.parametrize("content", [b"", b"x\n", b"1\nabc\n", b"1\nnan\n", b"1\ninf\n", b"\xff\xfe\x00", b"1,2\n"])
def test_bad_csv_one_error_line(tmp_path, content):
    f = tmp_path / "bad.csv"
    f.write_bytes(content)
    out = run("em", "--model", "gmm1d", "--data", str(f), "--init", '{"weights": [1.0], "means": [0], "variances": [1]}')
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), out.stderr


def test_one_row_and_overflow_from_the_command_line(tmp_path):
    one = tmp_path / "one.csv"
    one.write_text("x\n42\n")
    out = run("em", "--model", "gmm1d", "--data", str(one), "--init",
              '{"weights": [0.5, 0.5], "means": [40, 45], "variances": [4, 4]}', "--iters", "20")
    assert out.returncode == 0, out.stderr
    d = strict_json(out.stdout)  # no NaN or infinity anywhere in the output
    assert d["n_samples"] == 1 and d["variance_floor_used"] is True
    assert all(v > 0 for v in d["steps"][-1]["params"]["variances"])
    over = tmp_path / "over.csv"
    over.write_text("x\n1\n1e400\n")
    out = run("em", "--model", "gmm1d", "--data", str(over), "--init", '{"weights": [1.0], "means": [0], "variances": [1]}')
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "row 3" in lines[0] and "finite" in lines[0]


def test_a_million_rows_from_the_command_line(tmp_path):
    f = tmp_path / "million.csv"
    f.write_bytes(b"x1,x2\n" + b"3.600000,79.000000\n" * 10**6)
    out = run("em", "--model", "gmm2d", "--data", str(f), "--init", "{}")
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "5 MB" in lines[0], out.stderr
