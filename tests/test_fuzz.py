"""Fuzzing the public vizcore API and the command line with hypothesis.

Only the documented errors (ValueError with a message) may come out; no NaN
may leak into a result; every bound inequality holds to 1e-9 relative.
Marked ``slow``: 10,000 examples each under ``FUZZ_EXAMPLES`` (CI sets nothing,
so the default below applies; set FUZZ_EXAMPLES=200 for a quick local run).
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vizcore as vc
from vizcore.cli import main as cli_main

pytestmark = pytest.mark.slow
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10000"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

anything = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=5),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), max_size=7),
    st.lists(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=3), max_size=4),
)


@st.composite
def model_params(draw):
    name = draw(st.sampled_from(sorted(vc.MODELS)))
    if name == "linkage":
        return name, {"theta": draw(st.one_of(st.floats(-0.5, 1.5), anything))}
    k = draw(st.integers(1, 7))
    w = draw(st.lists(st.floats(0, 1), min_size=k, max_size=k))
    s = sum(w)
    weights = [v / s for v in w] if s > 0 and draw(st.booleans()) else w
    if name == "gmm1d":
        p = {"weights": weights, "means": draw(st.lists(st.floats(-1e3, 1e3), min_size=k, max_size=k)),
             "variances": draw(st.lists(st.floats(-1, 1e4), min_size=k, max_size=k))}
    elif name == "gmm2d":
        covs = []
        for _ in range(k):
            a, d = draw(st.floats(1e-3, 1e3)), draw(st.floats(1e-3, 1e3))
            r = draw(st.floats(-1.2, 1.2))
            b = r * math.sqrt(a * d)
            covs.append([[a, b], [b, d]])
        p = {"weights": weights, "means": draw(st.lists(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=2),
                                                         min_size=k, max_size=k)), "covariances": covs}
    else:
        p = {"weights": weights, "heads_probs": draw(st.lists(st.floats(-0.1, 1.1), min_size=k, max_size=k))}
    if draw(st.integers(0, 9)) == 0:  # sometimes a wrong field entirely
        p[draw(st.sampled_from(sorted(p)))] = draw(anything)
    return name, p


@st.composite
def data_for(draw, name):
    n = draw(st.integers(0, 30))
    if name == "gmm1d":
        x = draw(st.lists(st.floats(-1e4, 1e4), min_size=n, max_size=n))
    elif name == "gmm2d":
        x = draw(st.lists(st.lists(st.floats(-1e4, 1e4), min_size=2, max_size=2), min_size=n, max_size=n))
    elif name == "coins":
        rows = []
        for _ in range(n):
            t = draw(st.integers(0, 50))
            rows.append([draw(st.integers(-1, t + 1)), t])
        x = rows
    else:
        x = [draw(st.lists(st.integers(-1, 300), min_size=4, max_size=4)) for _ in range(draw(st.integers(0, 2)))]
    if draw(st.integers(0, 19)) == 0:
        x = draw(anything)
    return x


def _rel_le(a, b, tol=1e-9):
    return a <= b + tol * max(1.0, abs(a), abs(b))


@FUZZ
@given(st.data())
def test_public_api_only_documented_errors_and_finite_results(data):
    name, p = data.draw(model_params())
    x = data.draw(data_for(name))
    try:
        m = vc.get_model(name)
        params = m.make_params(p)
        xv = m.validate_data(x)
    except ValueError as err:
        assert str(err)
        return
    lm = vc.log_marginal(m, xv, params)
    assert not np.isnan(lm)
    if not np.isfinite(lm):  # some point impossible under θ: log p is −∞ and the posterior is undefined
        assert lm == -np.inf
        with pytest.raises(ValueError, match="probability 0"):
            vc.posterior(m, xv, params)
        return
    post = vc.posterior(m, xv, params)
    assert not np.any(np.isnan(post))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    q = rng.dirichlet(np.ones(post.shape[1]), size=post.shape[0])
    q = np.where(post > 0, q, 0.0)
    q = np.where(q.sum(1, keepdims=True) > 0, q / np.maximum(q.sum(1, keepdims=True), 1e-300), post)
    d = vc.decompose(m, xv, params, q)
    assert _rel_le(d.elbo, d.log_marginal)
    assert d.kl_posterior >= -1e-9 * max(1.0, abs(d.log_marginal))
    assert math.isclose(d.elbo + d.kl_posterior, d.log_marginal, rel_tol=1e-9, abs_tol=1e-6)
    at_post = vc.elbo(m, xv, params, post)
    assert math.isclose(at_post, lm, rel_tol=1e-9, abs_tol=1e-7)
    try:
        tr = vc.run_em(m, xv, params, max_iter=5)
    except ValueError as err:
        assert str(err)
        return
    ll = tr.log_likelihood
    assert np.all(np.isfinite(ll))
    for t in range(tr.n_iter):
        assert _rel_le(ll[t], ll[t + 1])
        assert _rel_le(tr.elbo_after_e[t], tr.elbo_after_m[t]) and _rel_le(tr.elbo_after_m[t], ll[t + 1])


@st.composite
def argv(draw):
    model = draw(st.sampled_from(sorted(vc.MODELS) + ["nope", ""]))
    args = ["em", "--model", model]
    src = draw(st.sampled_from(sorted(vc.DATASETS) + ["bogus"]))
    args += ["--dataset", src]
    if draw(st.booleans()):
        init = draw(st.one_of(
            st.just('{"theta": 0.5}'),
            st.just('{"weights":[0.5,0.5],"means":[55,80],"variances":[25,25]}'),
            st.just('{"weights":[0.5,0.5],"heads_probs":[0.6,0.5]}'),
            st.just('{"weights":[0.5,0.5],"means":[[2,55],[4,80]],"covariances":[[[1,0],[0,30]],[[1,0],[0,30]]]}'),
            st.text(max_size=20),
            st.builds(json.dumps, st.dictionaries(st.sampled_from(["weights", "means", "variances", "theta", "x"]),
                                                   anything, max_size=4)),
        ))
        args += ["--init", init]
    if draw(st.booleans()):
        args += ["--iters", draw(st.sampled_from(["0", "3", "-1", "x", "1e9", "20"]))]
    if draw(st.booleans()):
        args += ["--tol", draw(st.sampled_from(["0", "1e-6", "nan", "-1", "abc", "inf"]))]
    if draw(st.booleans()):
        args += ["--fix", draw(st.sampled_from(["weights", "means[0]", "theta", "bogus", "means[9]", ""]))]
    return args


@FUZZ
@given(argv())
def test_command_line_exit_0_json_or_exit_2_one_error_line(args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(args)
    if code == 0:
        def no_constant(c):
            raise AssertionError(f"non-finite {c} in output")
        d = json.loads(out.getvalue(), parse_constant=no_constant)
        assert d["steps"] and err.getvalue() == ""
    else:
        assert code == 2
        lines = err.getvalue().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and out.getvalue() == ""
