"""Data sets, the exact-property sampler, bins: checked against counts computed from the raw files."""

import csv
import gzip
import io

import numpy as np
import pytest

from modelprivacy.property_inference import datasets as ds
from modelprivacy.property_inference.datasets import (
    PropertySampler,
    SyntheticCredit,
    TabularData,
    assign_bins,
    bin_values,
    load_adult,
    load_german_credit,
    make_bins,
    split_pool,
)


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Small matrix products: one BLAS thread is much faster on a shared machine (as in the package's runs)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        yield


def _raw_rows(name):
    path = ds._vendored(name)
    text = gzip.decompress(path.read_bytes()).decode("latin-1")
    return [r for r in csv.reader(io.StringIO(text), skipinitialspace=True) if r]


def test_adult_counts_match_the_raw_file():
    rows = _raw_rows("adult.data.gz")
    data = load_adult()
    assert data.n_samples == len(rows) == 32561
    assert int(data.attributes["female"].sum()) == sum(r[9] == "Female" for r in rows) == 10771
    assert int(data.y.sum()) == sum(r[14] == ">50K" for r in rows)
    # one-hot with the first category dropped: 5 numeric + sum over attributes of (categories - 1)
    cats = [1, 5, 6, 7, 8, 9, 13]
    expected = 5 + sum(len({r[j] for r in rows}) - 1 for j in cats)
    assert data.n_features == expected
    assert load_adult(drop=None).n_features == expected + len(cats)
    assert np.all(np.isfinite(data.X))


def test_german_counts_match_the_raw_file():
    rows = _raw_rows("german.data.gz")
    data = load_german_credit()
    assert data.n_samples == 1000
    assert int(data.y.sum()) == sum(r[20] == "2" for r in rows) == 300
    assert int(data.attributes["female"].sum()) == sum(r[8] in ("A92", "A95") for r in rows)
    assert np.array_equal(data.attributes["default"], data.y.astype(bool))
    coded = [j for j in range(20) if rows[0][j].startswith("A")]
    expected = 7 + sum(len({r[j] for r in rows}) - 1 for j in coded)
    assert data.n_features == expected


def test_corrupted_vendored_file_is_detected(monkeypatch):
    monkeypatch.setitem(ds._MD5, "german.data.gz", "0" * 32)
    with pytest.raises(ValueError, match="corrupted"):
        ds._load_german(None, "first")


def _write(tmp_path, name, lines):
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    return p


def test_missing_and_unknown_columns_are_named(tmp_path):
    rows = _raw_rows("german.data.gz")[:20]
    header = list(ds.GERMAN_COLUMNS)
    ok = _write(tmp_path, "ok.csv", [",".join(header)] + [",".join(r) for r in rows])
    assert load_german_credit(ok).n_samples == 20
    missing = _write(tmp_path, "missing.csv", [",".join(header[:-2] + header[-1:])]
                     + [",".join(r[:-2] + r[-1:]) for r in rows])
    with pytest.raises(ValueError, match=r"missing columns \['foreign_worker'\]"):
        load_german_credit(missing)
    unknown = _write(tmp_path, "unknown.csv", [",".join(header + ["zip"])] + [",".join(r + ["1"]) for r in rows])
    with pytest.raises(ValueError, match=r"unknown columns \['zip'\]"):
        load_german_credit(unknown)
    short = _write(tmp_path, "short.csv", [",".join(r[:-1]) for r in rows])
    with pytest.raises(ValueError, match="row 1 has 20 fields, expected 21"):
        load_german_credit(short)
    bad = [list(r) for r in rows]
    bad[3][0] = "A19"
    code = _write(tmp_path, "code.csv", [",".join(r) for r in bad])
    with pytest.raises(ValueError, match="unknown codes"):
        load_german_credit(code)


def test_adult_rejects_unknown_labels(tmp_path):
    rows = _raw_rows("adult.data.gz")[:10]
    rows[2][14] = "maybe"
    p = _write(tmp_path, "adult.csv", [", ".join(r) for r in rows])
    with pytest.raises(ValueError, match="income"):
        load_adult(p)


def test_split_pool_is_disjoint_and_stratified():
    data = load_german_credit()
    a, b = split_pool(data, random_state=0)
    assert a.n_samples + b.n_samples == data.n_samples
    # rows are identified by their feature vectors (the German rows are distinct)
    key = lambda d: {tuple(np.round(x, 10)) + (int(y),) for x, y in zip(d.X, d.y)}
    assert not key(a) & key(b)
    for part in (a, b):
        for yv in (0, 1):  # the default property is the label: its strata are the label values
            assert abs(np.sum(part.y == yv) - np.sum(data.y == yv) / 2) <= 1
    women = load_adult().attributes["female"]
    a, b = split_pool(load_adult(), random_state=1)
    assert abs(a.attributes["female"].sum() - women.sum() / 2) <= 2


def _pool(rng, n=400):
    X = rng.standard_normal((n, 3))
    y = (rng.random(n) < 0.3).astype(int)
    z = rng.random(n) < 0.4
    return TabularData.from_arrays(X, y, prop=z)


@pytest.mark.parametrize("label_share", ["follow", "fixed", 0.5])
def test_sampler_sets_the_property_exactly(rng, label_share):
    data = _pool(rng)
    z = data.indicator("property")
    s = PropertySampler(data, label_share=label_share)
    for n, k in [(50, 0), (50, 17), (50, 50), (100, 33), (7, 3)]:
        idx = s.sample_indices(n, k / n, rng)
        assert idx.size == n and np.unique(idx).size == n
        assert int(z[idx].sum()) == k  # brute-force count: the property is k/n exactly
        assert s.property_of(idx) == k / n
        if label_share != "follow":
            share = data.y.mean() if label_share == "fixed" else label_share
            assert int(data.y[idx].sum()) == int(round(n * share))


def test_fixed_label_share_keeps_the_ratio_of_stratum_label_rates():
    rng = np.random.default_rng(3)
    n = 20000
    z = rng.random(n) < 0.5
    y = (rng.random(n) < np.where(z, 0.1, 0.3)).astype(int)  # women earn >50K less often
    data = TabularData.from_arrays(rng.standard_normal((n, 2)), y, prop=z)
    s = PropertySampler(data, label_share="fixed")
    idx = s.sample_indices(1000, 0.8, rng)
    r1 = data.y[idx][z[idx]].mean()
    r0 = data.y[idx][~z[idx]].mean()
    assert data.y[idx].sum() == round(1000 * data.y.mean())
    assert r0 / r1 == pytest.approx(3.0, rel=0.05)


def test_follow_label_share_follows_the_property(rng):
    data = _pool(rng, 4000)
    z = data.indicator("property")
    p1, p0 = data.y[z].mean(), data.y[~z].mean()
    s = PropertySampler(data)
    shares = [data.y[s.sample_indices(200, 0.8, rng)].mean() for _ in range(300)]
    expected = 0.8 * p1 + 0.2 * p0
    se = np.std(shares) / np.sqrt(len(shares))
    assert abs(np.mean(shares) - expected) < 4 * se + 1e-3


def test_sampler_errors_are_clear(rng):
    data = _pool(rng, 60)
    n1 = int(data.indicator("property").sum())
    s = PropertySampler(data)
    with pytest.raises(ValueError, match="not an integer"):
        s.sample(30, 0.333, rng)
    with pytest.raises(ValueError, match="cannot supply property value 1.0"):
        s.sample(50, 1.0, rng)
    lo, hi = s.achievable_range(50)
    assert hi == min(50, n1) / 50
    label_as_property = TabularData.from_arrays(data.X, data.y)
    with pytest.raises(ValueError, match="is the label share itself"):
        PropertySampler(label_as_property, label_share="fixed").sample(10, 0.3, rng)
    with pytest.raises(ValueError, match="label_share"):
        PropertySampler(data, label_share="sometimes").sample(10, 0.3, rng)


def test_exclude_keeps_rows_out(rng):
    data = _pool(rng)
    s = PropertySampler(data)
    first = s.sample_indices(100, 0.4, rng)
    second = s.sample_indices(100, 0.4, rng, exclude=first)
    assert not set(first) & set(second)


def test_synthetic_credit_rate_and_bayes_intercept():
    pop = SyntheticCredit(4, separation=1.0)
    X, y = pop.sample(1000, 0.25, 0)
    assert y.sum() == 250
    # the Bayes log-odds shift between two default rates is logit(pi1) - logit(pi0), nothing else
    from sklearn.linear_model import LogisticRegression

    b = []
    for pi in (0.2, 0.5):
        X, y = pop.sample(100000, pi, 1)
        b.append(LogisticRegression(C=1e6, max_iter=1000).fit(X, y).intercept_[0])
    assert b[1] - b[0] == pytest.approx(np.log(1.0) - np.log(0.25), abs=0.05)
    with pytest.raises(ValueError, match="not an integer"):
        pop.sample(10, 0.25, 0)


def test_bins_cover_the_range_or_fail():
    edges = make_bins(3, (0.1, 0.4))
    assert np.allclose(edges, [0.1, 0.2, 0.3, 0.4])
    assert assign_bins([0.1, 0.19999, 0.2, 0.4], edges).tolist() == [0, 0, 1, 2]
    with pytest.raises(ValueError, match="do not cover the property range"):
        make_bins([0.2, 0.3, 0.4], (0.1, 0.4))
    with pytest.raises(ValueError, match="strictly increasing"):
        make_bins([0.1, 0.3, 0.3, 0.4], (0.1, 0.4))
    with pytest.raises(ValueError, match="outside the bins"):
        assign_bins([0.5], edges)
    vals = bin_values(edges, 10)
    assert [v.tolist() for v in vals] == [[0.1], [0.2], [0.3, 0.4]]
    with pytest.raises(ValueError, match="holds no property value"):
        bin_values(make_bins(3, (0.1, 0.13)), 20)


def test_user_arrays_with_a_property_function(rng):
    X = rng.standard_normal((500, 3))
    y = (X[:, 0] + rng.standard_normal(500) > 0).astype(int)
    data = TabularData.from_arrays(X, np.where(y == 1, "bad", "good"), prop=lambda X, y: X[:, 1] > 0.5)
    assert set(np.unique(data.y)) == {0, 1} and data.default_property == "property"
    z = data.X[:, 1] > 0.5
    s = PropertySampler(data)
    idx = s.sample_indices(40, 0.25, rng)
    assert int(z[idx].sum()) == 10
    with pytest.raises(ValueError, match="0/1 or booleans"):
        TabularData.from_arrays(X, y, prop=lambda X, y: X[:, 1])
    with pytest.raises(ValueError, match="shape"):
        TabularData.from_arrays(X, y, prop=np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="two classes"):
        TabularData.from_arrays(X, np.zeros(500))
