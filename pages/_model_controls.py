"""Shared controls: choose a model, a data set and the parameters θ.

Used by every page that needs "a model, data and θ" (lower bounds, ELBO gap, EM):

    from pages._model_controls import model_controls, coordinate_label, set_theta

    setup = model_controls("lb_")          # draws the widgets where it is called
    if setup is None:                      # an error was already shown with fail()
        st.stop()
    setup.model, setup.x, setup.params     # what vizcore needs

Widgets (all keys start with ``prefix``):

* ``{prefix}model`` — the model (gmm1d, gmm2d, coins, linkage);
* ``{prefix}data_{model}`` — a built-in data set, ``"synthetic"`` or ``"upload"``;
* ``{prefix}k_{model}`` — the number K of components (mixtures only);
* ``{prefix}seed`` and ``{prefix}n_{model}`` — seed and size of synthetic data;
  ``{prefix}upload_{model}`` — the CSV uploader (the last good file's data is kept in
  ``{prefix}upload_good_{model}``: a bad file shows an error and leaves it in use);
* θ sliders, keys ``{setup.theta_base}{name}``, see :func:`theta_keys`. Their
  ranges depend only on the model, the data source and K, so the seed can change
  without resetting θ. A page (or a callback) moves them with :func:`set_theta`.

Synthetic data are drawn from :func:`vizcore.teaching.synthetic_truth` with
``numpy.random.default_rng(seed)``.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import streamlit as st

import vizcore as vc
from pages import _export
from pages._common import cache_data, fail, lang, t
from pages._guards import escape_markdown, parse_upload, safe_name
from vizcore import teaching

MODEL_ORDER = ("gmm1d", "gmm2d", "coins", "linkage")
K_CHOICES = {"gmm1d": (1, 2, 3, 4), "gmm2d": (1, 2, 3), "coins": (1, 2, 3)}
N_SYNTHETIC = {"gmm1d": (20, 1000, 200), "gmm2d": (20, 1000, 200), "coins": (3, 100, 20), "linkage": (20, 2000, 200)}
MAX_SEED = 1_000_000

# Hand-picked starting points for the classic data sets (others come from teaching.default_params).
PRESETS = {
    ("gmm1d", "faithful_waiting", 2): dict(weights=[0.5, 0.5], means=[55.0, 80.0], variances=[36.0, 36.0]),
    ("gmm2d", "old_faithful", 2): dict(weights=[0.5, 0.5], means=[[2.0, 55.0], [4.3, 80.0]],
                                       covariances=[[[0.09, 0.0], [0.0, 36.0]], [[0.16, 0.0], [0.0, 36.0]]]),
    ("coins", "two_coins", 2): dict(weights=[0.5, 0.5], heads_probs=[0.6, 0.5]),
    ("linkage", "genetic_linkage", None): dict(theta=[0.5]),
}

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sub(i: int) -> str:
    return str(i).translate(_SUB)


def coordinate_label(name: str) -> str:
    """A readable label for a coordinate of θ, components counted from 1: ``means[0]`` → ``μ₁``."""
    m = re.match(r"^([a-z_]+)((?:\[\d+\])*)$", name)
    if not m:
        return name
    field = m.group(1)
    idx = [int(i) for i in re.findall(r"\d+", m.group(2))]
    symbol = {"weights": "π", "means": "μ", "variances": "σ²", "covariances": "Σ", "heads_probs": "p", "theta": "θ"}
    s = symbol.get(field, field)
    if field == "theta":
        return "θ"
    if not idx:
        return s
    label = s + _sub(idx[0] + 1)
    if field == "means" and len(idx) == 2:
        label += f" [{'xy'[idx[1]]}]"
    if field == "covariances" and len(idx) == 3:
        label += f" [{'xy'[idx[1]]}{'xy'[idx[2]]}]"
    return label


def coordinate_latex(name: str) -> str:
    """The coordinate as LaTeX, components counted from 1: ``variances[1]`` → ``\\sigma^2_{2}``."""
    m = re.match(r"^([a-z_]+)((?:\[\d+\])*)$", name)
    if not m:
        return r"\theta"
    field = m.group(1)
    idx = [int(i) for i in re.findall(r"\d+", m.group(2))]
    if field == "theta" or not idx:
        return r"\theta"
    symbol = {"weights": r"\pi", "means": r"\mu", "variances": r"\sigma^2", "covariances": r"\Sigma",
              "heads_probs": "p"}.get(field, r"\theta")
    sub = str(idx[0] + 1) + "".join("," + "xy"[i] if len(idx) == 2 else "xy"[i] for i in idx[1:])
    if len(idx) == 3:
        sub = f"{idx[0] + 1},{'xy'[idx[1]]}{'xy'[idx[2]]}"
    return f"{symbol}_{{{sub}}}"


# ---- θ slider specifications ------------------------------------------------------------------
@dataclass(frozen=True)
class SliderSpec:
    name: str      # key suffix
    label: str
    lo: float
    hi: float
    step: float
    group: int = 0  # component index (−1: the shared weight slider of K = 2); sliders of a group share a column


def _nice_step(span: float) -> float:
    raw = span / 200.0
    e = math.floor(math.log10(raw)) if raw > 0 else 0
    for m in (1, 2, 5, 10):
        if m * 10 ** e >= raw:
            return float(m * 10 ** e)
    return float(10 ** (e + 1))


def _snap(v: float, spec: SliderSpec) -> float:
    v = min(max(float(v), spec.lo), spec.hi)
    snapped = spec.lo + round((v - spec.lo) / spec.step) * spec.step
    digits = max(0, -math.floor(math.log10(spec.step)) + 1)
    return float(round(min(max(snapped, spec.lo), spec.hi), digits))


def _range_spec(name, label, lo, hi, group=0) -> SliderSpec:
    step = _nice_step(hi - lo)
    positive = lo > 0  # variances and standard deviations must stay > 0 after rounding
    lo = math.floor(lo / step) * step
    hi = math.ceil(hi / step) * step
    if positive and lo <= 0:
        lo = step
    digits = max(0, -math.floor(math.log10(step)) + 1)
    return SliderSpec(name, label, round(lo, digits), round(hi, digits), step, group)


def theta_specs(model_name: str, k: int | None, x) -> list[SliderSpec]:
    """The θ sliders for a model, K components and data ``x`` (ranges from the data)."""
    model = vc.get_model(model_name)
    specs: list[SliderSpec] = []
    if model_name == "linkage":
        return [SliderSpec("theta", "θ", 0.01, 0.99, 0.005)]
    if k == 2:
        specs.append(SliderSpec("w", "π₁  (π₂ = 1 − π₁)", 0.01, 0.99, 0.01, -1))
    elif k > 2:
        specs += [SliderSpec(f"w{j}", f"π{_sub(j + 1)} " + t("(relative)"), 0.05, 1.0, 0.01, j) for j in range(k)]
    if model_name == "coins":
        specs += [SliderSpec(f"p{j}", f"p{_sub(j + 1)}", 0.01, 0.99, 0.01, j) for j in range(k)]
        return specs
    ranges = teaching.data_ranges(model, x)
    if model_name == "gmm1d":
        lo, hi, var = ranges[0]
        for j in range(k):
            specs.append(_range_spec(f"m{j}", f"μ{_sub(j + 1)}", lo, hi, j))
        for j in range(k):
            specs.append(_range_spec(f"v{j}", f"σ²{_sub(j + 1)}", 0.01 * var, 1.5 * var, j))
        return specs
    for j in range(k):  # gmm2d
        for d, axis in enumerate("xy"):
            lo, hi, _ = ranges[d]
            specs.append(_range_spec(f"m{j}{axis}", f"μ{_sub(j + 1)} [{axis}]", lo, hi, j))
        for d, axis in enumerate("xy"):
            sd = math.sqrt(ranges[d][2])
            specs.append(_range_spec(f"s{j}{axis}", f"σ{_sub(j + 1)} [{axis}]", 0.05 * sd, 1.3 * sd, j))
        specs.append(SliderSpec(f"r{j}", f"ρ{_sub(j + 1)}", -0.9, 0.9, 0.05, j))
    return specs


def _values_from_params(model_name: str, k, params) -> dict[str, float]:
    """Slider values (by key suffix) that reproduce ``params``."""
    vals: dict[str, float] = {}
    if model_name == "linkage":
        return {"theta": float(params.theta[0])}
    w = params.weights
    if k == 2:
        vals["w"] = float(w[0])
    elif k > 2:
        vals.update({f"w{j}": float(w[j] / w.max()) for j in range(k)})
    if model_name == "coins":
        vals.update({f"p{j}": float(params.heads_probs[j]) for j in range(k)})
    elif model_name == "gmm1d":
        vals.update({f"m{j}": float(params.means[j]) for j in range(k)})
        vals.update({f"v{j}": float(params.variances[j]) for j in range(k)})
    else:
        for j in range(k):
            c = params.covariances[j]
            sx, sy = math.sqrt(c[0, 0]), math.sqrt(c[1, 1])
            vals.update({f"m{j}x": float(params.means[j, 0]), f"m{j}y": float(params.means[j, 1]),
                         f"s{j}x": sx, f"s{j}y": sy, f"r{j}": float(c[0, 1] / (sx * sy))})
    return vals


def _params_from_values(model_name: str, k, vals: dict[str, float]):
    """Build validated parameters from slider values (raises ValueError)."""
    model = vc.get_model(model_name)
    if model_name == "linkage":
        return model.make_params(theta=[vals["theta"]])
    if k == 1:
        w = np.array([1.0])
    elif k == 2:
        w = np.array([vals["w"], 1.0 - vals["w"]])
    else:
        w = teaching.normalise([vals[f"w{j}"] for j in range(k)])
    if model_name == "coins":
        return model.make_params(weights=w, heads_probs=[vals[f"p{j}"] for j in range(k)])
    if model_name == "gmm1d":
        return model.make_params(weights=w, means=[vals[f"m{j}"] for j in range(k)],
                                 variances=[vals[f"v{j}"] for j in range(k)])
    means, covs = [], []
    for j in range(k):
        sx, sy, r = vals[f"s{j}x"], vals[f"s{j}y"], vals[f"r{j}"]
        means.append([vals[f"m{j}x"], vals[f"m{j}y"]])
        covs.append([[sx * sx, r * sx * sy], [r * sx * sy, sy * sy]])
    return model.make_params(weights=w, means=means, covariances=covs)


# ---- data --------------------------------------------------------------------------------------
@cache_data(show_spinner=False, max_entries=64)
def _synthetic(model_name: str, k: int | None, n: int, seed: int):
    model = vc.get_model(model_name)
    truth = teaching.synthetic_truth(model, k or 1)
    rng = np.random.default_rng(seed)
    if model_name == "coins":
        return model.sample(truth, n, rng, tosses=10)
    return model.sample(truth, n, rng)


@cache_data(show_spinner=False, max_entries=16)
def _reference_sample(model_name: str, k: int | None):
    """A fixed large sample from θ*: slider ranges and defaults for synthetic data do not move with the seed."""
    return _synthetic(model_name, k, 1000 if model_name != "coins" else 100, 0)[0]


@cache_data(show_spinner=False, max_entries=16)
def _read_upload(raw: bytes, model_name: str, language: str):
    """(data, None) or (None, a message in ``language`` saying what is wrong and how to fix it); see
    pages/_guards.py."""
    return parse_upload(raw, model_name, language)


def _upload_store(prefix: str, model_name: str) -> str:
    return f"{prefix}upload_good_{model_name}"


def _uploaded_data(prefix: str, model_name: str, up):
    """The data of the last good upload for this model, or None.

    A bad file shows one error (what is wrong, how to fix it) and leaves the data of
    the previous good file in use; the last good file is kept in ``st.session_state``.
    An empty uploader keeps it too (the browser empties the uploader for a moment while a
    new file replaces the old one, and after a visit to another page); the caption names it.
    """
    store = _upload_store(prefix, model_name)
    if up is not None:
        x, problem = _read_upload(up.getvalue(), model_name, lang())
        if problem is None:
            st.session_state[store] = (safe_name(up.name), x)
        else:
            kept = st.session_state.get(store)
            st.error(problem + ("  \n" + t("The previous file stays in use:") + f" {escape_markdown(kept[0])}."
                                if kept else ""))
    kept = st.session_state.get(store)
    if kept is None:
        if up is None:
            st.info(t("Choose a CSV file to continue, or pick another data set."))
        return None
    st.caption(t("Data from") + f" {escape_markdown(kept[0])}: {len(kept[1])} " + t("rows"))
    return kept[1]


@cache_data(show_spinner=False, max_entries=64)
def _defaults(model_name: str, data_key: str, k: int | None, x_ref) -> dict[str, float]:
    preset = PRESETS.get((model_name, data_key, k))
    model = vc.get_model(model_name)
    params = model.make_params(preset) if preset else teaching.default_params(model, x_ref, k or 1)
    return _values_from_params(model_name, k, params)


# ---- the setup a page receives ------------------------------------------------------------------
@dataclass(frozen=True)
class ModelSetup:
    """Everything a page needs after :func:`model_controls`."""

    model_name: str
    k: int | None             # number of components (None for linkage, whose K follows the data)
    data_key: str             # a built-in data set's name, "synthetic" or "upload"
    data_title: str
    x: np.ndarray
    params: object            # validated vizcore parameters θ
    truth: object | None      # θ* for synthetic data
    z: np.ndarray | None      # the true latents for synthetic data
    seed: int | None
    theta_base: str           # key prefix of the θ sliders

    @property
    def model(self):
        return vc.get_model(self.model_name)

    @property
    def signature(self) -> str:
        """A short string that changes whenever the coordinates of θ change (for widget keys)."""
        return f"{self.model_name}_{self.k or 0}"


def theta_keys(theta_base: str, model_name: str, k, x) -> dict[str, SliderSpec]:
    """Session-state key → slider specification of every θ slider."""
    return {theta_base + s.name: s for s in theta_specs(model_name, k, x)}


def _theta_base(prefix: str, model_name: str, data_key: str, k) -> str:
    return f"{prefix}th_{model_name}_{data_key}_{k or 0}_"


def set_theta(setup: ModelSetup, params) -> None:
    """Move the θ sliders of ``setup`` to ``params`` (snapped to the sliders' ranges and steps).

    Call it from a widget callback (``on_click``/``on_change``) or before
    :func:`model_controls` runs in this script run.
    """
    x_ref = _reference_sample(setup.model_name, setup.k) if setup.data_key == "synthetic" else setup.x
    specs = theta_keys(setup.theta_base, setup.model_name, setup.k, x_ref)
    vals = _values_from_params(setup.model_name, setup.k, setup.model.make_params(params))
    for key, spec in specs.items():
        st.session_state[key] = _snap(vals[spec.name], spec)


def _model_title(name: str) -> str:
    return t(vc.get_model(name).title)


def _data_title(name: str) -> str:
    if name == "synthetic":
        return t("Synthetic data (seeded)")
    if name == "upload":
        return t("Upload a CSV file")
    return t(vc.DATASETS[name].title)


def model_controls(prefix: str, *, models=MODEL_ORDER, default_model: str = "gmm1d", allow_upload: bool = True,
                   default_k: int = 2, layout: str = "column", theta_expanded: bool = True,
                   show_theta: bool = True) -> ModelSetup | None:
    """Draw "model + data + θ" controls where called; return the choice, or None after an error.

    Parameters
    ----------
    prefix : the page's widget-key prefix (e.g. ``"lb_"``).
    models : the models offered, in order.
    default_model : the model selected at first.
    allow_upload : offer "Upload a CSV file" as a data source.
    default_k : the number of components selected at first.
    layout : ``"column"`` stacks everything (for a side column or the sidebar);
        ``"row"`` puts model, data, K, seed and N side by side and the θ sliders in
        one column per component inside the expander.
    theta_expanded, show_theta : whether the θ expander starts open / is drawn at all
        (when not drawn, the sliders' stored values or defaults are used).
    """
    if layout not in ("column", "row"):
        raise ValueError(f"layout: expected 'column' or 'row', got {layout!r}")
    row = layout == "row"
    slots = st.columns([1.25, 1.6, 0.7, 0.75, 0.75]) if row else [st.container() for _ in range(5)]
    models = tuple(models)
    model_name = slots[0].selectbox(t("Model"), models,
                                    index=models.index(default_model) if default_model in models else 0,
                                    format_func=_model_title, key=f"{prefix}model", bind="query-params")
    model = vc.get_model(model_name)
    sources = list(vc.datasets_for(model_name)) + ["synthetic"] + (["upload"] if allow_upload else [])
    data_key = slots[1].selectbox(t("Data"), sources, format_func=_data_title, key=f"{prefix}data_{model_name}",
                                  bind="query-params")
    k = None
    if model_name in K_CHOICES:
        choices = K_CHOICES[model_name]
        k = slots[2].selectbox(t("Components K"), choices,
                               index=choices.index(default_k) if default_k in choices else 0,
                               key=f"{prefix}k_{model_name}", bind="query-params")
    truth, z, seed = None, None, None
    try:
        if data_key == "synthetic":
            lo, hi, default_n = N_SYNTHETIC[model_name]
            seed_slot, n_slot = (slots[3], slots[4]) if row else st.columns(2)
            seed = int(seed_slot.number_input(t("Seed"), min_value=0, max_value=MAX_SEED, value=0, step=1,
                                              key=f"{prefix}seed", bind="query-params"))
            n_label = {"coins": t("Rows N"), "linkage": t("Individuals")}.get(model_name, t("Points N"))
            n = int(n_slot.number_input(n_label, min_value=lo, max_value=hi, value=default_n, step=1,
                                        key=f"{prefix}n_{model_name}", bind="query-params"))
            x, z = _synthetic(model_name, k, n, seed)
            truth = teaching.synthetic_truth(model, k or 1)
            x_ref = _reference_sample(model_name, k)
            st.caption(t("Synthetic data drawn from θ* =") + f" {_short(truth)}")
        elif data_key == "upload":
            up = st.file_uploader(t("CSV with columns") + " " + ", ".join(model.data_columns), type=["csv", "txt"],
                                  key=f"{prefix}upload_{model_name}")
            x = _uploaded_data(prefix, model_name, up)
            if x is None:
                return None
            x_ref = x
        else:
            x = vc.load_dataset(data_key)
            x_ref = x
    except ValueError as err:
        fail(err, "Check the data: see the expected columns above, or pick a built-in data set.")
        return None

    _data_download(slots[1] if row else st, prefix, model, x, z, data_key)
    base = _theta_base(prefix, model_name, data_key, k)
    specs = theta_specs(model_name, k, x_ref)
    try:
        defaults = _defaults(model_name, data_key, k, x_ref)
    except ValueError:  # a data set whose chunks give no valid θ: fall back to the middle of the ranges
        defaults = {s.name: (s.lo + s.hi) / 2 for s in specs}
    holder = st.expander(t("Parameters θ"), expanded=theta_expanded) if show_theta else None
    groups = sorted({s.group for s in specs})
    if holder is not None and row:
        with holder:
            cols = st.columns(max(len(groups), 3))
        place = {g: cols[i] for i, g in enumerate(groups)}
    else:
        place = {g: holder for g in groups}
    vals: dict[str, float] = {}
    for s in specs:
        key = base + s.name
        default = _snap(defaults[s.name], s)
        stored = st.session_state.get(key)
        if stored is None:
            _clamp_from_url(key, s)
        elif _snap(stored, s) != stored:  # keep a stored value inside the slider
            st.session_state[key] = _snap(stored, s)
        if holder is None:
            vals[s.name] = float(st.session_state.get(key, default))
            continue
        # Always the same default (a value in session state still wins): the URL leaves out exactly the default.
        vals[s.name] = float(place[s.group].slider(s.label, min_value=s.lo, max_value=s.hi, step=s.step, key=key,
                                                   value=default, bind="query-params"))
    try:
        params = _params_from_values(model_name, k, vals)
    except ValueError as err:
        fail(err, "Move the θ sliders back to valid values.")
        return None
    if holder is not None and model_name != "linkage" and k and k > 2:
        holder.caption(t("Weights are normalised:") + " π = (" + ", ".join(f"{w:.2f}" for w in params.weights) + ")")
    title = _data_title(data_key) if data_key in ("synthetic", "upload") else t(vc.DATASETS[data_key].title)
    return ModelSetup(model_name, k, data_key, title, np.asarray(x), params, truth, z, seed, base)


def _clamp_from_url(key: str, spec: SliderSpec) -> None:
    """A θ value in the address (first time the slider is drawn) outside the slider's range is clamped to
    it, so that an address made with other data still opens near its view (Streamlit would drop it).
    An in-range value off the slider's step is used as it is and snapped at the next rerun."""
    raw = st.query_params.get(key)
    try:
        v = float(raw)
    except (TypeError, ValueError):
        return  # absent or not a number: Streamlit ignores it and the slider shows its default
    if not math.isfinite(v):
        return
    if not spec.lo <= v <= spec.hi:
        st.session_state[key] = _snap(v, spec)  # Streamlit rejects the URL value; this one is used instead


def _data_download(slot, prefix: str, model, x, z, data_key: str) -> None:
    """The data in use as a CSV file (in the model's layout: "Upload a CSV file" reads it back)."""
    name = f"{model.name}_{data_key}"
    label = t("Data as CSV")

    def make() -> str:
        return _export.data_csv(model, x)

    _export.register_data(name, f"{label}: {_data_title(data_key)}", make)
    slot.download_button(label, data=make, file_name=f"{name}.csv", mime="text/csv", on_click="ignore",
                         type="tertiary", icon=":material/download:", key=f"{prefix}data_csv")


PARAM_SYMBOLS = {"weights": "π", "means": "μ", "variances": "σ²", "covariances": "Σ", "heads_probs": "p",
                 "theta": "θ"}  # notation reads the same in every language


def _short(params) -> str:
    parts = []
    for name, arr in params.to_dict().items():
        flat = np.ravel(arr)
        parts.append(f"{PARAM_SYMBOLS.get(name, name)} " + ", ".join(f"{v:.3g}" for v in flat[:6]) + (" …" if flat.size > 6 else ""))
    return "; ".join(parts)
