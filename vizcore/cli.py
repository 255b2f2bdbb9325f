"""Command line: ``python -m vizcore em ...`` prints an EM trace as JSON.

    python -m vizcore em --model {gmm1d,gmm2d,coins,linkage} (--data FILE.csv | --dataset NAME)
                         --init JSON [--fix NAME[,NAME]] [--iters N] [--tol T]

``steps[t].params`` are θ_t, ``log_likelihood`` is log p(X|θ_t) (natural log,
total over the data) and ``elbo`` is L(q_t, θ_t) with q_t = p(Z|X, θ_{t−1}), so
log p(X|θ_{t−1}) ≤ elbo_t ≤ log p(X|θ_t); step 0 has ``"elbo": null``.

Bad input exits with status 2 and one line on stderr starting with ``error:``.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from .datasets import DATASETS, read_csv, load_dataset
from .inference import run_em
from .models import MODELS, get_model


class _Usage(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print usage and exit; we want one line
        raise _Usage(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m vizcore", description="Exact EM traces for the course's latent-variable models.")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    em = sub.add_parser("em", help="run EM and print the trace as JSON")
    em.add_argument("--model", required=True, help=f"one of {', '.join(MODELS)}")
    src = em.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", metavar="FILE.csv", help="a CSV in the model's layout (header optional)")
    src.add_argument("--dataset", metavar="NAME", help=f"a built-in data set: {', '.join(DATASETS)}")
    em.add_argument("--init", required=True, metavar="JSON", help='starting parameters, e.g. {"theta":0.5}')
    em.add_argument("--fix", default="", metavar="NAME[,NAME]", help="parameters held fixed, e.g. weights or means[0]")
    em.add_argument("--iters", default="100", metavar="N", help="EM iterations (default 100)")
    em.add_argument("--tol", default=None, metavar="T",
                    help="stop once an iteration raises log p(X|θ) by less than T (default: run all N)")
    return p


def _finite(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        raise ValueError(
            "result: a number came out as NaN or infinity; check the data and the starting parameters"
        )
    if isinstance(obj, dict):
        for v in obj.values():
            _finite(v)
    elif isinstance(obj, list):
        for v in obj:
            _finite(v)
    return obj


def em_command(args) -> dict:
    model = get_model(args.model)
    if args.dataset is not None:
        if args.dataset not in DATASETS:
            raise ValueError(f"--dataset: expected one of {', '.join(DATASETS)}, got {args.dataset!r}")
        if DATASETS[args.dataset].model != model.name:
            raise ValueError(
                f"--dataset: {args.dataset!r} is data for model {DATASETS[args.dataset].model}, not {model.name}; "
                f"use --model {DATASETS[args.dataset].model} or another data set"
            )
        x = load_dataset(args.dataset)
    else:
        x = read_csv(Path(args.data), model.name)
    try:
        init = json.loads(args.init)
    except json.JSONDecodeError as err:
        raise ValueError(f"--init: expected a JSON object such as {{\"theta\": 0.5}}, got invalid JSON ({err.msg})") from None
    if not isinstance(init, dict):
        raise ValueError(f"--init: expected a JSON object of parameters, got {type(init).__name__}")
    params = model.make_params(init)
    try:
        iters = int(args.iters)
    except ValueError:
        raise ValueError(f"--iters: expected a whole number ≥ 0, got {args.iters!r}") from None
    if not 0 <= iters <= 100_000:
        raise ValueError(f"--iters: expected a whole number from 0 to 100000, got {iters}")
    tol = None
    if args.tol is not None:
        try:
            tol = float(args.tol)
        except ValueError:
            raise ValueError(f"--tol: expected a number ≥ 0, got {args.tol!r}") from None
        if not math.isfinite(tol) or tol < 0:
            raise ValueError(f"--tol: expected a number ≥ 0, got {args.tol!r}")
    fixed = [f.strip() for f in args.fix.split(",") if f.strip()]
    trace = run_em(model, x, params, fixed=fixed, max_iter=iters, tol=tol)
    steps = []
    for t, p in enumerate(trace.params):
        steps.append({"iteration": t, "params": p.to_dict(), "log_likelihood": float(trace.log_likelihood[t]),
                      "elbo": None if t == 0 else float(trace.elbo_after_m[t - 1])})
    if model.name == "linkage":
        for s in steps:
            s["params"]["theta"] = s["params"]["theta"][0]
    out = {"model": model.name, "n_samples": int(len(x)), "converged": bool(trace.converged),
           "n_iter": int(trace.n_iter), "fixed": fixed, "variance_floor_used": bool(trace.floored), "steps": steps}
    return _finite(out)


def main(argv=None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        if args.command != "em":
            raise _Usage("expected a command: em (try: python -m vizcore em --help)")
        result = em_command(args)
    except (_Usage, ValueError) as err:
        msg = " ".join(str(err).split())
        print(f"error: {msg}", file=sys.stderr)
        return 2
    try:
        json.dump(result, sys.stdout, indent=1)
        sys.stdout.write("\n")
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
    return 0
