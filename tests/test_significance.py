"""Permutation p-values against random gene sets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import ferroscore as fs
from ferroscore.methods.base import Component
from ferroscore.significance import benjamini_hochberg, draw_null, empirical_pvalues


def test_benjamini_hochberg_matches_scipy():
    p = np.random.default_rng(0).uniform(size=200) ** 2
    np.testing.assert_allclose(benjamini_hochberg(p), stats.false_discovery_control(p),
                               rtol=1e-12)
    with_nan = np.array([0.01, np.nan, 0.04])
    q = benjamini_hochberg(with_nan)
    assert np.isnan(q[1]) and q[0] == pytest.approx(0.02) and q[2] == pytest.approx(0.04)


def test_empirical_pvalue_formulas():
    null = np.array([[1.0, 2.0, 3.0, 4.0]])
    assert empirical_pvalues(np.array([3.0]), null, two_sided=False)[0] == 3 / 5
    # median 2.5: |null - 2.5| = 1.5, .5, .5, 1.5 >= |4 - 2.5| = 1.5 for two of them
    assert empirical_pvalues(np.array([4.0]), null, two_sided=True)[0] == 3 / 5


def test_uniform_null_draws_disjoint_sides_of_the_right_size():
    sides = [Component("up", np.arange(4), 4), Component("down", np.arange(4, 7), 3)]
    null = draw_null(sides, np.arange(50), 30, np.random.default_rng(1))
    for up, down in zip(*null, strict=True):
        assert len(up.indices) == 4 and len(down.indices) == 3
        assert not set(up.indices) & set(down.indices)


def test_expression_matched_null_keeps_bins():
    means = np.arange(100, dtype=float)
    sides = [Component("s", np.array([0, 1, 98]), 3)]
    null = draw_null(sides, np.arange(100), 50, np.random.default_rng(2),
                     null="expression_matched", gene_means=means, n_bins=10)
    for comp in null[0]:
        assert (comp.indices[:2] < 10).all() and comp.indices[2] >= 90


def test_enriched_sample_gets_a_small_pvalue():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(30, 500))
    x[0, :10] += 6  # sample 0 over-expresses the set
    genes = [f"g{i}" for i in range(500)]
    res = fs.score(x, {"s": genes[:10]}, "singscore", genes=genes, n_permutations=199,
                   random_state=1).scores
    assert res["s_pvalue"].iloc[0] == 1 / 200
    assert res["s_pvalue"].between(1 / 200, 1).all()
    assert (res["s_qvalue"] >= res["s_pvalue"]).all()
    # under the null (samples 1..29) p-values are roughly uniform
    assert stats.kstest(res["s_pvalue"].iloc[1:], "uniform").pvalue > 0.001


@pytest.mark.parametrize("method", ["singscore", "ssgsea", "gsva", "zscore", "plage", "ucell",
                                    "aucell", "mean"])
def test_signature_pvalues_for_every_method(breast, method):
    res = fs.score(breast[0], "ferroptosis_core", method, n_permutations=50,
                   null="expression_matched", random_state=0).scores
    p = res["ferroptosis_core_pvalue"]
    assert p.between(1 / 51, 1).all()
    assert not p.isna().any()


def test_permutations_are_reproducible_and_seed_dependent(breast):
    a = fs.score(breast[0], "fpi", n_permutations=40, random_state=7).scores
    b = fs.score(breast[0], "fpi", n_permutations=40, random_state=7).scores
    c = fs.score(breast[0], "fpi", n_permutations=40, random_state=8).scores
    pd.testing.assert_frame_equal(a, b)
    assert not a["fpi_pvalue"].equals(c["fpi_pvalue"])


def test_bad_null_arguments(breast):
    with pytest.raises(ValueError, match="null must be one of"):
        fs.score(breast[0], "fpi", n_permutations=5, null="gaussian")
    with pytest.raises(ValueError, match="n_permutations must be >= 0"):
        fs.score(breast[0], "fpi", n_permutations=-1)
