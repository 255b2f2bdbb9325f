"""Command line: ``python -m vizcore em ...`` prints an EM trace as JSON.

    python -m vizcore em --model {gmm1d,gmm2d,coins,linkage} (--data FILE.csv | --dataset NAME)
                         --init JSON [--fix NAME[,NAME]] [--iters N] [--tol T]

``steps[t].params`` are θ_t, ``log_likelihood`` is log p(X|θ_t) (natural log,
total over the data) and ``elbo`` is L(q_t, θ_t) with q_t = p(Z|X, θ_{t−1}), so
log p(X|θ_{t−1}) ≤ elbo_t ≤ log p(X|θ_t); step 0 has ``"elbo": null``.

    python -m vizcore figure NAME [--model M] [--dataset NAME | --data FILE.csv] [--params JSON] [--k K]
                         [--coord NAME] [--coord-y NAME] [--anchors N] [--t T] [--step S] [--view V]
                         [--separation D] [--weight W] [--lang L] [--height PX] [--width PX] [--scale S]
                         --out FILE.html|FILE.png
    python -m vizcore figure --list

builds one of the app's figures (names: ``vizcore.figures.catalog.FIGURES``) for slides: ``.html``
is a standalone page with plotly.js inlined (opens offline); ``.png`` needs kaleido and Chrome or
Chromium (``pip install kaleido``; Debian: ``apt-get install -y chromium``).

Bad input exits with status 2 and one line on stderr starting with ``error:``.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
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
    fig = sub.add_parser("figure", help="write one of the app's figures as offline HTML or PNG")
    fig.add_argument("name", nargs="?", metavar="NAME", help="the figure; --list shows every name")
    fig.add_argument("--list", action="store_true", help="list the figure names and exit")
    fig.add_argument("--out", metavar="FILE.html|FILE.png", help="where to write the figure")
    fig.add_argument("--model", default=None, help=f"one of {', '.join(MODELS)} (default gmm1d)")
    fsrc = fig.add_mutually_exclusive_group()
    fsrc.add_argument("--data", metavar="FILE.csv", help="a CSV in the model's layout (header optional)")
    fsrc.add_argument("--dataset", metavar="NAME", help=f"a built-in data set: {', '.join(DATASETS)}")
    fig.add_argument("--params", metavar="JSON", default=None,
                     help='θ, e.g. {"weights":[0.5,0.5],"means":[55,80],"variances":[36,36]} (default: the app\'s)')
    fig.add_argument("--k", default=None, metavar="K", help="number of components when --params is not given")
    fig.add_argument("--coord", default=None, metavar="NAME", help="coordinate of θ on the x-axis, e.g. means[0]")
    fig.add_argument("--coord-y", default=None, metavar="NAME", help="second coordinate (bound-plane)")
    fig.add_argument("--anchors", default="5", metavar="N", help="anchors θ′ of bound-family (default 5)")
    fig.add_argument("--t", default="0.3", metavar="T", help="q from the prior (0) to the posterior (1), default 0.3")
    fig.add_argument("--step", default=None, metavar="S",
                     help="EM half-step: 0 start, 2t−1 after E-step t, 2t after M-step t")
    fig.add_argument("--view", default="coordinate", metavar="V",
                     help="em-step: coordinate or line; kl-heatmap: reverse or forward")
    fig.add_argument("--separation", default="6", metavar="D", help="kl-fit/kl-heatmap: distance of the modes")
    fig.add_argument("--weight", default="0.5", metavar="W", help="kl-fit/kl-heatmap: weight of the left mode")
    fig.add_argument("--lang", default="en", metavar="L", help="language of the words in the figure (en, zh)")
    fig.add_argument("--height", default=None, metavar="PX", help="figure height in pixels")
    fig.add_argument("--width", default="900", metavar="PX", help="PNG width in pixels (default 900)")
    fig.add_argument("--scale", default="2", metavar="S", help="PNG scale factor (default 2)")
    return p


def _number(value, option: str, kind=float, lo=None, hi=None):
    try:
        v = kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"{option}: expected {'a whole number' if kind is int else 'a number'}, got {value!r}") from None
    if kind is float and not math.isfinite(v):
        raise ValueError(f"{option}: expected a finite number, got {value!r}")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ValueError(f"{option}: expected a number from {lo} to {hi}, got {value}")
    return v


def _browser_path() -> str | None:
    """Chrome/Chromium for kaleido: $BROWSER_PATH, else Debian's chromium or Google Chrome on the PATH."""
    for p in (os.environ.get("BROWSER_PATH"), shutil.which("chromium"), shutil.which("chromium-browser"),
              shutil.which("google-chrome"), "/usr/bin/chromium"):
        if p and os.path.exists(p):
            return p
    return None


PNG_HELP = ("install kaleido (pip install kaleido) and Chrome or Chromium (Debian: apt-get install -y chromium, "
            "or set BROWSER_PATH), or write --out FILE.html and use the camera button in the browser")


def figure_command(args) -> str:
    """Write the figure; return a one-line report for stdout."""
    from .figures import catalog  # plotly only for this command: `import vizcore.cli` stays light

    if args.list:
        width = max(len(n) for n in catalog.FIGURES)
        return "\n".join(f"{n:<{width}}  {e.summary}  [page: {e.page}]" for n, e in catalog.FIGURES.items())
    if not args.name:
        raise _Usage(f"figure: expected a NAME, one of {', '.join(catalog.FIGURES)} (or --list)")
    if args.name not in catalog.FIGURES:
        raise ValueError(f"NAME: expected one of {', '.join(catalog.FIGURES)}, got {args.name!r}")
    if not args.out:
        raise _Usage("figure: expected --out FILE.html or --out FILE.png")
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in (".html", ".htm", ".png"):
        raise ValueError(f"--out: expected a file name ending in .html or .png, got {args.out!r}")
    if not out.parent.exists():
        raise ValueError(f"--out: the folder {str(out.parent)!r} does not exist; create it first")
    from .i18n import LANGUAGES
    if args.lang not in LANGUAGES:
        raise ValueError(f"--lang: expected one of {', '.join(LANGUAGES)}, got {args.lang!r}")
    model_name = args.model or (DATASETS[args.dataset].model if args.dataset in DATASETS else "gmm1d")
    model = get_model(model_name)
    params = None
    if args.params is not None:
        try:
            params = json.loads(args.params)
        except json.JSONDecodeError as err:
            raise ValueError(f"--params: expected a JSON object such as {{\"theta\": 0.5}}, got invalid JSON "
                             f"({err.msg})") from None
        if not isinstance(params, dict):
            raise ValueError(f"--params: expected a JSON object of parameters, got {type(params).__name__}")
    opts = catalog.FigureOptions(
        model=model.name, dataset=args.dataset,
        x=read_csv(Path(args.data), model.name) if args.data is not None else None,
        params=params, k=None if args.k is None else _number(args.k, "--k", int, 1, 6),
        coord=args.coord, coord_y=args.coord_y, anchors=_number(args.anchors, "--anchors", int, 1, 50),
        t=_number(args.t, "--t", float, 0, 1),
        step=None if args.step is None else _number(args.step, "--step", int, 0, 100_000),
        view=args.view, separation=_number(args.separation, "--separation", float, 0, 20),
        weight=_number(args.weight, "--weight", float, 0, 1), lang=args.lang,
        height=None if args.height is None else _number(args.height, "--height", int, 100, 4000),
    )
    fig = catalog.build(args.name, opts)
    if suffix == ".png":
        width = _number(args.width, "--width", int, 100, 6000)
        scale = _number(args.scale, "--scale", float, 0.1, 10)
        try:
            import kaleido  # noqa: F401
        except ImportError:
            raise _Missing(f"--out {out.name}: PNG export needs kaleido, which is not installed; {PNG_HELP}") from None
        browser = _browser_path()
        if browser is None:
            raise _Missing(f"--out {out.name}: PNG export needs Chrome or Chromium, none was found; {PNG_HELP}")
        os.environ.setdefault("BROWSER_PATH", browser)
        import plotly.io as pio
        try:
            data = pio.to_image(fig, format="png", width=width, height=fig.layout.height or None, scale=scale)
        except Exception as err:  # noqa: BLE001 - kaleido/Chromium failures of every kind: one line, a remedy
            raise _Missing(f"--out {out.name}: kaleido could not render the PNG ({type(err).__name__}: "
                           f"{' '.join(str(err).split())[:200]}); {PNG_HELP}") from None
        out.write_bytes(data)
    else:
        out.write_text(catalog.to_html(fig, title=f"{args.name} · vizcore", filename=out.stem), encoding="utf-8")
    return f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)"


class _Missing(Exception):
    """An optional dependency (kaleido, a browser) is missing."""


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
        if args.command == "figure":
            print(figure_command(args))
            return 0
        if args.command != "em":
            raise _Usage("expected a command: em or figure (try: python -m vizcore em --help)")
        result = em_command(args)
    except (_Usage, _Missing, ValueError, OSError) as err:
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
