"""The paper's regression games as ready threat models (spec section 5).

* ``poly``: :math:`f(x) = 4(x-1/2)^2`, Beta(1, 3) queries and test points,
  polynomial attacker with AIC/BIC/BC order selection over
  :math:`\\lfloor n^{1/3}\\rfloor` candidates (5.1);
* ``krr``: :math:`f(x) = x - 1.2x^2 - 0.8x^3 + 0.6\\cos 2\\pi x`, U(-1, 1)
  queries and test points, RBF kernel ridge attacker with
  :math:`\\gamma = 1`, :math:`\\alpha = 10^{-3}` (5.2);
* ``lasso``: sparse linear model of setting kind 7: d = 60,
  :math:`\\beta = (3, 1.5, 0, 0, 2, 0, \\dots)`, Toeplitz(0.5) Gaussian design,
  n = 50, 400 test points, LassoCV attacker (5.3).
"""

from __future__ import annotations

import numpy as np

from .attacks import KernelRidgeAttacker, PolynomialRegression, make_attacker
from .defenses import make_defense
from .queries import BetaQueries, MultivariateGaussianQueries, UniformQueries, toeplitz_covariance
from .targets import LinearTarget, krr_function, quadratic
from .threat import ThreatModel

__all__ = ["poly_game", "krr_game", "lasso_game", "lasso_coef", "GAMES", "make_game"]


PAPER_SIGMA = 0.5


def _defense(defense, sigma):
    """A defense by name gets ``sigma`` (the paper's 0.5 by default); a Defense
    object keeps its own ``sigma`` unless one is given explicitly."""
    if isinstance(defense, str):
        d = make_defense(defense)
        sigma = PAPER_SIGMA if sigma is None else sigma
    else:
        d = defense
    if sigma is not None and "sigma" in d._param_names():
        d = d.set_params(sigma=sigma)
    return d


def poly_game(n=100, defense="iid", sigma=None, attacker=None, criterion="AIC"):
    """The polynomial-regression game of spec 5.1.

    ``defense`` is a registry name (built at ``sigma``, default 0.5) or a
    Defense (kept at its own ``sigma`` unless ``sigma`` is given).
    """
    attacker = PolynomialRegression(criterion=criterion) if attacker is None else attacker
    return ThreatModel(
        target=quadratic,
        queries=BetaQueries(1.0, 3.0),
        n=n,
        defense=_defense(defense, sigma),
        attacker=attacker,
        evaluation=BetaQueries(1.0, 3.0),
        n_eval=1000,
    )


def krr_game(n=100, defense="iid", sigma=None, attacker=None):
    """The kernel-ridge game of spec 5.2."""
    attacker = KernelRidgeAttacker(kernel="rbf", gamma=1.0, alpha=1e-3) if attacker is None else attacker
    return ThreatModel(
        target=krr_function,
        queries=UniformQueries(-1.0, 1.0),
        n=n,
        defense=_defense(defense, sigma),
        attacker=attacker,
        evaluation=UniformQueries(-1.0, 1.0),
        n_eval=1000,
    )


def lasso_coef(d=60):
    """Coefficients of setting kind 7: (3, 1.5, 0, 0, 2, 0, ..., 0)."""
    beta = np.zeros(d)
    beta[[0, 1, 4]] = [3.0, 1.5, 2.0]
    return beta


def lasso_game(n=50, defense="iid", sigma=None, attacker="lasso_cv", d=60, rho=0.5):
    """The high-dimensional sparse game of spec 5.3 (kind 7)."""
    design = MultivariateGaussianQueries(toeplitz_covariance(d, rho))
    return ThreatModel(
        target=LinearTarget(lasso_coef(d)),
        queries=design,
        n=n,
        defense=_defense(defense, sigma),
        attacker=make_attacker(attacker) if isinstance(attacker, str) else attacker,
        evaluation=design,
        n_eval=400,
    )


GAMES = {"poly": poly_game, "krr": krr_game, "lasso": lasso_game}


def make_game(name, **kwargs):
    """Build a preset game by name (``poly``, ``krr``, ``lasso``)."""
    if name not in GAMES:
        raise ValueError(f"unknown game {name!r}; known games: {sorted(GAMES)}.")
    return GAMES[name](**kwargs)
