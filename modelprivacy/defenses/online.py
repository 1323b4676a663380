r"""Online designs: perturbations a server can answer one query at a time.

The batch designs (:mod:`modelprivacy.defenses.optimal`) need the whole query
set before answering. :class:`PerturbationFunctionDesign` is their
population analogue: a deterministic perturbation *function*
:math:`g(x) = \phi(x)^\top\theta` on a fixed basis, designed once from the
query distribution :math:`P_Q`, the evaluation distribution and the
modelled attacker, and answered as :math:`f(x) + g(x)`. It answers each query
from the query alone (no history needed), gives the same answer to a
repeated query, has the same law in sequential and batch games, and its
utility loss is :math:`\sigma^2` on average over the queries.

Design
------
For a linear-smoother attacker with smoother :math:`S_X` on queries
:math:`X \sim P_Q^n` and evaluation points :math:`Z`, the stealing error of
the answers :math:`y + \Phi_X\theta` is the quadratic
:math:`\ell_X(\Phi_X\theta) = \theta^\top\Phi_X^\top M_X\Phi_X\theta + 2u_X^\top\Phi_X\theta + c_X`
(:func:`~modelprivacy.solvers.stealing_quadratic`). Its expectation over
queries and evaluation points is estimated by averaging ``n_mc`` draws,

.. math::

    \bar A = \frac1R\sum_r \Phi_r^\top M_r\Phi_r,\qquad
    \bar b = \frac1R\sum_r \Phi_r^\top u_r,\qquad \bar c = \frac1R\sum_r c_r,

and the utility constraint is the population one,
:math:`E\,\frac1n\sum_i g(X_i)^2 = \theta^\top G\theta \le \sigma^2` with the
Gram matrix :math:`G = E_{P_Q}\phi(X)\phi(X)^\top` (a Gauss-Jacobi rule for
uniform and Beta queries, exact for polynomial bases; Monte Carlo otherwise).
With :math:`G = LL^\top` and :math:`\vartheta = L^\top\theta` the design is
the trust-region problem

.. math::

    \max_{\|\vartheta\| \le \sigma}\; \vartheta^\top L^{-1}\bar A L^{-\top}\vartheta
    + 2(L^{-1}\bar b)^\top\vartheta ,

solved globally by :func:`~modelprivacy.solvers.trust_region`; since
:math:`\bar A \succeq 0` the optimum lies on the sphere, so
:math:`E\,U_n = \theta^\top G\theta = \sigma^2` exactly.

What it cannot do
-----------------
A fixed function pays its utility on the population: :math:`E\,g(X)^2 = \sigma^2`.
Against an attacker whose smoother is, on the population, a contraction
(:math:`\|S g\|_{P} \le \|g\|_{P}`, as kernel ridge and least squares are
when evaluation and query distributions agree) its privacy level is then at
most about :math:`(\sqrt{c} + \sigma)^2`. The batch optimum is also a smooth
function of the query on its own sample (in the kernel game it lies in the
span of ten Legendre polynomials evaluated at the queries), but one chosen
for that sample: a function the sample under-represents, whose population
norm exceeds its empirical norm :math:`\sigma`. That gain is the fluctuation
of the empirical Gram matrix around the population one and shrinks as
:math:`n` grows; no answer that depends on the query alone can have it
(``benchmarks/bench_responsive.py`` measures both).
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import clone

from .._fingerprint import fingerprint
from .._param_validation import HasMethods, Interval, StrOptions
from .._validation import check_interval, check_queries, check_vector
from ..attacks.regression import KernelRidgeAttacker
from ..features import BASES, basis_matrix
from ..queries import UniformQueries
from ..solvers import StealingQuadratic, stealing_quadratic, trust_region
from .base import Defense, Moments, PerturbationModel, _orthonormal

__all__ = ["PerturbationFunctionDesign"]


class PerturbationFunctionDesign(Defense):
    r"""An online design: a deterministic perturbation function against a linear-smoother attacker.

    Answers :math:`Y = f(x) + g(x)` with :math:`g = \phi^\top\theta` designed
    from the query distribution (see the module docstring): the population
    analogue of :class:`~modelprivacy.defenses.OptimalLinearSmoother` (and so
    of Kernel Confusion), answered one query at a time, identically for a
    repeated query, at :math:`E\,U_n = \sigma^2`.

    The design is computed once per target, on first use (or by
    :meth:`fit`), from ``random_state`` alone, so every call -- every
    replication, every query of a sequential game -- uses the same function.

    Parameters
    ----------
    sigma : float
        Utility budget: :math:`E\,U_n = \sigma^2` over the query distribution.
    attacker : estimator with ``smoother_matrix(X, Z)``, optional
        The modelled attacker (default RBF kernel ridge, :math:`\gamma = 1`,
        :math:`\alpha = 10^{-3}`, the kernel game's attacker).
    queries : QueryStrategy, optional
        The attackers' query distribution :math:`P_Q` (default U(0, 1)); 1-D.
    evaluation : QueryStrategy, optional
        The evaluation distribution (default ``queries``).
    n_design : int
        The attacker's budget ``n`` the function is designed for.
    n_mc : int
        Monte Carlo draws ``R`` of queries and evaluation points.
    n_emp : int
        Evaluation points per draw.
    basis : {"legendre", "monomial", "cosine"}
        The function class :math:`\phi` (see :func:`~modelprivacy.features.basis_matrix`).
    n_terms : int
        Number of basis functions.
    interval : (float, float) or None
        Domain of the basis (``None``: the query strategy's ``interval``).
    n_quad : int
        Nodes of the quadrature rule of the Gram matrix (Monte Carlo points
        when the query distribution has no rule).
    random_state : int
        Seed of the design (a fixed function needs a fixed seed).

    Attributes
    ----------
    coef_ : ndarray of shape (n_terms,)
        :math:`\theta`.
    gram_ : ndarray of shape (n_terms, n_terms)
        :math:`G`.
    quadratic_ : StealingQuadratic
        The averaged objective in :math:`\theta`: ``M`` :math:`= \bar A`, ``u`` :math:`= \bar b`,
        ``c`` :math:`= \bar c`.
    design_ : TrustRegionResult
        The solved trust-region problem (with its optimality certificate).
    expected_privacy_level_ : float
        The design objective :math:`\vartheta^\top L^{-1}\bar AL^{-\top}\vartheta + 2(L^{-1}\bar b)^\top\vartheta + \bar c`,
        the defender's in-sample estimate of :math:`PL_n`.
    target_key_ : str
        Fingerprint of the target the design was made for.
    """

    display_name = "Online Perturbation-Function Design"
    query_dependent = True
    _parameter_constraints = {
        **Defense._parameter_constraints,
        "attacker": [HasMethods("smoother_matrix"), None],
        "queries": [HasMethods("sample"), None],
        "evaluation": [HasMethods("sample"), None],
        "n_design": [Interval(Integral, 1, None)],
        "n_mc": [Interval(Integral, 1, None)],
        "n_emp": [Interval(Integral, 1, None)],
        "basis": [StrOptions(set(BASES))],
        "n_terms": [Interval(Integral, 1, None)],
        "interval": [tuple, list, None],
        "n_quad": [Interval(Integral, 1, None)],
        "random_state": [Interval(Integral, 0, None)],
    }

    def __init__(self, sigma=0.1, *, attacker=None, queries=None, evaluation=None, n_design=100, n_mc=20,
                 n_emp=500, basis="legendre", n_terms=10, interval=None, n_quad=256, random_state=0):
        self.sigma = sigma
        self.attacker = attacker
        self.queries = queries
        self.evaluation = evaluation
        self.n_design = n_design
        self.n_mc = n_mc
        self.n_emp = n_emp
        self.basis = basis
        self.n_terms = n_terms
        self.interval = interval
        self.n_quad = n_quad
        self.random_state = random_state

    def _validate_params(self):
        super()._validate_params()
        if self.interval is not None:
            if len(self.interval) != 2:
                raise ValueError(f"interval must be a pair (lb, ub), got {self.interval!r}.")
            lb, ub = check_interval(*self.interval, name="interval")
            if not (np.isfinite(lb) and np.isfinite(ub)):
                raise ValueError(f"interval must be finite (the basis lives on it), got ({lb}, {ub}).")

    # ----- parts --------------------------------------------------------------------
    def _attacker(self):
        return KernelRidgeAttacker("rbf", gamma=1.0, alpha=1e-3) if self.attacker is None else self.attacker

    def _queries(self):
        return UniformQueries() if self.queries is None else self.queries

    def _interval(self):
        if self.interval is not None:
            return tuple(float(v) for v in self.interval)
        return tuple(float(v) for v in getattr(self._queries(), "interval", (0.0, 1.0)))

    def _features(self, X):
        return basis_matrix(X, int(self.n_terms), basis=self.basis, interval=self._interval())

    def _g(self, X):
        """``g(X)`` row by row, so that a query gets bit-identical answers in batches of any size."""
        return (self._features(check_queries(X, "X", n_features=1)) * self.coef_).sum(axis=1)

    def _gram(self, rng):
        """:math:`G = E\\,\\phi(X)\\phi(X)^\\top` by quadrature, else Monte Carlo."""
        q = self._queries()
        try:
            nodes, weights = q.quadrature(int(self.n_quad))
        except (NotImplementedError, AttributeError):
            nodes = q.sample(int(self.n_quad), rng)
            weights = np.full(nodes.shape[0], 1.0 / nodes.shape[0])
        P = self._features(nodes)
        G = P.T @ (weights[:, None] * P)
        return 0.5 * (G + G.T)

    # ----- public -------------------------------------------------------------------
    def fit(self, target):
        """Design the perturbation function for the server's model ``target``; returns ``self``."""
        self._validate_params()
        if not callable(target):
            raise TypeError(f"target must be callable (X -> y), got {type(target).__name__}.")
        self._fit(target)
        return self

    def perturbation_function(self, X):
        """The designed :math:`g(X)` (shape ``(n,)``); requires :meth:`fit` (or a first answer)."""
        self._validate_params()
        if not hasattr(self, "coef_"):
            raise ValueError("PerturbationFunctionDesign is not designed yet: call fit(target).")
        return self._g(X)

    def population_utility(self, X, e):
        r"""The population utility of the function of this design's class that fits a perturbation on ``X``.

        Fits :math:`\hat\theta = \arg\min_\theta \|\Phi_X\theta - e\|^2` on
        the design's basis (least squares) and returns the population
        utility :math:`E_{P_Q}\,\hat g(X)^2 = \hat\theta^\top G\hat\theta` of
        :math:`\hat g = \phi^\top\hat\theta` with the design's Gram matrix
        :math:`G`, and the share :math:`\|\Phi_X\hat\theta\|^2/\|e\|^2` of
        the perturbation the function explains. For this design's own
        answers (:math:`e = g(X)`) the share is 1 and the utility is
        :math:`\sigma^2`; for a batch optimum whose share is close to 1 it is
        the utility a fixed function would pay on the population to answer
        as the batch optimum did on ``X`` (see the module docstring).

        Parameters
        ----------
        X : array-like of shape (n, 1)
            Queries.
        e : array-like of shape (n,)
            A perturbation of the answers to ``X`` (not all zero).

        Returns
        -------
        utility : float
            :math:`\hat\theta^\top G\hat\theta`.
        share : float
            :math:`\|\Phi_X\hat\theta\|^2/\|e\|^2`.
        """
        self._validate_params()
        if not hasattr(self, "coef_"):
            raise ValueError("PerturbationFunctionDesign is not designed yet: call fit(target).")
        X = check_queries(X, "X", n_features=1)
        e = check_vector(e, "e", n=X.shape[0])
        energy = float(e @ e)
        if energy == 0.0:
            raise ValueError("e must not be all zero (the share of a zero perturbation is undefined).")
        Phi = self._features(X)
        theta = np.linalg.lstsq(Phi, e, rcond=None)[0]
        fit = Phi @ theta
        return float(theta @ self.gram_ @ theta), float(fit @ fit) / energy

    # ----- private ------------------------------------------------------------------
    def _fit(self, target):
        key = fingerprint([self.get_params(deep=False), target])
        if getattr(self, "target_key_", None) == key:
            return
        rng = np.random.default_rng(int(self.random_state))
        attacker = clone(self._attacker())
        queries = self._queries()
        evaluation = queries if self.evaluation is None else self.evaluation
        p, R, n = int(self.n_terms), int(self.n_mc), int(self.n_design)
        A, b, c = np.zeros((p, p)), np.zeros(p), 0.0
        for _ in range(R):
            X = check_queries(queries.sample(n, rng), "queries", n_features=1)
            Z = check_queries(evaluation.sample(int(self.n_emp), rng), "evaluation points", n_features=1)
            q = stealing_quadratic(attacker.smoother_matrix(X, Z), check_vector(target(X), "target(X)"),
                                   check_vector(target(Z), "target(Z)"))
            Phi = self._features(X)
            A += Phi.T @ q.M @ Phi
            b += Phi.T @ q.u
            c += q.c
        A, b, c = A / R, b / R, c / R
        G = self._gram(rng)
        L = np.linalg.cholesky(G)
        Linv = np.linalg.inv(L)
        res = trust_region(0.5 * (Linv @ A @ Linv.T + (Linv @ A @ Linv.T).T), Linv @ b, float(self.sigma))
        self.coef_ = Linv.T @ res.e
        self.quadratic_ = StealingQuadratic(A, b, c)
        self.gram_ = G
        self.design_ = res
        self.expected_privacy_level_ = float(res.objective + c)
        self.target_key_ = key

    def _perturbation(self, X, y, *, rng=None, target=None, history=None):
        if float(self.sigma) == 0.0:
            return np.zeros(X.shape[0])
        if target is None:
            raise ValueError("PerturbationFunctionDesign designs its function from the server's model: "
                             "pass target=f (the simulator and the Server do).")
        self._fit(target)
        return self._g(X)

    def _perturbation_model(self, X, rng, n_directions):
        """The span of the basis on the queries: ``g`` lies in it, with coefficients that depend on ``f``."""
        return PerturbationModel(_orthonormal(self._features(check_queries(X, "X", n_features=1))), None)

    def _moments(self, X):
        if not hasattr(self, "coef_"):
            return super()._moments(X)
        return Moments(self._g(X), np.zeros((X.shape[0], X.shape[0])))
