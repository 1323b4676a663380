r"""Output defenses of classification APIs: postprocessors of probability vectors.

A classification server answers a batch of queries with probability vectors
:math:`P \in [0, 1]^{n \times K}` (rows summing to 1), or, for a binary task,
with the class-1 probabilities :math:`p \in [0, 1]^n`. A postprocessor maps
the clean answers to perturbed answers :math:`\hat P`; it may see the whole
batch (Misleading Shift uses the batch's majority class) and may be random.

Every postprocessor follows the scikit-learn convention: ``__init__`` only
stores parameters, :meth:`Postprocessor.respond` (also ``__call__``) validates
them and the input, and returns the perturbed answers. Randomised
postprocessors draw from the ``rng`` they are given.

Unless stated otherwise the output rows are again probability vectors. Two
postprocessors do not guarantee this and say so through the class attribute
``returns_probabilities = False``: :class:`HighConfidence` (zeroes small
entries without renormalising, as in ART) and :class:`Rounding` (rounded rows
sum to 1 only up to :math:`K \cdot 10^{-d}/2`).

Defenses with a scalar strength can be *calibrated* to a target top-1 flip
rate on benign data (the utility loss :math:`U_n` of the Model Privacy paper)
by bisection: :meth:`Postprocessor.calibrate`.

Display names follow the Model Privacy paper's figures: ``Const`` =
"Misleading Shift (Ours)", ``IID`` = "Random Shuffle", ``DP`` = "Deceptive
Perturbation" (ReverseSigmoid), ``AM`` = "Adaptive Misinformation".

References
----------
* [1] G. Wang, Y. Yang and J. Ding, "Model Privacy: A Unified Framework for
  Understanding Model Stealing Attacks and Defenses", arXiv:2502.15567.
* [2] T. Lee, B. Edwards, I. Molloy and D. Su, "Defending Against Machine
  Learning Model Stealing Attacks Using Deceptive Perturbations",
  arXiv:1806.00054 (IEEE SPW 2019).
* [3] S. Kariyappa and M. K. Qureshi, "Defending Against Model Stealing
  Attacks with Adaptive Misinformation", CVPR 2020.
* [4] IBM Adversarial Robustness Toolbox, ``art.defences.postprocessor``
  (ReverseSigmoid, GaussianNoise, Rounded, ClassLabels, HighConfidence).
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, clone

from .._param_validation import Interval, StrOptions
from .._simplex import ART_CLIP, MP_CLIP, safe_normalise, softmax, two_columns
from .._validation import _as_float_array, check_generator, check_probabilities, check_scalar
from ..base import ParamsMixin
from ..metrics import flip_rate

__all__ = [
    "Postprocessor",
    "NoPostprocessing",
    "MisleadingShift",
    "ReverseSigmoid",
    "AdaptiveMisinformation",
    "RandomShuffle",
    "GaussianNoise",
    "Rounding",
    "TopLabel",
    "HighConfidence",
    "reverse_sigmoid",
    "reverse_sigmoid_r",
    "reverse_sigmoid_map",
]


def reverse_sigmoid_r(y, beta, gamma):
    r"""The reverse-sigmoid perturbation :math:`r(y) = \beta\,[s(\gamma\,s^{-1}(y)) - 1/2]`.

    Uses the closed form :math:`s(\gamma\,s^{-1}(y)) = y^\gamma / (y^\gamma +
    (1-y)^\gamma)`, which is exact at ``y = 0`` and ``y = 1`` (no logs).

    Parameters
    ----------
    y : array-like of probabilities in [0, 1]
    beta, gamma : float > 0
    """
    y, beta, gamma = _reverse_sigmoid_args(y, beta, gamma)
    a = np.power(y, gamma)
    b = np.power(1.0 - y, gamma)
    return beta * (a / (a + b) - 0.5)


def reverse_sigmoid_map(y, beta, gamma):
    r"""The per-class map before renormalisation, :math:`f(y) = y - r(y)`.

    Properties (derived in ``neighbours.md`` A.2): :math:`f(1-y) = 1 - f(y)`,
    :math:`f'(1/2) = 1 - \beta\gamma`; for :math:`\gamma = 1` it is the affine
    shrink :math:`(1-\beta)y + \beta/2`; for :math:`\gamma < 1` it decreases
    near 0 and near 1 (the deceptive, many-to-one regime).
    """
    y, beta, gamma = _reverse_sigmoid_args(y, beta, gamma)
    return y - reverse_sigmoid_r(y, beta, gamma)


def _reverse_sigmoid_args(y, beta, gamma):
    """Probabilities ``y`` in [0, 1] (finite, real) and ``beta, gamma > 0``."""
    y = _as_float_array(y, "y")
    if np.any(y < 0.0) or np.any(y > 1.0):
        raise ValueError("y must contain probabilities in [0, 1].")
    beta = check_scalar(beta, "beta", low=0.0, low_inclusive=False)
    gamma = check_scalar(gamma, "gamma", low=0.0, low_inclusive=False)
    return y, beta, gamma


def reverse_sigmoid(P, beta=1.0, gamma=0.1, *, variant="art"):
    r"""ReverseSigmoid of Lee et al. [2] as implemented by ART [4] (functional form).

    .. math::

        r_k = \beta\,[s(\gamma\,s^{-1}(y_k)) - 1/2], \qquad
        \hat y_k = \frac{\operatorname{clip}_{[0,1]}(y_k - r_k)}
                        {\sum_j \operatorname{clip}_{[0,1]}(y_j - r_j)}.

    ``variant="art"`` clips ``y`` to :math:`[10^{-9}, 1 - 10^{-9}]` for the
    logit only and clips the perturbed values to [0, 1] before
    renormalising; ``variant="orekondy"`` (prediction-poisoning code) does no
    clipping: :math:`\hat y = (y - r)/\sum_j (y_j - r_j)`, which can leave
    [0, 1] when :math:`\beta > 1` or :math:`\gamma > 1`.

    Parameters
    ----------
    P : ndarray of shape (n, K), or (n,) class-1 probabilities of a binary task
        For 1-D input the two classes ``1 - p`` and ``p`` are perturbed and
        renormalised together and the class-1 column is returned (ART's
        binary branch).
    beta, gamma : float > 0
    variant : {"art", "orekondy"}
    """
    return ReverseSigmoid(beta=beta, gamma=gamma, variant=variant).respond(P)


# --------------------------------------------------------------------------------------
# base class
# --------------------------------------------------------------------------------------
class Postprocessor(ParamsMixin, BaseEstimator):
    """Base class of classification output defenses.

    Subclasses implement ``_transform(P, rng)`` on an ``(n, K)`` array and
    may override ``_transform_binary(p, rng)`` for 1-D binary answers (by
    default the two-class computation on ``[1 - p, p]``, returning the
    class-1 column).

    Attributes
    ----------
    display_name : str
        Name used in tables and figures.
    returns_probabilities : bool
        Whether every output row is a probability vector.
    randomised : bool
        Whether the output depends on ``rng``.
    """

    display_name = "Postprocessor"
    returns_probabilities = True
    randomised = False
    #: name of the scalar strength parameter that ``calibrate`` tunes (None: not calibratable)
    _strength = None

    # ----- the mechanism -------------------------------------------------------------
    def _check_input(self, P, name="P"):
        P = check_probabilities(P, name)
        if P.shape[0] == 0:
            raise ValueError(f"{name} must have at least one row (one answer per query).")
        K = getattr(self, "n_classes_", None)
        if K is not None:
            k_in = 2 if P.ndim == 1 else P.shape[1]
            if k_in != K:
                raise ValueError(
                    f"{name} has {k_in} classes but {type(self).__name__} was calibrated "
                    f"on {K} classes."
                )
        return P

    def _transform(self, P, rng):
        raise NotImplementedError

    def _transform_binary(self, p, rng):
        return self._transform(two_columns(p), rng)[:, 1]

    def _apply(self, P, rng):
        if P.ndim == 1:
            return self._transform_binary(P, rng)
        return self._transform(P, rng)

    def respond(self, P, *, rng=None):
        """Return the perturbed answers.

        Parameters
        ----------
        P : array-like of shape (n, K) or (n,)
            Clean probability vectors of one batch of queries (rows in
            [0, 1] summing to 1), or class-1 probabilities of a binary task.
        rng : None, int or numpy.random.Generator
            Randomness of randomised postprocessors.

        Returns
        -------
        ndarray of the shape of ``P``
        """
        self._validate_params()
        P = self._check_input(P, "P")
        return self._apply(P, check_generator(rng, "rng"))

    def __call__(self, P, *, rng=None):
        return self.respond(P, rng=rng)

    # ----- calibration ---------------------------------------------------------------
    def _bracket(self, P):
        """Interval of the strength parameter over which the flip rate rises."""
        raise NotImplementedError

    def flip_rate_at(self, P, value, *, rng=0):
        """Top-1 flip rate on ``P`` with the strength parameter set to ``value``."""
        d = clone(self).set_params(**{self._strength: value})
        d._validate_params()
        return flip_rate(P, d._apply(P, check_generator(rng)))

    def calibrate(self, P_benign, target_flip_rate, *, rng=0, tol=0.005, max_iter=100):
        r"""Tune the strength parameter to a target top-1 flip rate on benign data.

        Bisection on the strength parameter :math:`\theta` of the smallest
        :math:`\theta` with :math:`U(\theta) \ge u`, where
        :math:`U(\theta) = \frac1n \sum_i 1[\operatorname{top1}(\hat P_i(\theta))
        \neq \operatorname{top1}(P_i)]` is the flip rate on ``P_benign``; the
        returned value is the bracket end whose flip rate is closest to ``u``.
        Randomised defenses are evaluated with common random numbers (the same
        ``rng`` seed for every :math:`\theta`), which makes :math:`U` a
        monotone step function for :class:`RandomShuffle` and nearly so for
        the others.

        Parameters
        ----------
        P_benign : array-like of shape (n, K) or (n,)
            The victim's clean answers on benign validation inputs.
        target_flip_rate : float in (0, 1)
        rng : int or numpy.random.Generator
            Seed of the common random numbers.
        tol : float
            Required accuracy ``|U(theta) - target_flip_rate| <= tol``.
        max_iter : int

        Returns
        -------
        self
            With the strength parameter set, ``calibrated_flip_rate_`` (the
            flip rate reached on ``P_benign``) and ``n_classes_``.

        Raises
        ------
        ValueError
            If the target is unreachable (above the largest flip rate the
            defense can cause on ``P_benign``) or the flip rate jumps over it.
        """
        if self._strength is None:
            raise NotImplementedError(f"{type(self).__name__} has no strength parameter to calibrate.")
        self._validate_params()
        P = check_probabilities(P_benign, "P_benign")
        if P.shape[0] == 0:
            raise ValueError("P_benign must have at least one row to calibrate on.")
        u = check_scalar(target_flip_rate, "target_flip_rate", low=0.0, high=1.0,
                         low_inclusive=False, high_inclusive=False)
        tol = check_scalar(tol, "tol", low=0.0, low_inclusive=False)
        if isinstance(max_iter, bool) or not isinstance(max_iter, Integral) or max_iter < 1:
            raise ValueError(f"max_iter must be an int >= 1, got {max_iter!r}.")
        if isinstance(rng, np.random.Generator):
            rng = int(rng.integers(0, 2**63 - 1))
        elif isinstance(rng, bool) or not isinstance(rng, Integral):
            raise TypeError(f"rng must be an int seed or a numpy Generator, got {type(rng).__name__}.")

        lo, hi = self._bracket(P)
        r_hi = self.flip_rate_at(P, hi, rng=rng)
        if r_hi < u - tol:
            raise ValueError(
                f"target_flip_rate={u} is unreachable for {type(self).__name__} on P_benign: "
                f"the largest flip rate it can cause there is {r_hi:.4f}."
            )
        r_lo = self.flip_rate_at(P, lo, rng=rng)
        if r_lo >= u:
            hi, r_hi = lo, r_lo
        else:
            for _ in range(max_iter):
                mid = 0.5 * (lo + hi)
                r = self.flip_rate_at(P, mid, rng=rng)
                if r >= u:
                    hi, r_hi = mid, r
                else:
                    lo, r_lo = mid, r
                if abs(r_hi - u) <= tol and (hi - lo) <= 1e-12 * max(1.0, abs(hi)):
                    break
                if hi - lo <= 1e-14 * max(1.0, abs(hi)):
                    break
        value, rate = (lo, r_lo) if abs(r_lo - u) < abs(r_hi - u) else (hi, r_hi)
        if abs(rate - u) > tol:
            raise ValueError(
                f"target_flip_rate={u} cannot be hit within tol={tol} by {type(self).__name__} on "
                f"P_benign: the flip rate jumps from {r_lo:.4f} to {r_hi:.4f} at "
                f"{self._strength}={hi:.6g} (too few or tied benign rows)."
            )
        self.set_params(**{self._strength: float(value)})
        self.calibrated_flip_rate_ = float(rate)
        self.n_classes_ = 2 if P.ndim == 1 else P.shape[1]
        return self


# --------------------------------------------------------------------------------------
# defenses
# --------------------------------------------------------------------------------------
class NoPostprocessing(Postprocessor):
    """The identity: answers the clean probabilities ("No Defense").

    Named apart from the regression :class:`modelprivacy.defenses.NoDefense`,
    which perturbs real-valued answers.
    """

    display_name = "No Defense"

    def __init__(self):
        pass

    def _transform(self, P, rng):
        return P.copy()

    def _transform_binary(self, p, rng):
        return p.copy()


class MisleadingShift(Postprocessor):
    r"""Misleading Shift of Wang, Yang & Ding [1] (``Const`` in their code).

    Multi-class: with :math:`c^*` the most frequent top-1 class of the
    *batch* of answers,

    .. math:: \hat P_i = \operatorname{softmax}(\log P_i + p\, e_{c^*}),

    i.e. ``p`` is added to the log-probability of class :math:`c^*` in every
    answer. Binary (1-D answers): with sign :math:`+1` if most answers exceed
    1/2 and :math:`-1` otherwise,
    :math:`\hat p_i = s(s^{-1}(p_i) + \mathrm{sign}\cdot p)`, which is the
    two-class computation above (ties go to class 0 in both).

    Probabilities are clipped to :math:`[10^{-10}, 1]` before the log (as in
    the authors' code), so outputs are strictly positive and sum to 1.

    A monotone shift of one class keeps each answer's *ranking* of inputs,
    so an attacker's AUC is nearly unchanged while its decision boundary,
    hence accuracy and F1, moves; the top-1 flip rate on benign data is the
    fraction of answers whose log-margin to :math:`c^*` is below ``p``.

    Parameters
    ----------
    shift : float >= 0
        The shift ``p`` in nats. Set it with :meth:`calibrate` rather than by
        hand: the paper's grids ({2, 5, 6, 7, 8} for Fashion-MNIST) were
        chosen to hit flip rates {.01, .02, .05, .10, .15}.
    target_class : int or None
        Force :math:`c^*` (None: majority of the batch, as in [1]).

    Notes
    -----
    The majority class is computed per batch, so a batch of one query is
    shifted toward its own top class and never flipped; calibration uses the
    benign batch's majority class.
    """

    display_name = "Misleading Shift (Ours)"
    _strength = "shift"

    _parameter_constraints = {
        "shift": [Interval(Real, 0, None, closed="left")],
        "target_class": [Interval(Integral, 0, None), None],
    }

    def __init__(self, shift=1.0, *, target_class=None):
        self.shift = shift
        self.target_class = target_class

    def _class(self, P):
        if self.target_class is not None:
            c = int(self.target_class)
            if c >= P.shape[1]:
                raise ValueError(f"target_class={c} is out of range for {P.shape[1]} classes.")
            return c
        return int(np.argmax(np.bincount(np.argmax(P, axis=1), minlength=P.shape[1])))

    def _transform(self, P, rng):
        c = self._class(P)
        L = np.log(np.clip(P, MP_CLIP, 1.0))
        L[:, c] += self.shift
        return softmax(L)

    def _transform_binary(self, p, rng):
        if self.target_class is not None:
            sign = 1.0 if self._class(two_columns(p)) == 1 else -1.0
        else:
            sign = 1.0 if np.sum(p > 0.5) > np.sum(p <= 0.5) else -1.0
        q = np.clip(p, MP_CLIP, 1.0 - MP_CLIP)
        z = np.log(q) - np.log1p(-q) + sign * self.shift
        return 1.0 / (1.0 + np.exp(-z))

    def majority_class(self, P):
        """The class :math:`c^*` the batch ``P`` is shifted toward."""
        P = check_probabilities(P, "P")
        return self._class(two_columns(P) if P.ndim == 1 else P)

    def _bracket(self, P):
        Q = two_columns(P) if P.ndim == 1 else P
        L = np.log(np.clip(Q, MP_CLIP, 1.0))
        c = self._class(Q)
        margin = L.max(axis=1) - L[:, c]
        # beyond the largest margin every row already flips: the flip rate saturates
        return 0.0, float(margin.max()) + 1.0


class ReverseSigmoid(Postprocessor):
    r"""ReverseSigmoid ("Deceptive Perturbation") of Lee et al. [2], as in ART [4].

    .. math::

        r(y) = \beta\,[s(\gamma\,s^{-1}(y)) - 1/2],\qquad
        \hat y_k = \operatorname{clip}_{[0,1]}(y_k - r(y_k)) \Big/
                   \sum_j \operatorname{clip}_{[0,1]}(y_j - r(y_j)),

    with :math:`s` the sigmoid. ART clips ``y`` to
    :math:`[10^{-9}, 1-10^{-9}]` inside the logit only. For :math:`\gamma=1`
    the unnormalised map is the affine shrink :math:`(1-\beta)y + \beta/2`;
    the deceptive regime is :math:`\gamma < 1`, where
    :math:`f(y) = y - r(y)` is non-monotone near 0 and 1 (many-to-one), so
    soft-label attackers learn a non-monotone function of the victim's logit.

    Parameters
    ----------
    beta : float > 0
        Magnitude (ART default 1.0; the Model Privacy experiments use 0.1..0.5).
    gamma : float > 0
        "Convergence" parameter (ART default 0.1; Model Privacy uses 0.2).
    variant : {"art", "orekondy"}
        ``"art"``: clipping as above. ``"orekondy"``: no clipping,
        :math:`\hat y = (y - r)/\sum(y - r)`; its rows leave [0, 1] when
        :math:`\beta > 1` or :math:`\gamma > 1` (a ``UserWarning`` says so).
    preserve_top1 : bool
        Guard (not in ART; like the ``top1_preserve`` flag of Orekondy's
        fork): when the perturbation changes a row's argmax, the values of the
        original top class and of the new argmax are swapped, so the row stays
        a probability vector and keeps the victim's label.

    Notes
    -----
    The top-1 label is *not* guaranteed without the guard (flips happen when
    the top class is weak and other classes sit near 0); report the flip rate.
    With the ART variant a row whose clipped values all vanish (impossible
    for :math:`\beta \le 1`, since every class below 1/2 is pushed up) is
    answered uniform rather than divided by zero.
    """

    display_name = "Deceptive Perturbation"

    _parameter_constraints = {
        "beta": [Interval(Real, 0, None, closed="neither")],
        "gamma": [Interval(Real, 0, None, closed="neither")],
        "variant": [StrOptions({"art", "orekondy"})],
        "preserve_top1": ["boolean"],
    }

    def __init__(self, beta=1.0, *, gamma=0.1, variant="art", preserve_top1=False):
        self.beta = beta
        self.gamma = gamma
        self.variant = variant
        self.preserve_top1 = preserve_top1

    def _transform(self, P, rng):
        if self.variant == "art":
            r = reverse_sigmoid_r(np.clip(P, ART_CLIP, 1.0 - ART_CLIP), self.beta, self.gamma)
            Q = np.clip(P - r, 0.0, 1.0)
            Q = safe_normalise(Q)
        else:
            Q = P - reverse_sigmoid_r(P, self.beta, self.gamma)
            Q = Q / Q.sum(axis=1, keepdims=True)
            if np.any(Q < 0) or np.any(Q > 1):
                warnings.warn(
                    f"ReverseSigmoid(variant='orekondy', beta={self.beta}, gamma={self.gamma}) "
                    "returned entries outside [0, 1]: these answers are not probability vectors.",
                    UserWarning,
                    stacklevel=3,
                )
        if self.preserve_top1:
            Q = self._guard(P, Q)
        return Q

    @staticmethod
    def _guard(P, Q):
        a, b = np.argmax(P, axis=1), np.argmax(Q, axis=1)
        rows = np.flatnonzero(a != b)
        if rows.size:
            Q = Q.copy()
            qa, qb = Q[rows, a[rows]].copy(), Q[rows, b[rows]].copy()
            Q[rows, a[rows]], Q[rows, b[rows]] = qb, qa
        return Q


class AdaptiveMisinformation(Postprocessor):
    r"""Adaptive Misinformation (Kariyappa & Qureshi [3]), as in the Model Privacy experiments.

    Answers whose confidence is low -- suspected out-of-distribution
    queries -- are replaced by misinformation:

    .. math::

        \hat P_i = \begin{cases} P_i & \max_k P_{ik} \ge 1/K + p,\\
                   U_i / \sum_k U_{ik},\ U_{ik} \sim \mathcal U(0, 1) & \text{otherwise.}
                   \end{cases}

    This is the experiment version (``clf_am``) of [1]; the original's smooth
    mixing :math:`(1-\alpha)y + \alpha\, \tilde f(x)` with a trained
    misinformation model :math:`\tilde f` needs the queries ``x`` and is not
    implemented here.

    Parameters
    ----------
    p : float in [0, 1 - 1/K]
        Confidence margin over 1/K below which answers are replaced (grids of
        [1]: {0.4, 0.5, 0.6, 0.7, 0.75} for 10 classes).
    """

    display_name = "Adaptive Misinformation"
    randomised = True
    _strength = "p"

    _parameter_constraints = {"p": [Interval(Real, 0, 1, closed="both")]}

    def __init__(self, p=0.5):
        self.p = p

    def _transform(self, P, rng):
        n, K = P.shape
        U = rng.uniform(size=(n, K))
        bad = P.max(axis=1) < 1.0 / K + self.p
        Q = P.copy()
        Q[bad] = U[bad] / U[bad].sum(axis=1, keepdims=True)
        return Q

    def _bracket(self, P):
        K = 2 if P.ndim == 1 else P.shape[1]
        return 0.0, 1.0 - 1.0 / K


class RandomShuffle(Postprocessor):
    r"""Random Shuffle: the IID label-noise analogue of [1] (``clf_iid_noise``).

    :math:`\lfloor n p \rfloor` answers chosen without replacement have the
    entries of their probability vector randomly permuted. For binary 1-D
    answers the chosen scalars are shuffled among themselves (as in [1]), by
    a random cyclic permutation: each chosen answer takes the value of the
    next chosen one in a random order (unlike a uniform shuffle, no chosen
    answer keeps its own value).

    The chosen rows are a prefix of one random row order and each row's
    permutation is drawn for every row, so with a fixed ``rng`` the set of
    shuffled rows only grows with ``p`` (monotone calibration).

    Parameters
    ----------
    p : float in [0, 1]
        Fraction of answers shuffled ({0.01, 0.02, 0.05, 0.1, 0.15} in [1]).
    """

    display_name = "Random Shuffle"
    randomised = True
    _strength = "p"

    _parameter_constraints = {"p": [Interval(Real, 0, 1, closed="both")]}

    def __init__(self, p=0.1):
        self.p = p

    def _transform(self, P, rng):
        n = P.shape[0]
        order = rng.permutation(n)
        perms = rng.permuted(np.tile(np.arange(P.shape[1]), (n, 1)), axis=1)
        m = int(np.floor(n * self.p))
        Q = P.copy()
        rows = order[:m]
        Q[rows] = np.take_along_axis(P[rows], perms[rows], axis=1)
        return Q

    def _transform_binary(self, p, rng):
        n = p.shape[0]
        order = rng.permutation(n)
        m = int(np.floor(n * self.p))
        q = p.copy()
        rows = order[:m]
        # a random cyclic shift of the chosen answers along the random order: growing p
        # only appends to the cycle, which keeps calibration monotone (a fresh uniform
        # shuffle for every p would not)
        q[rows] = p[np.roll(rows, -1)]
        return q

    def _bracket(self, P):
        return 0.0, 1.0


class GaussianNoise(Postprocessor):
    r"""Gaussian noise on the probabilities, renormalised (ART ``GaussianNoise``, fixed).

    :math:`\tilde P = P + \sigma Z`, :math:`Z_{ik} \sim N(0, 1)`; negative
    entries are set to 0 and each row is divided by its own sum (``keepdims``:
    ART's stored version divides by an ``(n,)`` vector, which broadcasts
    across the wrong axis unless ``n = K``). A row whose entries are all
    negative becomes uniform. For binary 1-D answers the noisy ``p`` is
    clipped to [0, 1]. The argmax can change.

    Parameters
    ----------
    scale : float > 0
        Noise standard deviation (ART default 0.2).
    """

    display_name = "Gaussian Noise"
    randomised = True
    _strength = "scale"

    _parameter_constraints = {"scale": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, scale=0.2):
        self.scale = scale

    def _transform(self, P, rng):
        Q = np.maximum(P + self.scale * rng.standard_normal(P.shape), 0.0)
        return safe_normalise(Q)

    def _transform_binary(self, p, rng):
        return np.clip(p + self.scale * rng.standard_normal(p.shape), 0.0, 1.0)

    def _bracket(self, P):
        return 0.0, 10.0


class Rounding(Postprocessor):
    r"""Round the probabilities to ``decimals`` decimals (ART ``Rounded``).

    Rows of the output sum to 1 only up to :math:`K\cdot 10^{-d}/2`
    (``returns_probabilities = False``) unless ``renormalise=True``, which
    divides each row by its sum (an all-zero row becomes uniform).

    Parameters
    ----------
    decimals : int >= 0
        ART default 3.
    renormalise : bool
    """

    display_name = "Rounding"

    _parameter_constraints = {"decimals": [Interval(Integral, 0, None)], "renormalise": ["boolean"]}

    def __init__(self, decimals=3, *, renormalise=False):
        self.decimals = decimals
        self.renormalise = renormalise

    @property
    def returns_probabilities(self):
        """Only with ``renormalise=True`` do the rows sum to 1 exactly."""
        return bool(self.renormalise)

    def _transform(self, P, rng):
        Q = np.around(P, int(self.decimals))
        return safe_normalise(Q) if self.renormalise else Q

    def _transform_binary(self, p, rng):
        return np.around(p, int(self.decimals))


class TopLabel(Postprocessor):
    r"""Answer only the top-1 label as a one-hot vector (ART ``ClassLabels``, fixed).

    Each row becomes :math:`e_{\arg\max_k P_{ik}}` (ART's stored version sets
    whole columns to 1 across all rows); binary 1-D answers become
    :math:`1[p > 1/2]`. The top-1 flip rate is 0.
    """

    display_name = "Top-1 Label"

    def __init__(self):
        pass

    def _transform(self, P, rng):
        Q = np.zeros_like(P)
        Q[np.arange(P.shape[0]), np.argmax(P, axis=1)] = 1.0
        return Q

    def _transform_binary(self, p, rng):
        return (p > 0.5).astype(float)


class HighConfidence(Postprocessor):
    r"""Zero the entries below a cutoff (ART ``HighConfidence``).

    :math:`\hat P_{ik} = P_{ik}\, 1[P_{ik} \ge c]`. As in ART the rows are
    **not** renormalised: they sum to less than 1, and to 0 when every entry
    is below the cutoff (``returns_probabilities = False``).

    Parameters
    ----------
    cutoff : float > 0
        ART default 0.25.
    """

    display_name = "High Confidence"
    returns_probabilities = False

    _parameter_constraints = {"cutoff": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, cutoff=0.25):
        self.cutoff = cutoff

    def _transform(self, P, rng):
        return np.where(P < self.cutoff, 0.0, P)

    def _transform_binary(self, p, rng):
        return np.where(p < self.cutoff, 0.0, p)
