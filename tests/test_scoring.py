"""fs.score: input forms, bad input, coverage reporting, result files, reference scoring."""

from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import ferroscore as fs

GENES = [f"g{i}" for i in range(40)]
SETS = {"a": GENES[:6], "b": GENES[10:15]}


@pytest.fixture
def x():
    return np.random.default_rng(0).normal(size=(12, 40))


@pytest.fixture
def frame(x):
    return pd.DataFrame(x.T, index=GENES, columns=[f"s{i}" for i in range(12)])


# -- input forms ------------------------------------------------------------------------------


def test_dataframe_orientations_array_sparse_and_anndata_agree(x, frame):
    base = fs.score(frame, SETS).scores
    assert base.index.tolist() == [f"s{i}" for i in range(12)]
    pd.testing.assert_frame_equal(fs.score(frame.T, SETS).scores, base)
    array = fs.score(x, SETS, genes=GENES, samples=frame.columns).scores
    pd.testing.assert_frame_equal(array, base)
    pd.testing.assert_frame_equal(
        fs.score(x.T, SETS, genes=GENES, samples=frame.columns).scores, base)
    adata = ad.AnnData(x, obs=pd.DataFrame(index=frame.columns), var=pd.DataFrame(index=GENES))
    pd.testing.assert_frame_equal(fs.score(adata, SETS).scores, base)
    adata.layers["copy"] = sparse.csr_matrix(x)
    pd.testing.assert_frame_equal(fs.score(adata, SETS, layer="copy").scores, base)
    adata.raw = adata.copy()
    pd.testing.assert_frame_equal(fs.score(adata, SETS, use_raw=True).scores, base)


def test_anndata_gene_symbols_column(x):
    var = pd.DataFrame({"symbol": GENES}, index=[f"ENSFAKE{i}" for i in range(40)])
    adata = ad.AnnData(x, var=var)
    res = fs.score(adata, SETS, gene_symbols="symbol")
    assert res.coverage.loc["a", "n_found"] == 6
    with pytest.raises(KeyError, match="gene_symbols"):
        fs.score(adata, SETS, gene_symbols="nope")


def test_anndata_layer_and_raw_errors(x):
    adata = ad.AnnData(x, var=pd.DataFrame(index=GENES))
    with pytest.raises(KeyError, match="layer 'missing' not in adata.layers"):
        fs.score(adata, SETS, layer="missing")
    with pytest.raises(ValueError, match="adata.raw is None"):
        fs.score(adata, SETS, use_raw=True)
    adata.layers["l"] = x
    with pytest.raises(ValueError, match="only one of layer"):
        fs.score(adata, SETS, layer="l", use_raw=True)
    with pytest.raises(TypeError, match="AnnData input only"):
        fs.score(x, SETS, genes=GENES, layer="l")


def test_float32_input_keeps_rank_scores(x):
    a = fs.score(x.astype(np.float32), SETS, genes=GENES).scores
    b = fs.score(x.astype(np.float32).astype(np.float64), SETS, genes=GENES).scores
    pd.testing.assert_frame_equal(a, b)


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_values_are_errors(frame, bad):
    frame = frame.copy()
    frame.iloc[3, 2] = bad
    with pytest.raises(ValueError, match=r"1 NaN/inf values in 1 genes \(e.g. \['g3'\]\)"):
        fs.score(frame, SETS)


def test_nonfinite_genes_can_be_dropped_and_are_reported(frame):
    frame = frame.copy()
    frame.iloc[30, 2] = np.nan
    with pytest.warns(UserWarning, match=r"dropped 1 genes with NaN/inf values: \['g30'\]"):
        res = fs.score(frame, SETS, na="drop_genes")
    assert res.params["reference"]["dropped_genes"] == ["g30"]
    assert res.params["reference"]["n_genes"] == 39


def test_duplicated_genes_and_samples(frame):
    dup = frame.rename(index={"g39": "g38"})
    with pytest.raises(ValueError, match=r"duplicated gene names: \['g38'\].*fs.ids.collapse"):
        fs.score(dup, SETS)
    dup = frame.rename(columns={"s1": "s0"})
    with pytest.raises(ValueError, match=r"duplicated sample names: \['s0'\]"):
        fs.score(dup, SETS)


def test_empty_and_non_numeric_input(frame):
    with pytest.raises(ValueError, match="empty"):
        fs.score(frame.iloc[:, :0], SETS, genes_axis="rows")
    with pytest.raises(ValueError, match="empty"):
        fs.score(np.empty((0, 40)), SETS, genes=GENES)
    text = frame.astype(str)
    with pytest.raises(TypeError, match="must be numeric"):
        fs.score(text, SETS)
    with pytest.raises(TypeError, match="real numbers"):
        fs.score(np.ones((3, 40), dtype=bool), SETS, genes=GENES)
    with pytest.raises(TypeError, match="unsupported expression input"):
        fs.score([[1, 2], [3, 4]], SETS)


def test_orientation_errors(x):
    with pytest.raises(ValueError, match="genes_axis"):
        fs.score(np.ones((40, 40)), SETS, genes=GENES)
    with pytest.raises(ValueError, match="do not match either axis"):
        fs.score(x, SETS, genes=GENES[:10])
    with pytest.raises(TypeError, match="genes="):
        fs.score(x, SETS)
    anonymous = pd.DataFrame(x, index=[f"r{i}" for i in range(12)],
                             columns=[f"c{i}" for i in range(40)])
    with pytest.raises(ValueError, match="no gene identifiers recognised"):
        fs.score(anonymous, SETS)
    half = pd.DataFrame(np.ones((4, 4)), index=["GPX4", "ACSL4", "r1", "r2"],
                        columns=["TFRC", "NCOA4", "c1", "c2"])
    with pytest.raises(ValueError, match="cannot tell which axis holds the genes"):
        fs.score(half, "ferroptosis_core")
    with pytest.raises(ValueError, match="genes_axis must be"):
        fs.score(x, SETS, genes=GENES, genes_axis="diagonal")


def test_no_genes_found_and_min_genes(frame):
    with pytest.raises(ValueError, match=r"gene set 'z': 0 of 2 genes found.*missing: X1, X2"):
        fs.score(frame, {"z": ["X1", "X2"]}, genes_axis="rows")
    with pytest.raises(ValueError, match="fewer than min_genes=3"):
        fs.score(frame, {"z": ["g1", "g2", "X1"]}, min_genes=3)


def test_low_coverage_warns_and_names_missing_genes(frame):
    with pytest.warns(UserWarning, match=r"only 1 of 3 genes found .* missing: X1, X2"):
        res = fs.score(frame, {"z": ["g1", "X1", "X2"]})
    row = res.coverage.loc["z"]
    assert (row["n_requested"], row["n_found"], row["missing"]) == (3, 1, ["X1", "X2"])


def test_constant_genes_are_excluded_for_gsva_family_and_reported(frame):
    frame = frame.copy()
    frame.loc["g0"] = 3.0
    for method in ("gsva", "zscore", "plage"):
        res = fs.score(frame, SETS, method)
        assert res.coverage.loc["a", "excluded"] == ["g0"]
        assert res.coverage.loc["a", "n_found"] == 5
        assert res.params["reference"]["constant_genes_excluded"] == 1
    # ssgsea keeps them, as GSVA does
    assert fs.score(frame, SETS, "ssgsea").coverage.loc["a", "n_found"] == 6
    frame.loc[GENES[10:15]] = 1.0
    with pytest.raises(ValueError, match="constant genes excluded"):
        fs.score(frame, SETS, "zscore")


def test_poisson_needs_nonnegative_integers(frame):
    counts = np.round(np.exp(frame))
    fs.score(counts, SETS, "gsva", kcdf="poisson")
    with pytest.raises(ValueError, match="non-negative"):
        fs.score(counts - 5, SETS, "gsva", kcdf="poisson")
    with pytest.raises(ValueError, match="integer counts"):
        fs.score(counts + 0.5, SETS, "gsva", kcdf="poisson")


def test_counts_warning_for_log_scale_methods(frame):
    counts = np.round(np.exp(frame.abs() * 3))
    with pytest.warns(UserWarning, match="look like raw counts"):
        fs.score(counts, SETS, "zscore")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fs.score(counts, SETS, "singscore")  # rank-based: no warning


def test_unknown_method_parameter_and_set(frame):
    with pytest.raises(ValueError, match="unknown method 'gsea'; available: singscore"):
        fs.score(frame, SETS, "gsea")
    with pytest.raises(TypeError, match=r"unknown parameter\(s\) \['alpha'\]; valid parameters"):
        fs.score(frame, SETS, "singscore", alpha=1)
    with pytest.raises(KeyError, match="unknown gene set 'ferroptosis'"):
        fs.score(frame, "ferroptosis")
    with pytest.raises(ValueError, match="ties must be"):
        fs.score(frame, SETS, "ssgsea", ties="random")


# -- results -----------------------------------------------------------------------------------


def test_signature_columns_and_params(breast):
    res = fs.score(breast[0], ["ferroptosis_core", "kegg_ferroptosis"], "singscore")
    assert res.scores.columns.tolist() == [
        "ferroptosis_core", "ferroptosis_core_up", "ferroptosis_core_down",
        "ferroptosis_core_dispersion", "ferroptosis_core_up_dispersion",
        "ferroptosis_core_down_dispersion", "kegg_ferroptosis", "kegg_ferroptosis_dispersion"]
    assert res.params["method"] == "singscore"
    assert res.params["parameters"] == {"center": True, "known_direction": True}
    assert res.params["catalogue_version"] == fs.genesets.catalogue_version()
    assert res.params["versions"]["ferroscore"] == fs.__version__
    assert res.coverage.loc["ferroptosis_core_up", "mapped_aliases"] == {"LPCAT3": "MBOAT5"}
    assert res.coverage.index.tolist() == ["ferroptosis_core_up", "ferroptosis_core_down",
                                           "kegg_ferroptosis"]


def test_weighted_geneset_is_scored_as_signature(frame):
    weighted = fs.GeneSet("w", tuple(GENES[:4]), weights=(1, 1, -1, -1))
    res = fs.score(frame, weighted).scores
    explicit = fs.score(frame, fs.Signature.from_sets("w", GENES[:2], GENES[2:4])).scores
    pd.testing.assert_frame_equal(res, explicit)


def test_save_and_load_round_trip(tmp_path, breast):
    res = fs.score(breast[0], "ferroptosis_core", n_permutations=20)
    path = res.save(tmp_path / "scores.tsv")
    back = fs.ScoreResult.load(path)
    pd.testing.assert_frame_equal(back.scores, res.scores)
    assert back.params["method"] == "singscore"
    assert back.coverage.loc["ferroptosis_core_up", "n_found"] == 4
    assert (tmp_path / "scores.tsv.json").exists()
    long = res.to_frame(long=True)
    assert long.columns.tolist() == ["sample", "column", "value"]
    assert len(long) == res.scores.size
    assert res.scores.columns.tolist()[:3] == ["ferroptosis_core", "ferroptosis_core_up",
                                               "ferroptosis_core_down"]
    assert back.set_scores().columns.tolist() == ["ferroptosis_core"]
    pd.testing.assert_frame_equal(back.set_scores(), res.scores[["ferroptosis_core"]])


def test_same_seed_same_output(frame):
    a = fs.score(frame, SETS, "mean", n_permutations=30, random_state=4)
    b = fs.score(frame, SETS, "mean", n_permutations=30, random_state=4)
    pd.testing.assert_frame_equal(a.scores, b.scores)
    assert a.params == b.params


def test_threads_do_not_change_results(breast):
    a = fs.score(breast[0], "fpi", "ssgsea", n_jobs=1, chunk_size=7).scores
    b = fs.score(breast[0], "fpi", "ssgsea", n_jobs=2).scores
    pd.testing.assert_frame_equal(a, b)


# -- reference-cohort scoring --------------------------------------------------------------------

METHODS = ["singscore", "ssgsea", "gsva", "zscore", "plage", "ucell", "aucell", "mean"]


@pytest.mark.parametrize("method", METHODS)
def test_scoring_part_of_the_reference_reproduces_its_rows(breast, method):
    expression = breast[0]
    full = fs.score(expression, ["ferroptosis_core", "fpi"], method).scores
    scorer = fs.FerroptosisScorer(["ferroptosis_core", "fpi"], method).fit(expression)
    part = scorer.transform(expression.iloc[:, 10:30])
    np.testing.assert_allclose(part.to_numpy(), full.iloc[10:30].to_numpy(), rtol=1e-12,
                               atol=1e-12)
    assert scorer.get_feature_names_out().tolist() == full.columns.tolist()


def test_new_samples_use_the_frozen_reference(breast):
    expression = breast[0]
    ref, new = expression.iloc[:, :80], expression.iloc[:, 80:]
    frozen = fs.FerroptosisScorer("fpi", "zscore").fit(ref).transform(new)
    own = fs.score(new, "fpi", "zscore").scores
    assert not np.allclose(frozen.to_numpy(), own.to_numpy())
    genes = expression.index[:-1]
    with pytest.raises(ValueError, match="genes differ from the reference"):
        fs.FerroptosisScorer("fpi", "zscore").fit(ref).transform(new.loc[genes])
    with pytest.raises(RuntimeError, match="not fitted"):
        fs.FerroptosisScorer().transform(new)


def test_scorer_in_a_sklearn_pipeline(breast):
    expression, clinical = breast
    samples_by_genes = expression.T
    pipe = make_pipeline(fs.FerroptosisScorer(["ferroptosis_core", "fpi"], "ssgsea",
                                              alpha=0.5), LogisticRegression())
    pipe.fit(samples_by_genes, clinical["rfs_event"].astype(int))
    assert pipe.predict(samples_by_genes).shape == (124,)
    cloned = clone(pipe)
    assert cloned.get_params()["ferroptosisscorer__alpha"] == 0.5
    cloned.set_params(ferroptosisscorer__alpha=0.25)
    assert cloned.steps[0][1].method_params == {"alpha": 0.25}


def test_integer_input_and_overflowing_integers(x):
    counts = np.round(np.abs(x) * 100).astype(np.int32)
    a = fs.score(counts, SETS, genes=GENES).scores
    b = fs.score(counts.astype(np.float64), SETS, genes=GENES).scores
    pd.testing.assert_frame_equal(a, b)
    huge = counts.astype(np.uint64)
    huge[0, 0] = 2**60
    with pytest.raises(ValueError, match="above 2\\*\\*53"):
        fs.score(huge, SETS, genes=GENES)
