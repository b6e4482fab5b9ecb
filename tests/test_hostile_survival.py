"""Hostile input for fs.survival: every bad input gets a clear error (or a reported warning),
never a silently wrong number; pandas inputs are paired by index, so no reordering of an
aligned input changes any result (hypothesis)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ferroscore as fs
from ferroscore import survival as sv
from ferroscore.tables import read_table

from .conftest import DATA

FEW = settings(max_examples=8, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])
SLOW = settings(max_examples=3, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(DATA / "gse1992" / "survival_input.csv", index_col=0)


@pytest.fixture(scope="module")
def cohort():
    """A small slice of the synthetic cohort with ties: 80 samples x 8 genes, covariates."""
    table = read_table(DATA / "prognostic_synthetic" / "cohort.csv").iloc[:80]
    genes = [f"G{j:02d}" for j in (1, 3, 5, 7, 9, 12, 15, 20)]
    return table, table[genes]


def shuffled(series: pd.Series, seed: int = 1) -> pd.Series:
    return series.sample(frac=1.0, random_state=seed)


def close(a, b, rtol=1e-9):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=1e-12)


# -- issue 10, item 7: Series are paired by index ------------------------------------------------


def test_every_function_pairs_series_by_index(data):
    t, e, s = data["time"], data["event"], data["score"]
    groups = sv.split(s, "median")
    assert sv.cutpoint(shuffled(s), t, e).value == sv.cutpoint(s, t, e).value
    assert sv.concordance(t, shuffled(e), s) == sv.concordance(t, e, s)
    assert sv.concordance(t, e, shuffled(s), method="uno", tau=60) == pytest.approx(
        sv.concordance(t, e, s, method="uno", tau=60), rel=1e-12)
    assert sv.logrank(t, e, shuffled(groups)).statistic == pytest.approx(
        sv.logrank(t, e, groups).statistic, rel=1e-12)
    assert sv.km(shuffled(t), e, groups).medians.equals(sv.km(t, e, groups).medians)
    times = [24.0, 48.0]
    close(sv.time_auc(t, e, shuffled(s), times)["auc"], sv.time_auc(t, e, s, times)["auc"])
    optimal = sv.split(s, "optimal", time=shuffled(t), event=e)
    assert optimal.equals(sv.split(s, "optimal", time=t, event=e))


@pytest.mark.parametrize("call", [
    lambda t, e, s: sv.cutpoint(s, t, e),
    lambda t, e, s: sv.concordance(t, e, s),
    lambda t, e, s: sv.logrank(t, e, sv.split(s, "median")),
    lambda t, e, s: sv.km(t, e, sv.split(s, "median")),
    lambda t, e, s: sv.time_auc(t, e, s, [24.0]),
], ids=["cutpoint", "concordance", "logrank", "km", "time_auc"])
def test_series_with_other_samples_are_an_error(data, call):
    t, e, s = data["time"], data["event"], data["score"]
    renamed = s.rename(index=lambda name: f"{name}-x" if name == s.index[0] else name)
    with pytest.raises(ValueError, match="different sample IDs: 1 only in"):
        call(t, e, renamed)
    repeated = s.set_axis([s.index[1], *s.index[1:]])
    with pytest.raises(ValueError, match="repeated index labels"):
        call(t, e, repeated)


def test_arrays_stay_positional(data):
    t, e, s = data["time"], data["event"], data["score"]
    assert sv.concordance(t.to_numpy(), e.to_numpy(), s.to_numpy()) == sv.concordance(t, e, s)
    # a Series and a plain array: the array is read in the Series' order
    assert sv.concordance(t, e.to_numpy(), s) == sv.concordance(t, e, s)


# -- issue 10, items 8, 9 and the unclear errors ------------------------------------------------


@pytest.mark.parametrize("missing", [np.nan, None, pd.NA])
def test_missing_group_labels_never_become_a_group(data, missing):
    labels = ["low", "high"] * (len(data) // 2) + ["low"] * (len(data) % 2)
    labels[5] = missing
    for function in (sv.km, sv.logrank):
        with pytest.raises(ValueError, match=r"1 group labels are missing \(positions \[5\]\)"):
            function(data["time"].to_numpy(), data["event"].to_numpy(), labels)


def test_time_auc_refuses_missing_or_misshapen_risks(data):
    t, e, s = data["time"], data["event"], data["score"].to_numpy().copy()
    s[:30] = np.nan
    with pytest.raises(ValueError, match="30 risk values are missing"):
        sv.time_auc(t.to_numpy(), e.to_numpy(), s, [24.0])
    with pytest.raises(ValueError, match="risk has 10 values for 119 observations"):
        sv.time_auc(t.to_numpy(), e.to_numpy(), s[:10], [24.0])
    with pytest.raises(ValueError, match="risk values are missing"):
        sv.concordance(t.to_numpy(), e.to_numpy(), s)


def test_analyze_names_the_missing_column(breast):
    expression, clinical = breast
    scores = fs.score(expression, "ferroptosis_core")
    with pytest.raises(KeyError, match=r"\['os'\]; available: \['rfs_months', 'rfs_event'"):
        sv.analyze(scores, clinical, time="os", event="rfs_event")


def test_tertiles_of_tied_scores_explain_the_ties():
    score = pd.Series([0.0] * 8 + [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match="8 of 12 samples share the value 0.*how='median'"):
        sv.split(score, "tertiles")


def test_nullable_clinical_columns_are_read(breast):
    _, clinical = breast  # pandas Int64 columns
    c = sv.concordance(clinical["rfs_months"], clinical["rfs_event"], clinical["age"])
    assert 0 < c < 1


# -- issue 12: tables and results print ---------------------------------------------------------


def test_cox_tables_and_results_print(data, breast):
    table = sv.cox(data, "time", "event", ["score", "age"])
    assert "score" in repr(table) and "score" in str(table.head(1))
    assert all(np.isscalar(v) or isinstance(v, (dict, list)) for v in table.attrs.values())
    expression, clinical = breast
    result = sv.analyze(fs.score(expression, ["ferroptosis_core", "fpi"]), clinical,
                        time="rfs_months", event="rfs_event", covariates=["age"])
    text = repr(result)
    assert text.startswith("SurvivalAnalysis of 2 score columns") and len(text.splitlines()) <= 6
    assert "fpi" in str(result.table) and "fpi" in repr(result.cox_multivariable["fpi"])
    assert repr(result.km["fpi"]).startswith("KMResult(high: n=62")
    assert repr(result.cutpoints["fpi"]).startswith("CutpointResult(cut")
    assert sv.ph_test(data, "time", "event", ["score", "age"]).shape == (3, 3)


# -- issue 14: bad input for the engines --------------------------------------------------------


def test_cv_with_fewer_events_than_folds(cohort):
    table, X = cohort
    event = table["event"].copy()
    event.iloc[event.to_numpy().nonzero()[0][4:]] = 0  # 4 events left
    with pytest.raises(ValueError, match="4 events cannot be spread over 10 folds"):
        sv.cv_coxnet(X, table["time"], event, folds=10)


def test_cv_fold_without_events(cohort):
    table, X = cohort
    folds = pd.Series(np.resize([1, 2, 3, 4], len(table)), index=table.index)
    event = table["event"].where(folds != 3, 0)
    with pytest.raises(ValueError, match=r"folds \[3\] hold no event.*silently"):
        sv.cv_coxnet(X, table["time"], event, folds=folds)


@pytest.mark.parametrize(("folds", "match"), [
    (np.ones(79, dtype=int), "79 fold ids for the 80 rows"),
    (np.resize([1, 2], 80), "at least 3 folds"),
    (np.r_[np.nan, np.resize([1, 2, 3], 79)], "1 fold ids are missing"),
    (2, "n_folds must be >= 3"),
])
def test_cv_fold_ids_that_do_not_fit(cohort, folds, match):
    table, X = cohort
    with pytest.raises(ValueError, match=match):
        sv.cv_coxnet(X, table["time"], table["event"], folds=folds)


def test_cv_fold_series_with_other_samples(cohort):
    table, X = cohort
    folds = pd.Series(np.resize([1, 2, 3], len(table)), index=[f"other{i}" for i in
                                                                range(len(table))])
    with pytest.raises(ValueError, match="folds and the rows of X are indexed by different"):
        sv.cv_coxnet(X, table["time"], table["event"], folds=folds)


def test_cv_options_are_checked(cohort):
    table, X = cohort
    with pytest.raises(ValueError, match="measure must be one of"):
        sv.cv_coxnet(X, table["time"], table["event"], folds=3, measure="auc")
    with pytest.raises(TypeError, match="lambdas cannot be given"):
        sv.cv_coxnet(X, table["time"], table["event"], folds=3, lambdas=[0.1, 0.01])


def test_cv_does_not_depend_on_threads(cohort):
    table, X = cohort
    one = sv.cv_coxnet(X, table["time"], table["event"], folds=4, n_lambdas=12, n_jobs=1)
    two = sv.cv_coxnet(X, table["time"], table["event"], folds=4, n_lambdas=12, n_jobs=2)
    assert np.array_equal(one.cvm, two.cvm) and np.array_equal(one.cvsd, two.cvsd)


def test_fold_ids_spread_the_events():
    event = np.r_[np.ones(23), np.zeros(57)].astype(int)
    folds = sv.fold_ids(event, 10, seed=3)
    per_fold = np.bincount(folds, weights=event)[1:]
    assert set(per_fold) <= {2.0, 3.0} and np.bincount(folds)[1:].min() == 8
    assert np.array_equal(folds, sv.fold_ids(event, 10, seed=3))


def test_constant_and_duplicated_genes(cohort):
    table, X = cohort
    with pytest.warns(UserWarning, match="1 genes have one value in every sample.*FLAT"):
        path = sv.coxnet(X.assign(FLAT=1.0), table["time"], table["event"])
    assert (path.coef.loc["FLAT"] == 0).all() and path.params["constant_genes"] == ["FLAT"]
    with pytest.warns(UserWarning, match=r"exactly the values of another gene.*'G01', 'COPY'"):
        sv.coxnet(X.assign(COPY=X["G01"]), table["time"], table["event"])
    repeated = pd.concat([X, X[["G01"]]], axis=1)
    with pytest.raises(ValueError, match="repeated gene \\(column\\) names.*G01"):
        sv.coxnet(repeated, table["time"], table["event"])
    with pytest.raises(ValueError, match="every gene of X has a single value"):
        sv.coxnet(X * 0.0 + 1.0, table["time"], table["event"])


def test_non_numeric_x_is_an_error(cohort):
    table, X = cohort
    with pytest.raises(TypeError, match=r"X must be numeric; non-numeric columns: \['label'\]"):
        sv.coxnet(X.assign(label="a"), table["time"], table["event"])
    with pytest.raises(ValueError, match="samples x genes matrix"):
        sv.coxnet(X["G01"].to_numpy(), table["time"], table["event"])


def test_missing_values_in_x_name_the_genes(cohort):
    table, X = cohort
    holes = X.copy()
    holes.iloc[3, 2] = np.nan
    holes.iloc[5, 4] = np.inf
    with pytest.raises(ValueError, match=r"2 missing or infinite values in 2 genes \(e.g. "
                                         r"\['G05', 'G09'\]\)"):
        sv.coxnet(holes, table["time"], table["event"])
    with pytest.raises(ValueError, match="missing or infinite"):
        sv.cv_coxnet(holes, table["time"], table["event"], folds=3)


def test_time_and_event_are_paired_with_x_by_index(cohort):
    table, X = cohort
    aligned = sv.coxnet(X, table["time"], table["event"])
    reordered = sv.coxnet(X, shuffled(table["time"]), shuffled(table["event"], seed=2))
    close(reordered.coef, aligned.coef)
    with pytest.raises(ValueError, match="time and the rows of X are indexed by different"):
        sv.coxnet(X, table["time"].set_axis(range(1, len(table) + 1)), table["event"])
    with pytest.raises(ValueError, match="event has 79 values for the 80 rows of X"):
        sv.coxnet(X, table["time"].to_numpy(), table["event"].to_numpy()[1:])


@pytest.mark.parametrize(("options", "match"), [
    ({"alpha": 1.5}, "alpha must be in"),
    ({"n_lambdas": 1}, "n_lambdas must be >= 2"),
    ({"lambda_min_ratio": 2.0}, "lambda_min_ratio must be in"),
    ({"penalty_factor": [1.0, 2.0]}, "one value per gene"),
    ({"penalty_factor": pd.Series({"G01": 0.0})}, "7 genes without a factor"),
    ({"lambdas": [0.1, -1.0]}, "lambdas must be finite and >= 0"),
])
def test_coxnet_options_are_checked(cohort, options, match):
    table, X = cohort
    with pytest.raises(ValueError, match=match):
        sv.coxnet(X, table["time"], table["event"], **options)


def test_user_lambdas_are_fitted_as_given(cohort):
    table, X = cohort
    automatic = sv.coxnet(X, table["time"], table["event"])
    chosen = automatic.lambdas[[2, 6, 10]]
    path = sv.coxnet(X, table["time"], table["event"], lambdas=chosen[::-1])
    assert np.array_equal(path.lambdas, chosen)
    close(path.coef.to_numpy(), automatic.coef.to_numpy()[:, [2, 6, 10]], rtol=1e-6)
    close(path.coef_at(chosen[1]), automatic.coef.iloc[:, 6], rtol=1e-6)


@pytest.mark.parametrize(("estimates", "se", "match"), [
    ([0.3], [0.1], "at least 2 studies, got 1"),
    ([0.3, 0.2], [0.1, 0.0], "finite and > 0.*'study 2': 0.0"),
    ([0.3, 0.2], [-0.1, 0.2], "finite and > 0.*'study 1': -0.1"),
    ([0.3, np.nan], [0.1, 0.2], "estimates must be finite"),
    ([0.3, 0.2, 0.1], [0.1, 0.2], "different lengths"),
])
def test_meta_analysis_bad_input(estimates, se, match):
    with pytest.raises(ValueError, match=match):
        sv.meta_analysis(estimates, se)


def test_meta_analysis_pairs_by_study_name():
    log_hr = pd.Series({"A": 0.41, "B": 0.22, "C": 0.30, "D": -0.05})
    se = pd.Series({"A": 0.20, "B": 0.09, "C": 0.07, "D": 0.15})
    pooled = sv.meta_analysis(log_hr, se)
    assert sv.meta_analysis(log_hr, se[::-1]).estimate == pytest.approx(pooled.estimate,
                                                                        rel=1e-12)
    with pytest.raises(ValueError, match="different sample IDs"):
        sv.meta_analysis(log_hr, se.rename({"D": "E"}))
    with pytest.raises(ValueError, match="method must be one of"):
        sv.meta_analysis(log_hr, se, method="ML")
    assert pooled.studies.index.tolist() == ["A", "B", "C", "D"]
    assert pooled.studies["weight"].sum() == pytest.approx(100)
    assert pooled.to_frame().index.tolist() == ["RE (REML)"] and "MetaAnalysis(REML" in repr(
        pooled)


def test_screen_bad_input(cohort):
    table, X = cohort
    expr = X.T
    with pytest.raises(KeyError, match=r"columns not in data: \['os'\]"):
        sv.screen(expr, table, time="os", event="event")
    with pytest.raises(ValueError, match="2 of 3 genes are not rows of expr"):
        sv.screen(expr, table, time="time", event="event", genes=["G01", "NOPE", "NADA"])
    with pytest.raises(ValueError, match="repeated gene names"):
        sv.screen(pd.concat([expr, expr.iloc[:1]]), table, time="time", event="event")
    with pytest.raises(ValueError, match="sample IDs differ"):
        sv.screen(expr.iloc[:, :-3], table, time="time", event="event")
    infinite = expr.copy()
    infinite.iloc[2, 4] = np.inf
    with pytest.raises(ValueError, match=r"infinite for 1 genes \(e.g. \['G05'\]\)"):
        sv.screen(infinite, table, time="time", event="event")


def test_screen_reports_untestable_genes(cohort):
    table, X = cohort
    expr = X.T.copy()
    expr.loc["FLAT"] = 2.0
    expr.loc["LEAK"] = -table["time"].to_numpy()  # every event has the largest value at risk
    expr.loc["HOLES"] = expr.loc["G01"]
    expr.loc["HOLES", expr.columns[:7]] = np.nan
    with pytest.warns(UserWarning) as caught:
        result = sv.screen(expr, table, time="time", event="event")
    messages = " ".join(str(w.message) for w in caught)
    assert "1 genes have missing values" in messages and "2 genes have no estimate" in messages
    assert result.loc["FLAT", "reason"].startswith("one value")
    assert result.loc["LEAK", "reason"].startswith("did not converge")
    assert np.isnan(result.loc[["FLAT", "LEAK"], "q"]).all()
    assert result.loc["HOLES", "n"] == len(table) - 7
    complete = sv.screen(expr.loc[["G01"], expr.columns[7:]], table.iloc[7:], time="time",
                         event="event")
    assert result.loc["HOLES", "coef"] == pytest.approx(complete.loc["G01", "coef"], rel=1e-12)


def test_screen_reports_a_gene_collinear_with_a_covariate(cohort):
    table, X = cohort
    expr = pd.concat([X.T, table[["age"]].T.rename(index={"age": "AGE_COPY"})])
    with pytest.warns(UserWarning, match="1 genes have no estimate.*collinear"):
        result = sv.screen(expr, table, time="time", event="event", covariates=["age"])
    assert result.loc["AGE_COPY", "reason"].startswith("singular")
    assert result.drop(index="AGE_COPY")["converged"].all()


def test_screen_matches_cox_with_covariates(cohort):
    table, X = cohort
    result = sv.screen(X.T, table, time="time", event="event", covariates=["age", "stage"])
    direct = sv.cox(table.assign(g=X["G07"]), "time", "event", ["g", "age", "stage"])
    assert result.loc["G07", "coef"] == pytest.approx(direct["coef"].iat[0], rel=1e-8)
    assert result.loc["G07", "se"] == pytest.approx(direct["se"].iat[0], rel=1e-8)
    assert result.attrs["covariates"] == ["age", "stage[II]", "stage[III]"]


# -- hypothesis: no reordering of aligned inputs changes a result -------------------------------


def permute(series: pd.Series, order: list[int]) -> pd.Series:
    return series.iloc[order]


N_DATA = 119
orders = st.permutations(list(range(N_DATA)))


@FEW
@given(orders, orders)
def test_one_dimensional_results_ignore_series_order(data, order_a, order_b):
    t, e, s = data["time"], data["event"], data["score"]
    ta, eb, sa = permute(t, order_a), permute(e, order_b), permute(s, order_b)
    assert sv.cutpoint(sa, ta, eb).statistic == pytest.approx(
        sv.cutpoint(s, t, e).statistic, rel=1e-12)
    assert sv.concordance(ta, eb, sa) == sv.concordance(t, e, s)
    close(sv.concordance(ta, eb, sa, method="uno", tau=60),
          sv.concordance(t, e, s, method="uno", tau=60), rtol=1e-12)
    groups = sv.split(s, "median")
    assert sv.logrank(ta, eb, permute(groups, order_a)).statistic == pytest.approx(
        sv.logrank(t, e, groups).statistic, rel=1e-12)
    close(sv.time_auc(ta, eb, sa, [30.0, 60.0])["auc"], sv.time_auc(t, e, s, [30.0, 60.0])["auc"],
          rtol=1e-12)


@SLOW
@given(st.permutations(list(range(80))), st.permutations(list(range(8))))
def test_engines_ignore_sample_and_gene_order(cohort, samples, genes):
    table, X = cohort
    shuffled_x = X.iloc[samples, genes]
    time, event = table["time"], table["event"]
    base = sv.coxnet(X, time, event, n_lambdas=20)
    moved = sv.coxnet(shuffled_x, permute(time, samples[::-1]), event, n_lambdas=20)
    close(moved.lambdas, base.lambdas)
    close(moved.coef.loc[X.columns], base.coef, rtol=1e-7)
    screened = sv.screen(shuffled_x.T, table.iloc[samples[::-1]], time="time", event="event",
                         covariates=["age"])
    close(screened.loc[X.columns, "coef"], sv.screen(X.T, table, time="time", event="event",
                                                     covariates=["age"])["coef"])
    folds = pd.Series(np.resize([1, 2, 3], 80), index=table.index)
    cv = sv.cv_coxnet(X, time, event, folds=folds, n_lambdas=15, measure="C")
    cv_moved = sv.cv_coxnet(shuffled_x, permute(time, samples), permute(event, samples[::-1]),
                            folds=permute(folds, samples), n_lambdas=15, measure="C")
    close(cv_moved.cvm, cv.cvm, rtol=1e-7)
    assert cv_moved.index_min == cv.index_min


def test_analyze_ignores_clinical_row_order(data):
    scores = data[["score"]]
    clinical = data.drop(columns="score")
    base = sv.analyze(scores, clinical, time="time", event="event", covariates=["age"])
    moved = sv.analyze(scores, clinical.iloc[::-1], time="time", event="event",
                       covariates=["age"])
    pd.testing.assert_frame_equal(moved.table, base.table, rtol=1e-9)


@FEW
@given(st.permutations(list(range(6))))
def test_meta_analysis_ignores_study_order(order):
    log_hr = pd.Series([0.41, 0.22, 0.30, -0.05, 0.6, 0.1], index=list("ABCDEF"))
    se = pd.Series([0.20, 0.09, 0.07, 0.15, 0.3, 0.12], index=list("ABCDEF"))
    for method in ("REML", "PM", "DL"):
        pooled = sv.meta_analysis(log_hr, se, method=method)
        moved = sv.meta_analysis(permute(log_hr, order), se, method=method)
        close([moved.estimate, moved.tau2, moved.Q], [pooled.estimate, pooled.tau2, pooled.Q],
              rtol=1e-10)


def test_warnings_do_not_leak_from_clean_fits(cohort):
    table, X = cohort
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sv.coxnet(X, table["time"], table["event"], n_lambdas=10)
        sv.screen(X.T, table, time="time", event="event")
