"""fs.de.limma against limma 3.54.1 (R) on GSE1992, and its invariances.

References: tests/data/workflow_gse1992 (the shared fixtures: ER status plain and trend, grade
F test; limma fitted on the renamed matrix, so rows are compared by position) and
tests/data/limma (made by tests/data/limma/make_reference.R: a covariate design with 3% missing
values, a gene without grade-1 samples, a gene with 3 observed samples, trend=TRUE, an F test
and a contrast).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ferroscore as fs

from .agreement import tolerance
from .conftest import DATA

WORKFLOW = DATA / "workflow_gse1992"
LIMMA = DATA / "limma"
T_COLUMNS = ["logFC", "AveExpr", "t", "P.Value", "adj.P.Val", "B", "s2_post", "df_total"]
QUIET = settings(max_examples=8, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])


def max_relative(got: pd.DataFrame, ref: pd.DataFrame, columns: list[str]) -> float:
    worst = 0.0
    for column in columns:
        a, b = got[column].to_numpy(), ref[column].to_numpy()
        assert np.array_equal(np.isnan(a), np.isnan(b)), column
        keep = ~np.isnan(b)
        rel = np.abs(a[keep] - b[keep]) / np.maximum(np.abs(b[keep]), 1e-300)
        worst = max(worst, float(rel.max()))
    return worst


def reference(name: str, genes: pd.Index) -> pd.DataFrame:
    ref = pd.read_csv(WORKFLOW / name, index_col=0)
    assert len(ref) == len(genes)
    return ref.set_axis(genes)  # same order; the fixture renamed five outdated symbols


@pytest.fixture(scope="module")
def er_plain(breast):
    expr, clinical = breast
    with pytest.warns(UserWarning, match="2 samples with a missing group"):
        return fs.de.limma(expr, clinical["er_positive"])


def test_er_status_plain(breast, er_plain):
    ref = reference("limma_er_positive_plain.csv.gz", breast[0].index)
    assert max_relative(er_plain.table, ref, T_COLUMNS) <= tolerance("limma_plain")
    prior = dict(line.split() for line in (WORKFLOW / "limma_er_positive_prior.txt")
                 .read_text().splitlines())
    assert abs(er_plain.df_prior / float(prior["d0"]) - 1) <= tolerance("limma_plain")
    assert abs(er_plain.s2_prior / float(prior["s02"]) - 1) <= tolerance("limma_plain")
    assert er_plain.params["n_samples"] == 122
    assert list(er_plain.table.columns) == T_COLUMNS


def test_er_status_trend(breast):
    expr, clinical = breast
    with pytest.warns(UserWarning):
        res = fs.de.limma(expr, clinical["er_positive"], trend=True)
    ref = reference("limma_er_positive_trend.csv.gz", expr.index)
    assert max_relative(res.table, ref, T_COLUMNS) <= tolerance("limma_trend")
    assert isinstance(res.s2_prior, pd.Series) and res.s2_prior.nunique() > 100


def test_grade_moderated_f(breast):
    expr, clinical = breast
    with pytest.warns(UserWarning, match="4 samples"):
        res = fs.de.limma(expr, clinical["grade"])
    ref = reference("limma_grade_F.csv.gz", expr.index)
    assert res.coefficients == ["grade[2]", "grade[3]"]
    assert max_relative(res.table, ref, ["AveExpr", "F", "P.Value", "adj.P.Val"]) <= tolerance(
        "limma_grade_f")


# -- the second reference: covariates, missing values, trend, F and a contrast ------------------


@pytest.fixture(scope="module")
def with_missing(breast):
    expr, clinical = breast
    genes = (LIMMA / "genes.txt").read_text().split()
    values = expr.loc[genes].to_numpy().copy()
    missing = pd.read_csv(LIMMA / "missing.csv.gz")
    values[pd.Index(genes).get_indexer(missing["gene"]),
           expr.columns.get_indexer(missing["sample"])] = np.nan
    covariates = clinical[["er_positive", "age"]].astype(float)
    covariates["grade"] = clinical["grade"].astype("category")
    return pd.DataFrame(values, index=genes, columns=expr.columns), covariates


def test_missing_values_trend(with_missing):
    y, covariates = with_missing
    with pytest.warns(UserWarning):
        res = fs.de.limma(y, covariates, coef="er_positive", trend=True)
    assert res.design.columns.tolist() == ["(Intercept)", "er_positive", "age", "grade[2]",
                                           "grade[3]"]
    ref = pd.read_csv(LIMMA / "trend_er_positive.csv.gz", index_col=0)
    assert max_relative(res.table, ref, T_COLUMNS) <= tolerance("limma_missing_values")
    s2 = pd.read_csv(LIMMA / "trend_s2_prior.csv.gz", index_col=0)["s2_prior"]
    assert np.abs(res.s2_prior.to_numpy() / s2.to_numpy() - 1).max() <= tolerance(
        "limma_missing_values")
    assert res.table["df_total"].nunique() > 10  # per-gene residual df


def test_missing_values_f_test_and_contrast(with_missing):
    y, covariates = with_missing
    with pytest.warns(UserWarning):
        f_test = fs.de.limma(y, covariates, coef=["grade[2]", "grade[3]"])
    ref = pd.read_csv(LIMMA / "plain_grade_F.csv.gz", index_col=0)
    ref.columns = ["grade[2]", "grade[3]", *ref.columns[2:]]
    columns = ["grade[2]", "grade[3]", "AveExpr", "F", "P.Value", "adj.P.Val", "s2_post",
               "df_total"]
    assert max_relative(f_test.table, ref, columns) <= tolerance("limma_missing_values")
    with pytest.warns(UserWarning):
        contrast = fs.de.limma(y, covariates, contrast={"grade[3]": 1, "grade[2]": -1})
    ref = pd.read_csv(LIMMA / "contrast_g3_g2.csv.gz", index_col=0)
    assert max_relative(contrast.table, ref, T_COLUMNS) <= tolerance("limma_missing_values")
    assert np.isnan(contrast.table.loc["ABCC3", "t"])  # no grade-1 sample: grade[3] aliased


# -- behaviour and invariances ------------------------------------------------------------------


def small_cohort(seed: int, n_genes: int = 40, n_samples: int = 12):
    rng = np.random.default_rng(seed)
    samples = [f"s{i}" for i in range(n_samples)]
    groups = pd.Series(["a", "b", "c"] * (n_samples // 3), index=samples, name="arm")
    spread = np.sqrt(rng.chisquare(4, size=(n_genes, 1)) / 4)  # gene-specific variances
    values = rng.normal(size=(n_genes, n_samples)) * spread
    values[:5, groups == "b"] += 2
    return pd.DataFrame(values, index=[f"g{i}" for i in range(n_genes)], columns=samples), groups


@QUIET
@given(seed=st.integers(0, 2**32 - 1))
def test_gene_and_sample_order_and_orientation_do_not_matter(seed):
    expr, groups = small_cohort(seed % 1000)
    base = fs.de.limma(expr, groups, contrast=("b", "a")).table
    rng = np.random.default_rng(seed)
    shuffled = expr.iloc[rng.permutation(len(expr)), rng.permutation(expr.shape[1])]
    moved = fs.de.limma(shuffled, groups.sample(frac=1, random_state=seed % 1000),
                        contrast=("b", "a")).table
    pd.testing.assert_frame_equal(moved.loc[base.index], base, rtol=1e-10, atol=1e-12)
    flipped = fs.de.limma(expr.T, groups, contrast=("b", "a")).table
    pd.testing.assert_frame_equal(flipped, base, rtol=1e-10, atol=1e-12)


def test_contrast_forms_agree_and_cell_means_design():
    expr, groups = small_cohort(3)
    by_levels = fs.de.limma(expr, groups, contrast=("c", "b")).table
    by_weights = fs.de.limma(expr, groups, contrast={"arm[c]": 1, "arm[b]": -1}).table
    pd.testing.assert_frame_equal(by_levels, by_weights)
    cell_means = pd.get_dummies(groups).astype(float)  # ~ 0 + arm: no intercept is added
    direct = fs.de.limma(expr, cell_means, contrast={"c": 1, "b": -1}).table
    np.testing.assert_allclose(direct["t"], by_levels["t"], rtol=1e-10)
    assert fs.de.limma(expr, cell_means, contrast={"c": 1, "b": -1}).design.shape[1] == 3


def test_missing_gene_is_fitted_on_its_observed_samples():
    expr, groups = small_cohort(5)
    holed = expr.copy()
    holed.iloc[0, [0, 4]] = np.nan
    res = fs.de.limma(holed, groups, coef="arm[b]")
    assert res.table.loc["g0", "df_total"] < res.table.loc["g1", "df_total"]
    own = fs.de.limma(expr, groups, coef="arm[b]")
    assert res.table.loc["g0", "logFC"] != own.table.loc["g0", "logFC"]
    observed = holed.columns[holed.iloc[0].notna()]
    alone = np.linalg.lstsq(res.design.loc[observed].to_numpy(),
                            holed.loc["g0", observed].to_numpy(), rcond=None)[0]
    assert res.table.loc["g0", "logFC"] == pytest.approx(alone[1], rel=1e-10)


def test_top_and_significant(er_plain):
    top = er_plain.top(5)
    assert top["P.Value"].is_monotonic_increasing and len(top) == 5
    assert er_plain.top(3, sort_by="B")["B"].is_monotonic_decreasing
    assert (er_plain.significant["adj.P.Val"] < 0.05).all()
    assert "ESR1" in er_plain.top(20).index
    with pytest.raises(ValueError, match="sort_by"):
        er_plain.top(3, sort_by="Q")


def test_volcano_figure(tmp_path, er_plain):
    pytest.importorskip("matplotlib")
    ax = fs.pl.de_volcano(er_plain, save=tmp_path / "volcano.png")
    assert (tmp_path / "volcano.png").stat().st_size > 10_000
    assert ax.get_xlabel() == "logFC"
