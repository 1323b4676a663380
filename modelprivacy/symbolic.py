r"""Symbolic derivations (sympy) of the closed forms of :mod:`modelprivacy.bounds`.

Each public function returns a :class:`SymbolicForm`: the sympy expression,
its free symbols in a fixed order and a numeric (numpy) version built with
:func:`sympy.lambdify`. Derivations start from the definitions, not from the
results they check:

* :func:`expected_quadratic` derives :math:`E\,e^\top A e = \mu^\top A\mu +
  \operatorname{tr}(A\Sigma)` by writing :math:`e = \mu + Lz` with symbolic
  ``z`` and replacing each monomial of ``z`` by its moment;
* :func:`iid_least_squares_privacy_level` applies it to the projection
  :math:`\Pi = B(B^\top B)^{-1}B^\top` of a symbolic design, giving
  :math:`\sigma^2 p/n`;
* :func:`constant_shift_privacy_level` expands
  :math:`\frac1m\sum_j (r_j + \sigma)^2`;
* :func:`long_range_mean_variance` and
  :func:`long_range_mean_variance_asymptotic` give the exact variance of the
  long-range series' mean as a finite sum and its power law;
* :func:`reverse_sigmoid` derives the ReverseSigmoid map's derivative and
  :func:`reverse_sigmoid_monotone` its monotonicity region.

References
----------
T. Lee, B. Edwards, I. Molloy and D. Su, "Defending against neural network
model stealing attacks using deceptive perturbations", IEEE S&P Workshops 2019.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy.optimize import brentq

from ._validation import _as_float_array, check_int, check_scalar

__all__ = [
    "SymbolicForm",
    "expected_quadratic",
    "iid_least_squares_privacy_level",
    "constant_shift_privacy_level",
    "long_range_mean_variance",
    "long_range_mean_variance_asymptotic",
    "reverse_sigmoid",
    "reverse_sigmoid_monotone",
    "reverse_sigmoid_decreasing_set",
]

# shared symbols: one concept, one name
sigma = sp.Symbol("sigma", positive=True)
n_sym = sp.Symbol("n", positive=True, integer=True)
p_sym = sp.Symbol("p", positive=True, integer=True)
gamma = sp.Symbol("gamma", positive=True)
beta = sp.Symbol("beta", positive=True)
y_sym = sp.Symbol("y", positive=True)
t_sym = sp.Symbol("t", real=True)


@dataclass(frozen=True)
class SymbolicForm:
    """A closed form: sympy expression, argument order and numeric version.

    Attributes
    ----------
    expr : sympy.Expr
    symbols : tuple of sympy.Symbol
        Argument order of ``numeric``.
    numeric : callable
        ``numeric(*values)``, vectorised with numpy where the expression allows.
    """

    expr: sp.Expr
    symbols: tuple
    numeric: object

    def __call__(self, *args, **kwargs):
        if kwargs:
            names = [s.name for s in self.symbols]
            unknown = [k for k in kwargs if k not in names]
            if unknown:
                raise TypeError(f"unknown argument(s) {unknown}; expected {names}.")
            args = tuple(args) + tuple(kwargs[nm] for nm in names[len(args):])
        return self.numeric(*args)

    def subs(self, **values):
        """The expression with some symbols replaced by values."""
        table = {s: values[s.name] for s in self.symbols if s.name in values}
        return self.expr.subs(table)


def _form(expr, symbols, modules=("numpy",)):
    return SymbolicForm(expr, tuple(symbols), sp.lambdify(symbols, expr, modules=list(modules)))


# --------------------------------------------------------------------------- moments of a quadratic
def expected_quadratic(A, mean, cov_factor):
    r"""Derive :math:`E\,e^\top A e` for :math:`e = \mu + Lz`, :math:`E z = 0`, :math:`E zz^\top = I`.

    The quadratic is expanded as a polynomial in symbolic ``z``; each
    monomial is replaced by its moment (:math:`E z_i = 0`,
    :math:`E z_i^2 = 1`, :math:`E z_iz_j = 0`). The result equals
    :math:`\mu^\top A\mu + \operatorname{tr}(A LL^\top)`, the identity behind
    :func:`modelprivacy.bounds.exact_privacy_level`.

    Parameters
    ----------
    A : sympy.Matrix (k, k)
    mean : sympy.Matrix (k, 1)
    cov_factor : sympy.Matrix (k, r)
        ``L`` with :math:`\Sigma = LL^\top`.

    Returns
    -------
    sympy.Expr
    """
    A, mean, L = (_symbolic_matrix(v, name) for v, name in ((A, "A"), (mean, "mean"), (cov_factor, "cov_factor")))
    k, r = L.shape
    if A.shape != (k, k) or mean.shape != (k, 1):
        raise ValueError(f"A {A.shape}, mean {mean.shape} and cov_factor {L.shape} do not match.")
    z = sp.symbols(f"z0:{r}")
    e = mean + L * sp.Matrix(z)
    quad = sp.expand((e.T * A * e)[0, 0])
    poly = sp.Poly(quad, *z)
    total = sp.Integer(0)
    for powers, coeff in poly.terms():
        deg = sum(powers)
        if deg == 0:
            total += coeff
        elif deg == 2 and max(powers) == 2:
            total += coeff  # E z_i^2 = 1; mixed and odd moments vanish
    return sp.simplify(total)


def _symbolic_matrix(value, name):
    """A sympy Matrix; numbers must be finite reals (symbols are kept as they are)."""
    if not isinstance(value, sp.MatrixBase):
        arr = np.asarray(value, dtype=object)
        if arr.ndim not in (1, 2) or arr.size == 0:
            raise ValueError(f"{name} must be a non-empty vector or matrix, got shape {arr.shape}.")
        if not any(isinstance(v, sp.Basic) for v in arr.flat):
            _as_float_array(value, name)  # a numeric array: finite and real
        value = sp.Matrix(arr.tolist())
    if any(v.is_number and not (v.is_real and v.is_finite) for v in value):
        raise ValueError(f"{name} must contain finite real numbers or symbols.")
    return value


def iid_least_squares_privacy_level(n=3, p=2):
    r"""Derive :math:`PL_n = \sigma^2 p/n` for least squares under IID noise (empirical norm).

    With :math:`\hat f(X) = \Pi(y + e)`, :math:`\Pi = B(B^\top B)^{-1}B^\top`
    and ``f`` in the span of ``B``, :math:`PL_n = \frac1n E\,e^\top\Pi e`
    (:math:`\Pi^\top\Pi = \Pi`). The derivation is carried out on a fully
    symbolic ``n x p`` design ``B`` (entries :math:`b_{ij}`) with
    :func:`expected_quadratic`; the trace of the projection simplifies to
    ``p``, leaving :math:`\sigma^2 p/n`.

    Parameters
    ----------
    n, p : int
        Size of the symbolic design used for the derivation (small: the
        simplification is exact but grows quickly), ``n >= p >= 1``.

    Returns
    -------
    SymbolicForm
        :math:`\sigma^2 p/n` in ``(sigma, p, n)``.

    Raises
    ------
    AssertionError
        Never, unless sympy fails to reduce the derivation to the closed form.
    """
    n = check_int(n, "n", low=1, high=6)
    p = check_int(p, "p", low=1, high=n)
    B = sp.Matrix(n, p, lambda i, j: sp.Symbol(f"b{i}{j}", real=True))
    Pi = B * (B.T * B).inv() * B.T
    derived = expected_quadratic(Pi / n, sp.zeros(n, 1), sigma * sp.eye(n))
    closed = sigma**2 * p_sym / n_sym
    if sp.simplify(derived - closed.subs({p_sym: p, n_sym: n})) != 0:
        raise AssertionError(f"derivation gave {derived}, not sigma^2 p/n.")
    return _form(closed, (sigma, p_sym, n_sym))


def constant_shift_privacy_level(m=3):
    r"""Derive the constant-shift privacy level :math:`c + 2\sigma\bar r + \sigma^2`.

    For an attacker that reproduces constants (:math:`S\mathbf 1 = \mathbf 1`),
    :math:`e = \sigma\mathbf 1` moves the copy by :math:`\sigma` everywhere:
    :math:`\ell = \frac1m\sum_j (r_j + \sigma)^2` with :math:`r = Sy - f(Z)`.
    Expanding, with :math:`c = \frac1m\sum r_j^2` and :math:`\bar r = \frac1m\sum r_j`,
    gives :math:`c + 2\sigma\bar r + \sigma^2`; :math:`= \sigma^2` when the
    attacker also reproduces ``f``.

    Parameters
    ----------
    m : int
        Number of symbolic evaluation residuals in the derivation.

    Returns
    -------
    SymbolicForm
        In ``(c, rbar, sigma)``.
    """
    m = check_int(m, "m", low=1, high=50)
    r = sp.symbols(f"r0:{m}", real=True)
    c, rbar = sp.symbols("c rbar", real=True)
    derived = sp.expand(sum((rj + sigma) ** 2 for rj in r) / m)
    closed = c + 2 * sigma * rbar + sigma**2
    check = closed.subs({c: sum(rj**2 for rj in r) / m, rbar: sum(r) / m})
    if sp.simplify(derived - check) != 0:
        raise AssertionError("constant-shift derivation failed.")
    return _form(closed, (c, rbar, sigma))


# --------------------------------------------------------------------------- long-range noise
def long_range_mean_variance(parity="even"):
    r"""Exact :math:`\operatorname{Var}\bar\xi_n` of the unit-variance long-range series, as a sum.

    The series is the inverse real FFT of independent coefficients of
    variance :math:`w_k^2 \propto k^{\gamma-1}` (DC weight :math:`w_0 = w_1`,
    real DC/Nyquist bins of double variance). Its mean is the DC coefficient
    over ``n``, and its entry variance is :math:`\frac1{n^2}(2w_0^2 +
    4\sum_{0<k<n/2} w_k^2 + 2w_{n/2}^2)`, so with :math:`K = n/2` (even) or
    :math:`(n-1)/2` (odd)

    .. math::

        \operatorname{Var}\bar\xi_n = \Bigl(1 + 2\sum_{k=1}^{K-1} k^{\gamma-1} + K^{\gamma-1}\Bigr)^{-1}
        \ \text{(even)},\qquad
        \Bigl(1 + 2\sum_{k=1}^{K} k^{\gamma-1}\Bigr)^{-1}\ \text{(odd)}.

    Parameters
    ----------
    parity : {"even", "odd"}

    Returns
    -------
    SymbolicForm
        In ``(n, gamma)``; the numeric version needs an integer ``n`` of the
        given parity and a scalar ``gamma``.
    """
    k = sp.Symbol("k", integer=True, positive=True)
    if parity == "even":
        K = n_sym / 2
        expr = 1 / (1 + 2 * sp.Sum(k ** (gamma - 1), (k, 1, K - 1)) + K ** (gamma - 1))
    elif parity == "odd":
        K = (n_sym - 1) / 2
        expr = 1 / (1 + 2 * sp.Sum(k ** (gamma - 1), (k, 1, K)))
    else:
        raise ValueError(f"parity must be 'even' or 'odd', got {parity!r}.")
    want = 0 if parity == "even" else 1

    def numeric(n, g):
        n = check_int(n, "n", low=2)
        if n % 2 != want:
            raise ValueError(f"n={n} is not {parity}.")
        return _sum_form(n, float(g), parity)  # range() in the lambdified sum needs an integer K

    return SymbolicForm(expr, (n_sym, gamma), numeric)


def _sum_form(n, g, parity):
    """Numeric value of :func:`long_range_mean_variance`'s sum (integer limits)."""
    k = sp.Symbol("k", integer=True, positive=True)
    K = n // 2
    if parity == "even":
        expr = 1 / (1 + 2 * sp.Sum(k ** (gamma - 1), (k, 1, K - 1)) + sp.Integer(K) ** (gamma - 1))
    else:
        expr = 1 / (1 + 2 * sp.Sum(k ** (gamma - 1), (k, 1, K)))
    return float(sp.lambdify(gamma, expr, modules=["math"])(g))


def long_range_mean_variance_asymptotic(refined=False):
    r"""Power law of :math:`\operatorname{Var}\bar\xi_n`: :math:`\gamma\,2^{\gamma-1}n^{-\gamma}`.

    The leading term of :math:`\sum_{k\le K} k^{\gamma-1}` is
    :math:`\int_0^K x^{\gamma-1}dx = K^\gamma/\gamma` (derived by sympy), so
    :math:`\operatorname{Var}\bar\xi_n \sim 1/(2K^\gamma/\gamma)` with
    :math:`K = n/2`. The Euler-Maclaurin expansion
    :math:`\sum_{k=1}^{K} k^{\gamma-1} = K^\gamma/\gamma + \zeta(1-\gamma) +
    \tfrac12 K^{\gamma-1} + O(K^{\gamma-2})` makes the endpoint terms cancel in
    the even-``n`` denominator, leaving the refined form

    .. math::

        \operatorname{Var}\bar\xi_n \approx
        \Bigl(1 + 2\zeta(1-\gamma) + \frac{2}{\gamma}\bigl(\tfrac n2\bigr)^{\gamma}\Bigr)^{-1},

    accurate to about :math:`10^{-5}` relative at ``n = 100`` (the plain power
    law is off by :math:`O(n^{-\gamma})`, several percent for small
    :math:`\gamma`).

    Parameters
    ----------
    refined : bool
        Return the refined form (with the Riemann zeta term).

    Returns
    -------
    SymbolicForm
        In ``(n, gamma)``.
    """
    x = sp.Symbol("x", positive=True)
    K = n_sym / 2
    leading = sp.integrate(x ** (gamma - 1), (x, 0, K), conds="none")
    if not isinstance(refined, (bool, np.bool_)):
        raise TypeError(f"refined must be a bool, got {refined!r}.")
    if refined:
        expr = 1 / (1 + 2 * sp.zeta(1 - gamma) + 2 * leading)
        return _form(expr, (n_sym, gamma), modules=("mpmath",))
    expr = sp.powsimp(sp.simplify(1 / (2 * leading)), force=True)
    return _form(expr, (n_sym, gamma))


# --------------------------------------------------------------------------- ReverseSigmoid
def _sigmoid(x):
    return 1 / (1 + sp.exp(-x))


def reverse_sigmoid():
    r"""The ReverseSigmoid map :math:`f(y) = y - r(y)` and its derivative.

    .. math::

        r(y) = \beta\bigl(s(\gamma\operatorname{logit} y) - \tfrac12\bigr),\quad
        f'(y) = 1 - \beta\gamma\,\frac{s(\gamma t)(1 - s(\gamma t))}{y(1-y)}
              = 1 - \beta\gamma\,\frac{\cosh^2(t/2)}{\cosh^2(\gamma t/2)},\quad t = \operatorname{logit} y,

    using :math:`s'(x) = s(1-s) = 1/(4\cosh^2(x/2))`. At :math:`y = 1/2`
    (:math:`t = 0`), :math:`f'(1/2) = 1 - \beta\gamma`.

    Returns
    -------
    dict of SymbolicForm
        ``"r"`` and ``"f"`` in ``(y, beta, gamma)``; ``"derivative"``
        :math:`f'(y)` in ``(y, beta, gamma)``; ``"derivative_logit"``
        :math:`f'` as a function of ``t`` in ``(t, beta, gamma)``;
        ``"derivative_at_half"`` in ``(beta, gamma)``.
    """
    t = sp.log(y_sym / (1 - y_sym))
    r = beta * (_sigmoid(gamma * t) - sp.Rational(1, 2))
    f = y_sym - r
    df = sp.diff(f, y_sym)
    at_half = sp.simplify(df.subs(y_sym, sp.Rational(1, 2)))
    df_t = 1 - beta * gamma * sp.cosh(t_sym / 2) ** 2 / sp.cosh(gamma * t_sym / 2) ** 2
    return {
        "r": _form(r, (y_sym, beta, gamma)),
        "f": _form(f, (y_sym, beta, gamma)),
        "derivative": _form(df, (y_sym, beta, gamma)),
        "derivative_logit": _form(df_t, (t_sym, beta, gamma)),
        "derivative_at_half": _form(at_half, (beta, gamma)),
    }


def reverse_sigmoid_monotone(beta_value, gamma_value):
    r"""Whether the ReverseSigmoid map :math:`f(y) = y - r(y)` is non-decreasing on (0, 1).

    With :math:`h(t) = \cosh^2(t/2)/\cosh^2(\gamma t/2)` and
    :math:`f' = 1 - \beta\gamma h`: for :math:`\gamma \ge 1`,
    :math:`\cosh(\gamma t/2) \ge \cosh(t/2)` so :math:`\max h = h(0) = 1`; for
    :math:`\gamma < 1`, :math:`h(t) \asymp e^{(1-\gamma)|t|} \to \infty`
    as :math:`y \to 0, 1`. Hence the region is

    .. math::

        f \text{ monotone} \iff \gamma \ge 1 \text{ and } \beta\gamma \le 1 ,

    and for :math:`\gamma < 1` the map is non-monotone for *every*
    :math:`\beta > 0` (near 0 and 1), which is the deceptive regime.

    Parameters
    ----------
    beta_value, gamma_value : float > 0

    Returns
    -------
    bool
    """
    b = check_scalar(beta_value, "beta_value", low=0.0, low_inclusive=False)
    g = check_scalar(gamma_value, "gamma_value", low=0.0, low_inclusive=False)
    return bool(g >= 1.0 and b * g <= 1.0)


def reverse_sigmoid_decreasing_set(beta_value, gamma_value):
    r"""Where the ReverseSigmoid map decreases: :math:`\{y: \beta\gamma\,h(\operatorname{logit} y) > 1\}`.

    ``h`` is even in ``t``, decreasing in :math:`|t|` for :math:`\gamma > 1`,
    increasing for :math:`\gamma < 1` and constant for :math:`\gamma = 1`, so
    the set is symmetric about 1/2: either empty, the whole interval, the
    tails :math:`(0, y^*) \cup (1 - y^*, 1)` (:math:`\gamma < 1`) or the middle
    :math:`(y^*, 1 - y^*)` (:math:`\gamma > 1`), with :math:`y^*` the root of
    :math:`\beta\gamma h = 1`.

    Parameters
    ----------
    beta_value, gamma_value : float > 0

    Returns
    -------
    (str, float or None)
        ``("none", None)``, ``("all", None)``, ``("tails", y_star)`` or
        ``("middle", y_star)``.
    """
    b = check_scalar(beta_value, "beta_value", low=0.0, low_inclusive=False)
    g = check_scalar(gamma_value, "gamma_value", low=0.0, low_inclusive=False)
    bg = b * g

    def log_h(t):  # log h(t), stable for large |t|
        return 2.0 * (_logcosh(t / 2.0) - _logcosh(g * t / 2.0))

    target = -np.log(bg)
    if g == 1.0:
        return ("all", None) if bg > 1.0 else ("none", None)
    if g < 1.0:
        if bg >= 1.0:
            return ("all", None)
        hi = 1.0
        while log_h(hi) <= target:
            hi *= 2.0
        t_star = brentq(lambda t: log_h(t) - target, 0.0, hi, xtol=1e-14)
        return ("tails", float(1.0 / (1.0 + np.exp(t_star))))
    if bg <= 1.0:
        return ("none", None)
    hi = 1.0
    while log_h(hi) >= target:
        hi *= 2.0
    t_star = brentq(lambda t: log_h(t) - target, 0.0, hi, xtol=1e-14)
    return ("middle", float(1.0 / (1.0 + np.exp(t_star))))


def _logcosh(x):
    x = abs(x)
    return x + np.log1p(np.exp(-2.0 * x)) - np.log(2.0)
