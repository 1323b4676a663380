# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Utility-privacy bounds, verified against the simulator
#
# **Shows:** the exact privacy-level formula, the rates, the frontier, the ceiling and the two-point minimax bound checked against the simulator, and the sympy derivations.
#
# **Runs in:** about 30 s on a two-core machine. The committed `.ipynb` holds the outputs; regenerate it from this twin with `jupytext --to ipynb --execute --run-path /tmp notebooks/verify_bounds.py`.
#
# For a **linear-smoother attacker** (least squares on a basis, kernel ridge) the copy on
# evaluation points $Z$ is $\hat f(Z) = S\,(y + e)$, so the stealing error is a quadratic in the
# perturbation $e$ and its mean needs only the first two moments of $e$:
#
# $$PL_n = \tfrac1m\|Sy - f(Z)\|^2 + \tfrac2m (Sy - f(Z))^\top S\mu + \tfrac1m\mu^\top S^\top S\mu
#         + \tfrac1m\operatorname{tr}(S^\top S\,\Sigma), \qquad U_n = \tfrac1n(\|\mu\|^2 + \operatorname{tr}\Sigma).$$
#
# This notebook checks, against Monte Carlo runs of `modelprivacy.simulate`:
#
# 1. the exact formula (IID, constant shift, long-range noise) on several settings;
# 2. the rates $\sigma^2 p/n$, $(\sigma^2/n)^{2s/(2s+1)}$ and $\sigma^2\operatorname{Var}\bar\xi_n \asymp \sigma^2 n^{-\gamma}$ by log-log slopes over $n = 50\ldots2000$;
# 3. the ceiling and the exact frontier $PL^*(u)$ against every defense's simulated $(U_n, PL_n)$;
# 4. the two-point minimax lower bound $PL^*_n(u) \ge u$ for several attackers;
# 5. the sympy derivations.
#
# Conditional bounds are evaluated on the very queries and evaluation points of each replication
# (the simulator hands each replication's draws to a hook), so the comparison is paired.

# %%
import time
import numpy as np
import matplotlib.pyplot as plt

from modelprivacy import bounds as B, symbolic as Y, verify as V
from modelprivacy.attacks import KernelRidgeAttacker, OLSRegression, PolynomialRegression
from modelprivacy.defenses import ConstantShift, GaussianProcessNoise, IIDNoise, LongRangeNoise, NoDefense
from modelprivacy.queries import BetaQueries, GridQueries, UniformQueries
from modelprivacy.targets import CubicCosineTarget, QuadraticTarget
from modelprivacy.threat import ThreatModel

F_POLY, F_KRR = QuadraticTarget(), CubicCosineTarget()

t_start = time.perf_counter()
SEED = 0
KRR = KernelRidgeAttacker(kernel="rbf", gamma=1.0, alpha=1e-3)
checks = {}  # name -> bool, asserted at the end


def fixed(target, lb, ub, n, m, defense, attacker):
    # grid queries and grid evaluation points: the design is the same in every replication
    return ThreatModel(target, GridQueries((lb, ub)), n, defense, attacker, GridQueries((lb, ub)), m)


# %% [markdown]
# ## 1. The exact privacy level
#
# Six settings (different $n$, $\sigma$, attackers, defenses; the last two with random designs,
# where the formula is evaluated on each replication's queries and evaluation points). "matches" means 0 lies in the 95%
# interval of the paired difference $\ell_r - PL_n(X_r, Z_r)$ (for a fixed design: the formula lies in
# the 95% interval of the simulated $PL_n$).

# %%
settings = [
    fixed(F_POLY, 0, 1, 50, 300, IIDNoise(0.5), OLSRegression(n_terms=3)),
    fixed(F_KRR, -1, 1, 80, 300, LongRangeNoise(0.3, gamma=0.5), KRR),
    fixed(F_KRR, -1, 1, 40, 300, IIDNoise(0.1), KernelRidgeAttacker(gamma=2.0, alpha=1e-2)),
    fixed(F_KRR, -1, 1, 60, 300, ConstantShift(0.3), KRR),
    ThreatModel(F_POLY, BetaQueries(1, b=3), 60, LongRangeNoise(0.4), OLSRegression(n_terms=4), BetaQueries(1, b=3), 300),
    ThreatModel(F_KRR, UniformQueries((-1, 1)), 50, GaussianProcessNoise(0.3, gamma=4.0), KRR, UniformQueries((-1, 1)), 300),
]
exact = V.verify(V.exact_bound(), settings, reps=150, seed=SEED)
print(exact.table())
exact.plot()
checks["exact formula"] = exact.all_hold

# %% [markdown]
# Special cases, exactly: least squares evaluated on its own queries under IID noise gives
# $\sigma^2 p/n$, and a constant shift against an attacker that reproduces constants and $f$ gives
# $\sigma^2$ whatever $n$.

# %%
rows = []
for n, p, sigma in [(20, 2, 0.3), (100, 4, 0.5), (500, 6, 1.0)]:
    X = np.random.default_rng(n).beta(1, 3, (n, 1))
    Pi = OLSRegression(n_terms=p).smoother_matrix(X, X)
    rows.append((n, p, sigma, B.iid_privacy_level(Pi, sigma), B.least_squares_rate(sigma, p, n)))
    print(f"n={n:4d} p={p} sigma={sigma}: tr-formula {rows[-1][3]:.6g}   sigma^2 p/n {rows[-1][4]:.6g}")
checks["sigma^2 p/n exact in empirical norm"] = all(np.isclose(a, b, rtol=1e-9) for *_, a, b in rows)
Z = np.linspace(0, 1, 300)[:, None]
for n in (20, 200):
    X = np.random.default_rng(n).uniform(0, 1, (n, 1))
    v = B.constant_shift_privacy_level(OLSRegression(n_terms=3).smoother_matrix(X, Z), 0.5, F_POLY(X), F_POLY(Z))
    print(f"constant shift, n={n}: PL_n = {v:.6g} (sigma^2 = 0.25)")

# %% [markdown]
# ## 2. Rates by log-log slopes over $n = 50 \ldots 2000$
#
# * least squares under IID noise, $\sigma^2 p/n$: exact formula (grid design, uniform evaluation) and simulation (Beta design);
# * oracle-tuned cosine-series attacker on a target of smoothness $s$ (coefficients $k^{-s-1/2}$): slope $-2s/(2s+1)$;
# * long-range noise: $\sigma^2\operatorname{Var}\bar\xi_n$, slope $-\gamma$.

# %%
NS = np.array([50, 100, 200, 500, 1000, 2000])
rate_checks = []
Zg = np.linspace(0, 1, 400)[:, None]
vals = [B.iid_privacy_level(OLSRegression(n_terms=4).smoother_matrix(np.linspace(0, 1, n)[:, None], Zg), 0.5) for n in NS]
rate_checks.append(V.check_slope(NS, vals, -1.0, label="least squares p=4, exact"))
tm = ThreatModel(F_POLY, BetaQueries(1, b=3), 50, IIDNoise(0.5), OLSRegression(n_terms=3), BetaQueries(1, b=3), 400)
rate_checks.append(V.verify_rate(tm, [50, 200, 800, 2000], -1.0, reps=100, seed=SEED, label="least squares p=3, simulated"))
for s in (1.0, 2.0):
    vals = [B.tuned_series_privacy_level(n, 1.0, s, n_eval=500)[0] for n in NS]
    rate_checks.append(V.check_slope(NS, vals, -2 * s / (2 * s + 1), label=f"tuned series s={s:g}"))
for g in (0.3, 0.5, 0.8):
    rate_checks.append(V.check_slope(NS, B.long_range_rate(1.0, NS, g), -g, label=f"long-range gamma={g}"))
for c in rate_checks:
    print(c)
fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
rate_checks[1].plot(axes[0], rate=B.least_squares_rate(0.5, 3, rate_checks[1].n))
rate_checks[2].plot(axes[1], rate=B.nonparametric_rate(1.0, NS, 1.0, constant=rate_checks[2].values[0] / B.nonparametric_rate(1.0, 50, 1.0)))
rate_checks[5].plot(axes[2], rate=B.long_range_rate(1.0, NS, 0.8, asymptotic=True))
plt.tight_layout()
checks["rates"] = all(c.holds for c in rate_checks)

# %% [markdown]
# With $\gamma = 1/n$ (the paper's 'Corr'), our exactly normalised series (the DC bin included)
# has $\operatorname{Var}\bar\xi_n \approx 1/(1 + 2H_{n/2} - 2/n) \approx 1/(2\ln n + 0.77)$, about
# 1.6 times the spec's $1/(4\ln(n/2))$: it decays only logarithmically.

# %%
for n in (100, 500, 2000):
    H = np.sum(1.0 / np.arange(1, n // 2 + 1))
    print(f"n={n:5d}: exact {B.long_range_mean_variance(n):.4f}   1/(1+2H-2/n) {1/(1+2*H-2/n):.4f}   spec 1/(4 ln(n/2)) {1/(4*np.log(n/2)):.4f}")

# %% [markdown]
# ## 3. Ceiling and frontier against a known kernel-ridge attacker
#
# On a fixed grid of $n = 60$ queries, the exact frontier $PL^*(u)$ (trust-region solver at radius
# $\sqrt{nu}$), the ceiling $(\sqrt{c} + \|S\|_{op}\sqrt{nu/m})^2$ and the minimax bound $u$, with every
# baseline defense simulated against the same attacker on the same queries. The frontier bounds any
# defense, random ones included, at its expected utility loss (the SDP relaxation of the
# trust-region problem is tight).

# %%
game = fixed(F_KRR, -1, 1, 60, 400, NoDefense(), KRR)
X = game.queries.sample(game.n); Zf = game.evaluation_distribution.sample(game.n_eval)
S, y, fZ = KRR.smoother_matrix(X, Zf), F_KRR(X), F_KRR(Zf)
u = np.logspace(-2.5, 0, 20)
frontier = B.privacy_frontier(S, y, fZ, u)
ceiling = B.privacy_ceiling(S, y, fZ, u)
defenses = {}
for sigma in (0.15, 0.6):
    defenses[f"IID {sigma}"] = IIDNoise(sigma)
    defenses[f"Constant {sigma}"] = ConstantShift(sigma)
    defenses[f"Long-range 0.5, {sigma}"] = LongRangeNoise(sigma, gamma=0.5)
    defenses[f"Long-range 1/n sorted, {sigma}"] = LongRangeNoise(sigma, sort=True)
    defenses[f"Random function, {sigma}"] = GaussianProcessNoise(sigma, gamma=4.0)
try:  # the known-attacker design, when the designs module is available
    from modelprivacy.defenses.optimal import OptimalLinearSmoother
    defenses["Optimal design 0.3"] = OptimalLinearSmoother(0.3, attacker=KRR, evaluation=game.evaluation_distribution, n_emp=400)
except Exception as exc:  # pragma: no cover
    print("designs not available:", exc)
points = V.defense_points(game, defenses, reps=60, seed=SEED)
dominated, exact_below = {}, {}
print("simulated (U_n, PL_n) against the frontier at U_n; exact PL_n against the frontier at E U_n")
for name, (uu, pl) in points.items():
    top = B.privacy_frontier(S, y, fZ, uu).privacy_level[0]
    dominated[name] = pl.mean <= top * (1 + 1e-7)
    line = f"{name:28s} U_n={uu:.4f}  PL_n={pl}  frontier={top:.4f}  ceiling={B.privacy_ceiling(S, y, fZ, uu):.4f}  below: {dominated[name]}"
    try:  # defenses with known moments: the exact statement E l <= PL*(E U_n)
        ex = B.exact_privacy_level(S, y, fZ, defense=defenses[name], X=X)
        exact_below[name] = ex.value <= B.privacy_frontier(S, y, fZ, ex.utility_loss).privacy_level[0] * (1 + 1e-9)
        line += f" | exact {ex.value:.4f} at E U_n={ex.utility_loss:.4f}: below {exact_below[name]}"
    except NotImplementedError:
        pass
    print(line)
ax = V.plot_frontier(frontier, ceiling=ceiling, lower=B.minimax_lower_bound(u), points=points)
ax.legend(fontsize=5, ncol=2)
checks["frontier dominates every defense"] = all(dominated.values())
checks["frontier dominates exact PL_n at E U_n"] = all(exact_below.values())
checks["frontier certified"] = bool(frontier.certified.all())
checks["frontier below ceiling"] = bool(np.all(frontier.privacy_level <= ceiling * (1 + 1e-10)))

# %% [markdown]
# The same ceiling and frontier, as bounds verified per setting by `verify`
# (upper bounds at each defense's expected utility loss):

# %%
ups = [game.replace(defense=d) for d in (IIDNoise(0.3), ConstantShift(0.3), LongRangeNoise(0.3, gamma=0.5))]
ups += [fixed(F_POLY, 0, 1, 40, 200, d, OLSRegression(n_terms=3)) for d in (IIDNoise(0.5), ConstantShift(0.5))]
for bound in (V.ceiling_bound(), V.frontier_bound()):
    rep = V.verify(bound, ups, reps=40, seed=SEED)
    print(rep.table(), end="\n\n")
    checks[bound.name] = rep.all_hold

# %% [markdown]
# ## 4. The two-point minimax lower bound
#
# Worlds $f_0$ and $f_1 = f_0 + 2\sqrt u$ answered identically by the midpoint $f_0 + \sqrt u$
# (utility loss $u$ in both). Whatever the attacker, the average of its two stealing errors is at
# least $u$ on every replication, so $PL^*_n(u) \ge u$ (constant $c = 1$), matching the ceiling
# $PL_n \le U_n$ of least squares: $PL^*_n(u) \asymp u$, independent of $n$.

# %%
from sklearn.neighbors import KNeighborsRegressor
tms = [
    fixed(F_POLY, 0, 1, 30, 200, NoDefense(), OLSRegression(n_terms=3)),
    ThreatModel(F_POLY, BetaQueries(1, b=3), 100, NoDefense(), PolynomialRegression(), BetaQueries(1, b=3), 300),
    ThreatModel(F_KRR, UniformQueries((-1, 1)), 60, NoDefense(), KRR, UniformQueries((-1, 1)), 300),
    ThreatModel(F_KRR, UniformQueries((-1, 1)), 60, NoDefense(), KNeighborsRegressor(5), UniformQueries((-1, 1)), 300),
]
two = V.verify_two_point(tms, [0.01, 0.1, 0.5], reps=30, seed=SEED)
print(two.table())
checks["two-point lower bound"] = two.all_hold
# with a polynomial class the constant is the top generalised eigenvalue (> 1 for Beta(1, 3) queries: P5)
from modelprivacy.features import basis_matrix

Xb = np.random.default_rng(1).beta(1, 3, (100, 1)); Zb = np.random.default_rng(2).beta(1, 3, (2000, 1))
print("c for cubic directions:", B.minimax_lower_bound(1.0, basis=lambda P: basis_matrix(P, 4), X=Xb, Z=Zb))

# %% [markdown]
# ## 5. Symbolic derivations
#
# Each function returns the sympy expression and a lambdified version; the derivations start from
# definitions (expected quadratic form over symbolic noise; projection of a symbolic design).

# %%
forms = {
    "IID least squares": Y.iid_least_squares_privacy_level(3, 2),
    "constant shift": Y.constant_shift_privacy_level(),
    "Var(mean), even n": Y.long_range_mean_variance("even"),
    "Var(mean), power law": Y.long_range_mean_variance_asymptotic(),
    "Var(mean), zeta-refined": Y.long_range_mean_variance_asymptotic(refined=True),
}
for name, f in forms.items():
    print(f"{name:24s} {f.expr}")
lr, lr_ref = forms["Var(mean), even n"], forms["Var(mean), zeta-refined"]
print("n=100, gamma=0.5: sum", lr(100, 0.5), " refined", float(lr_ref(100, 0.5)), " bounds", B.long_range_mean_variance(100, 0.5))
checks["symbolic = numeric"] = bool(np.isclose(lr(100, 0.5), B.long_range_mean_variance(100, 0.5), rtol=1e-10))
rs = Y.reverse_sigmoid()
print("f'(y) =", rs["derivative_logit"].expr, "  with t = logit(y)")
print("f'(1/2) =", rs["derivative_at_half"].expr)
yy = np.linspace(0.001, 0.999, 999)
fig, axes = plt.subplots(1, 2, figsize=(9, 3))
for beta, gamma in [(0.5, 0.2), (0.5, 1.0), (0.3, 2.0)]:
    axes[0].plot(yy, rs["f"](yy, beta, gamma), label=f"beta={beta}, gamma={gamma}")
    axes[1].plot(yy, rs["derivative"](yy, beta, gamma))
    print(f"beta={beta}, gamma={gamma}: monotone {Y.reverse_sigmoid_monotone(beta, gamma)}, decreasing on {Y.reverse_sigmoid_decreasing_set(beta, gamma)}")
axes[0].set_title("ReverseSigmoid $f(y) = y - r(y)$"); axes[0].legend(fontsize=7)
axes[1].axhline(0, color="k", lw=0.5); axes[1].set_ylim(-3, 1.5); axes[1].set_title("$f'(y)$")
plt.tight_layout()

# %%
for name, ok in checks.items():
    print(f"{'ok ' if ok else 'FAIL'} {name}")
print(f"total {time.perf_counter() - t_start:.1f} s")
assert all(checks.values()), [k for k, v in checks.items() if not v]
