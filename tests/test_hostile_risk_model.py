"""Bad input to the risk-model paths (RiskModel.fit / apply / from_json, validate_internal,
validate, time_auc_ci, calibration): a clear error or a reported, counted change, never a
silent wrong answer."""

from __future__ import annotations

import copy
import json
import warnings

import numpy as np
import pandas as pd
import pytest

import ferroscore as fs

from .risk_cohorts import cohort

SIGNAL = {"S1": 0.8, "S2": -0.6, "S3": 0.5}
RiskModel = fs.survival.RiskModel


@pytest.fixture(scope="module")
def train():
    return cohort(120, SIGNAL, 3, seed=1)


@pytest.fixture(scope="module")
def model(train):
    return RiskModel(folds=3).fit(*train, time="time", event="event")


@pytest.fixture(scope="module")
def new():
    return cohort(50, SIGNAL, 3, seed=2, prefix="n")


def fit(expr, clinical, **params):
    options = {"time": params.pop("time", "time"), "event": params.pop("event", "event")}
    for key in ("join", "time_unit"):
        if key in params:
            options[key] = params.pop(key)
    return RiskModel(folds=3, **params).fit(expr, clinical, **options)


def with_value(frame, row, column, value):
    changed = frame.astype(object if isinstance(value, str) else float)
    changed.iloc[row, column] = value
    return changed


# -- fit ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("change, error, match", [
    (lambda e, c: (e, c.iloc[:-5]), ValueError, "join='inner'"),
    (lambda e, c: (e, pd.concat([c, c.iloc[:2]])), ValueError, "more than once"),
    (lambda e, c: (with_value(e, 0, 3, np.nan), c), ValueError, r"\['S1'\]"),
    (lambda e, c: (with_value(e, 1, 3, np.inf), c), ValueError, r"\['S2'\]"),
    (lambda e, c: (with_value(e, 0, 0, "high"), c), TypeError, "numbers"),
    (lambda e, c: (e, c.assign(event=(np.arange(len(c)) == 0).astype(int))), ValueError,
     "1 events cannot be spread over 3 folds"),
    (lambda e, c: (e, c.assign(event=0)), ValueError, "no events"),
    (lambda e, c: (e, with_value(c, 0, 0, -1.0)), ValueError, "> 0"),
    (lambda e, c: (e, with_value(c, 0, 1, 2)), ValueError, "0/1"),
    (lambda e, c: (e.add_prefix("x"), c), ValueError, "align the sample IDs"),
    (lambda e, c: (e.to_numpy(), c), TypeError, "DataFrame"),
    (lambda e, c: (e, c.to_numpy()), TypeError, "clinical must be a DataFrame"),
    (lambda e, c: (e * 0.0, c), ValueError, "one value in all 120 samples"),
    (lambda e, c: (e.iloc[:, :1], c.iloc[:1]), ValueError, "one value"),
    (lambda e, c: (e.set_axis(["S1", "S1", *e.index[2:]]), c), ValueError,
     "repeated gene names"),
])
def test_fit_refuses_bad_training_data(train, change, error, match):
    expr, clinical = change(*train)
    with pytest.raises(error, match=match):
        fit(expr, clinical)


@pytest.mark.parametrize("params, error, match", [
    ({"time": "os"}, KeyError, r"'os' \(time=\) is not a column"),
    ({"event": "status"}, KeyError, r"'status' \(event=\)"),
    ({"genes": ["AAA", "BBB"]}, ValueError, "none of the 2 candidate genes"),
    ({"genes": ["S1", "S1"]}, ValueError, "more than once"),
    ({"genes": []}, ValueError, "genes is empty"),
    ({"genes": ["S1", 3]}, TypeError, "identifiers"),
    ({"measure": "auc"}, ValueError, "measure must be one of"),
    ({"lambda_rule": "best"}, ValueError, "lambda_rule"),
    ({"standardize_new": "zscore"}, ValueError, "standardize_new"),
    ({"alpha": 2.0}, ValueError, "alpha"),
    ({"screen_p": 0.0}, ValueError, "screen_p"),
    ({"min_coverage": 0.0}, ValueError, "min_coverage"),
    ({"time_unit": "hours"}, ValueError, "time_unit"),
])
def test_fit_refuses_bad_options(train, params, error, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the missing-candidates note
        with pytest.raises(error, match=match):
            fit(*train, **params)


def test_folds_below_three_name_the_parameter(train):
    with pytest.raises(ValueError, match="folds must be >= 3"):
        RiskModel(folds=1).fit(*train, time="time", event="event")


def test_dropped_samples_and_genes_are_reported(train):
    expr, clinical = train
    with pytest.warns(UserWarning, match="1 samples with a missing time"):
        model = fit(expr, with_value(clinical, 0, 0, np.nan))
    assert model.training_["n"] == 119 and model.training_["n_dropped_missing_survival"] == 1
    with pytest.warns(UserWarning, match=r"1 of 4 candidate genes are not in expr.*'ZZZ'"):
        model = fit(expr, clinical, genes=["S1", "S2", "S3", "ZZZ"])
    assert model.training_["missing_candidates"] == ["ZZZ"]
    flat = expr.copy()
    flat.loc["N3"] = 1.0
    with pytest.warns(UserWarning, match=r"one value in every sample.*'N3'"):
        model = fit(flat, clinical)
    assert model.training_["constant_genes_removed"] == ["N3"]
    with pytest.warns(UserWarning, match="join='inner': 5 samples"):
        model = fit(expr, clinical.iloc[:-5], join="inner")
    assert model.training_["n"] == 115
    with pytest.warns(UserWarning, match="is 'time' in months"):
        fit(expr, clinical.assign(time=clinical["time"] * 100))


def test_fit_pairs_clinical_by_sample_id(train, model):
    expr, clinical = train
    shuffled = fit(expr, clinical.sample(frac=1.0, random_state=3))
    # the folds follow the training order of the samples (expr's), not the clinical rows
    pd.testing.assert_series_equal(shuffled.coef_, model.coef_)


# -- apply ----------------------------------------------------------------------------------------


def test_apply_refuses_low_coverage_with_the_fix(model, new):
    expr = new[0].drop(["S1", "S2"])
    with pytest.raises(ValueError, match=r"carrying \d+% of its weight .*min_coverage=") as info:
        model.apply(expr)
    assert "'S1', 'S2'" in str(info.value)
    loose = copy.deepcopy(model).set_params(min_coverage=0.1)  # the fix, chosen knowingly
    with pytest.warns(UserWarning, match="not found"):
        scored = loose.apply(expr)
    assert scored.report["missing"] == ["S1", "S2"] and scored.report["weight_coverage"] < 0.8


def test_apply_reports_missing_and_constant_genes(model, new):
    expr = new[0]
    with pytest.warns(UserWarning, match="N3"):
        scored = model.apply(expr.drop("N3"))
    assert scored.report["missing"] == ["N3"] and 0.8 < scored.report["weight_coverage"] < 1
    flat = expr.copy()
    flat.loc["N2"] = 4.0
    with pytest.warns(UserWarning) as caught:
        scored = model.apply(flat)
    assert "['N2'] have one value in every sample" in str(caught[0].message)
    assert scored.report["constant"] == ["N2"] and "N2" not in scored.report["found"]


@pytest.mark.parametrize("change, error, match", [
    (lambda e: with_value(e, 0, 0, np.nan), ValueError, r"\['S1'\] have missing or infinite"),
    (lambda e: with_value(e, 2, 4, -np.inf), ValueError, r"\['S3'\] have missing"),
    (lambda e: with_value(e, 0, 0, "x"), TypeError, "numbers"),
    (lambda e: e.iloc[:, :2], ValueError, "at least 3 samples.*standardize_new='none'"),
    (lambda e: e.set_axis([e.columns[1], *e.columns[1:]], axis=1), ValueError,
     "repeated sample IDs"),
    (lambda e: pd.concat([e, e.loc[["S1"]]]), ValueError, "duplicated: \\['S1'\\]"),
    (lambda e: e.set_axis([f"q{i}" for i in range(len(e))]), ValueError,
     "none of the model's 6 genes"),
    (lambda e: e.to_numpy(), TypeError, "DataFrame"),
])
def test_apply_refuses_bad_cohorts(model, new, change, error, match):
    with pytest.raises(error, match=match):
        model.apply(change(new[0]))


def test_unfitted_model_says_how_to_fit():
    with pytest.raises(RuntimeError, match="not fitted yet.*from_json"):
        RiskModel().predict(pd.DataFrame({"a": [1.0]}))


def test_the_null_model_warns_and_is_not_validated(new):
    expr, clinical = cohort(60, {}, 3, seed=7)
    with pytest.warns(UserWarning, match="selected no gene"):
        null = RiskModel(folds=3).fit(expr, clinical, time="time", event="event")
    with pytest.warns(UserWarning, match="null model"):
        risk = null.predict(new[0])
    assert risk.nunique() == 1
    with pytest.raises(ValueError, match="null model"):
        fs.survival.validate(null, {"a": (*new, "time", "event")})


# -- JSON -----------------------------------------------------------------------------------------


def test_from_json_refuses_other_and_tampered_files(model, tmp_path):
    path = model.to_json(tmp_path / "model.json")
    content = json.loads(path.read_text())
    cases = {
        "text": ("not json", "not a JSON file"),
        "other": ('{"x": 1}', "not a ferroscore RiskModel file"),
        "version": (json.dumps({**content, "format_version": 99}), "format version 99"),
        "short": (json.dumps({**content, "model": {**content["model"],
                                                   "coef": content["model"]["coef"][:-1]}}),
                  "genes and coefficients do not match"),
        "scale": (json.dumps({**content, "model": {**content["model"],
                                                   "scale": [0.0] * len(model.genes_)}}),
                  "non-positive scales"),
        "incomplete": (json.dumps({k: v for k, v in content.items() if k != "model"}),
                       "incomplete or malformed"),
    }
    for name, (text, match) in cases.items():
        (tmp_path / f"{name}.json").write_text(text)
        with pytest.raises(ValueError, match=match):
            RiskModel.from_json(tmp_path / f"{name}.json")
    with pytest.raises(FileNotFoundError):
        RiskModel.from_json(tmp_path / "absent.json")
    assert "NaN" not in path.read_text()


def test_internal_validation_needs_the_training_data(model, tmp_path):
    loaded = RiskModel.from_json(model.to_json(tmp_path / "model.json"))
    with pytest.raises(RuntimeError, match="fitted in this session"):
        loaded.validate_internal(B=2)
    with pytest.raises(ValueError, match="B must be >= 1"):
        model.validate_internal(B=0)


# -- validate -------------------------------------------------------------------------------------


@pytest.mark.parametrize("cohorts, error, match", [
    ({}, ValueError, "non-empty dict"),
    ({"a": "new"}, TypeError, "expected \\(expr, clinical, time, event\\)"),
    ({"a": ("expr", "clinical")}, TypeError, "length 2"),
    ({"a": ("expr", "clinical", "os", "event")}, KeyError, "cohort 'a': 'os'"),
    ({"a": ("expr", "clinical", "time", "event", "hours")}, ValueError, "time_unit"),
    ({"a": ("expr", "short", "time", "event")}, ValueError, "join='inner'"),
])
def test_validate_refuses_bad_cohorts(model, new, cohorts, error, match):
    parts = {"expr": new[0], "clinical": new[1], "short": new[1].iloc[:-3]}
    cohorts = {name: tuple(parts.get(v, v) for v in value) if isinstance(value, tuple) else value
               for name, value in cohorts.items()}
    with pytest.raises(error, match=match):
        fs.survival.validate(model, cohorts, B=2)


def test_validate_refuses_bad_scores(model, new):
    cohorts = {"a": (*new, "time", "event")}
    with pytest.raises(TypeError, match="fitted RiskModel, a gene set"):
        fs.survival.validate(42, cohorts)
    with pytest.raises(TypeError, match="Series of risk scores"):
        fs.survival.validate(lambda x: x.loc["S1"].to_numpy(), cohorts)
    with pytest.raises(ValueError, match="the same for every sample"):
        fs.survival.validate(lambda x: x.loc["S1"] * 0.0, cohorts)
    with pytest.raises(ValueError, match="1 risk scores are missing"):
        fs.survival.validate(lambda x: x.loc["S1"].where(x.loc["S1"] > x.loc["S1"].min()),
                             cohorts)
    with pytest.raises(RuntimeError, match="not fitted"):
        fs.survival.validate(RiskModel(), cohorts)


def test_validate_reports_what_it_leaves_out(model, train, new):
    expr, clinical = new
    with pytest.warns(UserWarning) as caught:
        result = fs.survival.validate(model, {"a": (expr, with_value(clinical, 0, 0, np.nan),
                                                    "time", "event"),
                                              "train": (*train, "time", "event")}, B=2)
    messages = " ".join(str(w.message) for w in caught)
    assert "1 samples without time or event were left out" in messages
    assert "cohort 'train' shares 120 of its 120 samples with the training cohort" in messages
    assert result.table.set_index("cohort")["n_dropped"].to_dict() == {"a": 1, "train": 0}
    with pytest.warns(UserWarning, match="one cohort"):
        assert fs.survival.validate(model, {"a": (*new, "time", "event")}, B=2).meta is None


@pytest.mark.filterwarnings("ignore:one cohort")
def test_validate_pairs_clinical_by_sample_id(model, new):
    expr, clinical = new
    first = fs.survival.validate(model, {"a": (expr, clinical, "time", "event")}, B=5)
    shuffled = fs.survival.validate(model, {"a": (expr.iloc[:, ::-1],
                                                  clinical.sample(frac=1.0, random_state=1),
                                                  "time", "event")}, B=5)
    numbers = ["hr_per_sd", "p", "C", "AUC_1y", "AUC_3y", "p_logrank"]
    np.testing.assert_allclose(shuffled.table[numbers], first.table[numbers], rtol=1e-12)


# -- time_auc_ci and calibration ------------------------------------------------------------------


def test_time_auc_ci_bad_input(model, new):
    expr, clinical = new
    t, e, r = clinical["time"], clinical["event"], model.predict(expr)
    cases = [
        ({"risk": r.where(r > r.min())}, "missing or infinite"),
        ({"risk": r.iloc[:-2]}, "different sample IDs"),
        ({"risk": r.to_numpy()[:-1], "time": t.to_numpy(), "event": e.to_numpy()},
         "49 values for 50"),
        ({"horizons": [-1]}, "positive numbers of years"),
        ({"horizons": []}, "positive numbers of years"),
        ({"time_unit": "hours"}, "time_unit"),
        ({"B": -1}, "B must be >= 0"),
        ({"level": 95}, "level must be in"),
    ]
    for change, match in cases:
        arguments = {"time": t, "event": e, "risk": r, "B": 3, **change}
        with pytest.raises(ValueError, match=match):
            fs.survival.time_auc_ci(arguments.pop("time"), arguments.pop("event"),
                                    arguments.pop("risk"), **arguments)


def test_time_auc_ci_pairs_by_index_and_reports_undefined_horizons(model, new):
    expr, clinical = new
    t, e, r = clinical["time"], clinical["event"], model.predict(expr)
    plain = fs.survival.time_auc_ci(t, e, r, B=10, seed=1)
    shuffled = fs.survival.time_auc_ci(t, e, r.sample(frac=1.0, random_state=2), B=10, seed=1)
    pd.testing.assert_series_equal(plain["auc"], shuffled["auc"])
    one = (np.arange(len(e)) == int(np.argmin(t.to_numpy()))).astype(int)
    single = fs.survival.time_auc_ci(t, pd.Series(one, index=t.index), r, horizons=[0.01],
                                     B=3)
    assert np.isnan(single["auc"].iat[0]) and single["note"].iat[0] == "no event by this horizon"


def test_calibration_bad_input(model, new):
    expr, clinical = new
    with pytest.warns(UserWarning, match="1 samples without time or event were left out"):
        table = fs.survival.calibration(model, expr, with_value(clinical, 0, 0, np.nan),
                                        time="time", event="event")
    assert table["n"].sum() == 49
    with pytest.raises(KeyError, match=r"\['os'\] not columns of the clinical data"):
        fs.survival.calibration(model, expr, clinical, time="os", event="event")
    with pytest.raises(ValueError, match="groups must be >= 2"):
        fs.survival.calibration(model, expr, clinical, time="time", event="event", groups=1)
    with pytest.raises(ValueError, match="join='inner'"):
        fs.survival.calibration(model, expr, clinical.iloc[:-3], time="time", event="event")
    with pytest.raises(RuntimeError, match="not fitted"):
        fs.survival.calibration(RiskModel(), expr, clinical, time="time", event="event")
    late = fs.survival.calibration(model, expr, clinical, time="time", event="event",
                                   horizon=50)
    assert late["observed"].isna().all()  # follow-up ends before the horizon: no observation
