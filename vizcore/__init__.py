"""vizcore: the exact numeric core of the variational-bounds visualiser.

Pure numpy/scipy: importing vizcore loads neither streamlit nor plotly (the
figure builders live in :mod:`vizcore.figures`, which imports plotly only).

Glossary (mathematics → code)
-----------------------------
=================  ==================  =========================================
N                  ``n_samples``       number of data points
D                  ``n_features``      dimension of a data point
K                  ``n_components``    values of the discrete latent z
π                  ``weights``         mixing proportions p(z = k)
μ                  ``means``
σ², Σ              ``variances``, ``covariances``
p_k                ``heads_probs``     a coin's probability of heads
θ (linkage)        ``theta``
q(z_n = k)         ``resp``            shape (N, K)
log p(X|θ)         ``log_marginal``
L(q, θ)            ``elbo``
KL(q ‖ p(Z|X,θ))   ``kl_gap``
=================  ==================  =========================================

Anything in log space starts with ``log_``. Functions comparing two
distributions take q before p.
"""
from .datasets import DATASETS, datasets_for, load_dataset, read_csv, synthetic
from .inference import (Decomposition, EMTrace, decompose, e_step, elbo, interpolate_resp, kl_gap, log_marginal,
                        m_step, posterior, prior_mass_ruled_out, prior_resp, run_em)
from .models import MODELS, get_model
from .views import Bound, BoundFamily, bound_family, bound_from_resp, line, log_marginal_batch, plane, posterior_bound, vary

__all__ = [
    "DATASETS", "datasets_for", "load_dataset", "read_csv", "synthetic",
    "Decomposition", "EMTrace", "decompose", "e_step", "elbo", "interpolate_resp", "kl_gap", "log_marginal",
    "m_step", "posterior", "prior_mass_ruled_out", "prior_resp", "run_em", "MODELS", "get_model",
    "Bound", "BoundFamily", "bound_family", "bound_from_resp", "line", "log_marginal_batch", "plane",
    "posterior_bound", "vary",
]
