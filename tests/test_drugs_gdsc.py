"""Drug response on real data: the bundled GDSC copy, cross-validation on real cell lines against
the baselines, known biology on real tumours (GSE1992), and the BCBM drug analysis."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.linear_model import RidgeCV

import ferroscore as fs
from ferroscore import drugs
from ferroscore.drugs.prediction import prepare_features
from ferroscore.drugs.validation import RIDGECV_ALPHAS

from .conftest import REPO

SOURCE = Path("/work/shared/data/gdsc")


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


@pytest.fixture(scope="module")
def gdsc2():
    return fs.datasets.gdsc("GDSC2")


# -- the bundled copy -----------------------------------------------------------------------------


@pytest.mark.parametrize(("screen", "n_lines", "n_drugs"), [("GDSC2", 919, 286),
                                                            ("GDSC1", 920, 378)])
def test_gdsc_shapes_and_alignment(screen, n_lines, n_drugs):
    data = fs.datasets.gdsc(screen.lower())
    assert data.screen == screen
    assert data.expression.shape == (6163, n_lines) and data.response.shape == (n_lines, n_drugs)
    assert data.expression.columns.equals(data.response.index)
    assert data.lines.index.equals(data.response.index)
    for axis in (data.expression.index, data.expression.columns, data.response.columns):
        assert not axis.has_duplicates
    assert data.expression.dtypes.eq(np.float64).all()
    assert np.isfinite(data.expression.to_numpy()).all()
    assert not np.isinf(data.response.to_numpy()).any()
    # 3-decimal expression, 6-decimal ln IC50, as the source
    np.testing.assert_array_equal(data.expression.to_numpy(), data.expression.round(3).to_numpy())
    assert data.lines.loc["ZR7530", "name"] == "ZR-75-30"
    assert data.lines["tissue"].eq("breast").sum() == 50


def test_gdsc_name_rule_excludes_collisions_and_reports():
    data = fs.datasets.gdsc("GDSC2")
    report = data.report
    assert report["excluded_ambiguous_lines"] == {"KMH2": ["KM-H2", "KMH-2"], "TT": ["T-T", "TT"]}
    assert not {"KMH2", "TT"} & set(data.expression.columns)
    assert "CAPAN2" in report["name_variants_across_tables"]  # Capan-2 vs CAPAN-2: same line
    assert "NCI-H460" in report["unmatched_lines"] and len(report["unmatched_lines"]) == 46
    duplicated = {d["drug"] for d in report["duplicated_drugs"]}
    assert {"Docetaxel", "Oxaliplatin", "Fulvestrant", "Selumetinib"} <= duplicated
    gdsc1 = {d["drug"] for d in fs.datasets.gdsc("GDSC1").report["duplicated_drugs"]}
    assert {"Cisplatin", "Doxorubicin"} <= gdsc1


def test_gdsc_known_biology_of_the_lines(gdsc2):
    """Sanity checks measured on the source folder (its README): HER2-amplified lines top ERBB2;
    dasatinib ln IC50 vs CAV1 rho = -0.33 over all matched lines (here 2 fewer lines)."""
    top = set(gdsc2.expression.loc["ERBB2"].nlargest(10).index)
    assert {"HCC1954", "UACC812", "AU565", "UACC893", "HCC1419"} <= top
    both = gdsc2.response["Dasatinib"].notna()
    rho = stats.spearmanr(gdsc2.response.loc[both, "Dasatinib"],
                          gdsc2.expression.loc["CAV1", both]).statistic
    assert rho == pytest.approx(-0.33, abs=0.01)


def test_gdsc_for_tissue(gdsc2):
    breast = gdsc2.for_tissue("breast")
    assert breast.response.shape[0] == 50 == breast.report["n_lines_tissue"]
    assert breast.lines["tissue"].eq("breast").all()
    with pytest.raises(ValueError, match="no GDSC2 line has tissue 'brest'; tissues: "):
        gdsc2.for_tissue("brest")
    with pytest.raises(ValueError, match=r"screen must be one of \('GDSC1', 'GDSC2'\)"):
        fs.datasets.gdsc("GDSC3")


@pytest.mark.skipif(not SOURCE.is_dir(), reason="needs the shared GDSC source folder")
def test_build_script_reproduces_the_bundled_copy(tmp_path):
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "build_gdsc.py"), str(SOURCE),
                           "--out", str(tmp_path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    bundled = REPO / "src" / "ferroscore" / "data" / "gdsc"
    for name in ("expression.npz", "GDSC1.npz", "GDSC2.npz", "cell_lines.tsv.gz", "report.json"):
        digest = [hashlib.sha256((folder / name).read_bytes()).hexdigest()
                  for folder in (bundled, tmp_path)]
        assert digest[0] == digest[1], name


@pytest.mark.skipif(not SOURCE.is_dir(), reason="needs the shared GDSC source folder")
def test_bundled_values_equal_the_source(gdsc2):
    source = pd.read_csv(SOURCE / "gdsc2_ln_ic50.csv.gz")
    rows = source[source["CELL_LINE_NAME"].isin(["ZR-75-30", "MDA-MB-231", "HCC1954"])]
    rows = rows.assign(line=rows["CELL_LINE_NAME"].str.replace("-", "", regex=False).str.upper())
    expected = rows.groupby(["line", "DRUG_NAME"])["LN_IC50"].mean()  # duplicates averaged
    got = gdsc2.response.stack().loc[expected.index]
    # exact at 6 decimals; averaged duplicates are rounded to 6 decimals
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=0, atol=5.01e-7)
    expression = pd.read_csv(SOURCE / "gdsc_expression.tsv.gz", sep="\t", index_col=0,
                             usecols=["gene", "ZR7530", "HCC1954"])
    np.testing.assert_array_equal(gdsc2.expression[["ZR7530", "HCC1954"]].to_numpy(),
                                  expression.to_numpy())


# -- cross-validation on real cell lines ---------------------------------------------------------

CV_DRUGS = ["Lapatinib", "Bortezomib"]


@pytest.fixture(scope="module")
def cv(gdsc2):
    return drugs.cross_validate(gdsc2.expression, gdsc2.response[CV_DRUGS], lines=gdsc2.lines,
                                n_boot=300)


def test_cross_validation_numbers_and_verdicts(cv):
    """Measured on GDSC2 (README): held-out Spearman 0.51 (lapatinib) and 0.53 (bortezomib);
    within tissues 0.29 and 0.21; the training-tissue mean alone reaches 0.40 and 0.50."""
    table = cv.table.set_index("drug")
    assert table.loc["Lapatinib", "n"] == 916 and cv.params["n_lines"] == 919
    for drug, (pan, within, tissue_mean) in {"Lapatinib": (0.51, 0.29, 0.40),
                                             "Bortezomib": (0.53, 0.21, 0.50)}.items():
        assert table.loc[drug, "spearman"] == pytest.approx(pan, abs=0.03)
        assert table.loc[drug, "spearman_within_tissue"] == pytest.approx(within, abs=0.04)
        assert table.loc[drug, "tissue_mean_spearman"] == pytest.approx(tissue_mean, abs=0.03)
        assert table.loc[drug, "n_tissues"] == 17
    assert table.loc["Lapatinib", "verdict"].startswith("skill within tissues; above the tissue")
    assert "like the tissue mean" in table.loc["Bortezomib", "verdict"]
    assert table["adds_skill"].tolist() == [True, False]
    assert "adds skill (within tissues and above the tissue mean) for 1 of 2 drugs and not for " \
           "Bortezomib" in cv.summary


def test_cross_validation_equals_the_pipeline_and_baselines_fold_by_fold(cv, gdsc2):
    """Each fold's held-out predictions are predict_response trained on the other folds; the
    baselines are sklearn's RidgeCV on the same features and a pandas tissue mean."""
    test = cv.folds.index[cv.folds == 0]
    train = cv.folds.index[cv.folds != 0]
    expr, response = gdsc2.expression, gdsc2.response[CV_DRUGS]
    direct = quiet(drugs.predict_response, expr[train], response.loc[train], expr[test])
    pd.testing.assert_frame_equal(cv.predictions["pipeline"].loc[test], direct.predictions,
                                  check_names=False, rtol=1e-9)
    features = prepare_features(expr[train], expr[test], homogenize="combat",
                                min_variance_quantile=0.2)
    y = response.loc[train, "Lapatinib"].dropna()
    ridge = RidgeCV(alphas=RIDGECV_ALPHAS).fit(features.x_train[train.get_indexer(y.index)], y)
    np.testing.assert_allclose(cv.predictions["ridgecv"].loc[test, "Lapatinib"],
                               ridge.predict(features.x_test), rtol=1e-9)
    tissue = gdsc2.lines["tissue"]
    means = y.groupby(tissue.loc[y.index]).mean()
    np.testing.assert_allclose(cv.predictions["tissue_mean"].loc[test, "Lapatinib"],
                               tissue.loc[test].map(means).fillna(y.mean()), rtol=1e-12)


def test_cross_validation_within_tissue_definition(cv, gdsc2):
    pred = cv.predictions["pipeline"]["Lapatinib"]
    obs = gdsc2.response["Lapatinib"]
    ok = obs.notna()
    tissue = gdsc2.lines.loc[ok, "tissue"]
    rhos = {t: stats.spearmanr(pred[ok][tissue == t], obs[ok][tissue == t]).statistic
            for t, n in tissue.value_counts().items() if n >= 15}
    row = cv.table.set_index("drug").loc["Lapatinib"]
    assert row["n_tissues"] == len(rhos)
    assert row["spearman_within_tissue"] == pytest.approx(np.median(list(rhos.values())),
                                                          abs=1e-12)
    assert row["spearman_breast"] == pytest.approx(rhos["breast"], abs=1e-12)
    assert row["spearman"] == pytest.approx(stats.spearmanr(pred[ok], obs[ok]).statistic,
                                            abs=1e-12)


def test_cross_validation_on_one_tissue(gdsc2):
    result = drugs.cross_validate(gdsc2.expression, gdsc2.response[["Lapatinib"]],
                                  lines=gdsc2.lines, tissue="breast", n_boot=100)
    assert result.params["n_lines"] == 50 and result.params["tissue"] == "breast"
    row = result.table.iloc[0]
    assert row["n"] == gdsc2.for_tissue("breast").response["Lapatinib"].notna().sum() == 49
    assert row["n_tissues"] == 1
    assert row["spearman_breast"] == pytest.approx(row["spearman"], abs=1e-12)


def test_cross_validation_bad_input(gdsc2):
    response = gdsc2.response[["Lapatinib"]]
    with pytest.raises(ValueError, match="tissue= needs lines="):
        drugs.cross_validate(gdsc2.expression, response, tissue="breast")
    with pytest.raises(ValueError, match="no line has tissue 'brain'"):
        drugs.cross_validate(gdsc2.expression, response, lines=gdsc2.lines, tissue="brain")
    with pytest.raises(ValueError, match="folds must be an integer >= 2"):
        drugs.cross_validate(gdsc2.expression, response, folds=1)
    with pytest.raises(ValueError, match=r"lines has no row for 3 lines"):
        drugs.cross_validate(gdsc2.expression, response, lines=gdsc2.lines.iloc[3:])


# -- known biology on real tumours ---------------------------------------------------------------

BIOLOGY_DRUGS = ["Lapatinib", "Afatinib", "Gefitinib", "Erlotinib", "Dasatinib", "Trametinib",
                 "Tamoxifen", "Fulvestrant"]


@pytest.fixture(scope="module")
def tumour_predictions(gdsc2, breast):
    expression, _ = breast
    return quiet(drugs.predict_response, gdsc2.expression, gdsc2.response[BIOLOGY_DRUGS],
                 expression).predictions


@pytest.mark.parametrize(("drug", "gene", "bound"), [
    ("Lapatinib", "ERBB2", -0.25),   # HER2 inhibitor (measured -0.36)
    ("Afatinib", "ERBB2", -0.25),    # irreversible pan-ErbB inhibitor incl. HER2 (-0.33)
    ("Gefitinib", "EGFR", -0.25),    # EGFR inhibitor (-0.60)
    ("Erlotinib", "EGFR", -0.25),    # EGFR inhibitor (-0.47)
])
def test_targeted_drug_predictions_follow_their_target(tumour_predictions, breast, drug, gene,
                                                        bound):
    expression, _ = breast
    rho = stats.spearmanr(tumour_predictions[drug], expression.loc[gene]).statistic
    assert rho <= bound


@pytest.mark.parametrize(("drug", "max_p"), [
    ("Dasatinib", 1e-3),   # basal / triple-negative lines are dasatinib-sensitive (Finn 2007)
    ("Trametinib", 0.05),  # basal-like breast cancer is MEK-inhibitor-sensitive (Mirzoeva 2009)
])
def test_er_negative_tumours_are_predicted_more_sensitive(tumour_predictions, breast, drug,
                                                          max_p):
    _, clinical = breast
    er = clinical["er_positive"]
    positive = tumour_predictions.loc[er.eq(1).fillna(False).to_numpy(), drug]
    negative = tumour_predictions.loc[er.eq(0).fillna(False).to_numpy(), drug]
    assert positive.median() > negative.median()
    assert stats.mannwhitneyu(positive, negative).pvalue < max_p


@pytest.mark.xfail(strict=True, reason="does not hold: GDSC's 72-hour IC50s of tamoxifen and "
                                       "fulvestrant do not track oestrogen-receptor status, so "
                                       "ER+ tumours are not predicted more sensitive (README)")
@pytest.mark.parametrize("drug", ["Tamoxifen", "Fulvestrant"])
def test_endocrine_drugs_predicted_more_sensitive_in_er_positive(tumour_predictions, breast,
                                                                 drug):
    _, clinical = breast
    er = clinical["er_positive"]
    positive = tumour_predictions.loc[er.eq(1).fillna(False).to_numpy(), drug]
    negative = tumour_predictions.loc[er.eq(0).fillna(False).to_numpy(), drug]
    assert positive.median() < negative.median()
    assert stats.mannwhitneyu(positive, negative).pvalue < 0.05


# -- the BCBM drug analysis ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def analysis(breast):
    expression, _ = breast
    core = fs.score(expression, "ferroptosis_core")
    return quiet(drugs.drug_sensitivity, core, expression, n_null=100), core


def test_drug_sensitivity_rows_screens_and_reported_directions(analysis):
    result, _ = analysis
    table = result.table.set_index("drug")
    assert list(table.index) == drugs.STUDY_DRUGS and len(table) == 15
    gdsc1 = {"Etoposide", "Pazopanib", "Sunitinib", "Doxorubicin"}
    assert set(table.index[table["screen"] == "GDSC1"]) == gdsc1
    assert table.loc["Doxorubicin", "reported_direction"] == (
        "less sensitive (Zhu 2022); more sensitive (Xu)")
    assert table.loc["Gefitinib", "study"] == "Zhu 2022; Xu"
    assert table.loc["Docetaxel", "note"].startswith("GDSC2 lists Docetaxel under several drug")
    assert (table["score"] == "ferroptosis_core").all() and (table["reason"] == "").all()
    assert set(table["found_direction"]) <= {"more sensitive", "less sensitive", "no difference"}
    assert result.predictions.shape == (124, 15)
    excluded = result.params["signature"]["excluded_from_features"]
    assert {"GPX4", "ACSL4", "LPCAT3", "MBOAT5"} <= set(excluded)


def test_drug_sensitivity_statistics_recomputed(analysis, breast):
    result, core = analysis
    table = result.table.set_index("drug")
    score = core.scores["ferroptosis_core"]
    high = score > score.median()
    predicted = result.predictions["Lapatinib"]
    mw = stats.mannwhitneyu(predicted[high], predicted[~high], alternative="two-sided",
                            method="asymptotic")
    row = table.loc["Lapatinib"]
    assert row["p_mannwhitney"] == pytest.approx(mw.pvalue, rel=1e-12)
    assert row["rank_biserial"] == pytest.approx(2 * mw.statistic / (62 * 62) - 1, abs=1e-12)
    assert row["difference"] == pytest.approx(predicted[high].median() - predicted[~high].median())
    assert row["rho"] == pytest.approx(stats.spearmanr(score, predicted).statistic, abs=1e-12)
    q = fs.significance.benjamini_hochberg(table["p_mannwhitney"].to_numpy())
    np.testing.assert_allclose(table["q_mannwhitney"], q, rtol=1e-12)
    null = result.null["Lapatinib"]
    assert len(null) == 100
    expected = (1 + (null.abs() >= abs(row["rho"]) - 1e-12).sum()) / 101
    assert row["p_empirical"] == pytest.approx(expected, abs=1e-12)
    found = np.where(table["q_mannwhitney"] >= 0.05, "no difference",
                     np.where(table["difference"] < 0, "more sensitive", "less sensitive"))
    assert (table["found_direction"] == found).all()


def test_guard_models_without_the_signature_genes(analysis, gdsc2, breast):
    result, _ = analysis
    expression, _ = breast
    excluded = result.params["signature"]["excluded_from_features"]
    direct = quiet(drugs.predict_response, gdsc2.expression, gdsc2.response[["Lapatinib"]],
                   expression, exclude_genes=excluded)
    assert direct.params["n_genes_excluded"] == 6  # GPX4, NCOA4, LPCAT3 are not in GDSC
    np.testing.assert_allclose(result.predictions_without_signature["Lapatinib"],
                               direct.predictions["Lapatinib"], rtol=1e-9)


def test_guard_random_sets_match_size_and_expression(breast):
    from ferroscore.drugs.sensitivity import N_BINS, _random_sets, _sides

    expression, _ = breast
    signature = fs.genesets.load("ferroptosis_core")
    located = _sides(signature, expression.index)
    sets = _random_sets(signature, located, expression, 20, seed=0)
    means = expression.mean(axis=1)
    bins = pd.Series(pd.qcut(means.rank(method="first"), N_BINS, labels=False).to_numpy(),
                     index=expression.index)
    own = {g for loc in located for g in loc.features}
    assert len({s.genes for s in sets}) == 20  # all different
    for side, loc in zip(("up", "down"), located, strict=True):
        expected = sorted(bins[loc.features])
        for random_set in sets:
            genes = getattr(random_set, side).genes
            assert len(genes) == loc.n_found and not own & set(genes)
            assert sorted(bins[list(genes)]) == expected


def test_positive_control_erbb2_score_and_lapatinib(breast):
    """Known truth on real data: a 'score' that is ERBB2 expression must find lapatinib more
    sensitive in the high group and keep the association without ERBB2 in the predictors (the
    17q12 amplicon carries it). Random single genes of matched expression reach |rho| >= 0.36
    with predicted lapatinib IC50 in about 15% of draws (README): the null is demanding."""
    expression, _ = breast
    erbb2 = expression.loc["ERBB2"].rename("erbb2")
    result = quiet(drugs.drug_sensitivity, erbb2, expression, drugs=["lapatinib"],
                   signature=["ERBB2"], method="mean", n_null=100,
                   null_scorer=lambda expr, sets: pd.DataFrame(
                       {s.name: expr.loc[list(s.genes)].mean() for s in sets}))
    row = result.table.iloc[0]
    assert row["drug"] == "Lapatinib" and row["found_direction"] == "more sensitive"
    assert row["agreement"] == "Zhu 2022: agrees"
    assert row["rho"] < -0.25 and 0.05 < row["p_empirical"] < 0.3
    assert result.null["Lapatinib"].std() > 0.1 and result.params["null_method"] == "custom"
    assert row["rho_without_signature_genes"] < -0.2 and row["q_without_signature_genes"] < 0.05


def test_drug_sensitivity_accepts_any_score_series(breast):
    expression, _ = breast
    score = fs.score(expression, "fpi").scores["fpi"].rename("my_score")
    with pytest.warns(UserWarning, match="guards .* were not run; pass signature="):
        result = drugs.drug_sensitivity(score, expression, drugs=["Trametinib"], n_null=0)
    row = result.table.iloc[0]
    assert row["score"] == "my_score" and row["reported_direction"] == ""
    assert row["agreement"] in ("no reported direction", "")
    assert np.isnan(row["p_empirical"]) and np.isnan(row["rho_without_signature_genes"])
    tertiles = quiet(drugs.drug_sensitivity, score, expression, drugs=["Trametinib"],
                     groups="tertiles", n_null=0)
    assert tertiles.params["n_left_out_of_groups"] == 124 - 42 - 41
    assert tertiles.table.iloc[0]["n_low"] + tertiles.table.iloc[0]["n_high"] == 83


def test_drug_sensitivity_bad_input(breast):
    expression, _ = breast
    score = fs.score(expression, "ferroptosis_core").scores["ferroptosis_core"]
    with pytest.raises(ValueError, match=r"'lapatinb' \(close: Lapatinib"):
        drugs.drug_sensitivity(score, expression, drugs=["lapatinb"])
    result = quiet(drugs.drug_sensitivity, score, expression, drugs=["Cisplatin", "Lapatinib"],
                   min_train_samples=800, n_null=0)
    table = result.table.set_index("drug")
    assert table.loc["Cisplatin", "reason"] == "fewer than min_train_samples=800 lines"
    assert np.isnan(table.loc["Cisplatin", "q_mannwhitney"])
    assert "Not analysed: Cisplatin." in result.summary
    with pytest.raises(ValueError, match=r"share only 50 gene names; at least "
                                         r"min_shared_genes=100"):
        drugs.drug_sensitivity(score, expression.loc[expression.index.intersection(
            fs.datasets.gdsc().expression.index)[:50]], drugs=["Lapatinib"])
    with pytest.raises(ValueError, match="sample IDs differ between scores and tumour_expr"):
        drugs.drug_sensitivity(score.iloc[1:], expression, drugs=["Lapatinib"])
    with pytest.raises(ValueError, match="training must be one of"):
        drugs.drug_sensitivity(score, expression, training="CTRP")


def test_custom_null_scores_are_aligned_by_sample_id():
    from ferroscore.drugs.sensitivity import _null_scores

    sets = [fs.genesets.GeneSet("null_0", ("A",)), fs.genesets.GeneSet("null_1", ("B",))]
    samples = pd.Index(["s1", "s2", "s3"])
    shuffled = pd.DataFrame({"null_1": [2.0, 3.0, 1.0], "null_0": [20.0, 30.0, 10.0]},
                            index=["s2", "s3", "s1"])
    aligned = _null_scores(shuffled, sets, samples)
    assert aligned.index.tolist() == ["s1", "s2", "s3"]
    assert aligned["null_0"].tolist() == [10.0, 20.0, 30.0]
    with pytest.raises(ValueError, match=r"one row per tumour \(missing: \['s1'\]\)"):
        _null_scores(shuffled.drop(index="s1"), sets, samples)
    with pytest.raises(TypeError, match="null_scorer must return a samples x sets DataFrame"):
        _null_scores(shuffled.to_numpy(), sets, samples)
