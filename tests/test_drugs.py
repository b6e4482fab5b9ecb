"""Drug sensitivity: association tests vs R on real GDSC data, ComBat vs sva on real bladder
arrays (tolerances in src/ferroscore/data/agreement.toml), and the parts of response prediction
that need a known truth, on a SYNTHETIC screen (real-data prediction: tests/test_drugs_gdsc.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import ferroscore as fs
from ferroscore import drugs

from .agreement import tolerance
from .conftest import DATA

GDSC = DATA / "gdsc"
COMBAT = DATA / "combat"


@pytest.fixture(scope="module")
def gdsc():
    ic50 = pd.read_csv(GDSC / "ic50_ln.csv.gz", index_col=0)
    lines = pd.read_csv(GDSC / "cell_lines.csv", index_col=0)
    ref = pd.read_csv(GDSC / "reference_TP53_nmut.csv", index_col=0)
    return ic50, lines, ref


def reference_rows(table, ref):
    return table.set_index("drug").loc[ref.index]


@pytest.mark.parametrize(("method", "estimate", "p", "q", "key"), [
    ("spearman", "spearman_rho", "spearman_p", "spearman_q", "associate_spearman"),
    ("pearson", "pearson_r", "pearson_p", "pearson_q", "associate_pearson"),
])
def test_correlations_match_r(gdsc, method, estimate, p, q, key):
    ic50, lines, ref = gdsc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # drugs with < 10 lines are reported, not tested
        table = reference_rows(drugs.associate(lines["n_mutated_genes"], ic50, method), ref)
    assert (table["n"] == ref["n"]).all()
    for ours, theirs in ((estimate, "estimate"), (p, "p"), (q, "q")):
        np.testing.assert_allclose(table[theirs], ref[ours], rtol=0, atol=tolerance(key))


def test_tissue_msi_adjusted_f_test_matches_r(gdsc):
    ic50, lines, ref = gdsc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = reference_rows(drugs.associate(lines["n_mutated_genes"], ic50, "lm",
                                       covariates=lines[["TISSUE_FACTOR", "MSI_FACTOR"]]), ref)
    bound = tolerance("associate_lm_tissue_msi")
    np.testing.assert_allclose(table["estimate"], ref["lm_tissue_msi_estimate"], rtol=0,
                               atol=bound)
    np.testing.assert_allclose(table["p"], ref["lm_tissue_msi_p"], rtol=0, atol=bound)
    np.testing.assert_allclose(table["q"], ref["lm_tissue_msi_q"], rtol=0, atol=bound)
    sd = [lines.loc[ic50[d].dropna().index, "n_mutated_genes"].std() for d in ref.index]
    np.testing.assert_allclose(table["estimate_per_sd"], table["estimate"] * sd, rtol=1e-12)


def test_wilcoxon_matches_r(gdsc):
    ic50, lines, ref = gdsc
    groups = lines["TP53_mut"].map({0: "wildtype", 1: "mutant"}).astype(
        pd.CategoricalDtype(["wildtype", "mutant"]))
    table = reference_rows(drugs.compare_groups(ic50, groups), ref)
    bound = tolerance("compare_groups_wilcoxon")
    np.testing.assert_allclose(table["p"], ref["wilcoxon_p"], rtol=0, atol=bound)
    np.testing.assert_allclose(table["q"], ref["wilcoxon_q"], rtol=0, atol=bound)
    assert (table["n_mutant"] == ref["n_group1"]).all()
    assert table["rank_biserial"].between(-1, 1).all()


def test_kruskal_for_three_groups(gdsc):
    ic50, lines, _ = gdsc
    groups = lines["TISSUE_FACTOR"].where(lines["TISSUE_FACTOR"].isin(
        ["lung_NSCLC", "breast", "skin"]))
    keep = groups.dropna().index
    table = drugs.compare_groups(ic50.loc[keep], groups.loc[keep], test="kruskal")
    drug = table["drug"].iat[0]
    samples = [ic50.loc[groups.index[groups == g], drug].dropna()
               for g in ["breast", "lung_NSCLC", "skin"]]
    assert table["p"].iat[0] == pytest.approx(stats.kruskal(*samples).pvalue, rel=1e-12)


def test_association_bad_input(gdsc):
    ic50, lines, _ = gdsc
    score = lines["n_mutated_genes"]
    frame = ic50.iloc[:, :3].copy()
    frame["all_missing"] = np.nan
    frame["constant"] = 1.0
    with pytest.warns(UserWarning, match="were not tested"):
        table = drugs.associate(score, frame).set_index("drug")
    assert table.loc["all_missing", "reason"] == "no measurements"
    assert table.loc["constant", "reason"] == "constant response"
    assert np.isnan(table.loc["constant", "p"])
    first = lines.index[:20]
    with pytest.warns(UserWarning, match="1 of 1 drugs were not tested"):
        few = drugs.associate(score.loc[first], frame.loc[first].iloc[:, :1],
                              min_samples=500).iloc[0]
    assert few["reason"].startswith("fewer than min_samples=500")
    with pytest.raises(ValueError, match="sample IDs differ"):
        drugs.associate(score.iloc[:-5], frame)
    with pytest.warns(UserWarning, match="5 samples not in both"):
        drugs.associate(score.iloc[:-5], frame.iloc[:, :2], join="inner")
    with pytest.raises(ValueError, match="occur more than once in response"):
        drugs.associate(score, pd.concat([frame, frame.iloc[:2]]), join="inner")
    with pytest.raises(ValueError, match="method must be one of"):
        drugs.associate(score, frame, "kendall")
    with pytest.raises(ValueError, match="two groups"):
        drugs.compare_groups(frame, lines["TISSUE_FACTOR"])


def test_associate_takes_a_score_result(breast):
    expression, _ = breast
    result = fs.score(expression, "fpi")
    response = pd.DataFrame(np.random.default_rng(0).normal(size=(124, 3)),
                            index=expression.columns, columns=["a", "b", "c"])
    table = drugs.associate(result, response)
    direct = drugs.associate(result.scores["fpi"], response)
    pd.testing.assert_frame_equal(table, direct)


# -- ComBat -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bladder():
    expr = pd.read_csv(COMBAT / "expression.csv.gz", index_col=0)
    samples = pd.read_csv(COMBAT / "samples.csv", index_col=0)
    return expr, samples


@pytest.mark.parametrize(("fixture", "kwargs", "key"), [
    ("combat_parametric.csv.gz", {}, "combat_parametric"),
    ("combat_parametric_mod_cancer.csv.gz", {"covariates": "cancer"}, "combat_parametric_mod"),
    ("combat_mean_only.csv.gz", {"mean_only": True}, "combat_mean_only"),
])
def test_combat_matches_sva(bladder, fixture, kwargs, key):
    expr, samples = bladder
    if "covariates" in kwargs:
        kwargs = {"covariates": samples[[kwargs["covariates"]]]}
    ours = fs.pp.combat(expr, samples["batch"], **kwargs)
    ref = pd.read_csv(COMBAT / fixture, index_col=0)
    assert ours.index.equals(ref.index) and ours.columns.equals(ref.columns)
    assert np.abs(ours.to_numpy() - ref.to_numpy()).max() <= tolerance(key)


def test_combat_bad_input(bladder):
    expr, samples = bladder
    batch = samples["batch"].copy()
    batch.iloc[0] = 99  # a batch with one sample
    with pytest.raises(ValueError, match="single sample.*mean_only=True"):
        fs.pp.combat(expr, batch)
    fs.pp.combat(expr, batch, mean_only=True)
    with pytest.raises(ValueError, match="at least two batches"):
        fs.pp.combat(expr, np.ones(expr.shape[1]))
    confounded = pd.DataFrame({"c": samples["batch"].astype(str)}, index=samples.index)
    with pytest.raises(ValueError, match="confounded"):
        fs.pp.combat(expr, samples["batch"], covariates=confounded)
    with pytest.raises(ValueError, match="missing values"):
        fs.pp.combat(expr.where(expr > 3), samples["batch"])
    cancer = samples[["cancer"]]
    with pytest.raises(ValueError, match="no row for 1 samples"):
        fs.pp.combat(expr, samples["batch"], covariates=cancer.iloc[1:])
    incomplete = cancer.astype(object)
    incomplete.iloc[0, 0] = None
    with pytest.raises(ValueError, match=r"\['cancer'\] have missing values"):
        fs.pp.combat(expr, samples["batch"], covariates=incomplete)


# -- prediction (SYNTHETIC data) ----------------------------------------------------------------


def test_power_transform_round_trip():
    rng = np.random.default_rng(0)
    for y in (np.exp(rng.normal(size=200)), rng.normal(size=200) - 3, rng.gamma(2, 3, 50)):
        values, lam, shift = drugs.transform_response(y)
        np.testing.assert_allclose(drugs.inverse_transform_response(values, lam, shift), y,
                                   rtol=0, atol=1e-10)
        assert -3 <= lam <= 3 and (shift > 0) == (y.min() <= 0)


def test_box_cox_lambda_is_the_maximum_likelihood():
    y = np.random.default_rng(1).gamma(2, 3, 300)
    _, lam, _ = drugs.transform_response(y)
    assert lam == pytest.approx(stats.boxcox_normmax(y, method="mle"), abs=1e-6)


@pytest.fixture(scope="module")
def screen():
    return fs.datasets.synthetic_drug_screen(n_lines=500, seed=3)


def test_prediction_recovers_planted_effects(screen):
    """SYNTHETIC: held-out predictions correlate with the truth (ceiling 0.89 here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = drugs.predict_response(screen.train_expr, screen.train_response,
                                        screen.test_expr)
    corr = [stats.pearsonr(np.log(result.predictions[d]), np.log(screen.test_truth[d]))[0]
            for d in screen.test_truth]
    assert np.median(corr) > 0.8 and min(corr) > 0.6
    diag = result.diagnostics
    assert (diag["cv_correlation"] > 0.6).all() and (diag["n_nan"] == 0).all()
    assert result.predictions.shape == screen.test_truth.shape
    # homogenisation removes the platform shift of the held-out samples
    bias = np.median([np.median(np.log(result.predictions[d] / screen.test_truth[d]))
                      for d in screen.test_truth])
    assert abs(bias) < 0.1
    model = result.models[screen.test_truth.columns[0]]
    assert model.coef.shape == (len(result.genes),)


def test_prediction_models_reproduce_predictions(screen):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = drugs.predict_response(screen.train_expr, screen.train_response,
                                        screen.test_expr, homogenize="none",
                                        min_variance_quantile=0)
    drug = screen.test_truth.columns[1]
    model = result.models[drug]
    genes = result.genes
    z = (screen.test_expr.loc[genes.index].sub(genes["gene_mean"], axis=0)).div(
        genes["gene_sd"], axis=0).to_numpy().T
    transformed = z @ model.coef + model.intercept
    again = drugs.inverse_transform_response(transformed, model.lam, model.shift)
    np.testing.assert_allclose(again, result.predictions[drug], rtol=1e-9)


def test_prediction_bad_input(screen):
    disjoint = screen.test_expr.rename(index=lambda g: g + "_x")
    with pytest.raises(ValueError, match=r"share no gene names"):
        drugs.predict_response(screen.train_expr, screen.train_response, disjoint)
    response = screen.train_response.copy()
    response.iloc[:-5, 0] = np.nan
    response.iloc[:, 1] = 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = drugs.predict_response(screen.train_expr, response, screen.test_expr)
    assert result.diagnostics["reason"].iat[0].startswith("fewer than min_train_samples")
    assert result.diagnostics["reason"].iat[1] == "constant response"
    assert result.predictions.iloc[:, 0].isna().all()
    with pytest.raises(ValueError, match="only 0 cell lines"):
        drugs.predict_response(screen.train_expr, response.set_axis(
            [f"x{i}" for i in range(len(response))]), screen.test_expr)
    with pytest.raises(ValueError, match="homogenize must be one of"):
        drugs.predict_response(screen.train_expr, screen.train_response, screen.test_expr,
                               homogenize="magic")


def test_negative_responses_are_shifted_and_reported(screen):
    shifted = np.log(screen.train_response)  # ln IC50 has negative values
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = drugs.predict_response(screen.train_expr, shifted.iloc[:, :3],
                                        screen.test_expr)
    assert (result.diagnostics["shift"] > 0).all()
    corr = stats.pearsonr(result.predictions.iloc[:, 0], np.log(screen.test_truth.iloc[:, 0]))
    assert corr[0] > 0.6


@pytest.mark.parametrize("method", ["quantile", "standardize", "rank", "none"])
def test_other_homogenisations_run(screen, method):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = drugs.predict_response(screen.train_expr, screen.train_response.iloc[:, :2],
                                        screen.test_expr, homogenize=method)
    assert result.predictions.notna().all().all()


def test_duplicate_genes_are_averaged_and_reported(screen):
    train = pd.concat([screen.train_expr, screen.train_expr.iloc[:3]])
    with pytest.warns(UserWarning, match="averaged 6 rows with duplicated gene names"):
        result = drugs.predict_response(train, screen.train_response.iloc[:, :1],
                                        screen.test_expr)
    assert result.params["duplicated_genes_train_expr"] == 6


# -- readers and plots --------------------------------------------------------------------------


def test_readers(tmp_path):
    gdsc_expr = pd.DataFrame({"GENE_SYMBOLS": ["GPX4", "ACSL4", None],
                              "GENE_title": ["a", "b", "c"],
                              "DATA.906826": [1.0, 2.0, 3.0], "DATA.687983": [4.0, 5.0, 6.0]})
    gdsc_expr.to_csv(tmp_path / "expr.tsv", sep="\t", index=False)
    with pytest.warns(UserWarning, match="GENE_title"):
        expr = drugs.read_expression(tmp_path / "expr.tsv")
    assert expr.index.tolist() == ["GPX4", "ACSL4"] and expr.columns.tolist() == ["906826",
                                                                                  "687983"]
    long = pd.DataFrame({"COSMIC_ID": [1, 1, 2, 2], "DRUG_NAME": ["a", "b", "a", "a"],
                         "LN_IC50": [0.5, 1.0, 2.0, 4.0]})
    long.to_csv(tmp_path / "resp.csv", index=False)
    with pytest.warns(UserWarning, match="averaged 1 repeated"):
        wide = drugs.read_response(tmp_path / "resp.csv")
    assert wide.loc["2", "a"] == 3.0 and np.isnan(wide.loc["2", "b"])
    with pytest.raises(FileNotFoundError):
        drugs.read_expression(tmp_path / "missing.tsv")


def test_drug_plots(tmp_path, gdsc):
    import matplotlib
    import matplotlib.image as mpimg

    matplotlib.use("Agg")
    ic50, lines, _ = gdsc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = drugs.associate(lines["n_mutated_genes"], ic50)
    fs.pl.volcano(table, save=tmp_path / "volcano.png")
    groups = lines["TP53_mut"].map({0: "wt", 1: "mut"})
    fs.pl.drug_boxplot(ic50, groups, list(ic50.columns[:3]), save=tmp_path / "box.png")
    for name in ("volcano.png", "box.png"):
        image = mpimg.imread(tmp_path / name)
        assert image.shape[0] > 100 and image[..., :3].std() > 0.05
