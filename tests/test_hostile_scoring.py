"""Hostile input to the scoring core (fs.score, fs.FerroptosisScorer, fs.tl.score).

Every case here returned a silently wrong number or an unclear error before (issue 10 and the
scoring items of issue 12); each asserts the exact outcome: the error and its message, the
warning, or the correct number computed another way.
"""

from __future__ import annotations

import json
import warnings
from fractions import Fraction

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse

import ferroscore as fs

N_GENES = 30
GENES = [f"g{i:02d}" for i in range(N_GENES)]
SIG = fs.Signature.from_sets("s", GENES[:4], GENES[10:14])
RANK = [("singscore", {}), ("ssgsea", {}), ("ucell", {"max_rank": 20}),
        ("aucell", {"max_rank_frac": 0.3})]
SMALL = {"ucell": {"max_rank": 20}, "aucell": {"max_rank_frac": 0.3},
         "mean": {"n_bins": 4, "ctrl_size": 5}}
PROPERTY = settings(max_examples=15, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def x():
    return np.random.default_rng(0).normal(size=(12, N_GENES))


def scores(values, sets, method, **kw):
    return fs.score(values, sets, method, genes=GENES, min_coverage=0,
                    **{**SMALL.get(method, {}), **kw})


# -- 1. ssGSEA normalisation over one or two samples --------------------------------------------


@pytest.mark.parametrize("n", [1, 2])
def test_ssgsea_normalisation_refuses_one_or_two_samples(x, n):
    with pytest.raises(ValueError, match=rf"with {n} samples? it is degenerate.*at least 3 "
                                         r"samples: score raw with normalize=False"):
        scores(x[:n], SIG, "ssgsea")
    raw = scores(x[:n], SIG, "ssgsea", normalize=False).scores  # raw scores stay available
    assert np.isfinite(raw.to_numpy()).all()


def test_ssgsea_one_sample_against_a_reference_is_not_plus_or_minus_one(x):
    scorer = fs.FerroptosisScorer(SIG, "ssgsea", min_coverage=0).fit(x[:10], genes=GENES)
    one = scorer.transform(x[10:11], genes=GENES)["s"].iloc[0]
    full = scorer.transform(x[10:], genes=GENES)["s"].iloc[0]
    assert one == full and abs(one) < 1  # the reference's range, not the sample's own


# -- 2. samples whose genes all tie ---------------------------------------------------------------


@pytest.mark.parametrize(("method", "kw", "rule"), [
    ("singscore", {}, "minimum rank"),
    ("ssgsea", {}, "ordered by their row in the matrix"),
    ("ssgsea", {"ties": "average_position"}, "average position"),
    ("ucell", {}, "average rank"),
    ("aucell", {}, "average rank"),
])
def test_all_tied_sample_warns_and_names_the_tie_rule(x, method, kw, rule):
    tied = x.copy()
    tied[[3, 5]] = 0.0  # e.g. empty droplets or failed arrays
    with pytest.warns(UserWarning, match=rf"2 of 12 samples have the same value for every gene "
                                         rf"\(e\.g\. \['sample_3', 'sample_5'\]\).*{rule}"):
        scores(tied, SIG, method, **kw)


def test_ssgsea_row_order_ties_are_why_the_warning_matters(x):
    tied = x.copy()
    tied[3] = 0.0
    perm = np.random.default_rng(1).permutation(N_GENES)
    shuffled = [GENES[i] for i in perm]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = scores(tied, SIG, "ssgsea", normalize=False).scores.loc["sample_3"]
        b = fs.score(tied[:, perm], SIG, "ssgsea", genes=shuffled, normalize=False).scores
        avg = [fs.score(v, SIG, "ssgsea", genes=g, normalize=False,
                        ties="average_position").scores.loc["sample_3"]
               for v, g in ((tied, GENES), (tied[:, perm], shuffled))]
    assert not np.allclose(a, b.loc["sample_3"])  # GSVA's rule depends on the gene order
    pd.testing.assert_series_equal(avg[0], avg[1])  # the order-free rule does not


# -- 3. a set covering every gene ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["singscore", "ssgsea", "gsva", "ucell", "aucell"])
def test_set_covering_every_gene_is_an_error(x, method):
    kw = {"max_rank": N_GENES} if method == "ucell" else {}
    with pytest.raises(ValueError, match=rf"gene set 'all' covers all 30 scorable genes of the "
                                         rf"data; {method} compares a set's genes with the "
                                         r"genes outside it"):
        scores(x, {"all": GENES}, method, **kw)


def test_covering_every_scorable_gene_counts_excluded_constant_genes(x):
    frozen = x.copy()
    frozen[:, 29] = 1.0  # constant: gsva leaves it out, so 29 genes remain
    with pytest.raises(ValueError, match="covers all 29 scorable genes"):
        scores(frozen, {"most": GENES[:29]}, "gsva")


@pytest.mark.parametrize("method", ["zscore", "plage", "wsum"])
def test_set_covering_every_gene_is_fine_where_it_is_defined(x, method):
    got = scores(x, {"all": GENES}, method).scores["all"]
    if method == "zscore":
        z = (x - x.mean(0)) / x.std(0, ddof=1)
        np.testing.assert_allclose(got, z.sum(1) / np.sqrt(N_GENES), atol=1e-12)
    assert np.isfinite(got).all()


# -- 4. per-gene weights --------------------------------------------------------------------------

UNWEIGHTED = ["singscore", "ssgsea", "gsva", "zscore", "plage", "ucell", "aucell", "mean"]


@pytest.mark.parametrize("method", UNWEIGHTED)
def test_weights_of_unequal_magnitude_are_refused(x, method):
    weighted = fs.GeneSet("w", tuple(GENES[:2]), weights=(5, 1))
    with pytest.raises(ValueError, match=rf"gene set 'w' has per-gene weights of different "
                                         rf"magnitudes \(1, 5\), but method '{method}'.*"
                                         r"weighted method \(method='wsum': sum of weight x "
                                         r"value\)"):
        scores(x, weighted, method)


@pytest.mark.parametrize("method", ["singscore", "zscore"])
def test_signs_alone_still_make_a_signature(x, method):
    signed = fs.GeneSet("s", tuple(GENES[:4]) + tuple(GENES[10:14]), weights=(2,) * 4 + (-2,) * 4)
    pd.testing.assert_frame_equal(scores(x, signed, method).scores,
                                  scores(x, SIG, method).scores)


def test_wsum_is_the_weighted_sum_of_values(x):
    genes = ("g00", "g01", "g05", "absent")
    weights = (0.5, -1.25, 2.0, 3.0)
    with pytest.warns(UserWarning, match=r"1 of 3 genes of this weighted score not found.*"
                                         r"missing: absent"):
        res = scores(x, fs.GeneSet("risk", genes, weights=weights), "wsum")
    expected = 0.5 * x[:, 0] - 1.25 * x[:, 1] + 2.0 * x[:, 5]
    np.testing.assert_allclose(res.scores["risk"], expected, rtol=0, atol=1e-14)
    np.testing.assert_allclose(res.scores["risk_up"] - res.scores["risk_down"], expected,
                               atol=1e-14)
    plain = scores(x, fs.GeneSet("plain", GENES[:3]), "wsum").scores["plain"]
    np.testing.assert_allclose(plain, x[:, :3].sum(1), atol=1e-14)


# -- 16. values near the float maximum ------------------------------------------------------------


@pytest.mark.parametrize("method", ["zscore", "plage", "gsva", "pca"])
def test_scale_equivariant_methods_stay_equivariant_near_float_max(x, method):
    huge = x.copy()
    huge[:, 11] *= 2.0**1020  # a down-side gene, ~1e307 (a power of two: exactly scaled)
    huge[:, 2] *= 2.0**1020
    with np.errstate(all="raise"):
        got = scores(huge, SIG, method).scores
    np.testing.assert_array_equal(got.to_numpy(), scores(x, SIG, method).scores.to_numpy())


@pytest.mark.parametrize("method", ["zscore", "gsva"])
def test_a_constant_gene_near_float_max_is_still_constant(x, method):
    ordinary = x.copy()
    ordinary[:, 20] = 1.0
    huge = x.copy()
    huge[:, 20] = 1.7e308  # sums overflow; the gene is constant nonetheless
    huge[:, 21] *= 2.0**1020
    with np.errstate(all="raise"):
        res = scores(huge, {"c": GENES[18:22]}, method)
    assert res.coverage.loc["c", "excluded"] == ["g20"]
    np.testing.assert_array_equal(res.scores.to_numpy(),
                                  scores(ordinary, {"c": GENES[18:22]}, method).scores.to_numpy())


@pytest.mark.parametrize("method", ["zscore", "plage", "gsva"])
def test_a_constant_gene_of_large_values_is_excluded(x, method):
    # the rounded mean of twelve values 10000000.1 leaves an SD of 1.9e-9 > GSVA's 1e-10:
    # the gene used to be standardised by its rounding error
    frozen = x.copy()
    frozen[:, 2] = 10000000.1
    res = scores(frozen, SIG, method)
    assert res.coverage.loc["s_up", "excluded"] == ["g02"]
    assert np.isfinite(res.scores.to_numpy()).all()


def test_mean_near_float_max_is_finite_and_exact(x):
    huge = x.copy()
    huge[:, 2] = 1.6e308  # with g03, the set's sum overflows in every other sample
    huge[:, 3] = 1.7e308 * np.where(np.arange(12) % 2, 1.0, -1.0)
    with np.errstate(all="raise"):
        res = scores(huge, {"a": GENES[:4]}, "mean")
    controls = [GENES.index(g) for g in res.params["fitted"]["control_genes"]["a"]]

    def exact_mean(row, cols):
        return sum(Fraction(float(row[c])) for c in cols) / len(cols)

    expected = [float(exact_mean(r, range(4)) - exact_mean(r, controls)) for r in huge]
    np.testing.assert_allclose(res.scores["a"], expected, rtol=1e-15)


# -- "Also": order-free options, property-tested --------------------------------------------------


def tied_frames(n_samples=7):
    """Genes x samples frames of small integers (many ties); the last sample holds distinct
    values above the others, so no gene is constant."""
    def frame(rows):
        values = np.hstack([np.array(rows, dtype=float), 10.0 + np.arange(N_GENES)[:, None]])
        return pd.DataFrame(values, index=GENES, columns=[f"s{i}" for i in range(n_samples)])

    row = st.lists(st.integers(0, 5), min_size=n_samples - 1, max_size=n_samples - 1)
    return st.lists(row, min_size=N_GENES, max_size=N_GENES).map(frame)


@PROPERTY
@given(frame=tied_frames(), seed=st.integers(0, 2**32 - 1))
def test_order_free_gsva_ignores_sample_and_gene_order(frame, seed):
    rng = np.random.default_rng(seed)
    shuffled = frame.iloc[rng.permutation(N_GENES), rng.permutation(frame.shape[1])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = fs.score(frame, SIG, "gsva", order_free=True, min_coverage=0).scores
        b = fs.score(shuffled, SIG, "gsva", order_free=True, min_coverage=0).scores
    pd.testing.assert_frame_equal(a, b.loc[a.index], check_exact=True)


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), scale=st.floats(1e-3, 1e3))
def test_order_free_mean_ignores_sample_order(seed, scale):
    rng = np.random.default_rng(seed)
    # means that differ only in their last bits: sums in another order round differently
    base = rng.normal(size=(N_GENES, 1)) * scale
    frame = pd.DataFrame(base + rng.normal(size=(N_GENES, 9)) * scale * 1e-13, index=GENES,
                         columns=[f"s{i}" for i in range(9)])
    shuffled = frame.iloc[:, rng.permutation(9)]
    kw = {"n_bins": 5, "ctrl_size": 4, "order_free": True, "min_coverage": 0}
    a = fs.score(frame, SIG, "mean", **kw)
    b = fs.score(shuffled, SIG, "mean", **kw)
    pd.testing.assert_frame_equal(a.scores, b.scores.loc[a.scores.index], check_exact=True)
    assert a.params["fitted"] == b.params["fitted"]  # the same control genes


def test_order_free_options_on_real_data(breast):
    expression = breast[0]
    perm = np.random.default_rng(0).permutation(expression.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        default = [fs.score(e, "fpi", "mean").scores for e in (expression,
                                                                expression.iloc[:, perm])]
        free = [fs.score(e, "fpi", "mean", order_free=True).scores
                for e in (expression, expression.iloc[:, perm])]
    moved = (default[0] - default[1].loc[default[0].index]).abs().max().max()
    assert moved > 1e-3  # scanpy's rule: sample order moves genes between bins
    pd.testing.assert_frame_equal(free[0], free[1].loc[free[0].index], check_exact=True)


# -- index alignment, property-tested --------------------------------------------------------------

ALIGNED = [("singscore", {}), ("ssgsea", {}), ("ucell", {"max_rank": 20}),
           ("aucell", {"max_rank_frac": 0.3}), ("zscore", {}), ("plage", {}), ("wsum", {}),
           ("gsva", {"order_free": True}), ("mean", {"order_free": True, "n_bins": 4,
                                                    "ctrl_size": 5})]


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), transpose=st.booleans())
def test_reordering_a_frame_leaves_every_samples_scores_unchanged(seed, transpose):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(N_GENES, 8)), index=GENES,
                         columns=[f"s{i}" for i in range(8)])
    shuffled = frame.iloc[rng.permutation(N_GENES), rng.permutation(8)]
    if transpose:
        shuffled = shuffled.T
    for method, kw in ALIGNED:
        if method == "mean":  # control draws follow the gene order; permute samples only
            other = frame.iloc[:, rng.permutation(8)]
        else:
            other = shuffled
        a = fs.score(frame, SIG, method, min_coverage=0, **kw).scores
        b = fs.score(other, SIG, method, min_coverage=0, **kw).scores
        pd.testing.assert_frame_equal(a, b.loc[a.index], check_exact=False, rtol=1e-12,
                                      atol=1e-12, obj=method)


# -- ucell / aucell: one rule for negative values --------------------------------------------------


@pytest.mark.parametrize("method", ["ucell", "aucell"])
def test_negative_values_one_rule_in_score_and_tl(x, method):
    adata = ad.AnnData(x, var=pd.DataFrame(index=GENES))
    dense = scores(x, SIG, method).scores  # dense: any finite values
    fs.tl.score(adata, SIG, method, min_coverage=0, key_added="k", **SMALL[method])
    np.testing.assert_array_equal(adata.obs["k"], dense["s"])
    csr = sparse.csr_matrix(x)
    match = rf"sparse with negative stored values .* {method} ranks the implicit zeros"
    with pytest.raises(ValueError, match=match):
        scores(csr, SIG, method)
    with pytest.raises(ValueError, match=match):
        fs.tl.score(ad.AnnData(csr, var=pd.DataFrame(index=GENES)), SIG, method,
                    **SMALL[method])
    positive = sparse.csr_matrix(np.abs(x))  # non-negative sparse input is fine
    assert np.isfinite(scores(positive, SIG, method).scores.to_numpy()).all()


def test_negative_sparse_values_in_a_backed_file_are_caught_while_reading(x, tmp_path):
    adata = ad.AnnData(sparse.csr_matrix(np.abs(x)), var=pd.DataFrame(index=GENES))
    adata.X[7, 3] = -1.0
    adata.write_h5ad(tmp_path / "cells.h5ad")
    backed = ad.read_h5ad(tmp_path / "cells.h5ad", backed="r")
    with pytest.raises(ValueError, match="sparse with negative stored values"):
        fs.score(backed, SIG, "ucell", max_rank=20, chunk_size=4, min_coverage=0)


# -- n_permutations and other integer options ------------------------------------------------------


@pytest.mark.parametrize(("option", "value"), [
    ("n_permutations", 2.5), ("n_permutations", True), ("n_permutations", 1e3),
    ("n_permutations", "10"), ("min_genes", 1.5), ("chunk_size", 2.5), ("n_jobs", 2.0),
])
def test_non_integer_counts_are_rejected(x, option, value):
    with pytest.raises(TypeError, match=rf"{option} must be an integer.*got {value!r}"):
        scores(x, SIG, "singscore", **{option: value})


# -- result files: both or neither -----------------------------------------------------------------


def test_a_failed_sidecar_leaves_no_partial_tsv(x, tmp_path):
    res = scores(x, SIG, "singscore")
    res.params["unserialisable"] = object()
    with pytest.raises(TypeError, match="not JSON serializable"):
        res.save(tmp_path / "scores.tsv")
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    del res.params["unserialisable"]
    res.save(tmp_path / "scores.tsv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.tsv", "scores.tsv.json"]
    assert json.loads((tmp_path / "scores.tsv.json").read_text())["params"]["method"] == \
        "singscore"


# -- unclear errors made clear ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["gsva", "zscore", "plage"])
def test_one_sample_for_standardising_methods_says_so(x, method):
    with pytest.raises(ValueError, match=rf"{method} standardises every gene over the samples "
                                         r"and needs at least 2 samples; got 1\. Score it "
                                         r"against a reference cohort"):
        scores(x[:1], SIG, method)


def test_nullable_frames_are_read_with_pd_na_as_nan(x):
    frame = pd.DataFrame(np.round(x.T * 100), index=GENES,
                         columns=[f"s{i}" for i in range(12)])
    expected = fs.score(frame, SIG, min_coverage=0).scores
    for dtype in ("Int64", "Float64"):
        pd.testing.assert_frame_equal(fs.score(frame.astype(dtype), SIG,
                                               min_coverage=0).scores, expected)
    holed = frame.astype("Float64")
    holed.loc["g02", "s4"] = pd.NA
    with pytest.raises(ValueError, match=r"1 NaN/inf values in 1 genes \(e\.g\. \['g02'\]\)"):
        fs.score(holed, SIG)
    with pytest.warns(UserWarning, match=r"dropped 1 genes with NaN/inf values: \['g02'\]"):
        dropped = fs.score(holed, SIG, na="drop_genes", min_coverage=0).scores
    pd.testing.assert_frame_equal(dropped, fs.score(frame.drop("g02"), SIG,
                                                    min_coverage=0).scores)


def test_float16_is_cast_and_the_cast_recorded(x):
    half = x.astype(np.float16)
    res = scores(half, SIG, "singscore")
    pd.testing.assert_frame_equal(res.scores, scores(half.astype(np.float32), SIG,
                                                     "singscore").scores)
    assert res.params["scored"]["input"].endswith("float16 values cast to float32 (exact)")


def test_tl_score_without_x_names_the_layers(x):
    adata = ad.AnnData(x, var=pd.DataFrame(index=GENES))
    adata.layers["counts"] = x
    adata.X = None
    with pytest.raises(ValueError, match=r"adata\.X is None.*pass layer=NAME \(layers: "
                                         r"\['counts'\]\)"):
        fs.tl.score(adata, SIG)
    fs.tl.score(adata, SIG, layer="counts", min_coverage=0, max_rank=20)
    assert "ferroptosis" in adata.obs


# -- issue 12: the UCell composite default ---------------------------------------------------------


def test_ucell_composite_default_is_the_unclipped_difference(breast):
    expression = breast[0]
    res = fs.score(expression, "ferroptosis_core", "ucell").scores
    np.testing.assert_array_equal(res["ferroptosis_core"],
                                  res["ferroptosis_core_up"] - res["ferroptosis_core_down"])
    with pytest.warns(UserWarning, match=r"is 0 in 98% of samples for 'ferroptosis_core'"):
        clipped = fs.score(expression, "ferroptosis_core", "ucell", clip=True).scores
    np.testing.assert_array_equal(clipped["ferroptosis_core"],
                                  np.maximum(0.0, res["ferroptosis_core"]))


# -- issue 12: a missing catalogue-signature member is never silent --------------------------------


def test_missing_catalogue_signature_member_warns_even_at_high_coverage(breast):
    expression = breast[0].drop(index="NCOA4")
    with pytest.warns(UserWarning, match=r"gene set 'ferroptosis_core_up': 1 of 4 genes of this "
                                         r"catalogue signature not found.*missing: NCOA4"):
        res = fs.score(expression, "ferroptosis_core")
    assert res.coverage.loc["ferroptosis_core_up", "missing"] == ["NCOA4"]
    own = fs.Signature.from_sets("own", ["ACSL4", "LPCAT3", "TFRC", "NCOA4"], ["GPX4"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a user's set at 75% coverage: reported, not warned
        fs.score(expression, own)


# -- issue 12: na="per_sample" ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def holed(breast):
    """GSE1992 with GPX4 missing in 2 of 124 tumours and one more NaN elsewhere."""
    expression = breast[0].copy()
    expression.loc["GPX4", expression.columns[[3, 7]]] = np.nan
    expression.iloc[100, 7] = np.nan
    return expression


PER_SAMPLE = [("singscore", {}), ("ssgsea", {}), ("ssgsea", {"normalize": False}),
              ("ucell", {}), ("ucell", {"missing_genes": "skip"}), ("aucell", {})]


@pytest.mark.parametrize(("method", "kw"), PER_SAMPLE)
def test_per_sample_equals_the_default_bit_for_bit_on_complete_data(breast, method, kw):
    sets = ["ferroptosis_core", "fpi"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = fs.score(breast[0], sets, method, **kw)
        b = fs.score(breast[0], sets, method, na="per_sample", **kw)
    pd.testing.assert_frame_equal(a.scores, b.scores, check_exact=True)
    assert (b.missing == 0).all()


@pytest.mark.parametrize(("method", "kw"), [m for m in PER_SAMPLE if m[1] != {} or
                                            m[0] != "ssgsea"])
def test_per_sample_scores_each_sample_on_its_observed_genes(breast, holed, method, kw):
    with pytest.warns(UserWarning, match=r"na='per_sample': 2 of 124 samples have NaN/inf "
                                         r"values \(up to 2 of 15528 genes in one sample\).*"
                                         r"GPX4 \(in 2\)"):
        res = fs.score(holed, "ferroptosis_core", method, na="per_sample", **kw)
    sample = holed.columns[7]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone = fs.score(holed[[sample]].dropna(), "ferroptosis_core", method, **kw).scores
        default = fs.score(breast[0], "ferroptosis_core", method, **kw).scores
    pd.testing.assert_series_equal(res.scores.loc[sample], alone.iloc[0], check_exact=True)
    complete = res.scores.drop(holed.columns[[3, 7]])
    pd.testing.assert_frame_equal(complete, default.loc[complete.index], check_exact=True)
    assert res.missing[holed.columns[[3, 7, 0]]].tolist() == [1, 2, 0]
    assert res.params["missing"]["samples"] == {holed.columns[3]: 1, sample: 2}
    assert res.params["missing"]["set_genes"] == {"GPX4": 2}


def test_per_sample_on_sparse_input_equals_dense(x):
    values = np.abs(x)
    values[values < 0.5] = 0.0
    values[2, 3] = np.nan
    values[5, 11] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dense = scores(values, SIG, "ucell", na="per_sample").scores
        csr = scores(sparse.csr_matrix(values), SIG, "ucell", na="per_sample").scores
    pd.testing.assert_frame_equal(dense, csr, check_exact=True)
    assert np.isfinite(dense.to_numpy()).all()


@pytest.mark.parametrize("method", ["gsva", "zscore", "plage", "mean", "wsum"])
def test_per_sample_is_refused_by_methods_that_use_every_samples_value(holed, method):
    with pytest.raises(ValueError, match=rf"na='per_sample' needs a rank method \(singscore, "
                                         rf"ssgsea, ucell, aucell\).*{method} uses every "
                                         r"sample's value of a gene\. Use na='drop_genes'"):
        fs.score(holed, "ferroptosis_core", method, na="per_sample")


# -- issue 12: drop reports name the gene symbol ---------------------------------------------------


def test_nan_reports_name_symbols_of_ensembl_ids(x):
    ensembl = ["ENSG00000167468", "ENSG00000151012"] + GENES[2:]  # GPX4, SLC7A11
    frame = pd.DataFrame(x.T, index=ensembl, columns=[f"s{i}" for i in range(12)])
    frame.iloc[0, 4] = np.nan
    sets = {"a": ["GPX4", "SLC7A11", "g02"]}
    with pytest.raises(ValueError, match=r"\['ENSG00000167468 \(GPX4\)'\]"):
        fs.score(frame, sets, genes_axis="rows")
    with pytest.warns(UserWarning, match=r"dropped 1 genes with NaN/inf values: "
                                         r"\['ENSG00000167468 \(GPX4\)'\]"):
        fs.score(frame, sets, genes_axis="rows", na="drop_genes", min_coverage=0)
    adata = ad.AnnData(frame.T.to_numpy(), var=pd.DataFrame(
        {"symbol": ["GPX4", "SLC7A11"] + GENES[2:]}, index=[f"f{i}" for i in range(N_GENES)]))
    with pytest.warns(UserWarning, match=r"\['f0 \(GPX4\)'\]"):
        fs.score(adata, sets, gene_symbols="symbol", na="drop_genes", min_coverage=0)


# -- issue 18: the finite check of a large matrix runs in threads ---------------------------------


@pytest.mark.parametrize("where", [0, 2_100_000, -1])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_one_non_finite_value_anywhere_in_a_large_matrix_is_found(where, bad):
    """A matrix of 4.2 million values is checked in several threads, each on its own part:
    a single NaN or inf at the first value, at a part boundary or at the last is reported."""
    values = np.ones((2000, 2100))
    values.flat[where] = bad
    for layout in (values, np.asfortranarray(values)):
        frame = pd.DataFrame(layout, index=[f"g{i}" for i in range(2000)])
        with pytest.raises(ValueError, match="1 NaN/inf values in 1 genes"):
            fs.score(frame, {"s": ["g1", "g2"]}, genes_axis="rows")


# -- issue 18: backed input is read ahead by one thread --------------------------------------------


def test_read_ahead_holds_at_most_depth_blocks_and_stops_after_an_error():
    import time

    from ferroscore._readahead import ReadAhead

    class Source:  # stands in for a backed Expression
        def __init__(self):
            self.read = []

        def rows(self, rows, contiguous):
            if rows.start == 30:
                raise ValueError("bad block 30")
            self.read.append(rows.start)
            return rows.start

    source = Source()
    reader = ReadAhead(source, [slice(i, i + 1) for i in range(50)], 3, contiguous=True)
    for i in range(30):
        assert reader.take(i) == i
        time.sleep(0.002)
        assert len(source.read) <= i + 3  # never more than 3 blocks held
        reader.release(i)
    with pytest.raises(ValueError, match="bad block 30"):
        reader.take(30)
    reader.close()  # returns: the reader thread is not left waiting for a slot
    assert len(source.read) <= 33


def test_a_bad_value_in_the_last_block_of_a_backed_file_is_reported(x, tmp_path):
    adata = ad.AnnData(sparse.csr_matrix(np.abs(x)), var=pd.DataFrame(index=GENES),
                       obs=pd.DataFrame(index=[f"c{i}" for i in range(x.shape[0])]))
    adata.X[x.shape[0] - 1, 3] = np.inf
    adata.write_h5ad(tmp_path / "cells.h5ad")
    backed = ad.read_h5ad(tmp_path / "cells.h5ad", backed="r")
    last = f"c{x.shape[0] - 1}"
    with pytest.raises(ValueError, match=rf"found while reading samples \['{last}'\]"):
        fs.score(backed, SIG, "ucell", max_rank=20, chunk_size=2, min_coverage=0)
    good = ad.read_h5ad(tmp_path / "cells.h5ad")
    good.X[x.shape[0] - 1, 3] = 1.0
    good.write_h5ad(tmp_path / "good.h5ad")
    streamed = fs.score(ad.read_h5ad(tmp_path / "good.h5ad", backed="r"), SIG, "ucell",
                        max_rank=20, chunk_size=2, min_coverage=0)
    pd.testing.assert_frame_equal(streamed.scores, fs.score(good, SIG, "ucell", max_rank=20,
                                                            min_coverage=0).scores)


@pytest.mark.parametrize("method", ["singscore", "ssgsea", "gsva", "zscore", "plage", "ucell",
                                    "aucell", "mean"])
def test_every_method_read_ahead_from_a_backed_file_equals_in_memory(x, tmp_path, method):
    """Blocks of a backed file come from the read-ahead thread; gsva scoring its own reference
    uses the statistic of its fit instead. Either way the scores equal the in-memory ones."""
    cells = ad.AnnData(sparse.csr_matrix(np.abs(x)), var=pd.DataFrame(index=GENES),
                       obs=pd.DataFrame(index=[f"c{i}" for i in range(x.shape[0])]))
    cells.write_h5ad(tmp_path / "cells.h5ad")
    backed = ad.read_h5ad(tmp_path / "cells.h5ad", backed="r")
    options = {"min_coverage": 0, **SMALL.get(method, {})}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        streamed = fs.score(backed, SIG, method, chunk_size=3, **options).scores
        memory = fs.score(cells, SIG, method, **options).scores
    pd.testing.assert_frame_equal(streamed, memory, rtol=1e-12, atol=1e-12)
