"""method="pca" (the consensus-cluster PCA score) against R's prcomp, its orientation rules,
and reference-cohort scoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferroscore as fs

from .agreement import tolerance
from .conftest import DATA

PCA = DATA / "pca"


@pytest.mark.parametrize("name", ["kegg", "core"])
@pytest.mark.parametrize("kind,scale", [("scaled", True), ("centred", False)])
def test_components_reproduce_prcomp_and_predict(breast, name, kind, scale):
    expr = breast[0]
    genes = (PCA / f"genes_{name}.txt").read_text().split()
    ref = pd.read_csv(PCA / f"prcomp_{name}_{kind}.csv", index_col=0)
    for component in (1, 2, 3):
        scorer = fs.FerroptosisScorer({name: genes}, "pca", components=(component,),
                                      scale=scale).fit(expr.iloc[:, :80])
        got = scorer.transform(expr)[name].to_numpy()
        expected = ref[f"PC{component}"].to_numpy()
        sign = np.sign(got @ expected)  # prcomp's signs are arbitrary
        assert np.abs(sign * got - expected).max() <= tolerance("pca_prcomp"), component


def test_score_is_the_sum_of_the_oriented_components(breast):
    expr = breast[0]
    genes = (PCA / "genes_kegg.txt").read_text().split()
    parts = [fs.score(expr, {"s": genes}, "pca", components=(c,)).scores["s"] for c in (1, 2)]
    both = fs.score(expr, {"s": genes}, "pca").scores["s"]
    np.testing.assert_allclose(both, parts[0] + parts[1], atol=1e-12)


def test_orientation_rules(breast):
    expr = breast[0]
    res = fs.score(expr, ["ferroptosis_core", "kegg_ferroptosis"], "pca")
    signature = fs.genesets.load("ferroptosis_core")
    z = fs.score(expr, signature, "zscore").scores
    direction = z["ferroptosis_core_up"] / np.sqrt(len(signature.up)) - z[
        "ferroptosis_core_down"] / np.sqrt(len(signature.down))
    for component in (1, 2):
        one = fs.score(expr, signature, "pca", components=(component,)).scores
        assert np.corrcoef(one["ferroptosis_core"], direction)[0, 1] > 0
        np.testing.assert_allclose(one["ferroptosis_core"],
                                   one["ferroptosis_core_up"] - one["ferroptosis_core_down"])
    fitted = res.params["fitted"]
    assert fitted["components"] == [1, 2]
    assert set(fitted["variance_explained"]) == {"ferroptosis_core", "kegg_ferroptosis"}
    assert {abs(s) for s in fitted["component_signs"]["kegg_ferroptosis"]} == {1.0}
    # an unsigned list: each oriented component's loadings sum to a positive number
    genes = (PCA / "genes_kegg.txt").read_text().split()
    for component in (1, 2):
        single = fs.FerroptosisScorer({"s": genes}, "pca", components=(component,)).fit(expr)
        assert single.state_["loadings"][0].sum() > 0
    # orient="loadings" applies that rule to a signature too
    by_loadings = fs.FerroptosisScorer(signature, "pca", components=(1,), orient="loadings").fit(
        expr)
    up, down = by_loadings.state_["loadings"][:2]
    assert up.sum() - down.sum() > 0  # down weights are stored negated


def test_reference_cohort_and_new_cohort(breast):
    expr = breast[0]
    scorer = fs.FerroptosisScorer(["ferroptosis_core", "fpi"], "pca").fit(expr.iloc[:, :70])
    new = scorer.transform(expr.iloc[:, 70:])
    own = fs.score(expr.iloc[:, 70:], ["ferroptosis_core", "fpi"], "pca").scores
    assert new.shape == own.shape and not np.allclose(new, own)
    again = scorer.transform(expr.iloc[:, :70])
    np.testing.assert_allclose(again, fs.score(expr.iloc[:, :70], ["ferroptosis_core", "fpi"],
                                               "pca").scores, atol=1e-12)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_gene_order_sample_order_and_chunks_do_not_matter(seed):
    rng = np.random.default_rng(seed)
    genes = [f"g{i}" for i in range(20)]
    x = pd.DataFrame(rng.normal(size=(20, 15)), index=genes,
                     columns=[f"s{i}" for i in range(15)])
    sets = [fs.Signature.from_sets("sig", genes[:4], genes[8:12]), fs.GeneSet("plain",
                                                                              tuple(genes[12:18]))]
    base = fs.score(x, sets, "pca", min_coverage=0).scores
    perm_genes, perm_samples = rng.permutation(20), rng.permutation(15)
    moved = fs.score(x.iloc[perm_genes, perm_samples], sets, "pca", min_coverage=0,
                     chunk_size=4).scores
    pd.testing.assert_frame_equal(moved.loc[base.index], base, atol=1e-10, check_exact=False)
