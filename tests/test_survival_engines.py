"""Conformance of the prognostic-signature engines with R: ``screen`` (survival ``coxph``),
``coxnet`` / ``cv_coxnet`` (glmnet 4.1.6) and ``meta_analysis`` (metafor 3.8.1), on GSE1992
(tests/data/prognostic_gse1992, tests/data/meta_analysis) and on a second, synthetic cohort with
tied times, unpenalised genes and covariates (tests/data/prognostic_synthetic, made by its
make_reference.R)."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import ferroscore as fs
from ferroscore.survival._breslow import breslow_data, loglik
from ferroscore.tables import read_table

from .agreement import tolerance
from .conftest import DATA, REPO

GSE = DATA / "prognostic_gse1992"
SYN = DATA / "prognostic_synthetic"
RENAMES = {"MBOAT5": "LPCAT3", "CARS": "CARS1", "ATP5G3": "ATP5MC3", "TTC35": "EMC2",
           "JMJD1B": "KDM3B"}


def max_rel(ours, theirs):
    ours, theirs = np.asarray(ours, float), np.asarray(theirs, float)
    zero = theirs == 0
    error = np.abs(ours - theirs) / np.where(zero, 1.0, np.abs(theirs))  # absolute at 0
    return float(np.max(error))


def max_abs(ours, theirs):
    return float(np.max(np.abs(np.asarray(ours, float) - np.asarray(theirs, float))))


@pytest.fixture(scope="module")
def gse(breast):
    """The fixture's X (124 tumours x 208 candidate genes), time and event (README recipe)."""
    expression, clinical = breast
    names = [RENAMES[g] if g in RENAMES and RENAMES[g] not in expression.index else g
             for g in expression.index]
    expression = expression.set_axis(names)
    candidates = (GSE / "candidates.txt").read_text().split()
    X = expression.loc[[g for g in candidates if g in expression.index]].T
    X = X.loc[:, X.var() > 0]
    return X, clinical["rfs_months"], clinical["rfs_event"]


@pytest.fixture(scope="module")
def synthetic():
    cohort = read_table(SYN / "cohort.csv")
    genes = [c for c in cohort.columns if c.startswith("G")]
    return cohort, cohort[genes]


def objective(path_coef, X, time, event, lam, alpha, standardize=True, factors=None):
    """glmnet's penalised objective of original-scale coefficients (own Breslow likelihood)."""
    x = X.to_numpy(dtype=float)
    data = breslow_data(np.asarray(time, float), np.asarray(event, int))
    sd = x.std(axis=0) if standardize else np.ones(x.shape[1])
    factors = np.ones(x.shape[1]) if factors is None else factors * len(factors) / factors.sum()
    b = path_coef * sd
    penalty = lam * np.sum(factors * (alpha * np.abs(b) + (1 - alpha) * b**2 / 2))
    return -loglik(data, x[data.order] @ path_coef) / len(x) + penalty


# -- GSE1992 -----------------------------------------------------------------------------------


def test_screen_gse1992(gse):
    X, time, event = gse
    clinical = pd.DataFrame({"time": time, "event": event})
    table = fs.survival.screen(X.T, clinical, time="time", event="event")
    reference = pd.read_csv(GSE / "univariate_cox.csv.gz", index_col=0)
    assert table.index.tolist() == reference.index.tolist()
    assert table["converged"].all() and (table["n"] == 124).all()
    for column in ("coef", "hr", "se", "z", "p", "q"):
        assert max_rel(table[column], reference[column]) <= tolerance("screen_gse1992"), column


@pytest.mark.parametrize(("name", "alpha", "converged"), [("lasso", 1.0, 28),
                                                          ("enet05", 0.5, 34)])
def test_coxnet_paths_gse1992(gse, name, alpha, converged):
    X, time, event = gse
    path = fs.survival.coxnet(X, time, event, alpha=alpha)
    ref_path = pd.read_csv(GSE / f"coxnet_{name}_path.csv")
    ref_coef = pd.read_csv(GSE / f"coxnet_{name}_coef.csv.gz", index_col=0)
    n = len(ref_path)
    assert len(path.lambdas) >= n and path.converged.all()
    assert max_rel(path.lambdas[:n], ref_path["lambda"]) <= tolerance("coxnet_lambdas_gse1992")
    assert path.coef.index.tolist() == ref_coef.index.tolist()
    ours = path.coef.to_numpy()[:, :n]
    assert max_abs(ours[:, :converged], ref_coef.iloc[:, :converged]) \
        <= tolerance("coxnet_coef_gse1992")
    assert max_abs(path.df[:n], ref_path["df"]) <= tolerance("coxnet_df_gse1992")
    assert max_abs(path.dev_ratio[:n], ref_path["dev_ratio"]) \
        <= tolerance("coxnet_dev_ratio_gse1992")
    for k in range(n):  # where glmnet has not converged, ours is at least as good
        mine = objective(ours[:, k], X, time, event, path.lambdas[k], alpha)
        theirs = objective(ref_coef.iloc[:, k].to_numpy(), X, time, event, path.lambdas[k],
                           alpha)
        assert mine <= theirs + tolerance("coxnet_objective_gse1992"), k


@pytest.fixture(scope="module")
def cv_gse(gse):
    X, time, event = gse
    folds = pd.read_csv(GSE / "folds.csv", index_col=0)["fold"]
    return {measure: fs.survival.cv_coxnet(X, time, event, folds=folds, measure=measure)
            for measure in ("deviance", "C")}


@pytest.mark.parametrize(("measure", "key"), [("deviance", "cv_deviance_gse1992"),
                                              ("C", "cv_c_gse1992")])
def test_cv_coxnet_gse1992(cv_gse, measure, key):
    cv = cv_gse[measure]
    reference = pd.read_csv(GSE / f"cv_{measure}.csv")
    expected = json.loads((GSE / "reference.json").read_text())["cv"][measure]
    n = len(reference)
    assert max_rel(cv.cvm[:n], reference["cvm"]) <= tolerance(key)
    assert max_rel(cv.cvsd[:n], reference["cvsd"]) <= tolerance(key)
    assert (cv.nzero[:n] == reference["nzero"]).all()
    lambdas = reference["lambda"].to_numpy()
    assert cv.index_min == int(np.flatnonzero(lambdas == expected["lambda_min"])[0])
    assert cv.index_1se == int(np.flatnonzero(lambdas == expected["lambda_1se"])[0])
    selected = cv.coef_min[cv.coef_min != 0]
    assert sorted(selected.index) == sorted(expected["coef_min"])
    if measure == "deviance":
        assert selected.empty  # CV deviance picks the null model on this cohort, as glmnet


def test_risk_score_of_the_c_model_gse1992(gse, cv_gse):
    X, _, _ = gse
    risk = json.loads((GSE / "reference.json").read_text())["risk"]
    reference = pd.Series(risk["lp_train_C"])
    cv = cv_gse["C"]
    ours = cv.path.predict(X, cv.lambda_min)
    assert int((cv.coef_min != 0).sum()) == risk["n_selected_C"] == 10
    assert max_abs(ours.reindex(reference.index), reference) <= tolerance("risk_score_c_gse1992")
    c = fs.survival.concordance(gse[1], gse[2], ours)
    assert abs(c - risk["concordance_C"]) <= tolerance("concordance_harrell")


META_FIELDS = {"z": "statistic", "t": "statistic"}


def check_meta(result, expected: dict, key: str):
    for field, value in expected.items():
        if field == "Q_df":
            assert result.Q_df == value
            continue
        if field == "df":
            assert result.df == value
            continue
        ours = getattr(result, META_FIELDS.get(field, field))
        if value is None:
            assert np.isnan(ours), field
        else:
            assert max_rel(ours, value) <= tolerance(key), field


@pytest.mark.parametrize("model", ["FE", "DL", "REML", "PM", "HE", "SJ", "REML_knha"])
def test_meta_analysis_bcg(model):
    data = pd.read_csv(DATA / "meta_analysis" / "bcg_input.csv")
    expected = json.loads((DATA / "meta_analysis" / "reference.json").read_text())[model]
    result = fs.survival.meta_analysis(data["yi"], data["sei"], method=model.split("_")[0],
                                       knha=model.endswith("knha"))
    check_meta(result, expected, "meta_bcg")


# -- the synthetic cohort with ties ------------------------------------------------------------


@pytest.mark.parametrize("adjusted", [False, True])
def test_screen_synthetic(synthetic, adjusted):
    cohort, X = synthetic
    reference = pd.read_csv(SYN / "univariate_cox.csv", index_col=0)
    covariates = ["age", "stage"] if adjusted else None
    table = fs.survival.screen(X.T, cohort, time="time", event="event", covariates=covariates)
    suffix = "_adj" if adjusted else ""
    for column in ("coef", "se", "p"):
        assert max_rel(table[column], reference[column + suffix]) \
            <= tolerance("screen_synthetic"), column


@pytest.mark.parametrize(("name", "options"), [
    ("coxnet_enet07_pf", {"alpha": 0.7, "penalty_factor": np.r_[0, 0.5, 2, np.ones(37)]}),
    ("coxnet_lasso_unstandardized", {"standardize": False}),
])
def test_coxnet_paths_synthetic(synthetic, name, options):
    cohort, X = synthetic
    path = fs.survival.coxnet(X, cohort["time"], cohort["event"], **options)
    ref_path = pd.read_csv(SYN / f"{name}_path.csv")
    ref_coef = pd.read_csv(SYN / f"{name}_coef.csv", index_col=0)
    assert len(path.lambdas) == len(ref_path)  # glmnet's path rules stop at the same lambda
    assert max_rel(path.lambdas, ref_path["lambda"]) <= tolerance("coxnet_lambdas_synthetic")
    assert max_abs(path.coef, ref_coef) <= tolerance("coxnet_coef_synthetic")
    assert (path.df == ref_path["df"]).all()
    assert max_abs(path.dev_ratio, ref_path["dev_ratio"]) \
        <= tolerance("coxnet_dev_ratio_synthetic")
    if "penalty_factor" in options:  # the unpenalised gene is in the model from the start
        assert (path.coef.loc["G01"] != 0).all() and path.df[0] == 1


@pytest.mark.parametrize("measure", ["deviance", "C"])
def test_cv_coxnet_synthetic(synthetic, measure):
    cohort, X = synthetic
    folds = pd.read_csv(SYN / "folds.csv", index_col=0)["fold"]
    cv = fs.survival.cv_coxnet(X, cohort["time"], cohort["event"], folds=folds, measure=measure)
    reference = pd.read_csv(SYN / f"cv_{measure}.csv")
    expected = json.loads((SYN / "reference.json").read_text())["cv"][measure]
    assert len(cv.lambdas) == len(reference)
    assert max_rel(cv.cvm, reference["cvm"]) <= tolerance("cv_synthetic")
    assert max_rel(cv.cvsd, reference["cvsd"]) <= tolerance("cv_synthetic")
    assert (cv.index_min + 1, cv.index_1se + 1) == (expected["index_min"], expected["index_1se"])
    assert max_rel([cv.lambda_min, cv.lambda_1se],
                   [expected["lambda_min"], expected["lambda_1se"]]) \
        <= tolerance("coxnet_lambdas_synthetic")


@pytest.mark.parametrize("dataset", ["meta_hackshaw", "meta_homogeneous"])
def test_meta_analysis_synthetic(dataset):
    data = pd.read_csv(SYN / f"{dataset}.csv")
    reference = json.loads((SYN / "reference.json").read_text())[dataset]
    for model, expected in reference.items():
        result = fs.survival.meta_analysis(data["yi"], np.sqrt(data["vi"]),
                                           method=model.split("_")[0],
                                           knha=model.endswith("knha"))
        check_meta(result, expected, "meta_synthetic")
    if dataset == "meta_homogeneous":  # Q < k - 1: truncated at 0 (SJ is positive by design)
        assert all(v["tau2"] == 0 for m, v in reference.items() if not m.startswith("SJ"))


def test_the_readme_signature_workflow_runs():
    import matplotlib

    matplotlib.use("Agg")
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)
    (code,) = [b for b in blocks if "fs.survival.cv_coxnet" in b]
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    assert len(namespace["signature"]) > 0 and namespace["table"]["converged"].all()
    assert isinstance(namespace["pooled"], fs.survival.MetaAnalysis)


def test_forest_plot_of_a_meta_analysis(tmp_path):
    import matplotlib
    import matplotlib.image as mpimg

    matplotlib.use("Agg")
    data = pd.read_csv(DATA / "meta_analysis" / "bcg_input.csv")
    labels = data["author"] + " " + data["year"].astype(str)
    pooled = fs.survival.meta_analysis(data["yi"], data["sei"], labels=labels)
    ax = fs.pl.forest(pooled, save=tmp_path / "meta.png")
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "RE (REML)"
    assert "I2 = 92%" in ax.get_title()
    image = mpimg.imread(tmp_path / "meta.png")
    assert image.shape[0] > 300 and image[..., :3].std() > 0.05
