"""Classification output defenses, checked against independent transcriptions of their formulas."""

import numpy as np
import pytest
from scipy import special

from modelprivacy.defenses import POSTPROCESSORS
from modelprivacy.defenses.postprocess import (
    AdaptiveMisinformation,
    GaussianNoise,
    HighConfidence,
    MisleadingShift,
    RandomShuffle,
    ReverseSigmoid,
    Rounding,
    TopLabel,
    flip_rate,
    reverse_sigmoid,
    reverse_sigmoid_map,
    reverse_sigmoid_r,
)


def _art_reverse_sigmoid(preds, beta, gamma):
    """Independent transcription of ART's ReverseSigmoid.__call__ (both branches)."""
    clip_min = 1e-9
    clip_max = 1.0 - clip_min

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    preds_clipped = np.clip(preds, clip_min, clip_max)
    if preds.shape[1] > 1:
        r = beta * (sigmoid(-gamma * np.log((1.0 - preds_clipped) / preds_clipped)) - 0.5)
        pert = np.clip(preds - r, 0.0, 1.0)
        return pert / np.sum(pert, axis=-1, keepdims=True)
    p1, p2 = preds, 1.0 - preds
    c1, c2 = preds_clipped, 1.0 - preds_clipped
    r1 = beta * (sigmoid(-gamma * np.log((1.0 - c1) / c1)) - 0.5)
    r2 = beta * (sigmoid(-gamma * np.log((1.0 - c2) / c2)) - 0.5)
    q1, q2 = np.clip(p1 - r1, 0.0, 1.0), np.clip(p2 - r2, 0.0, 1.0)
    return q1 / (q1 + q2)


@pytest.fixture(scope="module")
def P10():
    rng = np.random.default_rng(0)
    P = np.vstack([rng.dirichlet(np.full(10, a), size=300) for a in (0.05, 0.2, 1.0)])
    P[:5] = np.eye(10)[:5]  # exact zeros and ones
    return P


# every registered postprocessor that promises probability vectors, plus a few settings off the defaults
ALL_VALID = [d for d in (cls() for cls in POSTPROCESSORS.values()) if d.returns_probabilities] + [
    MisleadingShift(3.0), ReverseSigmoid(0.3, gamma=0.2), ReverseSigmoid(0.5, gamma=0.5, preserve_top1=True),
    ReverseSigmoid(2.0, gamma=3.0), RandomShuffle(0.3), GaussianNoise(0.5), Rounding(2, renormalise=True),
]


# ----- ReverseSigmoid ----------------------------------------------------------------
@pytest.mark.parametrize("beta", [0.1, 0.5, 1.0])
@pytest.mark.parametrize("gamma", [0.1, 0.2, 1.0, 3.0])
def test_reverse_sigmoid_r_vanishes_at_half(beta, gamma):
    assert abs(reverse_sigmoid_r(0.5, beta, gamma)) < 1e-15


@pytest.mark.parametrize("beta", [0.1, 0.3, 0.9])
def test_reverse_sigmoid_gamma_one_is_affine(beta, P10):
    y = np.linspace(0, 1, 101)
    np.testing.assert_allclose(reverse_sigmoid_map(y, beta, 1.0), (1 - beta) * y + beta / 2, atol=1e-14)
    # the whole defense: affine shrink, then renormalisation by its row sums 1 - beta + K beta / 2
    inner = np.clip(P10, 1e-9, 1 - 1e-9)  # ART's logit clip only changes r at exact 0/1 by <1e-9
    expected = (1 - beta) * P10 + beta / 2
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ReverseSigmoid(beta, gamma=1.0)(P10), expected, atol=1e-8)
    assert np.all(inner >= 0)


@pytest.mark.parametrize("beta,gamma", [(1.0, 0.1), (0.3, 0.2), (0.5, 0.2), (2.0, 3.0), (0.7, 1.5)])
def test_reverse_sigmoid_matches_art_transcription(beta, gamma, P10):
    np.testing.assert_allclose(ReverseSigmoid(beta, gamma=gamma)(P10), _art_reverse_sigmoid(P10, beta, gamma),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(reverse_sigmoid(P10, beta, gamma), _art_reverse_sigmoid(P10, beta, gamma),
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("beta,gamma", [(1.0, 0.1), (0.4, 0.2), (2.0, 3.0)])
def test_reverse_sigmoid_binary_branch(beta, gamma):
    p = np.concatenate([np.linspace(0, 1, 201), np.random.default_rng(1).uniform(size=100)])
    out = ReverseSigmoid(beta, gamma=gamma)(p)
    assert out.shape == p.shape
    two = ReverseSigmoid(beta, gamma=gamma)(np.column_stack([1 - p, p]))[:, 1]
    np.testing.assert_allclose(out, two, atol=1e-12)
    np.testing.assert_allclose(out, _art_reverse_sigmoid(p[:, None], beta, gamma)[:, 0], atol=1e-12)


def test_reverse_sigmoid_map_symmetry_and_slope():
    y = np.linspace(0.01, 0.99, 99)
    for beta, gamma in [(1.0, 0.1), (0.3, 0.2), (0.8, 2.0)]:
        np.testing.assert_allclose(reverse_sigmoid_map(1 - y, beta, gamma), 1 - reverse_sigmoid_map(y, beta, gamma),
                                   atol=1e-14)
        h = 1e-6
        slope = (reverse_sigmoid_map(0.5 + h, beta, gamma) - reverse_sigmoid_map(0.5 - h, beta, gamma)) / (2 * h)
        assert abs(slope - (1 - beta * gamma)) < 1e-6
    # the deceptive regime is non-monotone: f(1e-6) > f(0.025) for beta = 1, gamma = 0.1 (A.2)
    assert reverse_sigmoid_map(1e-6, 1.0, 0.1) > 0.29 > 0.13 > reverse_sigmoid_map(0.025, 1.0, 0.1)


def test_reverse_sigmoid_orekondy_variant_and_warning():
    rng = np.random.default_rng(2)
    P = rng.dirichlet(np.ones(4), size=50)
    beta, gamma = 0.6, 0.5
    r = beta * (special.expit(gamma * special.logit(P)) - 0.5)
    expected = (P - r) / (P - r).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ReverseSigmoid(beta, gamma=gamma, variant="orekondy")(P), expected, atol=1e-13)
    with pytest.warns(UserWarning, match="not probability vectors"):
        ReverseSigmoid(3.0, gamma=3.0, variant="orekondy")(P)


def test_reverse_sigmoid_top1_guard():
    # a weak top class next to near-zero classes: ART's map flips the argmax (A.2)
    P = np.array([[0.28, 0.27, 0.25, 0.2, 1e-7, 1e-7], [0.2, 0.1, 0.1, 0.1, 0.1, 0.4]])
    P = P / P.sum(axis=1, keepdims=True)
    plain = ReverseSigmoid(1.0, gamma=0.1)(P)
    assert np.argmax(plain[0]) != 0
    guarded = ReverseSigmoid(1.0, gamma=0.1, preserve_top1=True)(P)
    np.testing.assert_array_equal(np.argmax(guarded, axis=1), np.argmax(P, axis=1))
    np.testing.assert_allclose(np.sort(guarded, axis=1), np.sort(plain, axis=1))
    np.testing.assert_allclose(guarded.sum(axis=1), 1.0)


def test_reverse_sigmoid_benign_flip_rate_zero_on_peaked_outputs():
    P = np.random.default_rng(3).dirichlet(np.full(10, 0.05), size=2000)
    assert flip_rate(P, ReverseSigmoid(0.2, gamma=0.5)(P)) == 0.0


# ----- every defense returns valid probability vectors ----------------------------------
@pytest.mark.parametrize("defense", ALL_VALID, ids=repr)
def test_outputs_are_probability_vectors(defense, P10):
    Q = defense(P10, rng=0)
    assert defense.returns_probabilities
    assert Q.shape == P10.shape
    assert np.all(Q >= 0) and np.all(Q <= 1)
    np.testing.assert_allclose(Q.sum(axis=1), 1.0, atol=1e-12)
    p = P10[:, 0]  # binary answers
    q = defense(p, rng=0)
    assert q.shape == p.shape and np.all((q >= 0) & (q <= 1))


def test_non_renormalising_defenses_say_so(P10):
    assert not HighConfidence().returns_probabilities and not Rounding(2).returns_probabilities
    Q = HighConfidence(0.25)(P10)
    np.testing.assert_array_equal(Q, np.where(P10 < 0.25, 0.0, P10))
    assert np.any(Q.sum(axis=1) < 1 - 1e-3) and np.any(Q.sum(axis=1) == 0)
    R = Rounding(2)(P10)
    np.testing.assert_array_equal(R, np.round(P10, 2))
    assert np.max(np.abs(R.sum(axis=1) - 1)) <= 10 * 0.005 + 1e-12


# ----- Misleading Shift ------------------------------------------------------------------
def test_misleading_shift_formula(P10):
    p = 2.5
    Q = MisleadingShift(p)(P10)
    c = np.bincount(P10.argmax(axis=1), minlength=10).argmax()
    E = np.clip(P10, 1e-10, 1.0)
    E[:, c] *= np.exp(p)
    np.testing.assert_allclose(Q, E / E.sum(axis=1, keepdims=True), rtol=1e-12, atol=1e-15)
    assert MisleadingShift(p).majority_class(P10) == c


def test_misleading_shift_binary_is_two_class_and_logit_shift():
    rng = np.random.default_rng(4)
    for frac in (0.3, 0.7):  # majority below / above one half
        p = np.where(rng.uniform(size=400) < frac, rng.uniform(0.5, 1, 400), rng.uniform(0, 0.5, 400))
        sign = 1.0 if np.sum(p > 0.5) > 200 else -1.0
        q = MisleadingShift(1.3)(p)
        np.testing.assert_allclose(q, special.expit(special.logit(p) + sign * 1.3), atol=1e-12)
        np.testing.assert_allclose(q, MisleadingShift(1.3)(np.column_stack([1 - p, p]))[:, 1], atol=1e-12)


def _ms_flip_rate_brute_force(P, shift):
    c = np.bincount(P.argmax(axis=1), minlength=P.shape[1]).argmax()
    flips = 0
    for row in np.clip(P, 1e-10, 1):
        logits = np.log(row)
        logits[c] += shift
        flips += int(np.argmax(logits) != np.argmax(row))
    return flips / len(P)


@pytest.mark.parametrize("u", [0.01, 0.02, 0.05, 0.10, 0.15])
def test_misleading_shift_bisection_hits_target(u):
    P = np.random.default_rng(5).dirichlet(np.full(10, 0.1), size=2000)
    d = MisleadingShift().calibrate(P, u)
    assert abs(_ms_flip_rate_brute_force(P, d.shift) - u) <= 0.005
    assert abs(d.calibrated_flip_rate_ - u) <= 0.005
    # bisection lands on the jump: a slightly smaller shift is below the target
    assert _ms_flip_rate_brute_force(P, d.shift * (1 - 1e-6)) <= u + 0.005


def test_misleading_shift_binary_calibration():
    p = np.random.default_rng(6).beta(0.3, 0.3, size=3000)
    d = MisleadingShift().calibrate(p, 0.10)
    assert abs(flip_rate(p, d(p)) - 0.10) <= 0.005


def test_unreachable_flip_rate_is_a_clear_error():
    P = np.random.default_rng(7).dirichlet(np.ones(3), size=500)
    with pytest.raises(ValueError, match="target_flip_rate.*unreachable"):
        MisleadingShift().calibrate(P, 0.9)
    with pytest.raises(ValueError, match="target_flip_rate"):
        MisleadingShift().calibrate(P, 1.5)
    with pytest.raises(ValueError, match="target_flip_rate"):
        MisleadingShift().calibrate(P, 0.0)


@pytest.mark.parametrize("cls", [RandomShuffle, AdaptiveMisinformation, GaussianNoise])
def test_other_defenses_calibrate(cls):
    P = np.random.default_rng(8).dirichlet(np.full(10, 0.3), size=2000)
    d = cls().calibrate(P, 0.05, rng=3)
    rate = flip_rate(P, d(P, rng=3))
    assert abs(rate - 0.05) <= 0.005


# ----- the ART-bug regressions and simple postprocessors ------------------------------
def test_gaussian_noise_renormalises_per_row_when_n_differs_from_K():
    P = np.random.default_rng(9).dirichlet(np.ones(3), size=7)
    Q = GaussianNoise(0.3)(P, rng=11)
    Z = np.random.default_rng(11).standard_normal(P.shape)
    expected = np.maximum(P + 0.3 * Z, 0)
    expected /= expected.sum(axis=1)[:, None]
    np.testing.assert_allclose(Q, expected, atol=1e-14)


def test_top_label_is_per_row_one_hot(P10):
    Q = TopLabel()(P10)
    np.testing.assert_array_equal(Q.sum(axis=1), 1.0)
    np.testing.assert_array_equal(np.argmax(Q, axis=1), np.argmax(P10, axis=1))
    assert set(np.unique(Q)) == {0.0, 1.0}
    p = np.array([0.2, 0.5, 0.51, 0.9])
    np.testing.assert_array_equal(TopLabel()(p), [0, 0, 1, 1])


def test_random_shuffle_permutes_exactly_floor_np_rows(P10):
    Q = RandomShuffle(0.25)(P10, rng=1)
    changed = np.any(Q != P10, axis=1)
    assert changed.sum() <= int(np.floor(len(P10) * 0.25))
    np.testing.assert_allclose(np.sort(Q, axis=1), np.sort(P10, axis=1))
    p = np.linspace(0.01, 0.99, 40)
    q = RandomShuffle(0.5)(p, rng=2)
    assert np.sum(q != p) <= 20
    np.testing.assert_allclose(np.sort(q), np.sort(p))


def test_adaptive_misinformation_replaces_only_unconfident_rows(P10):
    Q = AdaptiveMisinformation(0.5)(P10, rng=4)
    keep = P10.max(axis=1) >= 0.1 + 0.5
    np.testing.assert_array_equal(Q[keep], P10[keep])
    assert np.all(np.any(Q[~keep] != P10[~keep], axis=1))


# ----- bad input -------------------------------------------------------------------------
def test_bad_input_errors_name_the_argument():
    good = np.full((4, 3), 1 / 3)
    with pytest.raises(ValueError, match="P must contain probabilities"):
        ReverseSigmoid()(good - 0.5)
    with pytest.raises(ValueError, match="rows of P must sum to 1"):
        ReverseSigmoid()(good * 0.5)
    with pytest.raises(ValueError, match="beta"):
        ReverseSigmoid(beta=0.0)(good)
    with pytest.raises(ValueError, match="gamma"):
        ReverseSigmoid(gamma=-1.0)(good)
    with pytest.raises(ValueError, match="shift"):
        MisleadingShift(-1.0)(good)
    with pytest.raises(ValueError, match="target_class"):
        MisleadingShift(1.0, target_class=5)(good)
    with pytest.raises(ValueError, match="cutoff"):
        HighConfidence(0.0)(good)
    d = MisleadingShift().calibrate(np.random.default_rng(0).dirichlet(np.ones(3), 500), 0.05)
    with pytest.raises(ValueError, match="P has 4 classes.*calibrated on 3"):
        d(np.full((2, 4), 0.25))
    with pytest.raises(ValueError, match="Invalid parameter 'beta'"):
        MisleadingShift().set_params(beta=1)
