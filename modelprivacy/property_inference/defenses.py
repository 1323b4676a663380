r"""Defenses against property inference.

A defense is a *procedure* the provider applies to a trained model before
sharing it. Every defense here maps a :class:`~.models.ModelSet` to the
released :class:`~.models.ModelSet` with :meth:`Defense.apply`, so that the
provider applies it to its target and a responsive attacker, who knows the
procedure, applies the very same code to its shadows.

Non-adaptive baselines
----------------------
* :class:`OutputNoise`: Gaussian noise on every released probability,
  clipped to [0, 1] (black-box only: white-box parameters are untouched).
  The noise of one model on one query is fixed (a repeated query returns
  the same answer, so it cannot be averaged away).
* :class:`ParameterNoise`: Gaussian noise on every released parameter.
* :class:`PropertyUnlearning` (after Stock et al.): move the model's
  parameters, as little as possible, until one *given* meta-classifier's
  posterior is exactly uniform,
  :math:`\theta_u = \arg\min \frac12\|\theta - \theta_0\|^2` s.t.
  :math:`g(\phi(\theta)) = U_m`. It defeats that meta-classifier and, as the
  authors note, not others: a responsive attacker retrains on unlearned
  shadows.

The arms-race defense step
--------------------------
:class:`PoolPenaltyDefense` retrains each model on its own training set
against a pool of attackers :math:`g_1, \dots, g_t`:

.. math::

    \theta_{\rm def}(D) = \arg\min_\theta\ F(\theta; D)
        + \lambda\,\operatorname{agg}_{s \le t}\,
          \mathrm{KL}\big(g_s(\phi_s(\theta))\,\|\,U_m\big),

where :math:`F` is the target's own training objective (L2 logistic
regression or scikit-learn's MLP objective, :mod:`.models`), and ``agg`` the
mean or a smooth maximum :math:`\frac1\tau\log\frac1t\sum_s e^{\tau
\mathrm{KL}_s}`. The KL to uniform is zero exactly when an attacker's
posterior carries no information, is bounded below, and does not need the
model's true class (the alternative :math:`-\mathrm{CE}(g(\phi), c(D))` of
the spec is unbounded below and pushes models into *other* classes' regions,
a mapping the next responsive attacker simply learns back). The default
replaces the penalty by its :math:`\lambda \to \infty` limit, the
constraint "every pool attacker's posterior is uniform" (see
:class:`PoolPenaltyDefense` for why and for the measured difference). Gradients (and,
for a logistic regression, Hessians) of the penalty are analytic:
with :math:`z = N_s(\phi)` the attacker's class logits,
:math:`J = \partial z / \partial\phi`,

.. math::

    \nabla_\phi = J^\top \nabla_z \mathrm{KL},\qquad
    \nabla^2_\phi = J^\top \nabla^2_z \mathrm{KL}\, J

(exact almost everywhere for piecewise-affine meta-classifiers), carried to
:math:`\theta` by the feature map: a scatter for white-box features; for
black-box features of a logistic regression
:math:`\phi = \sigma(\tilde Q\theta)`,
:math:`\nabla_\theta = \tilde Q^\top(\sigma' \odot \nabla_\phi)` and
:math:`\nabla^2_\theta = \tilde Q^\top[\operatorname{diag}(\sigma')
\nabla^2_\phi \operatorname{diag}(\sigma') + \operatorname{diag}(\sigma''
\odot \nabla_\phi)]\tilde Q`.

References
----------
* [1] J. Stock, J. Wettlaufer, D. Demmler and H. Federrath, "Property
  Unlearning: A Defense Strategy Against Property Inference Attacks",
  arXiv:2205.08821; "Lessons Learned: Defending Against Property Inference
  Attacks", SECRYPT 2023.
* [2] Y. Yang, J. Xu, H. Zhang and X. Fang, arXiv:2509.16352 (the arms
  race, reconstructed from the abstract: see ``neighbours.md`` B.5).
"""

from __future__ import annotations

import time
from numbers import Integral, Real

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator

from .._param_validation import HasMethods, Interval, StrOptions
from .._validation import check_generator, check_matrix
from ..base import ParamsMixin
from .attacks import _kl_to_uniform
from .models import LogisticFamily, ModelSet, _fit_family

__all__ = [
    "Defense",
    "OutputNoise",
    "ParameterNoise",
    "PropertyUnlearning",
    "PoolPenaltyDefense",
]


class Defense(ParamsMixin, BaseEstimator):
    """Base class: a procedure mapping trained models to released models.

    Subclasses implement ``_apply(models, rng)`` and may override
    :meth:`defend_outputs`. ``supported_families`` lists the target
    families (``"logistic"``, ``"mlp"``) the defense handles.
    """

    supported_families = ("logistic", "mlp")

    def apply(self, models, random_state=None):
        """Return the released versions of ``models``.

        Parameters
        ----------
        models : ModelSet
        random_state : None, int, SeedSequence or Generator

        Raises
        ------
        ValueError
            When the target family is not supported.
        """
        self._validate_params()
        if not isinstance(models, ModelSet):
            raise TypeError(f"models must be a ModelSet, got {type(models).__name__}.")
        self._check_family(models.family)
        return self._apply(models, check_generator(random_state))

    def _check_family(self, family):
        if family.kind not in self.supported_families:
            raise ValueError(f"{type(self).__name__} does not support {family.kind!r} targets; "
                             f"it supports {list(self.supported_families)}.")

    def defend_outputs(self, p, rng):
        """Perturb released class-1 probabilities (identity by default)."""
        return p

    def _apply(self, models, rng):
        raise NotImplementedError


class OutputNoise(Defense):
    r"""Gaussian noise on released probabilities: :math:`\tilde p = \operatorname{clip}(p + \sigma\varepsilon, 0, 1)`.

    Parameters
    ----------
    scale : float > 0, default=0.1
        :math:`\sigma`.
    """

    _parameter_constraints = {"scale": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, scale=0.1):
        self.scale = scale

    def _apply(self, models, rng):
        if models.output_defense is not None:
            raise ValueError("these models already carry an output defense.")
        seeds = rng.integers(0, 2**63 - 1, size=len(models))
        return models.with_thetas(models.thetas, output_defense=self, output_seeds=seeds)

    def defend_outputs(self, p, rng):
        return np.clip(p + self.scale * rng.standard_normal(np.shape(p)), 0.0, 1.0)


class ParameterNoise(Defense):
    r"""Gaussian noise on every released parameter: :math:`\tilde\theta = \theta + \sigma\varepsilon`.

    Parameters
    ----------
    scale : float > 0, default=0.1
    """

    _parameter_constraints = {"scale": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, scale=0.1):
        self.scale = scale

    def _apply(self, models, rng):
        return models.with_thetas(models.thetas + self.scale * rng.standard_normal(models.thetas.shape))


# --------------------------------------------------------------------------------------
# the attacker penalty
# --------------------------------------------------------------------------------------
def _pool_entries(attacks, family=None, name="pool"):
    """(MetaNet, access, queries) of each fitted attack; raises for non-differentiable or mismatched ones."""
    out = []
    for a in attacks:
        if not hasattr(a, "meta_net"):
            raise ValueError(f"{name}: {type(a).__name__} is not a differentiable meta-classifier attack.")
        net = a.meta_net()
        if family is not None and a.access == "white" and net.mean.size != family.n_params:
            raise ValueError(f"the attack reads {net.mean.size} white-box features but the {family.kind!r} "
                             f"targets have {family.n_params} parameters: it was trained on another target type.")
        out.append((net, a.access, a.queries_))
    return out


def _attacker_penalty(theta, family, entries, *, aggregate="mean", tau=10.0, hessian=False):
    r"""Aggregated KL-to-uniform of the attackers' posteriors at one model, with gradient (and Hessian).

    Parameters
    ----------
    theta : ndarray of shape (p,)
    family : LogisticFamily or MLPFamily
    entries : list of (MetaNet, access, queries)
    aggregate : {"mean", "max"}
        ``"max"`` is the smooth maximum
        :math:`\frac1\tau\log\frac1t\sum_s e^{\tau\,\mathrm{KL}_s}` (within
        :math:`\log t/\tau` of the maximum).
    hessian : bool
        Also return the Hessian (logistic family only).

    Returns
    -------
    f : float
    g : ndarray of shape (p,)
    H : ndarray of shape (p, p) or None
    """
    if hessian and not isinstance(family, LogisticFamily):
        raise ValueError("the penalty Hessian is implemented for logistic-regression targets only.")
    fs, gs, Hs = [], [], []
    p_ = theta.size
    for net, access, Q in entries:
        if access == "white":
            idx = family.white_index(theta)
            phi = theta[idx]
        else:
            prob = family.predict_proba(theta, Q)
            phi = prob
        z, J = net._logits_and_jacobian(phi)
        f, gz, Hz = _kl_to_uniform(z, hessian=hessian)
        gphi = J.T @ gz
        g = np.zeros(p_)
        H = None
        if access == "white":
            g[idx] = gphi
            if hessian:
                H = np.zeros((p_, p_))
                H[np.ix_(idx, idx)] = J.T @ Hz @ J
        else:
            s1 = prob * (1.0 - prob)
            g = family.logit_vjp(theta, Q, gphi * s1)
            if hessian:
                Qt = np.column_stack([Q, np.ones(Q.shape[0])])
                A = J * s1[None, :]  # J diag(s1): (m, nq)
                M = A.T @ Hz @ A
                M[np.diag_indices_from(M)] += gphi * s1 * (1.0 - 2.0 * prob)
                H = Qt.T @ M @ Qt
        fs.append(f)
        gs.append(g)
        Hs.append(H)
    fs = np.array(fs)
    if aggregate == "mean" or len(fs) == 1:
        f = float(fs.mean())
        g = np.mean(gs, axis=0)
        H = np.mean(Hs, axis=0) if hessian else None
        return f, g, H
    w = np.exp(tau * (fs - fs.max()))
    w /= w.sum()
    f = float(fs.max() + np.log(np.mean(np.exp(tau * (fs - fs.max())))) / tau)
    G = np.array(gs)
    g = w @ G
    H = None
    if hessian:
        H = np.tensordot(w, np.array(Hs), axes=1) + tau * ((G.T * w) @ G - np.outer(g, g))
    return f, g, H


def _newton_solve(H, g):
    r"""The Newton direction :math:`H^{-1} g`, damped when :math:`H` is not positive definite.

    The penalty makes the objective non-convex away from its minimum; if the
    Cholesky factorisation fails, :math:`H + \delta I` is used with the
    smallest :math:`\delta = 10^{-8}\cdot 10^k` that is positive definite
    (Levenberg-Marquardt damping).
    """
    delta = 0.0
    scale = max(1.0, float(np.max(np.abs(np.diag(H)))))
    for k in range(20):
        try:
            c = linalg.cho_factor(H + delta * np.eye(H.shape[0]), check_finite=False)
            return linalg.cho_solve(c, g, check_finite=False)
        except linalg.LinAlgError:
            delta = scale * 1e-8 * 10**k
    raise linalg.LinAlgError("the Newton system could not be made positive definite.")


class PropertyUnlearning(Defense):
    r"""Property unlearning against one fixed meta-classifier (after Stock et al.).

    The smallest change of the parameters that makes the given
    meta-classifier's posterior exactly uniform,

    .. math::

        \theta_u = \arg\min_\theta \tfrac12\|\theta - \theta_0\|^2
        \ \text{ s.t. }\ z_k(\phi(\theta)) - z_0(\phi(\theta)) = 0,\ k = 1..m-1,

    solved by Gauss-Newton SQP steps (:func:`_kkt_step` with identity
    Hessian; one step is exact for white-box features of a logistic
    regression, whose constraints are linear). Stock et al. run gradient
    steps through the adversary's meta-classifier until its output is 0.5;
    this is the same end state reached with the least change. A penalty
    that only pushes the posterior *towards* uniform cannot do this: it
    approaches 1/m from the side the model started on, so the meta-
    classifier's decision, and the fixed attacker's accuracy, do not move.

    Parameters
    ----------
    attack : fitted MetaClassifierAttack or None, default=None
        The adversary's meta-classifier (logistic regression or MLP; a
        random forest has no gradient and raises). ``None`` only in an
        experiment specification, which fills in each fitted attack.
    max_steps : int >= 1, default=50
    tol : float > 0, default=1e-10
        Stop when the constraint violation (in logits) is below ``tol``.
    """

    _parameter_constraints = {
        "attack": [None, HasMethods(["meta_net"])],
        "max_steps": [Interval(Integral, 1, None)],
        "tol": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, attack=None, *, max_steps=50, tol=1e-10):
        self.attack = attack
        self.max_steps = max_steps
        self.tol = tol

    def _apply(self, models, rng):
        if self.attack is None:
            raise ValueError("PropertyUnlearning needs the fitted attack it unlearns against (attack=None).")
        fam = models.family
        entries = _pool_entries([self.attack], fam, name="attack")
        out = np.empty_like(models.thetas)
        eye = np.eye(fam.n_params)
        for i, t0 in enumerate(models.thetas):
            theta = t0.copy()

            def merit(th, rho, t0=t0):
                d = th - t0
                return 0.5 * d @ d + rho * np.abs(_attacker_constraints(th, fam, entries)[0]).sum()

            rho = 1.0
            for _ in range(self.max_steps):
                C, J, _ = _attacker_constraints(theta, fam, entries)
                if np.max(np.abs(C)) <= self.tol:
                    break
                delta, nu = _kkt_step(eye, theta - t0, C, J)
                rho = max(rho, float(np.max(np.abs(nu))) + 1.0)
                alpha = _backtrack(merit, theta, delta, rho)
                if alpha is None:
                    break
                theta = theta + alpha * delta
            out[i] = theta
        return models.with_thetas(out)


# --------------------------------------------------------------------------------------
# the attacker constraints and the defended solver
# --------------------------------------------------------------------------------------
def _attacker_constraints(theta, family, entries, multipliers=None):
    r"""Equality constraints "every pool attacker's posterior is uniform", their Jacobian and curvature.

    For attacker :math:`s` with class logits :math:`z_s = N_s(\phi_s(\theta))`
    the posterior is uniform iff :math:`c_{s,k} = z_{s,k} - z_{s,0} = 0` for
    :math:`k = 1, \dots, m-1`.

    Parameters
    ----------
    multipliers : ndarray of shape (t (m - 1),), optional
        Lagrange multipliers :math:`\nu`; when given, the curvature
        :math:`\sum_k \nu_k \nabla^2 c_k` is returned as well. Meta-classifiers
        are piecewise affine, so it comes from the feature map alone: zero
        for white-box features, and for black-box features of a logistic
        regression :math:`\tilde Q^\top \operatorname{diag}(w \odot \sigma'')\tilde Q`
        with :math:`w = \sum_k \nu_k \nabla_\phi c_k`.

    Returns
    -------
    C : ndarray of shape (t (m - 1),)
    J : ndarray of shape (t (m - 1), p)
    K : ndarray of shape (p, p) or None
    """
    Cs, Js = [], []
    K = None if multipliers is None else np.zeros((theta.size, theta.size))
    o = 0
    for net, access, Q in entries:
        if access == "white":
            idx = family.white_index(theta)
            phi = theta[idx]
        else:
            prob = family.predict_proba(theta, Q)
            phi = prob
        z, Jz = net._logits_and_jacobian(phi)
        c = z[1:] - z[0]
        Jc = Jz[1:] - Jz[0]
        J = np.zeros((c.size, theta.size))
        if access == "white":
            J[:, idx] = Jc
        else:
            s1 = prob * (1.0 - prob)
            for k in range(c.size):
                J[k] = family.logit_vjp(theta, Q, Jc[k] * s1)
            if K is not None:
                if not isinstance(family, LogisticFamily):
                    raise ValueError("constraint curvature is implemented for logistic-regression targets only.")
                w = multipliers[o:o + c.size] @ Jc
                Qt = np.column_stack([Q, np.ones(Q.shape[0])])
                K += (Qt * (w * s1 * (1.0 - 2.0 * prob))[:, None]).T @ Qt
        o += c.size
        Cs.append(c)
        Js.append(J)
    return np.concatenate(Cs), np.vstack(Js), K


def _kkt_step(H, g, C, J):
    r"""Newton-KKT step of :math:`\min F` s.t. :math:`C(\theta) = 0`, linearised at the current point.

    Solves

    .. math::

        \begin{pmatrix} H & J^\top \\ J & 0 \end{pmatrix}
        \begin{pmatrix} \Delta \\ \nu \end{pmatrix}
        = -\begin{pmatrix} g \\ C \end{pmatrix}.

    The step minimises the quadratic model on the linearised constraints
    only if :math:`H` is positive definite on the null space of :math:`J`
    (the reduced Hessian :math:`Z^\top H Z`); when it is not (the
    Lagrangian's curvature can be negative), :math:`H + \delta I` is used
    with :math:`\delta` just large enough (inertia correction).
    Redundant constraints are handled by least squares.

    Returns
    -------
    delta, nu : ndarrays
    """
    if J.shape[0] == 0:
        return -_newton_solve(H, g), np.zeros(0)
    p, k = H.shape[0], J.shape[0]
    Qf = np.linalg.qr(J.T, mode="complete")[0]
    rank = int(np.linalg.matrix_rank(J))
    Z = Qf[:, rank:]
    scale = max(1.0, float(np.max(np.abs(np.diag(H)))))
    if Z.shape[1]:
        lam_min = float(np.linalg.eigvalsh(Z.T @ H @ Z)[0])
        if lam_min <= 1e-10 * scale:
            H = H + (1e-8 * scale - lam_min) * np.eye(p)
    A = np.zeros((p + k, p + k))
    A[:p, :p] = H
    A[:p, p:] = J.T
    A[p:, :p] = J
    sol = np.linalg.lstsq(A, -np.concatenate([g, C]), rcond=1e-12)[0] if rank < k else \
        linalg.solve(A, -np.concatenate([g, C]), assume_a="sym", check_finite=False)
    return sol[:p], sol[p:]


def _backtrack(merit, theta, delta, rho):
    """Step length halving until the merit decreases (None when it cannot)."""
    m0 = merit(theta, rho)
    alpha = 1.0
    while alpha > 1e-10:
        if merit(theta + alpha * delta, rho) <= m0 + 1e-12 * max(1.0, abs(m0)):
            return alpha
        alpha *= 0.5
    return None


def _solve_defended(family, X, y, entries=(), *, penalty="constraint", lam=1.0, aggregate="mean", theta0=None,
                   max_steps=100, tol=1e-8, line_search=True):
    r"""Train one defended logistic regression with Newton steps (exact to ``tol``, or ``max_steps`` steps).

    ``penalty="constraint"``: :math:`\min F(\theta)` s.t. every pool
    attacker's posterior is uniform, by sequential quadratic programming:
    Newton-KKT steps on the Lagrangian :math:`F + \nu^\top C` (its Hessian
    includes the constraints' curvature, so convergence is quadratic), with
    a backtracking line search on the :math:`\ell_1` merit function
    :math:`F + \rho\|C\|_1` (:math:`\rho` the running maximum of
    :math:`\|\nu\|_\infty + 1`). Far from feasibility
    (:math:`\|C\|_\infty \ge 0.5`), or when the full step does not descend,
    the Gauss-Newton step (task Hessian only) is used: black-box
    constraints are curved through the sigmoid of every query and the
    multipliers are unreliable there. White-box constraints of a
    logistic regression are linear and converge in a few steps; black-box
    ones can stop at ``max_steps`` with a small violation, which the arms
    race records (``constraint_violation``).
    ``penalty="kl"``: :math:`\min F + \lambda\,\operatorname{agg}_s
    \mathrm{KL}_s` by damped Newton with the analytic penalty Hessian. With
    an empty pool both are Newton's method on :math:`F`, from zero.

    Stops when the KKT residual :math:`\max(\|\nabla F + J^\top\nu\|_\infty,
    \|C\|_\infty)` is below ``tol`` (``line_search=True``), or after
    ``max_steps`` full steps (``line_search=False``: the approximate
    strategy's fixed number of steps, with multipliers starting at zero).

    Returns
    -------
    theta : ndarray
    steps : int
        Newton steps taken.
    """
    theta = np.zeros(family.n_params) if theta0 is None else np.array(theta0, dtype=float)
    entries = list(entries)
    use_c = bool(entries) and penalty == "constraint"
    use_kl = bool(entries) and penalty == "kl" and lam > 0
    nu = np.zeros(sum(net.n_classes - 1 for net, _, _ in entries)) if use_c else np.zeros(0)

    def merit(th, rho):
        f, _ = family.loss_grad(th, X, y)
        if use_kl:
            f += lam * _attacker_penalty(th, family, entries, aggregate=aggregate)[0]
        elif use_c:
            f += rho * np.abs(_attacker_constraints(th, family, entries)[0]).sum()
        return f

    steps = 0
    rho = 1.0
    for _ in range(max_steps):
        f, g = family.loss_grad(theta, X, y)
        H = family.hessian(theta, X, y)
        if use_kl:
            _, pg, pH = _attacker_penalty(theta, family, entries, aggregate=aggregate, hessian=True)
            g, H = g + lam * pg, H + lam * pH
        if use_c:
            C, J, K = _attacker_constraints(theta, family, entries, nu)
            residual = max(np.max(np.abs(g + J.T @ nu)), np.max(np.abs(C)))
            # the constraints' curvature (through the multipliers) only near feasibility; far from it the
            # multipliers are unreliable and the Gauss-Newton step (task Hessian only) is the safe one
            near = np.max(np.abs(C)) < 0.5
            steps_to_try = [(H + K, True), (H, False)] if near else [(H, False)]
        else:
            residual = np.max(np.abs(g))
            steps_to_try = [(H, False)]
        if line_search and residual <= tol:
            break
        steps += 1
        if not line_search:
            Hs = steps_to_try[0][0]
            delta, nu_new = _kkt_step(Hs, g, C, J) if use_c else (-_newton_solve(Hs, g), nu)
            theta, nu = theta + delta, nu_new
            continue
        alpha = None
        for Hs, _ in steps_to_try:
            delta, nu_new = _kkt_step(Hs, g, C, J) if use_c else (-_newton_solve(Hs, g), nu)
            rho = max(rho, (np.max(np.abs(nu_new)) if nu_new.size else 0.0) + 1.0)
            alpha = _backtrack(merit, theta, delta, rho)
            if alpha is not None:
                break
        if alpha is None:  # no decrease left at machine precision
            break
        theta = theta + alpha * delta
        nu = nu + alpha * (nu_new - nu)
    return theta, steps


class PoolPenaltyDefense(Defense):
    r"""The arms-race defense step: retrain every model against a pool of attackers.

    ``penalty="constraint"`` (default):

    .. math::

        \theta_{\rm def}(D) = \arg\min_\theta F(\theta; D)\ \text{ s.t. }\
            g_s(\phi_s(\theta)) = U_m \text{ for every } s \le t,

    the :math:`\lambda \to \infty` limit of ``penalty="kl"``:

    .. math::

        \theta_{\rm def}(D) = \arg\min_\theta F(\theta; D)
            + \lambda\,\operatorname{agg}_s \mathrm{KL}(g_s(\phi_s(\theta))\|U_m).

    Why the constraint: for a meta-classifier whose logits are affine in the
    features, the KL penalty is quadratic near the uniform posterior, so the
    penalised optimum only *shrinks* each model's displacement along the
    attacker's directions, by a factor of order :math:`h/(h + \lambda k)`; the
    property signal shrinks together with the noise. An attacker that could
    rescale freely would see the same signal-to-noise ratio; what stops a
    retrained attacker in practice is its own regularisation, which cannot
    amplify a direction shrunk by a large factor. Measured on German Credit
    (white-box, seed 0, ``benchmarks/pi_measurements.py race``): with
    :math:`\lambda = 1` the race did not converge in 10 rounds (responsive
    attacker 0.525 -> 0.467, chance 0.333); with :math:`\lambda = 10` and
    100 it converged in 7 rounds (0.383, 0.400), like the constraint (0.375),
    but its L-BFGS retraining took 4-8 times longer than the constraint's
    Newton-KKT solve. The constraint pins those directions to one value for
    every model, removes the information without relying on the attacker's
    regularisation, and has no weight to tune.

    Logistic-regression targets are trained by Newton's method
    (Newton-KKT for the constraint) from zero to convergence
    (``strategy="exact"``) or by ``n_newton_steps`` full steps from the warm
    start given to :meth:`apply` (``"approximate"``). MLP targets support
    ``penalty="kl"`` only, trained by L-BFGS (cold Glorot start, or
    ``warm_iter`` iterations from the warm start).

    Parameters
    ----------
    pool : list of fitted MetaClassifierAttack
        Differentiable attackers (logistic regression or MLP meta-classifiers).
    penalty : {"constraint", "kl"}, default="constraint"
    lam : float >= 0, default=1.0
        :math:`\lambda` of ``penalty="kl"``.
    aggregate : {"mean", "max"}, default="mean"
    strategy : {"exact", "approximate"}, default="exact"
    n_newton_steps : int >= 1, default=1
    warm_iter : int >= 1, default=20
    tol : float > 0, default=1e-8
        Step tolerance of the exact Newton solve (gradient tolerance of
        L-BFGS for an MLP).

    Attributes
    ----------
    last_seconds_ : float
        Training time of the last :meth:`apply`.
    last_evaluations_ : int
        Newton steps (L-BFGS evaluations for an MLP) of the last :meth:`apply`.
    """

    _parameter_constraints = {
        "pool": [list, tuple],
        "penalty": [StrOptions({"constraint", "kl"})],
        "lam": [Interval(Real, 0, None)],
        "aggregate": [StrOptions({"mean", "max"})],
        "strategy": [StrOptions({"exact", "approximate"})],
        "n_newton_steps": [Interval(Integral, 1, None)],
        "warm_iter": [Interval(Integral, 1, None)],
        "tol": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, pool=(), *, penalty="constraint", lam=1.0, aggregate="mean", strategy="exact",
                 n_newton_steps=1, warm_iter=20, tol=1e-8):
        self.pool = pool
        self.penalty = penalty
        self.lam = lam
        self.aggregate = aggregate
        self.strategy = strategy
        self.n_newton_steps = n_newton_steps
        self.warm_iter = warm_iter
        self.tol = tol

    def _check_family(self, family):
        super()._check_family(family)
        if self.penalty == "constraint" and not isinstance(family, LogisticFamily):
            raise ValueError(f"PoolPenaltyDefense(penalty='constraint') does not support {family.kind!r} targets "
                             "(it needs the Newton-KKT solver of logistic regression); use penalty='kl'.")

    def apply(self, models, random_state=None, *, init=None):
        """Retrain ``models`` on their training sets against the pool.

        Parameters
        ----------
        models : ModelSet
            With ``data`` (each model's training set).
        random_state : None, int, SeedSequence or Generator
            Seeds the cold start of MLPs.
        init : ndarray of shape (k, p), optional
            Warm starts (required by ``strategy="approximate"``).
        """
        self._validate_params()
        if not isinstance(models, ModelSet):
            raise TypeError(f"models must be a ModelSet, got {type(models).__name__}.")
        self._check_family(models.family)
        if len(models.data) != len(models):
            raise ValueError("PoolPenaltyDefense retrains each model on its own training set: models.data "
                             "must hold one (X, y) per model.")
        if self.strategy == "approximate" and init is None:
            raise ValueError("strategy='approximate' needs warm starts: apply(models, init=thetas).")
        if init is not None:
            init = check_matrix(init, "init", shape=(len(models), models.family.n_params))
        return self._apply(models, check_generator(random_state), init)

    def fit_one(self, family, X, y, *, theta0=None, rng=None, entries=None):
        """One defended model; returns ``(theta, evaluations)``."""
        entries = _pool_entries(self.pool) if entries is None else entries
        approx = self.strategy == "approximate"
        if isinstance(family, LogisticFamily):
            if approx:
                return _solve_defended(family, X, y, entries, penalty=self.penalty, lam=self.lam,
                                      aggregate=self.aggregate, theta0=theta0, max_steps=self.n_newton_steps,
                                      line_search=False)
            return _solve_defended(family, X, y, entries, penalty=self.penalty, lam=self.lam,
                                  aggregate=self.aggregate, tol=self.tol)
        lam = float(self.lam)

        def attacker_penalty(theta):
            f, g, _ = _attacker_penalty(theta, family, entries, aggregate=self.aggregate)
            return lam * f, lam * g

        pen = attacker_penalty if entries and lam > 0 else None
        if approx:
            return _fit_family(family, X, y, theta0=np.array(theta0, dtype=float), penalty=pen, tol=self.tol,
                              max_iter=self.warm_iter)
        return _fit_family(family, X, y, penalty=pen, tol=self.tol, rng=rng)

    def constraint_violation(self, models):
        """Largest absolute violation of the pool's constraints over ``models`` (logits; NaN without a pool).

        ``penalty="constraint"`` asks every pool attacker's logits to be
        equal at each defended model; this is how far the solver left them.
        """
        if not self.pool:
            return float("nan")
        entries = _pool_entries(self.pool, models.family)
        return max(float(np.max(np.abs(_attacker_constraints(th, models.family, entries)[0])))
                   for th in models.thetas)

    def _apply(self, models, rng, init=None):
        fam = models.family
        entries = _pool_entries(self.pool, fam)
        out = np.empty_like(models.thetas)
        evals = 0
        seeds = rng.integers(0, 2**63 - 1, size=len(models))
        t0 = time.perf_counter()
        for i in range(len(models)):
            X, y = models.data[i]
            out[i], n = self.fit_one(fam, X, y, theta0=None if init is None else init[i],
                                     rng=np.random.default_rng(seeds[i]), entries=entries)
            evals += n
        self.last_seconds_ = time.perf_counter() - t0
        self.last_evaluations_ = evals
        return models.with_thetas(out)
