r"""Query-dependent optimal perturbation designs (Order Disguise, Kernel Confusion, ...).

Every design here is calibrated exactly: :math:`\frac1n\|e\|^2 = \sigma^2`
(:math:`\|e\| = r = \sigma\sqrt n`).

* :class:`OptimalLinearSmoother`: the exact known-attacker optimum against any
  linear-smoother attacker (``attacker.smoother_matrix(X, Z)``),

  .. math::

      e^\star = \arg\max_{\|e\| \le \sigma\sqrt n}\;
      \frac1m \|S(y + e) - f(Z)\|^2 ,

  a trust-region problem solved globally by
  :func:`modelprivacy.solvers.trust_region`;
* :class:`KernelConfusion`: the same design with a kernel-ridge model of the
  attacker (the known attacker, or the authors' surrogate);
* :class:`OrderDisguise`: the closed-form design against polynomial order
  selection (spec 3.1 item 5);
* :class:`MisleadingVariableProjection`: the design against sparse
  regression (spec 3.1 item 7).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import clone

from .._param_validation import HasMethods, Interval, StrOptions
from .._validation import check_generator, check_interval, check_queries, check_vector
from ..attacks.regression import KERNEL_RIDGE_CONSTRAINTS, KernelRidgeAttacker
from ..features import default_p_max
from ..solvers import (
    REGULARIZATIONS,
    kernel_ridge_smoother,
    order_disguise_direction,
    robust_design,
    stealing_quadratic,
    trust_region,
    unit_sphere_slsqp,
)
from .base import Defense, PerturbationModel, _orthonormal

__all__ = [
    "OptimalLinearSmoother",
    "RobustLinearSmoother",
    "KernelConfusion",
    "OrderDisguise",
    "MisleadingVariableProjection",
]

SOLVERS = ("trust_region", "slsqp_unit", "lanczos")


def _calibrate(e, radius, name):
    """Rescale ``e`` to norm exactly ``radius`` (U_n = sigma^2)."""
    norm = float(np.linalg.norm(e))
    if radius == 0.0:
        return np.zeros_like(e)
    if not norm > 0.0:
        raise ValueError(f"{name} produced a zero perturbation direction; cannot calibrate to sigma.")
    return e * (radius / norm)


def _zero_target(Z):
    """The zero function: the curvature of a stealing quadratic does not depend on ``f``."""
    return np.zeros(np.asarray(Z).shape[0])


def _needs_target(target, name):
    if target is None:
        raise ValueError(
            f"{name} needs the server's model f to evaluate the attacker's error off the "
            "queries: call perturbation(X, y, rng=..., target=f) (the simulator passes it)."
        )
    if not callable(target):
        raise TypeError(f"target must be callable (X -> y), got {type(target).__name__}.")


class _SmootherDesign(Defense):
    """Designs against linear-smoother attackers: evaluation points, quadratics, calibration."""

    query_dependent = True
    _parameter_constraints = {
        **Defense._parameter_constraints,
        "evaluation": [None, HasMethods("sample"), callable, "array-like"],
        "n_emp": [Interval(Integral, 1, None)],
        "random_state": ["random_state"],
    }

    def evaluation_points(self, X, rng=None):
        """Evaluation points ``Z`` (shape ``(m, d)``) of the defender's objective."""
        self._validate_params()
        return self._evaluation_points(check_queries(X, "X"), check_generator(rng, "rng"))

    def _evaluation_points(self, X, rng):
        ev = self.evaluation
        m = int(self.n_emp)
        if self.random_state is not None:
            rng = check_generator(self.random_state, "random_state")
        if ev is None:
            lo, hi = X.min(axis=0), X.max(axis=0)
            Z = lo + (hi - lo) * rng.random((m, X.shape[1]))
        elif callable(getattr(ev, "sample", None)):
            Z = ev.sample(m, rng)
        elif callable(ev):
            Z = ev(m, rng)
        else:
            Z = ev
        return check_queries(Z, "evaluation points", n_features=X.shape[1])

    def _attackers(self):
        """The modelled attackers (linear smoothers)."""
        raise NotImplementedError

    def _smoother(self, attacker, X, Z):
        # an unfitted copy: a fitted order-selecting attacker would leak its last order
        return np.asarray(clone(attacker).smoother_matrix(X, Z), dtype=float)

    def _quadratics(self, X, y, rng, target, as_operator=False):
        _needs_target(target, type(self).__name__)
        Z = self._evaluation_points(X, rng)
        f_Z = check_vector(target(Z), "target(Z)", n=Z.shape[0])
        return [stealing_quadratic(self._smoother(a, X, Z), y, f_Z, as_operator=as_operator)
                for a in self._attackers()]

    def design(self, X, y, *, rng=None, target=None):
        """Solve the design problem on queries ``X``; returns ``(result, quadratic(s))``.

        Parameters
        ----------
        X : array-like of shape (n, d)
        y : array-like of shape (n,)
            Clean answers ``f(X)``.
        rng : None, int, SeedSequence or Generator
            Draws the evaluation points (unless ``random_state`` fixes them).
        target : callable
            The server's model ``f``.
        """
        self._validate_params()
        X = check_queries(X, "X")
        y = check_vector(y, "y", n=X.shape[0])
        return self._design(X, y, check_generator(rng, "rng"), target)

    def _perturbation(self, X, y, *, rng, target=None, history=None):
        radius = float(self.sigma) * np.sqrt(X.shape[0])
        if radius == 0.0:
            return np.zeros(X.shape[0])
        res, _ = self._design(X, y, rng, target)
        return _calibrate(res.e, radius, type(self).__name__)

    def _perturbation_model(self, X, rng, n_directions):
        r"""Top eigenvectors of each modelled attacker's curvature :math:`M = S^\top S/m`.

        :math:`M` depends on the queries and the evaluation points only, not
        on ``f``; the optimum :math:`e = (\lambda I - M)^{-1}u` of a large
        budget (:math:`\lambda` close to :math:`\lambda_{\max}`) lies mostly
        in the top eigenvectors.
        """
        quads = self._quadratics(X, np.zeros(X.shape[0]), rng, _zero_target)
        k = min(n_directions, X.shape[0])
        tops = [np.linalg.eigh(q.M)[1][:, ::-1][:, :k] for q in quads]
        return PerturbationModel(_orthonormal(np.hstack(tops)), None)


class OptimalLinearSmoother(_SmootherDesign):
    r"""Exact optimal perturbation against a known linear-smoother attacker.

    For an attacker whose copy on evaluation points :math:`Z` (``n_emp``
    points from the defender's guess of the evaluation distribution) is
    :math:`\hat f(Z) = S(y+e)`, the design solves

    .. math::

        \max_{e}\; \frac1m \|S(y+e) - f(Z)\|^2 = e^\top M e + 2u^\top e + c
        \quad\text{s.t.}\quad \|e\|_2 \le \sigma\sqrt n,

    with :math:`M = S^\top S/m`, :math:`u = S^\top(Sy - f(Z))/m`. Because
    :math:`M \succeq 0` the maximiser lies on the sphere, so
    :math:`U_n = \frac1n\|e\|^2 = \sigma^2` exactly.

    Parameters
    ----------
    sigma : float
        Utility budget, :math:`U_n = \sigma^2`.
    attacker : estimator with ``smoother_matrix(X, Z)``
        The defender's model of the attacker (OLS on a basis, polynomial of
        fixed order, kernel ridge, ...). Default: RBF kernel ridge with
        :math:`\gamma = 1`, :math:`\alpha = 10^{-3}` (the paper's attacker).
    evaluation : None, array-like (m, d), QueryStrategy or callable
        Defender's guess of the evaluation distribution: ``None`` draws
        uniformly on the bounding box of the queries; an array gives fixed
        points; an object with ``sample(m, rng)`` or a callable ``(m, rng) -> Z``
        is sampled ``n_emp`` times.
    n_emp : int
        Number of evaluation points (1000 in the authors' code).
    random_state : None or int
        ``None`` draws the evaluation points from the defense's ``rng`` at each
        call; an int draws them from this seed (the same points every call,
        like the authors' draw at construction).
    solver : {'trust_region', 'slsqp_unit', 'lanczos'}
        ``'trust_region'``: exact global solution at radius
        :math:`\sigma\sqrt n`; ``'slsqp_unit'``: the authors' unit-sphere SLSQP
        then rescaling (not optimal at radius :math:`\sigma\sqrt n`);
        ``'lanczos'``: top-``n_components`` approximation for large ``n``.
    n_components : int
        Eigenpairs of the ``'lanczos'`` solver.
    """

    display_name = "Optimal Linear-Smoother Design"
    _parameter_constraints = {
        **_SmootherDesign._parameter_constraints,
        "attacker": [HasMethods("smoother_matrix"), None],
        "solver": [StrOptions(set(SOLVERS))],
        "n_components": [Interval(Integral, 1, None)],
    }

    def __init__(self, sigma=0.1, *, attacker=None, evaluation=None, n_emp=1000, random_state=None,
                 solver="trust_region", n_components=20):
        self.sigma = sigma
        self.attacker = attacker
        self.evaluation = evaluation
        self.n_emp = n_emp
        self.random_state = random_state
        self.solver = solver
        self.n_components = n_components

    def _attackers(self):
        return [KernelRidgeAttacker(kernel="rbf", gamma=1.0, alpha=1e-3) if self.attacker is None else self.attacker]

    def quadratic(self, X, y, *, rng=None, target=None):
        r"""The defender's objective :math:`e^\top M e + 2u^\top e + c` on queries ``X``.

        Returns
        -------
        StealingQuadratic
        """
        self._validate_params()
        X = check_queries(X, "X")
        y = check_vector(y, "y", n=X.shape[0])
        return self._quadratics(X, y, check_generator(rng, "rng"), target,
                                as_operator=(self.solver == "lanczos"))[0]

    def _design(self, X, y, rng, target):
        """``(TrustRegionResult, StealingQuadratic)``; ``result.certificate.check()`` verifies optimality."""
        q = self._quadratics(X, y, rng, target, as_operator=(self.solver == "lanczos"))[0]
        radius = float(self.sigma) * np.sqrt(q.n)
        if self.solver == "trust_region":
            res = trust_region(q.M, q.u, radius)
        elif self.solver == "lanczos":
            res = trust_region(q.M, q.u, radius, method="lanczos", n_components=int(self.n_components))
        else:
            res = unit_sphere_slsqp(q.M, q.u, radius)
        return res, q


class RobustLinearSmoother(_SmootherDesign):
    r"""Perturbation maximising the worst stealing error over candidate linear-smoother attackers.

    For an unknown attacker from a finite family :math:`\{S_k\}` (e.g. kernel
    ridge with several kernels and ridges), with
    :math:`\ell_k(e) = \frac1m\|S_k(y+e) - f(Z)\|^2`,

    .. math::

        \max_{\|e\| \le \sigma\sqrt n}\; \min_k\; \ell_k(e),

    solved by the SDP relaxation and rounding of
    :func:`~modelprivacy.solvers.robust_design` (whose ``gap`` bounds the
    sub-optimality). The rounded ``e`` is put on the sphere
    :math:`\|e\| = \sigma\sqrt n`, so :math:`U_n = \sigma^2` exactly.

    Parameters
    ----------
    sigma : float
        Utility budget.
    attackers : sequence of estimators with ``smoother_matrix(X, Z)``
        The candidate attackers.
    evaluation, n_emp, random_state
        As in :class:`OptimalLinearSmoother`.
    conic_solver : {None, 'CLARABEL', 'SCS'}
        Solver of the relaxation (``None``: Clarabel for small ``n``, else SCS).
    n_samples : int
        Randomised rounding draws.
    """

    display_name = "Robust Linear-Smoother Design"
    _parameter_constraints = {
        **_SmootherDesign._parameter_constraints,
        "attackers": [list, tuple],
        "conic_solver": [StrOptions({"CLARABEL", "SCS"}), None],
        "n_samples": [Interval(Integral, 1, None)],
    }

    def __init__(self, sigma=0.1, *, attackers=(), evaluation=None, n_emp=1000, random_state=None,
                 conic_solver=None, n_samples=100):
        self.sigma = sigma
        self.attackers = attackers
        self.evaluation = evaluation
        self.n_emp = n_emp
        self.random_state = random_state
        self.conic_solver = conic_solver
        self.n_samples = n_samples

    def _validate_params(self):
        super()._validate_params()
        if len(self.attackers) == 0:
            raise ValueError("attackers must be a non-empty sequence of linear smoothers.")
        for k, att in enumerate(self.attackers):
            if not HasMethods("smoother_matrix").is_satisfied_by(att):
                raise TypeError(f"attackers[{k}] must expose smoother_matrix(X, Z), got {type(att).__name__}.")

    def _attackers(self):
        return list(self.attackers)

    def quadratic(self, X, y, *, rng=None, target=None):
        r"""The defender's objectives :math:`\ell_k(e)`, one per candidate attacker.

        Returns
        -------
        list of StealingQuadratic
        """
        self._validate_params()
        X = check_queries(X, "X")
        y = check_vector(y, "y", n=X.shape[0])
        return self._quadratics(X, y, check_generator(rng, "rng"), target)

    def _design(self, X, y, rng, target):
        """``(DesignResult, list of StealingQuadratic)``."""
        quads = self._quadratics(X, y, rng, target)
        radius = float(self.sigma) * np.sqrt(X.shape[0])
        res = robust_design(quads, radius=radius, solver=self.conic_solver, random_state=rng,
                            n_samples=int(self.n_samples))
        return res, quads


class KernelConfusion(OptimalLinearSmoother):
    r"""Kernel Confusion: the optimal perturbation against a kernel-ridge attacker.

    The defender models the attacker as kernel ridge regression,
    :math:`S = k(Z, X)(K + \tilde\alpha I)^{+}`, and solves

    .. math::

        \max_{\|e\| \le \sigma\sqrt n}\; \frac1m\|S(y+e) - f(Z)\|^2 .

    * Known attacker: the attacker's own kernel, kernel parameters and
      :math:`\alpha` with ``regularization='attacker'``
      (:math:`\tilde\alpha = \alpha`, the default).
    * The authors' (unknown-attacker) surrogate: :meth:`paper_surrogate`, the
      cubic kernel :math:`(x^\top x' + 1)^3`, :math:`\alpha = 10^{-2}` with
      :math:`\tilde\alpha = n\alpha` (``regularization='authors'``), used
      against an RBF attacker with :math:`\gamma = 1`, :math:`\alpha = 10^{-3}`.

    Parameters
    ----------
    sigma : float
        Utility budget, :math:`U_n = \sigma^2`.
    kernel : str or callable
        A :func:`sklearn.metrics.pairwise.pairwise_kernels` name.
    alpha : float
        Ridge of the modelled attacker.
    gamma, degree, coef0 : kernel parameters (scikit-learn meaning; ``gamma=None`` is ``1/d``).
    regularization : {'attacker', 'authors'}
        :math:`K + \alpha I` (as the attacker fits) or :math:`K + n\alpha I`
        (as the authors' defender models it).
    evaluation, n_emp, random_state, solver, n_components
        As in :class:`OptimalLinearSmoother`.

    Notes
    -----
    ``solver='slsqp_unit'`` reproduces the authors' code, which maximises on
    the *unit* sphere and rescales to :math:`\sigma\sqrt n`; the default exact
    solver is the true maximiser at that radius.
    """

    display_name = "Kernel Confusion (Ours)"

    _parameter_constraints = {
        **{k: v for k, v in OptimalLinearSmoother._parameter_constraints.items() if k != "attacker"},
        **KERNEL_RIDGE_CONSTRAINTS,
        "regularization": [StrOptions(set(REGULARIZATIONS))],
    }

    def __init__(self, sigma=0.1, *, kernel="rbf", alpha=1e-3, gamma=None, degree=3, coef0=1.0,
                 regularization="attacker", evaluation=None, n_emp=1000, random_state=None,
                 solver="trust_region", n_components=20):
        self.sigma = sigma
        self.kernel = kernel
        self.alpha = alpha
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.regularization = regularization
        self.evaluation = evaluation
        self.n_emp = n_emp
        self.random_state = random_state
        self.solver = solver
        self.n_components = n_components

    @classmethod
    def paper_surrogate(cls, sigma=0.1, **params):
        """The authors' defender: cubic polynomial kernel, alpha = 1e-2, ``K + n alpha I``."""
        base = dict(kernel="poly", degree=3, coef0=1.0, gamma=None, alpha=1e-2, regularization="authors")
        base.update(params)
        return cls(sigma=sigma, **base)

    def _attackers(self):
        return [None]  # the kernel-ridge model below, under the chosen regularisation

    def _smoother(self, attacker, X, Z):
        return kernel_ridge_smoother(X, Z, kernel=self.kernel, alpha=self.alpha, gamma=self.gamma,
                                     degree=self.degree, coef0=self.coef0,
                                     regularization=self.regularization)


class OrderDisguise(Defense):
    r"""Order Disguise: make the data look like a polynomial of the maximal candidate order.

    Answers :math:`Y = f(X) + \sigma\sqrt n\, e` with ``e`` the unit direction
    of :func:`order_disguise_direction` built on ``p`` basis columns. The
    attacker's order selection (AIC/BIC/BC) then picks the largest order, and
    the ill-conditioned high-order component enters its copy, which is why the
    privacy level can exceed the utility loss (spec P5). With ``p = 1`` it is
    the constant shift.

    Parameters
    ----------
    sigma : float
        Utility budget, :math:`U_n = \frac1n\|e\|^2 = \sigma^2` exactly.
    p : int or None
        Number of columns (attacker's ``p_max``); ``None`` uses
        :math:`\lfloor n^{1/3} \rfloor` (:func:`~modelprivacy.attacks.default_p_max`).
    basis : {'monomial', 'legendre'}
        Columns :math:`x^j` (the authors' final code) or Legendre polynomials.
    interval : (float, float)
        Domain mapped onto [-1, 1] by the Legendre basis.
    """

    display_name = "Order Disguise (Ours)"
    query_dependent = True
    _parameter_constraints = {
        **Defense._parameter_constraints,
        "p": [Interval(Integral, 1, None), None],
        "basis": [StrOptions({"monomial", "legendre"})],
    }

    def __init__(self, sigma=0.1, *, p=None, basis="monomial", interval=(0.0, 1.0)):
        self.sigma = sigma
        self.p = p
        self.basis = basis
        self.interval = interval

    def _validate_params(self):
        super()._validate_params()
        check_interval(*self.interval, name="interval")

    def perturbation(self, X, y, *, rng=None, target=None, history=None):
        X = check_queries(X, "X", n_features=1)  # a 1-D design
        return super().perturbation(X, y, rng=rng, target=target, history=history)

    def _direction(self, X):
        p = default_p_max(X.shape[0]) if self.p is None else int(self.p)
        return order_disguise_direction(X, p, basis=self.basis, interval=self.interval)

    def _perturbation(self, X, y, *, rng=None, target=None, history=None):
        return _calibrate(self._direction(X), float(self.sigma) * np.sqrt(X.shape[0]), "OrderDisguise")

    def _perturbation_model(self, X, rng, n_directions):
        """Order Disguise's direction: a function of the queries alone (its length is ``sigma * sqrt(n)``)."""
        return PerturbationModel(self._direction(X)[:, None], None)


class MisleadingVariableProjection(Defense):
    r"""Misleading Variable Projection against sparse (Lasso / Elastic Net) attackers.

    With :math:`y = X\beta` and :math:`S_0 = \{j : \beta_j = 0\}`, drop
    :math:`\lfloor |S_0| r \rfloor` of the irrelevant variables at random
    (keeping at least one), call the rest :math:`S`, and let
    :math:`\hat y = \Pi_{X_S}\, y` (OLS on the irrelevant variables). Then

    .. math::

        e = \begin{cases}
        \sigma\sqrt n\,\frac{\hat y - y}{\|\hat y - y\|} & \|\hat y - y\| > \sigma\sqrt n\\[2pt]
        (\hat y - y) + \sqrt{n\sigma^2 - \|\hat y - y\|^2}\;\frac{\hat y}{\|\hat y\|} & \text{otherwise,}
        \end{cases}

    (the two terms of the second case are orthogonal), so
    :math:`\frac1n\|e\|^2 = \sigma^2` and the answers move toward an
    explanation by the *wrong* variables.

    Parameters
    ----------
    sigma : float
        Utility budget.
    coef : array-like of shape (d,) or None
        The server's true coefficients :math:`\beta`; ``None`` reads
        ``target.coef`` (e.g. :class:`~modelprivacy.targets.LinearTarget`).
    exclude_ratio : float in [0, 1]
        ``r``, the fraction of irrelevant variables dropped (0.9 in the
        authors' plotted setting).
    """

    display_name = "Misleading Variable Projection (Ours)"
    query_dependent = True
    _parameter_constraints = {
        **Defense._parameter_constraints,
        "coef": ["array-like", None],
        "exclude_ratio": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(self, sigma=0.1, *, coef=None, exclude_ratio=0.9):
        self.sigma = sigma
        self.coef = coef
        self.exclude_ratio = exclude_ratio

    def _validate_params(self):
        super()._validate_params()
        if self.coef is not None:
            check_vector(self.coef, "coef")

    def _coef(self, target, d):
        coef = self.coef if self.coef is not None else getattr(target, "coef", None)
        if coef is None:
            raise ValueError(
                "MisleadingVariableProjection needs the true coefficients: pass coef=beta "
                "or a target with a .coef attribute (e.g. LinearTarget)."
            )
        coef = check_vector(coef, "coef", n=d)
        return coef

    def _perturbation(self, X, y, *, rng, target=None, history=None):
        n, d = X.shape
        radius = float(self.sigma) * np.sqrt(n)
        if radius == 0.0:
            return np.zeros(n)
        coef = self._coef(target, d)
        zero = np.flatnonzero(coef == 0.0)
        if zero.size == 0:
            raise ValueError("coef has no zero entries: there are no irrelevant variables to mislead with.")
        n_drop = min(int(np.floor(zero.size * float(self.exclude_ratio))), zero.size - 1)
        keep = np.setdiff1d(zero, rng.choice(zero, size=n_drop, replace=False))
        XS = X[:, keep]
        y_hat = XS @ np.linalg.lstsq(XS, y, rcond=None)[0]
        noise = y_hat - y
        norm_noise = float(np.linalg.norm(noise))
        if norm_noise > radius:
            return _calibrate(noise, radius, "MisleadingVariableProjection")
        norm_hat = float(np.linalg.norm(y_hat))
        if norm_hat > 1e-12 * max(float(np.linalg.norm(y)), 1.0):
            direction = y_hat / norm_hat
        else:
            # y is orthogonal to the kept variables: complete along one of them instead
            col = XS[:, 0] - (XS[:, 0] @ noise) / max(norm_noise**2, np.finfo(float).tiny) * noise
            direction = col / np.linalg.norm(col)
        e = noise + np.sqrt(max(radius**2 - norm_noise**2, 0.0)) * direction
        return _calibrate(e, radius, "MisleadingVariableProjection")
