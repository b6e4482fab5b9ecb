"""Bad input to the study workflow (de, subtypes, method="pca", pp): a clear error or a
reported, documented handling, never a silent wrong answer."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import ferroscore as fs

SAMPLES = [f"s{i}" for i in range(12)]
GENES = [f"g{i}" for i in range(30)]


@pytest.fixture()
def small():
    rng = np.random.default_rng(0)
    expr = pd.DataFrame(rng.normal(size=(30, 12)), index=GENES, columns=SAMPLES)
    groups = pd.Series(["a"] * 6 + ["b"] * 6, index=SAMPLES, name="arm")
    return expr, groups


# -- fs.de.limma --------------------------------------------------------------------------------


def test_group_with_fewer_than_two_samples(small):
    expr, groups = small
    groups = groups.copy()
    groups.iloc[0] = "c"
    with pytest.raises(ValueError, match=r"fewer than 2 samples.*'c': 1"):
        fs.de.limma(expr, groups)


def test_single_group_and_all_missing_groups(small):
    expr, groups = small
    with pytest.raises(ValueError, match="at least two groups"):
        fs.de.limma(expr, pd.Series("a", index=SAMPLES))
    with pytest.raises(ValueError, match="at least two groups"), pytest.warns(
            UserWarning, match="12 samples with a missing group"):
        fs.de.limma(expr, pd.Series(np.nan, index=SAMPLES, dtype=object))


def test_design_not_of_full_rank_names_the_aliased_columns(small):
    expr, groups = small
    design = pd.DataFrame({"treated": (groups == "b").astype(float),
                           "untreated": (groups == "a").astype(float),
                           "dose": np.linspace(0, 1, 12)}, index=SAMPLES)
    design["double_dose"] = 2 * design["dose"]
    with pytest.raises(ValueError, match=r"not of full rank.*\['double_dose'\]"):
        fs.de.limma(expr, design)
    confounded = pd.DataFrame({"arm": groups, "site": groups.map({"a": "x", "b": "y"})})
    with pytest.raises(ValueError, match=r"not of full rank.*site\[y\]"):
        fs.de.limma(expr, confounded)


def test_no_residual_degrees_of_freedom(small):
    expr, groups = small
    design = pd.DataFrame(np.eye(12)[:, :11], index=SAMPLES,
                          columns=[f"c{i}" for i in range(11)])
    design["c11"] = np.eye(12)[:, 11]
    with pytest.raises(ValueError, match="no residual degrees of freedom"):
        fs.de.limma(expr, design, coef="c1")


def test_missing_and_infinite_values(small):
    expr, groups = small
    holed = expr.copy()
    holed.loc["g3"] = np.nan
    with pytest.raises(ValueError, match=r"no observed value.*'g3'"):
        fs.de.limma(holed, groups)
    holed = expr.copy()
    holed.iloc[2, 3] = np.inf
    with pytest.raises(ValueError, match=r"infinite values \(genes \['g2'\]"):
        fs.de.limma(holed, groups)
    holed = expr.copy()
    holed.loc["g4", groups.index[groups == "b"]] = np.nan  # group b never observed for g4
    with pytest.warns(UserWarning, match="1 genes cannot estimate"):
        res = fs.de.limma(holed, groups)
    assert np.isnan(res.table.loc["g4", "t"]) and np.isfinite(res.table.loc["g5", "t"])
    assert np.isnan(res.table.loc["g4", "adj.P.Val"])


def test_samples_must_match_by_id(small):
    expr, groups = small
    with pytest.raises(ValueError, match=r"2 expression samples have no group.*s10"):
        fs.de.limma(expr, groups.iloc[:10])
    other = groups.rename(index={"s0": "x0"})
    with pytest.raises(ValueError, match=r"1 samples of the groups/design are not in the "
                                         r"expression \(e.g. \['x0'\]"):
        fs.de.limma(expr, other)
    with pytest.raises(TypeError, match="cannot be aligned by sample ID"):
        fs.de.limma(expr, groups.to_numpy())
    with pytest.raises(ValueError, match="duplicated sample IDs in the groups"):
        fs.de.limma(expr, pd.concat([groups, groups.iloc[:1]]))


def test_missing_labels_are_left_out_and_reported(small):
    expr, groups = small
    labels = groups.copy().astype(object)
    labels.iloc[[0, 7]] = None
    with pytest.warns(UserWarning, match=r"2 samples with a missing group were left out: "
                                         r"\['s0', 's7'\]"):
        res = fs.de.limma(expr, labels)
    assert res.params["samples_left_out"] == ["s0", "s7"] and res.params["n_samples"] == 10


def test_duplicated_genes_non_numeric_and_bad_names(small):
    expr, groups = small
    with pytest.raises(ValueError, match=r"duplicated gene names.*'g0'"):
        fs.de.limma(expr.rename(index={"g1": "g0"}), groups)
    text = expr.astype(object)
    text.iloc[0, 0] = "n/a"
    with pytest.raises(TypeError, match="non-numeric samples"):
        fs.de.limma(text, groups)
    with pytest.raises(ValueError, match=r"unknown coefficient 'arm\[z\]'; available"):
        fs.de.limma(expr, groups, coef="arm[z]")
    with pytest.raises(ValueError, match="unknown design columns"):
        fs.de.limma(expr, groups, contrast={"arm[z]": 1})
    with pytest.raises(ValueError, match="'z' is not a level of arm"):
        fs.de.limma(expr, groups, contrast=("z", "a"))
    with pytest.raises(ValueError, match="compares a level with itself"):
        fs.de.limma(expr, groups, contrast=("a", "a"))


# -- fs.subtypes.consensus ----------------------------------------------------------------------


def test_k_larger_than_the_samples(small):
    expr, _ = small
    with pytest.raises(ValueError, match=r"k=10 is larger than the 9 samples drawn"):
        fs.subtypes.consensus(expr, genes_axis="rows", k=[2, 10], reps=5)
    with pytest.raises(ValueError, match="k must be integers >= 2"):
        fs.subtypes.consensus(expr, genes_axis="rows", k=[1, 2], reps=5)


def test_p_item_too_small(small):
    expr, _ = small
    with pytest.raises(ValueError, match="draws 1 of 12 samples per resample"):
        fs.subtypes.consensus(expr, genes_axis="rows", k=[2], reps=5, p_item=0.1)
    with pytest.warns(UserWarning, match="pairs of samples were never drawn together"):
        res = fs.subtypes.consensus(expr, genes_axis="rows", k=[2], reps=2, p_item=0.25)
    matrix = res.consensus[2].to_numpy()
    assert np.isfinite(matrix).all()
    never = res.cosampled.to_numpy() == 0
    assert never.any() and (matrix[never] == 0).all()
    assert res.params["pairs_never_cosampled"] == int(np.triu(never, 1).sum())


def test_consensus_bad_options_and_data(small):
    expr, _ = small
    with pytest.raises(ValueError, match="pass distance='euclidean'"):
        fs.subtypes.consensus(expr, genes_axis="rows", k=[2], reps=5, algorithm="km")
    with pytest.raises(ValueError, match="algorithm must be one of"):
        fs.subtypes.consensus(expr, genes_axis="rows", k=[2], reps=5, algorithm="dbscan")
    with pytest.raises(ValueError, match="p_item must be in"):
        fs.subtypes.consensus(expr, genes_axis="rows", k=[2], reps=5, p_item=1.5)
    with pytest.raises(ValueError, match="reps must be a positive integer"):
        fs.subtypes.consensus(expr, genes_axis="rows", k=[2], reps=0)
    holed = expr.copy()
    holed.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fs.subtypes.consensus(holed, genes_axis="rows", k=[2], reps=5)
    flat = expr.copy()
    flat.loc["g0"] = 1.0
    with pytest.warns(UserWarning, match=r"1 genes are constant.*'g0'"):
        res = fs.subtypes.consensus(flat, genes_axis="rows", k=[2], reps=30)
    assert "g0" not in res.genes
    with pytest.raises(ValueError, match="1 usable genes"):
        fs.subtypes.consensus(expr.iloc[:1], genes_axis="rows", k=[2], reps=5)
    with pytest.raises(ValueError, match="rule must be one of"):
        res.recommend_k("silhouette")


# -- method="pca" -------------------------------------------------------------------------------


def test_pca_needs_three_genes(small):
    expr, _ = small
    with pytest.raises(ValueError, match=r"'two': the PCA score needs at least 3 genes, 2"):
        fs.score(expr, {"two": ["g0", "g1"]}, "pca")
    flat = expr.copy()
    flat.loc["g2"] = 0.0  # constant: dropped, leaving two
    with pytest.raises(ValueError, match="at least 3 genes, 2 found"):
        fs.score(flat, {"three": ["g0", "g1", "g2"]}, "pca", min_coverage=0)
    with pytest.raises(ValueError, match="component 5 asked for, but 4 genes"):
        fs.score(expr, {"four": GENES[:4]}, "pca", components=(1, 5))
    with pytest.raises(ValueError, match="components must be distinct positive integers"):
        fs.score(expr, {"four": GENES[:4]}, "pca", components=(0,))
    with pytest.raises(ValueError, match="orient must be one of"):
        fs.score(expr, {"four": GENES[:4]}, "pca", orient="up")


def test_pca_new_cohort_missing_genes(small):
    expr, _ = small
    scorer = fs.FerroptosisScorer({"set": GENES[:6]}, "pca").fit(expr)
    with pytest.raises(ValueError, match=r"1 missing \(e.g. \['g3'\]\)"):
        scorer.transform(expr.drop(index="g3"))


# -- fs.subtypes.compare and fs.pp --------------------------------------------------------------


def test_compare_bad_input(small):
    expr, groups = small
    res = fs.subtypes.consensus(expr, genes_axis="rows", k=[2, 3], reps=10)
    with pytest.raises(ValueError, match="pass k= to compare"):
        fs.subtypes.compare(res)
    with pytest.raises(ValueError, match="k=5 was not computed"):
        fs.subtypes.compare(res, k=5)
    with pytest.raises(ValueError, match="clinical=, time= and event= together"):
        fs.subtypes.compare(groups, time="t")
    with pytest.raises(ValueError, match="2 samples with a subtype have no score"):
        fs.subtypes.compare(groups, scores=pd.DataFrame({"x": range(10)}, index=SAMPLES[:10]))
    clinical = pd.DataFrame({"t": np.arange(12.0) + 1, "e": [1, 0] * 6}, index=SAMPLES)
    clinical.iloc[0, 0] = np.nan
    with pytest.warns(UserWarning, match="1 samples without survival data were left out"):
        out = fs.subtypes.compare(groups, clinical=clinical, time="t", event="e")
    assert out.params["survival_left_out"] == ["s0"]


def test_pp_bad_input(small):
    expr, groups = small
    with pytest.raises(ValueError, match="at least two cohorts"):
        fs.pp.merge_cohorts({"a": expr}, genes_axis="rows")
    with pytest.raises(ValueError, match="sample IDs occur in more than one cohort"):
        fs.pp.merge_cohorts({"a": expr, "b": expr}, match="exact", genes_axis="rows")
    merged = fs.pp.merge_cohorts({"a": expr, "b": expr}, match="exact", prefix_samples=True,
                                 genes_axis="rows")
    assert merged.expression.columns[0] == "a:s0"
    other = expr.set_axis([f"h{i}" for i in range(30)]).set_axis([f"t{i}" for i in range(12)],
                                                                 axis=1)
    with pytest.raises(ValueError, match="no gene in common"):
        fs.pp.merge_cohorts({"a": expr, "b": other}, match="exact", genes_axis="rows")
    with pytest.raises(ValueError, match="match must be one of"):
        fs.pp.merge_cohorts({"a": expr, "b": other}, match="fuzzy")
    lonely = pd.Series(["x"] + ["y"] * 11, index=SAMPLES)
    with pytest.raises(ValueError, match="cohort 'x' has a single sample"):
        fs.pp.scale(expr, lonely)
    with pytest.raises(ValueError, match="2 samples have no cohort"):
        fs.pp.scale(expr, groups.iloc[:10])
    flat = expr.copy()
    flat.loc["g0", groups.index[groups == "a"]] = 3.0
    with pytest.warns(UserWarning, match=r"constant within a cohort.*a: \['g0'\]"):
        z = fs.pp.scale(flat, groups)
    assert (z.loc["g0", groups.index[groups == "a"]] == 0).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fs.pp.scale(expr, groups)  # nothing to report
