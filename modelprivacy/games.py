"""The paper's regression games as ready threat models, with the defenses and attackers of each.

* ``poly``: :math:`f(x) = 4(x-1/2)^2`, Beta(1, 3) queries and test points,
  polynomial attacker with AIC/BIC/BC order selection over
  :math:`\\lfloor n^{1/3}\\rfloor` candidates (spec 5.1); designed defense:
  Order Disguise;
* ``krr``: :math:`f(x) = x - 1.2x^2 - 0.8x^3 + 0.6\\cos 2\\pi x`, U(-1, 1)
  queries and test points, RBF kernel ridge attacker with
  :math:`\\gamma = 1`, :math:`\\alpha = 10^{-3}` (5.2); designed defense:
  Kernel Confusion against the authors' cubic-kernel surrogate;
* ``lasso``: sparse linear model of setting kind 7: d = 60,
  :math:`\\beta = (3, 1.5, 0, 0, 2, 0, \\dots)`, Toeplitz(0.5) Gaussian design,
  n = 50, 400 test points, LassoCV and ElasticNetCV attackers (5.3);
  designed defense: Misleading Variable Projection.

Which defenses and attackers belong to each game is written here once
(:data:`GAME_DEFENSES`, :data:`GAME_ATTACKERS`, :func:`game_defenses`) and
used by the command line, the figures and the notebooks.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone

from .attacks import KernelRidgeAttacker, OLSRegression, PolynomialRegression, make_attacker
from .defenses import (
    ConstantShift,
    Defense,
    IIDNoise,
    KernelConfusion,
    LongRangeNoise,
    MisleadingVariableProjection,
    NoDefense,
    OrderDisguise,
    make_defense,
)
from .queries import BetaQueries, MultivariateGaussianQueries, UniformQueries, toeplitz_covariance
from .targets import CubicCosineTarget, LinearTarget, QuadraticTarget
from .threat import ThreatModel

__all__ = [
    "PAPER_SIGMA",
    "poly_game",
    "krr_game",
    "lasso_game",
    "lasso_coef",
    "GAMES",
    "GAME_ATTACKERS",
    "GAME_DEFENSES",
    "game_defenses",
    "game_attacker_family",
    "make_game",
]

#: noise level of the paper's budget sweeps (U_n = 0.25)
PAPER_SIGMA = 0.5

#: game -> registry names of the defenses compared in the paper, the designed one last
GAME_DEFENSES = {
    "poly": ("none", "iid", "constant", "long_range", "order_disguise"),
    "krr": ("none", "iid", "constant", "long_range", "kernel_confusion"),
    "lasso": ("none", "iid", "constant", "long_range", "misleading_variable_projection"),
}

#: game -> registry names of its attackers (the first is the game's default)
GAME_ATTACKERS = {
    "poly": ("poly_aic", "poly_bic", "poly_bc"),
    "krr": ("krr",),
    "lasso": ("lasso_cv", "elasticnet_cv"),
}


def game_defenses(game, sigma=PAPER_SIGMA):
    """The defenses of a paper game at noise level ``sigma``, by registry name.

    Baselines: no defense, IID noise, the constant shift and long-range noise
    (:math:`\\gamma = 1/n`, unsorted); the designed defense: Order Disguise
    (:math:`p = \\lfloor n^{1/3}\\rfloor`) for ``poly``, Kernel Confusion with
    the authors' cubic-kernel surrogate (1000 U(-1, 1) evaluation points) for
    ``krr``, Misleading Variable Projection (:math:`r = 0.9`) for ``lasso``.

    Returns
    -------
    dict
        Registry name -> Defense (a fresh object per call).
    """
    if game not in GAME_DEFENSES:
        raise ValueError(f"unknown game {game!r}; known games: {sorted(GAME_DEFENSES)}.")
    designed = {
        "order_disguise": lambda: OrderDisguise(sigma),
        "kernel_confusion": lambda: KernelConfusion.paper_surrogate(
            sigma, evaluation=UniformQueries((-1.0, 1.0)), n_emp=1000),
        "misleading_variable_projection": lambda: MisleadingVariableProjection(sigma, exclude_ratio=0.9),
    }
    baselines = {
        "none": NoDefense,
        "iid": lambda: IIDNoise(sigma),
        "constant": lambda: ConstantShift(sigma),
        "long_range": lambda: LongRangeNoise(sigma),
    }
    return {name: {**baselines, **designed}[name]() for name in GAME_DEFENSES[game]}


def game_attacker_family(game):
    r"""The linear-smoother attackers an arms race of a game draws from, the game's own first.

    * ``poly`` (queries on [0, 1]): least squares on 3 to 6 Legendre columns
      (``ols4`` is :math:`p_{\max} = \lfloor 100^{1/3}\rfloor` at
      :math:`n = 100`, the order Order Disguise targets, so it comes first) and
      RBF kernel ridge with :math:`\gamma \in \{3, 10\}`, :math:`\alpha = 10^{-3}`;
    * ``krr`` (queries on [-1, 1]): the game's RBF kernel ridge
      (:math:`\gamma = 1`, :math:`\alpha = 10^{-3}`), RBF with
      :math:`(\gamma, \alpha) \in \{(0.3, 10^{-3}), (3, 10^{-3}), (10, 10^{-2})\}`,
      Laplacian kernel ridge (:math:`\gamma = 1`, :math:`\alpha = 10^{-2}`) and
      least squares on 6 and 10 Legendre columns.

    Returns
    -------
    tuple of (str, estimator)
        Names and unfitted attackers (each with ``smoother_matrix``).
    """
    if game == "poly":
        leg = {"basis": "legendre", "interval": (0.0, 1.0)}
        return (
            ("ols4", OLSRegression(4, **leg)),
            ("ols3", OLSRegression(3, **leg)),
            ("ols5", OLSRegression(5, **leg)),
            ("ols6", OLSRegression(6, **leg)),
            ("krr_rbf_g3", KernelRidgeAttacker("rbf", gamma=3.0, alpha=1e-3)),
            ("krr_rbf_g10", KernelRidgeAttacker("rbf", gamma=10.0, alpha=1e-3)),
        )
    if game == "krr":
        leg = {"basis": "legendre", "interval": (-1.0, 1.0)}
        return (
            ("krr_rbf_g1", KernelRidgeAttacker("rbf", gamma=1.0, alpha=1e-3)),
            ("krr_rbf_g0.3", KernelRidgeAttacker("rbf", gamma=0.3, alpha=1e-3)),
            ("krr_rbf_g3", KernelRidgeAttacker("rbf", gamma=3.0, alpha=1e-3)),
            ("krr_rbf_g10_a1e-2", KernelRidgeAttacker("rbf", gamma=10.0, alpha=1e-2)),
            ("krr_lap_g1_a1e-2", KernelRidgeAttacker("laplacian", gamma=1.0, alpha=1e-2)),
            ("ols6", OLSRegression(6, **leg)),
            ("ols10", OLSRegression(10, **leg)),
        )
    raise ValueError(f"no attacker family for game {game!r}; games with one: ['krr', 'poly'].")


def _defense(defense, sigma):
    """A defense by name gets ``sigma`` (the paper's 0.5 by default); a Defense
    object keeps its own ``sigma`` unless one is given explicitly (it is cloned, never changed)."""
    if isinstance(defense, str):
        d = make_defense(defense)
        sigma = PAPER_SIGMA if sigma is None else sigma
    elif isinstance(defense, Defense):
        d = clone(defense)
    else:
        raise TypeError(f"defense must be a registry name or a Defense, got {type(defense).__name__}.")
    if sigma is not None and "sigma" in d.get_params(deep=False):
        d.set_params(sigma=sigma)
    return d


def poly_game(n=100, defense="iid", sigma=None, attacker=None, criterion="AIC"):
    """The polynomial-regression game of spec 5.1.

    ``defense`` is a registry name (built at ``sigma``, default 0.5) or a
    Defense (kept at its own ``sigma`` unless ``sigma`` is given).
    """
    attacker = PolynomialRegression(criterion=criterion) if attacker is None else attacker
    return ThreatModel(
        target=QuadraticTarget(),
        queries=BetaQueries(1.0, b=3.0),
        n=n,
        defense=_defense(defense, sigma),
        attacker=attacker,
        evaluation=BetaQueries(1.0, b=3.0),
        n_eval=1000,
    )


def krr_game(n=100, defense="iid", sigma=None, attacker=None):
    """The kernel-ridge game of spec 5.2."""
    attacker = KernelRidgeAttacker(kernel="rbf", gamma=1.0, alpha=1e-3) if attacker is None else attacker
    return ThreatModel(
        target=CubicCosineTarget(),
        queries=UniformQueries((-1.0, 1.0)),
        n=n,
        defense=_defense(defense, sigma),
        attacker=attacker,
        evaluation=UniformQueries((-1.0, 1.0)),
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


#: game name -> builder of its threat model
GAMES = {"poly": poly_game, "krr": krr_game, "lasso": lasso_game}


def make_game(name, **kwargs):
    """Build a preset game by name (``poly``, ``krr``, ``lasso``)."""
    if name not in GAMES:
        raise ValueError(f"unknown game {name!r}; known games: {sorted(GAMES)}.")
    return GAMES[name](**kwargs)
