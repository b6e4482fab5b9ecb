"""Time-dependent AUC with confidence intervals inside ``fs.survival.analyze`` (issue 15): the
same numbers as :func:`fs.survival.time_auc_ci` on the same samples, point estimates equal to
:func:`fs.survival.time_auc`, reproducible, and never computed with a guessed time unit."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import ferroscore as fs

HORIZONS = (1, 3)


@pytest.fixture(scope="module")
def cohort():
    expr, clinical = fs.datasets.breast_cancer(as_frames=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        scores = fs.score(expr, ["ferroptosis_core", "fpi"])
    return scores, clinical


@pytest.fixture(scope="module")
def analysis(cohort):
    scores, clinical = cohort
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fs.survival.analyze(scores, clinical, time="rfs_months", event="rfs_event",
                                   time_unit="months", auc_horizons=HORIZONS, auc_bootstrap=40,
                                   seed=3)


def test_auc_columns_equal_time_auc_ci_on_the_same_samples(cohort, analysis):
    scores, clinical = cohort
    for name in ("ferroptosis_core", "fpi"):
        data = clinical[["rfs_months", "rfs_event"]].assign(s=scores.scores[name]).dropna()
        direct = fs.survival.time_auc_ci(data["rfs_months"], data["rfs_event"], data["s"],
                                         HORIZONS, time_unit="months", B=40, seed=3)
        row = analysis.table.set_index("score").loc[name]
        tidy = analysis.time_auc.set_index("score").loc[name]
        np.testing.assert_array_equal(tidy["auc"], direct["auc"])
        np.testing.assert_array_equal(tidy["ci_lower"], direct["ci_lower"])
        np.testing.assert_array_equal(tidy["ci_upper"], direct["ci_upper"])
        for h, auc, low, high in direct[["horizon", "auc", "ci_lower", "ci_upper"]].itertuples(
                index=False):
            assert (row[f"auc_{h}"], row[f"auc_{h}_lower"], row[f"auc_{h}_upper"]) == (
                auc, low, high)
            assert low <= auc <= high
        plain = fs.survival.time_auc(data["rfs_months"], data["rfs_event"], data["s"],
                                     [12.0, 36.0])
        np.testing.assert_allclose(tidy["auc"], plain["auc"], rtol=0, atol=1e-12)


def test_auc_is_reproducible_and_recorded(cohort, analysis):
    scores, clinical = cohort
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        again = fs.survival.analyze(scores, clinical, time="rfs_months", event="rfs_event",
                                    time_unit="months", auc_horizons=HORIZONS,
                                    auc_bootstrap=40, seed=3)
    pd.testing.assert_frame_equal(again.time_auc, analysis.time_auc)
    assert analysis.params["time_auc"] == {"time_unit": "months", "horizons": [1.0, 3.0],
                                           "B": 40, "seed": 3}


def test_no_auc_without_a_time_unit_and_bad_units_fail_first(cohort):
    scores, clinical = cohort
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        plain = fs.survival.analyze(scores, clinical, time="rfs_months", event="rfs_event")
    assert not [c for c in plain.table.columns if c.startswith("auc_")]
    assert plain.time_auc.empty and plain.params["time_auc"] is None
    with pytest.raises(ValueError, match="time_unit must be one of"):
        fs.survival.analyze(scores, clinical, time="rfs_months", event="rfs_event",
                            time_unit="month")
    with pytest.raises(ValueError, match="horizons must be positive"):
        fs.survival.analyze(scores, clinical, time="rfs_months", event="rfs_event",
                            time_unit="months", auc_horizons=(0,))
