"""RiskModel, validate_internal, validate, calibration and the time-dependent ROC: conformance
with R (glmnet 4.1.6, survival 3.5.3) on GSE1992, the scikit-learn protocol, the JSON round
trip, invariances, and known truths on simulated cohorts (tests/risk_cohorts.py)."""

from __future__ import annotations

import copy
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

import ferroscore as fs

from .agreement import tolerance
from .conftest import DATA
from .risk_cohorts import cohort

GSE = DATA / "prognostic_gse1992"
RISK = DATA / "risk_gse1992"
RENAMES = {"MBOAT5": "LPCAT3", "CARS": "CARS1", "ATP5G3": "ATP5MC3", "TTC35": "EMC2",
           "JMJD1B": "KDM3B"}
SIGNAL = {"S1": 0.8, "S2": -0.6, "S3": 0.5}  # log HR per SD of x'beta: |beta| = 1.12


@pytest.fixture(scope="module")
def gse(breast):
    """GSE1992 as the fixture's README prepares it: renamed genes, the candidates present and
    variable (in candidates order), relapse-free survival, glmnet's fold ids."""
    expression, clinical = breast
    names = [RENAMES[g] if g in RENAMES and RENAMES[g] not in expression.index else g
             for g in expression.index]
    expression = expression.set_axis(names)
    candidates = (GSE / "candidates.txt").read_text().split()
    present = expression.loc[[g for g in candidates if g in expression.index]]
    genes = list(present.index[present.var(axis=1) > 0])
    folds = pd.read_csv(GSE / "folds.csv", index_col=0)["fold"]
    return expression, clinical, genes, folds


@pytest.fixture(scope="module")
def c_model(gse):
    expression, clinical, genes, folds = gse
    model = fs.survival.RiskModel(genes=genes, measure="C")
    return model.fit(expression, clinical, time="rfs_months", event="rfs_event",
                     fold_ids=folds)


@pytest.fixture(scope="module")
def signal_model():
    expr, clinical = cohort(300, SIGNAL, 3, seed=11)
    return fs.survival.RiskModel(folds=5).fit(expr, clinical, time="time", event="event")


# -- conformance on GSE1992 ----------------------------------------------------------------------


@pytest.mark.parametrize("rule", ["within_cohort", "none"])
def test_predict_on_the_training_cohort_is_glmnets_risk_score(gse, c_model, rule):
    expression = gse[0]
    reference = pd.Series(json.loads((GSE / "reference.json").read_text())["risk"]["lp_train_C"])
    expected = json.loads((GSE / "reference.json").read_text())["cv"]["C"]["coef_min"]
    assert sorted(c_model.genes_) == sorted(expected)
    model = copy.deepcopy(c_model).set_params(standardize_new=rule)
    risk = model.predict(expression)
    assert risk.index.equals(expression.columns)
    assert np.max(np.abs(risk[reference.index] - reference)) <= tolerance(
        "risk_model_lp_train_c_gse1992")


def test_predicted_survival_is_glmnets_survfit(gse, c_model):
    reference = pd.read_csv(RISK / "survfit_C_min.csv", index_col=0)
    ours = c_model.predict_survival(gse[0], [12, 36, 60])
    assert np.max(np.abs(ours.loc[reference.index].to_numpy() - reference.to_numpy())) \
        <= tolerance("risk_model_survfit_gse1992")


def test_the_model_is_the_weighted_sum_of_standardised_genes(gse, c_model):
    expression = gse[0]
    signature = c_model.signature_
    assert isinstance(signature, fs.GeneSet) and signature.genes == tuple(c_model.genes_)
    values = expression.loc[c_model.genes_]
    z = values.sub(values.mean(axis=1), axis=0).div(values.std(axis=1, ddof=0), axis=0)
    result = fs.score(z, signature, "wsum")
    np.testing.assert_allclose(result.scores["risk_score"] + c_model.offset_,
                               c_model.predict(expression), rtol=0, atol=1e-12)
    applied = c_model.apply(expression)
    assert list(applied.coverage.columns) == list(result.coverage.columns)
    assert applied.report["weight_coverage"] == 1.0 and not applied.report["missing"]
    assert applied.group.value_counts().to_dict() == {"low": 62, "high": 62}


# -- scikit-learn and JSON -----------------------------------------------------------------------


def test_sklearn_protocol(signal_model):
    expr, clinical = cohort(120, SIGNAL, 3, seed=2)
    params = signal_model.get_params()
    assert params["folds"] == 5 and params["standardize_new"] == "within_cohort"
    fresh = clone(signal_model)
    assert not hasattr(fresh, "coef_") and fresh.get_params() == params
    pipeline = Pipeline([("log", FunctionTransformer(lambda frame: frame)),
                         ("risk", fs.survival.RiskModel(folds=5))])
    train_expr, train_clinical = cohort(300, SIGNAL, 3, seed=11)
    pipeline.fit(train_expr, train_clinical, risk__time="time", risk__event="event")
    pd.testing.assert_series_equal(pipeline.predict(expr), signal_model.predict(expr))


def test_json_round_trip_predicts_exactly(signal_model, tmp_path):
    expr, _ = cohort(80, SIGNAL, 3, seed=3, scale=2.0, shift=5.0)
    path = signal_model.to_json(tmp_path / "model.json")
    content = json.loads(path.read_text())
    assert content["format"] == "ferroscore.survival.RiskModel"
    assert content["training"]["n"] == 300 and "catalogue_version" in content
    assert content["versions"]["ferroscore"] == fs.__version__
    loaded = fs.survival.RiskModel.from_json(path)
    for data in (expr, cohort(300, SIGNAL, 3, seed=11)[0]):
        pd.testing.assert_series_equal(loaded.predict(data), signal_model.predict(data),
                                       check_exact=True)
    pd.testing.assert_frame_equal(loaded.predict_survival(expr, [12, 36]),
                                  signal_model.predict_survival(expr, [12, 36]),
                                  check_exact=True)
    assert loaded.get_params() == signal_model.get_params()
    loaded.to_json(tmp_path / "again.json")
    assert (tmp_path / "again.json").read_text() == path.read_text()


# -- the cross-platform rule ---------------------------------------------------------------------


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scales=st.lists(st.floats(0.1, 10.0), min_size=6, max_size=6),
       shifts=st.lists(st.floats(-20.0, 20.0), min_size=6, max_size=6),
       order=st.permutations(range(40)))
def test_within_cohort_risk_ignores_each_genes_platform_scale(signal_model, scales, shifts,
                                                              order):
    expr, _ = cohort(40, SIGNAL, 3, seed=5)
    moved = expr.mul(scales, axis=0).add(shifts, axis=0).iloc[::-1, order]  # genes, samples
    np.testing.assert_allclose(signal_model.predict(moved)[expr.columns],
                               signal_model.predict(expr), rtol=0, atol=1e-10)
    np.testing.assert_allclose(signal_model.predict(moved.T)[expr.columns],
                               signal_model.predict(expr), rtol=0, atol=1e-10)


def test_training_scale_rule_uses_values_as_they_are(signal_model):
    expr, _ = cohort(40, SIGNAL, 3, seed=5)
    model = copy.deepcopy(signal_model).set_params(standardize_new="none")
    coef = signal_model.coef_
    np.testing.assert_allclose(model.predict(expr), coef @ expr.loc[coef.index], atol=1e-12)
    assert not np.allclose(model.predict(expr * 2), model.predict(expr))


# -- optimism: known truths ----------------------------------------------------------------------


def test_optimism_is_large_on_noise_and_small_on_a_true_signal(signal_model):
    noise_expr, noise_clinical = cohort(80, {}, 20, seed=0)
    noise = fs.survival.RiskModel(measure="C", folds=5).fit(noise_expr, noise_clinical,
                                                            time="time", event="event")
    noisy = noise.validate_internal(B=8, seed=0)
    assert list(noisy.columns[:3]) == ["apparent", "optimism", "corrected"]
    assert list(noisy.index) == ["C", "AUC_1y", "AUC_3y", "AUC_5y"]
    assert noisy.loc["C", "optimism"] > 0.08  # truth: C = 0.5, apparent well above it
    assert abs(noisy.loc["C", "corrected"] - 0.5) < 0.1
    honest = signal_model.validate_internal(B=8, seed=0)
    assert abs(honest.loc["C", "optimism"]) < 0.02
    external_expr, external_clinical = cohort(2000, SIGNAL, 3, seed=99)
    external_c = fs.survival.concordance(external_clinical["time"], external_clinical["event"],
                                         signal_model.predict(external_expr))
    assert abs(honest.loc["C", "corrected"] - external_c) < 0.03
    resamples = honest.attrs["resamples"]
    assert len(resamples) == 8 and (resamples["n_genes"] >= 3).all()
    assert signal_model.performance() is honest
    assert honest.attrs["selection_frequency"][list(SIGNAL)].eq(1.0).all()


def test_optimism_does_not_depend_on_threads(signal_model):
    one = signal_model.validate_internal(B=3, seed=4, n_jobs=1)
    two = signal_model.validate_internal(B=3, seed=4, n_jobs=2)
    pd.testing.assert_frame_equal(one, two)


# -- external validation: known truths -----------------------------------------------------------


def test_validate_recovers_the_simulated_pooled_hazard_ratio(signal_model):
    first = cohort(400, {"S1": 0.5}, 2, seed=21, prefix="a")
    second = cohort(400, {"S1": 0.5}, 2, seed=22, prefix="b", scale=3.0, shift=-4.0)
    cohorts = {"A": (*first, "time", "event"), "B": (*second, "time", "event")}

    def gene_s1(expr):
        return expr.loc["S1"]

    result = fs.survival.validate(gene_s1, cohorts, B=20)
    assert list(result.table["cohort"]) == ["A", "B"]
    for column in ("cohort", "n", "hr_per_sd", "p", "C"):
        assert column in result.table
    assert result.meta.k == 2 and abs(result.meta.estimate - 0.5) < 0.15
    assert result.meta.ci_lower < 0.5 < result.meta.ci_upper
    truth = np.linalg.norm(list(SIGNAL.values()))
    external = {name: (*cohort(400, SIGNAL, 3, seed=30 + k, prefix=name, scale=1 + k,
                                shift=2 * k), "time", "event") for k, name in enumerate("CD")}
    model_result = fs.survival.validate(signal_model, external, B=20)
    assert abs(model_result.meta.estimate - truth) < 0.2
    assert (model_result.table["weight_coverage"] == 1.0).all()
    assert set(model_result.groups["C"].unique()) == {"low", "high"}


# -- time-dependent AUC and ROC ------------------------------------------------------------------


def test_time_auc_ci_is_time_auc_with_seeded_intervals(breast):
    expression, clinical = breast
    t, e, risk = clinical["rfs_months"], clinical["rfs_event"], expression.loc["CS"]
    table = fs.survival.time_auc_ci(t, e, risk, B=40, seed=3)
    plain = fs.survival.time_auc(t, e, risk, [12, 36, 60])
    np.testing.assert_allclose(table["auc"], plain["auc"], rtol=0, atol=1e-15)
    assert table.attrs["B"] == 40 and (table["n_boot"] == 40).all()
    assert (table["ci_lower"] <= table["auc"]).all() and (table["auc"] <= table["ci_upper"]).all()
    pd.testing.assert_frame_equal(table, fs.survival.time_auc_ci(t, e, risk, B=40, seed=3))
    days = fs.survival.time_auc_ci(t * 365.25 / 12, e, risk, B=40, seed=3, time_unit="days")
    np.testing.assert_allclose(days["auc"], table["auc"], atol=1e-12)
    late = fs.survival.time_auc_ci(t, e, risk, horizons=[20], B=5)
    assert np.isnan(late["auc"].iat[0]) and "followed beyond" in late["note"].iat[0]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), ties=st.booleans())
def test_the_area_under_the_roc_curve_is_the_auc(seed, ties):
    rng = np.random.default_rng(seed)
    n = 60
    t = rng.integers(1, 80, n).astype(float)
    e = rng.integers(0, 2, n)
    e[t < 12] = 1
    risk = rng.integers(0, 4, n).astype(float) if ties else rng.normal(size=n)
    curve = fs.survival.time_roc(t, e, risk, 2)
    assert curve["fpr"].is_monotonic_increasing and curve["tpr"].is_monotonic_increasing
    assert curve.iloc[-1][["fpr", "tpr"]].tolist() == [1.0, 1.0]
    auc = fs.survival.time_auc(t, e, risk, [24.0])["auc"].iat[0]
    assert abs(curve.attrs["auc"] - auc) < 1e-12


# -- calibration and figures ---------------------------------------------------------------------


def test_calibration_on_the_training_cohort(gse, c_model):
    expression, clinical = gse[0], gse[1]
    table = fs.survival.calibration(c_model, expression, clinical, time="rfs_months",
                                    event="rfs_event", horizon=3, groups=3)
    assert list(table["group"]) == ["G1", "G2", "G3"] and table["n"].sum() == 124
    assert table["predicted"].is_monotonic_decreasing
    assert (table["observed_lower"] <= table["observed"]).all()
    assert table.attrs["time"] == 36.0


def _check_png(path, min_height=250):
    import matplotlib.image as mpimg

    image = mpimg.imread(path)
    assert image.shape[0] > min_height and image[..., :3].std() > 0.05


def test_figures(gse, c_model, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    expression, clinical = gse[0], gse[1]
    t, e = clinical["rfs_months"], clinical["rfs_event"]
    risk = c_model.predict(expression)
    ax = fs.pl.time_roc(t, e, risk, B=20, save=tmp_path / "roc.png")
    assert ax.get_xlabel().startswith("1 - specificity") and "B = 20" in ax.get_title()
    assert [x.get_text()[:8] for x in ax.get_legend().get_texts()] == ["1 year: ", "3 years:",
                                                                       "5 years:"]
    fig = fs.pl.risk_score(c_model, expression, clinical, time="rfs_months", event="rfs_event",
                           save=tmp_path / "risk.png")
    assert [a.get_ylabel() for a in fig.axes[:2]] == ["risk score", "rfs_months"]
    assert sorted(t.get_text() for t in fig.axes[2].get_yticklabels()) == sorted(c_model.genes_)
    ax = fs.pl.coef_path(c_model, save=tmp_path / "path.png")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("lambda.min") and labels[1].startswith("lambda.1se")
    assert ax.get_ylabel() == "coefficient per SD"
    ax = fs.pl.cv_curve(c_model, save=tmp_path / "cv.png")
    assert ax.get_ylabel() == "cross-validated Harrell's C"
    table = fs.survival.calibration(c_model, expression, clinical, time="rfs_months",
                                    event="rfs_event", horizon=3)
    ax = fs.pl.calibration(table, save=tmp_path / "calibration.png")
    assert ax.get_xlabel() == "predicted survival at 3 years"
    er = clinical["er_positive"]
    cohorts = {f"ER{'+' if v else '-'}": (expression.loc[:, er == v], clinical[er == v],
                                          "rfs_months", "rfs_event") for v in (0, 1)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the ER groups are the training tumours
        result = fs.survival.validate(c_model, cohorts, B=10)
    ax = fs.pl.validation_forest(result, save=tmp_path / "forest.png")
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks[0].startswith("ER- (n=50") and ticks[-1] == "RE (REML)"
    for name in ("roc", "risk", "path", "cv", "calibration", "forest"):
        _check_png(tmp_path / f"{name}.png")
    plt.close("all")
