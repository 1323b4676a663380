"""The paper's games as ready threat models and cells, with the defenses and attackers of each.

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

The classification games (stealing a victim classifier through an output
defense, section 5.4-5.5 of the paper and Lee et al.) are cells of the same
engine: :func:`agreement_budget_cells`, :func:`classification_table_cells`
(defenses calibrated to benign flip rates by :func:`calibrated_defenses`)
and :func:`equation_solving_cells`.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone

from numbers import Real

from ._param_validation import Interval, validate_parameter_constraints
from ._validation import check_int, check_probabilities, check_scalar
from .attacks import (
    CrossValidatedAttacker,
    EquationSolvingAttack,
    GLSKernelRidge,
    GLSRegression,
    KernelRidgeAttacker,
    KnownDefenseAttacker,
    LabelOnlyAttacker,
    OLSRegression,
    PolynomialRegression,
    RepeatAveraging,
    ReverseSigmoidAwareAttacker,
    SoftLabelLogisticRegression,
    SoftmaxMLP,
    TruncatedPolynomialRegression,
    default_candidates,
    is_linear_smoother,
    make_attacker,
)
from .defenses import (
    AdaptiveMisinformation,
    ConstantShift,
    Defense,
    IIDNoise,
    KernelConfusion,
    LongRangeNoise,
    MisleadingShift,
    MisleadingVariableProjection,
    NoDefense,
    NoPostprocessing,
    OrderDisguise,
    Postprocessor,
    RandomShuffle,
    ReverseSigmoid,
    make_defense,
)
from .metrics import flip_rate
from .queries import (
    BetaQueries,
    GaussianQueries,
    MultivariateGaussianQueries,
    OwnedPointQueries,
    RepeatedQueries,
    UniformQueries,
    toeplitz_covariance,
)
from .simulate import Cell
from .targets import CubicCosineTarget, LinearTarget, QuadraticTarget
from .threat import ClassificationThreatModel, ThreatModel

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
    "game_aware_attackers",
    "make_game",
    "UTILITY_LEVELS",
    "RS_GRID",
    "classification_attackers",
    "agreement_budget_cells",
    "calibrated_defenses",
    "classification_table_cells",
    "equation_solving_cells",
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
    validate_parameter_constraints({"sigma": Defense._parameter_constraints["sigma"]}, {"sigma": sigma},
                                   "game_defenses")
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


def game_aware_attackers(game, defense, *, n_owned=5, owned_seed=0, repeats=(2, 4)):
    r"""The defense-aware attackers of a regression game that apply to ``defense``.

    Each is the game's own (known) attacker :math:`L` -- polynomial AIC
    order selection in ``poly``, RBF kernel ridge (:math:`\gamma = 1`,
    :math:`\alpha = 10^{-3}`) in ``krr`` -- made to respond to the defense in
    one way (:mod:`modelprivacy.attacks.aware`), at the same budget ``n``
    (every answer counts):

    * ``repeat_k<k>``: each of :math:`n/k` points asked ``k`` times in
      rounds and the answers averaged before fitting :math:`L`
      (:class:`~modelprivacy.attacks.RepeatAveraging`,
      :class:`~modelprivacy.queries.RepeatedQueries`); divides the variance
      of independent noise by ``k``;
    * ``cv_choice``: learner and hyper-parameters chosen by leave-one-out
      cross-validation on the answers (closed form) among the 24 linear
      smoothers of :func:`~modelprivacy.attacks.default_candidates`
      (polynomials of 1 to 8 terms, RBF and Laplacian kernel ridge; its Lasso
      and ridge pipelines are left out: they are not linear smoothers, and
      5-fold cross-validation with them costs ten times as much);
    * ``gls`` (random perturbations with known moments only: IID, constant
      shift, long-range noise): generalised least squares with the defense's
      covariance (:class:`~modelprivacy.attacks.GLSRegression` on
      :math:`\lfloor n^{1/3}\rfloor` monomials in ``poly``,
      :class:`~modelprivacy.attacks.GLSKernelRidge` in ``krr``);
    * ``refuse_top_order`` (``poly`` only): AIC among all but the top
      order (:class:`~modelprivacy.attacks.TruncatedPolynomialRegression`);
    * ``owned_<k>``: ``n_owned`` points whose clean answers the attacker
      owns, sent among its queries; the perturbation is estimated from them by
      universal kriging under the defense's known form and subtracted
      (:class:`~modelprivacy.attacks.KnownDefenseAttacker`,
      :class:`~modelprivacy.queries.OwnedPointQueries`).

    Parameters
    ----------
    game : {"poly", "krr"}
    defense : Defense
        The defense the attackers respond to (its form, not its budget, is used).
    n_owned : int
        Owned points of ``owned_<k>``.
    owned_seed : int
        Seed of the owned points, drawn once from the game's query
        distribution: part of the attacker's specification, not of a run.
    repeats : sequence of int
        The ``k`` of the repetition attackers (each >= 2).

    Returns
    -------
    dict
        Name -> ``(attacker, query strategy)``; put them into the game with
        ``tm.replace(attacker=..., queries=...)``.
    """
    if game not in ("poly", "krr"):
        raise ValueError(f"game must be 'poly' or 'krr' (the regression games with aware attackers), got {game!r}.")
    if not isinstance(defense, Defense):
        raise TypeError(f"defense must be a Defense, got {type(defense).__name__}.")
    n_owned = check_int(n_owned, "n_owned", low=1)
    owned_seed = check_int(owned_seed, "owned_seed", low=0)
    if isinstance(repeats, (str, bytes)) or not hasattr(repeats, "__iter__"):
        raise TypeError(f"repeats must be a sequence of ints >= 2, got {repeats!r}.")
    repeats = [check_int(k, "repeats", low=2) for k in repeats]
    base = make_game(game)
    queries, known, target = base.queries, base.attacker, base.target
    out = {f"repeat_k{k}": (RepeatAveraging(known), RepeatedQueries(queries, repeats=k)) for k in repeats}
    smoothers = [(name, est) for name, est in default_candidates() if is_linear_smoother(est)]
    out["cv_choice"] = (CrossValidatedAttacker(smoothers, cv="loo"), queries)
    if not defense.query_dependent:
        gls = (GLSRegression(noise=defense) if game == "poly"
               else GLSKernelRidge(known.kernel, gamma=known.gamma, alpha=known.alpha, noise=defense))
        out["gls"] = (gls, queries)
    if game == "poly":
        out["refuse_top_order"] = (TruncatedPolynomialRegression(refuse=1, criterion=known.criterion), queries)
    owned = queries.sample(n_owned, np.random.default_rng(owned_seed))
    out[f"owned_{n_owned}"] = (KnownDefenseAttacker(known, defense=defense, owned_X=owned, owned_y=target(owned)),
                               OwnedPointQueries(queries, points=owned))
    return out


def _defense(defense, sigma):
    """A defense by name gets ``sigma`` (the paper's 0.5 by default); a Defense
    object keeps its own ``sigma`` unless one is given explicitly (it is cloned, never changed)."""
    if sigma is not None:
        validate_parameter_constraints({"sigma": Defense._parameter_constraints["sigma"]}, {"sigma": sigma}, "game")
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
    d = check_int(d, "d", low=5)
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


# --------------------------------------------------------------------------- classification games
#: utility-loss levels (top-1 flip rates) of the paper's classification table
UTILITY_LEVELS = (0.01, 0.02, 0.05, 0.10, 0.15)
#: ReverseSigmoid grid of the Model Privacy experiments (gamma = 0.2) and ART's default
RS_GRID = tuple((b, 0.2) for b in (0.1, 0.2, 0.3, 0.4, 0.5)) + ((1.0, 0.1),)


def classification_attackers(*, C=10.0, mlp=True, tol=1e-4):
    """Attacker factories ``name -> f(defense) -> estimator or None`` of the classification games.

    ``"soft"``: :class:`~modelprivacy.attacks.SoftLabelLogisticRegression`;
    ``"labels"``: labels only; ``"mlp"``: :class:`~modelprivacy.attacks.SoftmaxMLP`;
    ``"aware"``: the ReverseSigmoid-aware attacker (only against
    :class:`~modelprivacy.defenses.ReverseSigmoid`, else ``None``).
    """
    validate_parameter_constraints(
        {"C": [Interval(Real, 0, None, closed="neither")], "mlp": ["boolean"],
         "tol": [Interval(Real, 0, None, closed="neither")]},
        {"C": C, "mlp": mlp, "tol": tol}, "classification_attackers")

    def soft(defense):
        return SoftLabelLogisticRegression(C=C, solver="lbfgs", tol=tol)

    def labels(defense):
        return LabelOnlyAttacker(SoftLabelLogisticRegression(C=C, solver="lbfgs", tol=tol))

    def mlp_(defense):
        return SoftmaxMLP(hidden=32, alpha=1e-3, max_iter=150, random_state=0)

    def aware(defense):
        if isinstance(defense, ReverseSigmoid):
            return ReverseSigmoidAwareAttacker(defense.beta, gamma=defense.gamma,
                                               estimator=SoftLabelLogisticRegression(C=C, solver="lbfgs", tol=tol))
        return None

    out = {"soft": soft, "labels": labels}
    if mlp:
        out["mlp"] = mlp_
    out["aware"] = aware
    return out


def agreement_budget_cells(victim, defenses, attackers, budgets, *, pool="in"):
    """Cells of the agreement-vs-budget experiment: every (defense, attacker, budget).

    Parameters
    ----------
    victim : Victim
    defenses : dict of str -> Postprocessor
    attackers : dict of str -> callable(defense) -> estimator or None
        A factory returning ``None`` skips the pair (e.g. the
        ReverseSigmoid-aware attacker against other defenses).
    budgets : increasing list of int
        The query sets are nested across budgets and shared by all defenses
        within a replication.
    pool : str

    Returns
    -------
    list of Cell
        Labels ``defense``, ``attacker``, ``budget``.
    """
    budgets = [check_int(b, "budgets", low=1) for b in budgets]
    if any(b2 <= b1 for b1, b2 in zip(budgets, budgets[1:])):
        raise ValueError("budgets must be strictly increasing.")
    cells = []
    for dname, defense in _check_postprocessors(defenses).items():
        for aname, factory in attackers.items():
            est = factory(defense)
            if est is None:
                continue
            for b in budgets:
                game = ClassificationThreatModel(victim, pool, b, defense, est)
                cells.append(Cell(game, {"defense": dname, "attacker": aname, "budget": b}))
    return cells


def _check_postprocessors(defenses):
    if not isinstance(defenses, dict) or not defenses:
        raise TypeError("defenses must be a non-empty dict name -> Postprocessor.")
    for k, d in defenses.items():
        if not isinstance(d, Postprocessor):
            raise TypeError(f"defenses[{k!r}] must be a Postprocessor, got {type(d).__name__}.")
    return defenses


def calibrated_defenses(P_benign, utilities, *, seed=0):
    """The table's defenses at each utility level, calibrated on benign answers.

    Random Shuffle, Adaptive Misinformation and Misleading Shift are
    calibrated by bisection to each top-1 flip rate ``u``
    (:meth:`~modelprivacy.defenses.Postprocessor.calibrate`; a level a
    defense cannot reach on these answers is left out); Deceptive
    Perturbation (ReverseSigmoid) uses the paper's grid
    :math:`\\beta \\in \\{.1, \\dots, .5\\}` at :math:`\\gamma = 0.2`, with its
    measured flip rate, as in the paper's code.

    Returns
    -------
    list of (name, u, defense, measured u, strength)
    """
    P_benign = check_probabilities(P_benign, "P_benign")
    if P_benign.shape[0] == 0:
        raise ValueError("P_benign must have at least one row.")
    seed = check_int(seed, "seed", low=0)
    if isinstance(utilities, str) or not hasattr(utilities, "__iter__"):
        raise TypeError(f"utilities must be a sequence of flip rates in (0, 1), got {utilities!r}.")
    utilities = [check_scalar(u, "utilities", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
                 for u in utilities]
    out = []
    for i, u in enumerate(utilities):
        for name, proto in (("Random Shuffle", RandomShuffle()), ("Adaptive Misinformation", AdaptiveMisinformation()),
                            ("Misleading Shift", MisleadingShift())):
            try:
                d = proto.calibrate(P_benign, u, rng=seed)
            except ValueError:
                continue
            out.append((name, u, d, d.calibrated_flip_rate_, getattr(d, d._strength)))
        beta = (0.1, 0.2, 0.3, 0.4, 0.5)[i % 5]
        d = ReverseSigmoid(beta, gamma=0.2)
        out.append(("Deceptive Perturbation", u, d, flip_rate(P_benign, d.respond(P_benign)), beta))
    return out


def classification_table_cells(victim, *, utilities=UTILITY_LEVELS, budgets=(1000, 2000, 5000), pool="out",
                               attacker=None, seed=0):
    r"""Cells of the Model Privacy classification table (hate-speech layout) on a victim.

    Each defense of :func:`calibrated_defenses` at each utility level ``u``
    (top-1 flip rate on the victim's benign split) and each budget, plus an
    undefended row (``u = 0``). Binary victims answer one probability per
    query, as the hate-speech API of the paper.

    Parameters
    ----------
    victim : Victim
    utilities : sequence of float in (0, 1)
    budgets : sequence of int
    pool : str
        ``"out"`` (the shifted pool) is where the paper's effects appear.
    attacker : estimator, optional
        Default: soft-label logistic regression (``C = 1``).
    seed : int
        Seeds the calibration's common random numbers.

    Returns
    -------
    list of Cell
        Labels ``defense``, ``u``, ``u_measured``, ``param``, ``budget``.
    """
    utilities = [check_scalar(u, "utilities", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
                 for u in utilities]
    budgets = [check_int(b, "budgets", low=1) for b in budgets]
    attacker = SoftLabelLogisticRegression(C=1.0, solver="lbfgs", tol=1e-4) if attacker is None else attacker
    v = victim._fitted()
    P_benign = v.answers(v.task_.X_benign)
    rows = [("No Defense", 0.0, NoPostprocessing(), 0.0, 0.0)] + calibrated_defenses(P_benign, utilities, seed=seed)
    cells = []
    for name, u, defense, u_meas, param in rows:
        for b in budgets:
            game = ClassificationThreatModel(victim, pool, b, defense, attacker)
            cells.append(Cell(game, {"defense": name, "u": u, "u_measured": u_meas, "param": param, "budget": b}))
    return cells


def equation_solving_cells(victim, defenses, *, n_queries=None, scale=1.0):
    r"""Cells of the equation-solving attack (Tramer et al.) on a logistic-regression victim.

    ``n_queries`` (default ``d + 1``) Gaussian queries :math:`N(0, \text{scale}^2 I)`
    (generic points make the system full rank), answered by each defense and
    solved for the log-ratio parameters by
    :class:`~modelprivacy.attacks.EquationSolvingAttack`.

    Returns
    -------
    list of Cell
        Labels ``defense``, ``n_queries``.
    """
    v = victim._fitted()
    d = v.task_.n_features
    n = d + 1 if n_queries is None else check_int(n_queries, "n_queries", low=d + 1)
    queries = GaussianQueries(0.0, std=check_scalar(scale, "scale", low=0.0, low_inclusive=False), d=d)
    return [Cell(ClassificationThreatModel(victim, queries, n, defense, EquationSolvingAttack()),
                 {"defense": name, "n_queries": n}) for name, defense in _check_postprocessors(defenses).items()]
