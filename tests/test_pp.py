"""fs.pp: merging cohorts on common genes, per-cohort standardisation, ComBat."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import ferroscore as fs


@pytest.fixture(scope="module")
def two_cohorts(breast):
    expr = breast[0]
    first = expr.iloc[:300, :60]
    second = expr.iloc[5:300, 60:].rename(index={"MBOAT5": "LPCAT3"}) + 1.5
    return first, second


def test_merge_reports_what_each_cohort_lost(two_cohorts):
    first, second = two_cohorts
    with pytest.warns(UserWarning, match="genes left out per cohort"):
        merged = fs.pp.merge_cohorts({"a": first, "b": second.T}, match="exact")
    assert merged.expression.shape == (295, 124)
    assert merged.report.loc["a", "lost"] == first.index[:5].tolist()
    assert merged.report.loc["b", "n_lost"] == 0
    assert merged.batch.value_counts().to_dict() == {"a": 60, "b": 64}
    assert merged.batch.index.equals(merged.expression.columns)
    pd.testing.assert_frame_equal(merged.expression.loc[second.index, second.columns],
                                  second.rename_axis("gene"), check_names=False)


def test_merge_by_symbol_matches_previous_symbols(breast):
    expr = breast[0]
    old = expr.loc[["MBOAT5", "GPX4", "CARS"], expr.columns[:10]]
    new = expr.loc[["GPX4", "CARS"], expr.columns[10:20]].rename(index={"CARS": "CARS1"})
    new.loc["LPCAT3"] = 0.5
    merged = fs.pp.merge_cohorts({"old": old, "new": new}, genes_axis="rows")
    assert list(merged.expression.index) == ["LPCAT3", "GPX4", "CARS1"]
    assert merged.report.loc["old", "renamed"] == {"MBOAT5": "LPCAT3", "CARS": "CARS1"}
    with pytest.warns(UserWarning, match="old: 2 of 3"):
        exact = fs.pp.merge_cohorts({"old": old, "new": new}, match="exact", genes_axis="rows")
    assert list(exact.expression.index) == ["GPX4"]


def test_scale_within_each_cohort(two_cohorts):
    first, second = two_cohorts
    merged = fs.pp.merge_cohorts({"a": first.iloc[5:], "b": second}, match="exact")
    z = fs.pp.scale(merged.expression, merged.batch)
    for cohort in ("a", "b"):
        block = z.loc[:, merged.batch == cohort]
        np.testing.assert_allclose(block.mean(axis=1), 0, atol=1e-12)
        np.testing.assert_allclose(block.std(axis=1, ddof=1), 1)
    pooled = fs.pp.scale(merged.expression)
    assert not np.allclose(pooled, z)
    assert fs.pp.scale(merged.expression, merged.batch, max_value=1.0).abs().max().max() <= 1.0


def test_drugs_combat_is_a_deprecated_alias_of_pp_combat(two_cohorts):
    first, second = two_cohorts
    merged = fs.pp.merge_cohorts({"a": first.iloc[5:], "b": second}, match="exact")
    with pytest.warns(DeprecationWarning, match="fs.pp.combat"):
        old = fs.drugs.combat(merged.expression, merged.batch)
    pd.testing.assert_frame_equal(old, fs.pp.combat(merged.expression, merged.batch))


def test_combat_removes_a_cohort_shift(two_cohorts):
    first, second = two_cohorts
    merged = fs.pp.merge_cohorts({"a": first.iloc[5:], "b": second}, match="exact")
    adjusted = fs.pp.combat(merged.expression, merged.batch)
    gap = (adjusted.loc[:, merged.batch == "b"].mean(axis=1)
           - adjusted.loc[:, merged.batch == "a"].mean(axis=1))
    assert gap.abs().max() < 0.1  # the planted +1.5 shift is removed
