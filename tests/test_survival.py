"""Survival analysis against R survival 3.5.3 and maxstat 0.7-25 on the real GSE1992 cohort."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import ferroscore as fs
from ferroscore import survival as sv

from .agreement import tolerance
from .conftest import DATA

REF = json.loads((DATA / "gse1992" / "survival_reference.json").read_text())
COVARIATES = ["score", "age", "er_positive", "node_positive", "grade"]


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(DATA / "gse1992" / "survival_input.csv", index_col=0)


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.max(np.abs(a - b) / np.abs(b))


def test_cox_univariate(data):
    table = sv.cox(data, "time", "event", "score")
    ref = REF["cox_univariate"]
    row = table.iloc[0]
    for ours, theirs in (("coef", "coef"), ("hr", "hr"), ("se", "se"), ("z", "z"),
                         ("p", "p_wald"), ("hr_lower", "hr_lower95"),
                         ("hr_upper", "hr_upper95")):
        assert rel(row[ours], ref[theirs]) <= tolerance("cox_univariate"), ours
    for key in ("p_lrt", "p_score", "concordance"):
        assert rel(table.attrs[key], ref[key]) <= tolerance("cox_tests"), key
    assert (table.attrs["n"], table.attrs["n_events"], row["term"]) == (119, int(
        data["event"].sum()), "score")


def test_cox_per_sd(data):
    table = sv.cox(data, "time", "event", "score", per_sd=True)
    assert rel(table["hr"].iat[0], REF["cox_per_sd"]["hr"]) <= tolerance("cox_per_sd")
    assert rel(table["p"].iat[0], REF["cox_per_sd"]["p_wald"]) <= tolerance("cox_per_sd")
    assert table.attrs["scales"]["score"] == pytest.approx(data["score"].std())


def test_cox_multivariable(data):
    table = sv.cox(data, "time", "event", COVARIATES)
    ref = REF["cox_multivariable"]
    assert table["term"].tolist() == ref["terms"]
    for ours, theirs in (("coef", "coef"), ("hr", "hr"), ("p", "p_wald")):
        assert rel(table[ours], ref[theirs]) <= tolerance("cox_multivariable"), ours


def test_ph_test_matches_cox_zph_km(data):
    table = sv.ph_test(data, "time", "event", COVARIATES)
    ref = REF["ph_test_km"]
    assert table.index.tolist() == ref["terms"]
    np.testing.assert_allclose(table["chisq"], ref["chisq"], rtol=0, atol=tolerance("ph_test_km"))
    np.testing.assert_allclose(table["p"], ref["p"], rtol=0, atol=tolerance("ph_test_km"))
    assert table["df"].tolist() == [1, 1, 1, 1, 1, 5]


def test_logrank_median_split(data):
    groups = sv.split(data["score"], "median")
    assert (groups == "high").sum() == REF["logrank_median"]["n_high"]
    test = sv.logrank(data["time"], data["event"], groups)
    assert rel(test.statistic, REF["logrank_median"]["chisq"]) <= tolerance("logrank_median")
    assert rel(test.p_value, REF["logrank_median"]["p"]) <= tolerance("logrank_median")
    assert test.df == 1


def test_logrank_matches_lifelines_for_three_groups(data):
    from lifelines.statistics import multivariate_logrank_test

    groups = sv.split(data["score"], "tertiles")
    ours = sv.logrank(data["time"], data["event"], groups)
    theirs = multivariate_logrank_test(data["time"], groups, data["event"])
    assert ours.df == 2
    assert rel(ours.statistic, theirs.test_statistic) <= tolerance("logrank_three_groups")


@pytest.mark.parametrize(("method", "key", "p_key"), [
    ("none", "maxstat_none", None),
    ("lau92", "maxstat_Lau92", "maxstat_p_lau"),
    ("lau94", "maxstat_Lau94", "maxstat_p_lau"),
    ("exact_gauss", "maxstat_exactGauss", "maxstat_p_exact_gauss"),
    ("permutation", "maxstat_condMC_B20000", "maxstat_p_permutation"),
])
def test_maxstat(data, method, key, p_key):
    cut = sv.cutpoint(data["score"], data["time"], data["event"], p_method=method)
    ref = REF[key]
    assert cut.value == ref["cutpoint"]  # the same sample value, exactly
    assert rel(cut.statistic, ref["statistic"]) <= tolerance("maxstat_statistic")
    if p_key is None:
        assert np.isnan(cut.p_value)
    elif p_key == "maxstat_p_lau":
        assert rel(cut.p_value, ref["p"]) <= tolerance(p_key)
    else:  # the reference itself is a Monte Carlo / quasi-Monte Carlo estimate
        assert abs(cut.p_value - ref["p"]) <= tolerance(p_key)
    assert cut.n_low == int((data["score"] <= cut.value).sum())
    assert cut.p_raw < 0.05 < REF["maxstat_Lau94"]["p"]  # the classic error, made visible


def test_exact_gauss_agrees_with_monte_carlo(data):
    cut = sv.cutpoint(data["score"], data["time"], data["event"], p_method="none")
    m, n, b = cut.profile["n_low"].to_numpy(), len(data), cut.statistic
    lo, hi = np.minimum.outer(m, m), np.maximum.outer(m, m)
    corr = np.sqrt(lo * (n - hi) / ((n - lo) * hi))
    draws = np.random.default_rng(0).multivariate_normal(np.zeros(len(m)), corr, size=100_000)
    monte_carlo = (np.abs(draws).max(axis=1) >= b).mean()
    assert sv._exact_gauss(b, n, m) == pytest.approx(monte_carlo, abs=0.005)


def test_permutation_p_is_seeded(data):
    args = (data["score"], data["time"], data["event"])
    a = sv.cutpoint(*args, p_method="permutation", n_permutations=500, random_state=3)
    b = sv.cutpoint(*args, p_method="permutation", n_permutations=500, random_state=3)
    assert a.p_value == b.p_value


def test_split_forms(data):
    assert sv.split(data["score"], "tertiles").value_counts().to_dict() == {"T1": 40, "T2": 39,
                                                                            "T3": 40}
    assert set(sv.split(data["score"], "quartiles").cat.categories) == {"Q1", "Q2", "Q3", "Q4"}
    assert (sv.split(data["score"], -0.2) == "low").sum() == (data["score"] <= -0.2).sum()
    optimal = sv.split(data["score"], "optimal", time=data["time"], event=data["event"])
    assert (optimal == "low").sum() == (data["score"] <= REF["maxstat_none"]["cutpoint"]).sum()
    with pytest.raises(ValueError, match="needs time= and event="):
        sv.split(data["score"], "optimal")


def test_km_tables_and_medians(data):
    result = sv.km(data["time"], data["event"], sv.split(data["score"], "median"))
    assert set(result.tables) == {"low", "high"}
    table = result.tables["low"]
    assert {"at_risk", "events", "survival", "lower", "upper"} <= set(table.columns)
    assert (table["lower"] <= table["survival"]).all() and (table["survival"] <= table[
        "upper"]).all()
    assert result.medians.loc["high", "n"] == 59
    assert rel(result.logrank.p_value, REF["logrank_median"]["p"]) <= tolerance("logrank_median")


def test_concordance_harrell_and_uno(data):
    c = sv.concordance(data["time"], data["event"], data["score"])
    assert rel(c, REF["cox_univariate"]["concordance"]) <= tolerance("concordance_harrell")
    uno = sv.concordance(data["time"], data["event"], data["score"], method="uno", tau=60)
    assert 0 < uno < 1


def test_uno_c_and_time_auc_match_scikit_survival(data):
    metrics = pytest.importorskip("sksurv.metrics")
    util = pytest.importorskip("sksurv.util")
    y = util.Surv.from_arrays(data["event"].astype(bool), data["time"].astype(float))
    times = np.array([24.0, 48.0, 72.0])
    theirs_auc, theirs_mean = metrics.cumulative_dynamic_auc(y, y, data["score"], times)
    ours = sv.time_auc(data["time"], data["event"], data["score"], times)
    bound = tolerance("time_auc_uno_sksurv")
    np.testing.assert_allclose(ours["auc"], theirs_auc, rtol=bound)
    assert rel(ours.attrs["mean_auc"], theirs_mean) <= bound
    theirs_c = metrics.concordance_index_ipcw(y, y, data["score"], tau=72.0)[0]
    ours_c = sv.concordance(data["time"], data["event"], data["score"], method="uno", tau=72.0)
    assert rel(ours_c, theirs_c) <= bound


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("time", "event", "match"), [
    ([1, 0, 3], [1, 0, 1], "must be > 0"),
    ([1, -2, 3], [1, 0, 1], "must be > 0"),
    ([1, np.nan, 3], [1, 0, 1], "missing or infinite"),
    ([1, 2, 3], [1, 2, 0], "0/1"),
    ([1, 2, 3], [0, 0, 0], "all observations are censored"),
    ([1, 2], [1, 0, 1], "different lengths"),
])
def test_bad_survival_data(time, event, match):
    with pytest.raises(ValueError, match=match):
        sv.logrank(time, event, ["a", "b", "a"][: len(time)])


def test_booleans_are_events():
    t, e = sv.check_survival([1.0, 2.0], [True, False])
    assert e.tolist() == [1, 0]


def test_single_member_group_and_too_few_cuts(data):
    groups = ["a"] + ["b"] * (len(data) - 1)
    with pytest.raises(ValueError, match="single member"):
        sv.logrank(data["time"], data["event"], groups)
    with pytest.raises(ValueError, match="fewer than two candidate cuts"):
        sv.cutpoint(np.r_[np.zeros(len(data) - 1), 1.0], data["time"], data["event"])
    with pytest.raises(ValueError, match="p_method"):
        sv.cutpoint(data["score"], data["time"], data["event"], p_method="bonferroni")


def test_cox_categorical_covariate_and_missing_rows(data):
    frame = data.assign(stage=np.where(data["grade"] >= 3, "III", "I-II"))
    frame.loc[frame.index[:3], "age"] = np.nan
    table = sv.cox(frame, "time", "event", ["score", "age", "stage"])
    assert table["term"].tolist() == ["score", "age", "stage[III]"]
    assert table.attrs["reference_levels"] == {"stage": "I-II"}
    assert table.attrs["n_dropped"] == 3 and table.attrs["n"] == len(data) - 3


def test_cox_separation_is_a_clear_error(data):
    frame = data.assign(leak=data["event"] * 10.0 + np.random.default_rng(0).normal(
        0, 0.01, len(data)))
    with pytest.raises(ValueError, match="did not converge: likely complete separation"):
        sv.cox(frame, "time", "event", ["leak"])


def test_cox_input_errors(data):
    with pytest.raises(KeyError, match="columns not in data"):
        sv.cox(data, "time", "event", ["nope"])
    with pytest.raises(ValueError, match="one value only"):
        sv.cox(data.assign(c=1.0), "time", "event", ["score", "c"])
    with pytest.raises(ValueError, match="single level"):
        sv.cox(data.assign(c="x"), "time", "event", ["score", "c"])


# -- the one-call workflow --------------------------------------------------------------------


@pytest.fixture(scope="module")
def cohort():
    expression, clinical = fs.datasets.breast_cancer(as_frames=True)
    return fs.score(expression, ["ferroptosis_core", "fpi"]), clinical


def test_analyze_on_the_bundled_cohort(cohort):
    scores, clinical = cohort
    result = sv.analyze(scores, clinical, time="rfs_months", event="rfs_event",
                        covariates=["age", "er_positive", "node_positive", "grade"])
    table = result.table.set_index("score")
    assert table.index.tolist() == ["ferroptosis_core", "fpi"]
    core = table.loc["ferroptosis_core"]
    assert core["n"] == 124 and core["n_multi"] == 119 and core["n_dropped_multi"] == 5
    # the workflow's numbers are the building blocks' numbers
    data = clinical.assign(s=scores.scores["ferroptosis_core"])
    direct = sv.cox(data, "rfs_months", "rfs_event", "s", per_sd=True)
    assert core["hr_per_sd"] == pytest.approx(direct["hr"].iat[0], rel=1e-12)
    cut = sv.cutpoint(data["s"], data["rfs_months"], data["rfs_event"])
    assert core["p_cut"] == pytest.approx(cut.p_value) and core["p_cut_raw"] < core["p_cut"]
    assert (table["q_cox"] >= table["p_cox"]).all()
    assert set(result.km) == set(result.cutpoints) == {"ferroptosis_core", "fpi"}


def test_analyze_sample_mismatch(cohort):
    scores, clinical = cohort
    with pytest.raises(ValueError, match="sample IDs differ .* join='inner'"):
        sv.analyze(scores, clinical.iloc[:-4], time="rfs_months", event="rfs_event")
    with pytest.warns(UserWarning, match="4 samples not in both"):
        result = sv.analyze(scores, clinical.iloc[:-4], time="rfs_months", event="rfs_event",
                            join="inner")
    assert result.table["n"].iat[0] == 120
    repeated = pd.concat([clinical, clinical.iloc[:1]])
    with pytest.raises(ValueError, match="1 sample IDs occur more than once in clinical data"):
        sv.analyze(scores, repeated, time="rfs_months", event="rfs_event", join="inner")


# -- plots ------------------------------------------------------------------------------------


def _non_empty_png(path):
    import matplotlib.image as mpimg

    image = mpimg.imread(path)
    assert image.shape[0] > 100 and image.shape[1] > 100
    assert image[..., :3].std() > 0.05  # not a blank canvas


def test_plots_are_written(tmp_path, data):
    import matplotlib

    matplotlib.use("Agg")
    groups = sv.split(data["score"], "optimal", time=data["time"], event=data["event"])
    cut = sv.cutpoint(data["score"], data["time"], data["event"])
    ax = fs.pl.km(data["time"], data["event"], groups, cut=cut, save=tmp_path / "km.png")
    assert any("adjusted p (lau94)" in t.get_text() for t in ax.get_legend().get_texts())
    fs.pl.forest(sv.cox(data, "time", "event", COVARIATES), save=tmp_path / "forest.png")
    fs.pl.cutpoint_profile(cut, save=tmp_path / "profile.png")
    for name in ("km.png", "forest.png", "profile.png"):
        _non_empty_png(tmp_path / name)


def test_stratified_cox_matches_lifelines_and_changes_the_fit(data):
    from lifelines import CoxPHFitter

    table = sv.cox(data, "time", "event", ["score", "age"], strata="er_positive")
    reference = CoxPHFitter(strata=["er_positive"]).fit(
        data[["time", "event", "score", "age", "er_positive"]], "time", "event",
        fit_options={"precision": 1e-12})
    assert rel(table["coef"], reference.params_.to_numpy()) <= tolerance("cox_stratified_lifelines")
    assert table.attrs["strata"] == ["er_positive"]
    assert 0 < table.attrs["p_score"] < 1
    unstratified = sv.cox(data, "time", "event", ["score", "age"])
    assert not np.allclose(table["coef"], unstratified["coef"])
    zph = sv.ph_test(data, "time", "event", ["score", "age"], strata="er_positive")
    assert zph.index.tolist() == ["score", "age", "GLOBAL"] and zph["p"].between(0, 1).all()
