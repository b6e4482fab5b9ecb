"""Hostile inputs to the drug functions (issue 10): each case fails on the code before the fix
and states the exact expected outcome; plus property tests that reordering aligned inputs
leaves every result unchanged."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ferroscore as fs
from ferroscore import drugs


@pytest.fixture(scope="module")
def screen():
    return fs.datasets.synthetic_drug_screen(n_genes=300, n_lines=60, n_test=12, n_drugs=3,
                                             n_programs=3, program_size=20, effect_genes=10,
                                             seed=5)


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    samples = [f"S{i}" for i in range(30)]
    response = pd.DataFrame(rng.normal(size=(30, 4)), index=samples,
                            columns=["d1", "d2", "d3", "d4"])
    score = pd.Series(rng.normal(size=30), index=samples, name="score")
    return score, response


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


# -- association ----------------------------------------------------------------------------------


def test_kruskal_nan_labels_in_a_list_are_not_a_group(table):
    """Item 8: np.asarray turned NaN into the label 'nan' (a third group)."""
    _, response = table
    labels = ["a", "b", "c"] * 10
    labels[4] = np.nan
    with pytest.raises(ValueError, match=r"1 samples have missing group labels \(e.g. \['S4'\]"):
        drugs.compare_groups(response, labels, test="kruskal")
    with pytest.raises(ValueError, match="groups has 29 labels for 30 samples"):
        drugs.compare_groups(response, labels[:-1], test="kruskal")


@pytest.mark.parametrize("method", ["pearson", "spearman", "lm"])
def test_associate_infinite_response_is_an_error(table, method):
    """Item 10: an inf gave a NaN row with an empty reason, not counted as untested."""
    score, response = table
    bad = response.copy()
    bad.iloc[3, 1] = np.inf
    with pytest.raises(ValueError, match=r"response has 1 infinite values \('d2': 1\)"):
        drugs.associate(score, bad, method)
    with pytest.raises(ValueError, match=r"score has 1 infinite values \(samples \['S0'\]\)"):
        drugs.associate(score.where(score.index != "S0", -np.inf), response, method)


def test_associate_every_untested_row_has_a_reason(table):
    score, response = table
    frame = response.assign(empty=np.nan, constant=1.0)
    result = quiet(drugs.associate, score, frame, "pearson")
    assert (result["p"].isna() == result["reason"].ne("")).all()


def test_associate_duplicated_drug_names_are_named(table):
    """Unclear error: duplicated drug columns were reported as 'non-numeric'."""
    score, response = table
    doubled = response.set_axis(["d1", "d2", "d1", "d4"], axis=1)
    with pytest.raises(ValueError, match=r"duplicated drug names in response: \['d1'\]"):
        drugs.associate(score, doubled)
    with pytest.raises(ValueError, match=r"duplicated drug names in response: \['d1'\]"):
        drugs.compare_groups(doubled, pd.Series(["lo", "hi"] * 15, index=response.index))


# -- ComBat ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def batches():
    rng = np.random.default_rng(1)
    expr = pd.DataFrame(rng.normal(size=(200, 40)) + np.r_[np.zeros(20), np.ones(20)],
                        index=[f"g{i}" for i in range(200)], columns=[f"s{i}" for i in range(40)])
    return expr, pd.Series(["a"] * 20 + ["b"] * 20, index=expr.columns)


def test_combat_one_infinity_is_an_error(batches):
    """Item 11: one inf among the values turned every output into NaN."""
    expr, batch = batches
    bad = expr.copy()
    bad.iloc[7, 3] = np.inf
    with pytest.raises(ValueError, match=r"1 missing values or infinities \(e.g. inf at gene "
                                         r"'g7', sample 's3'\)"):
        fs.pp.combat(bad, batch)


def test_combat_needs_two_varying_genes(batches):
    """Item 11: a 1-gene input gave all NaN; constant input said 'zero-size array'."""
    expr, batch = batches
    with pytest.raises(ValueError, match=r"at least 2 genes that vary within every batch; 1 "
                                         r"of 1 genes do"):
        fs.pp.combat(expr.iloc[:1], batch)
    with pytest.raises(ValueError, match=r"0 of 200 genes do"):
        fs.pp.combat(expr * 0 + 3.0, batch)


def test_combat_string_cell_is_named(batches):
    expr, batch = batches
    bad = expr.astype(object)
    bad.iloc[5, 2] = "12,5"
    with pytest.raises(ValueError, match=r"ComBat input must be numeric; 1 cells are not \(e.g. "
                                         r"'12,5' for gene 'g5', sample 's2'\)"):
        fs.pp.combat(bad, batch)


def test_combat_takes_numpy_arrays(batches):
    """Unclear error: a numpy array raised AttributeError."""
    expr, batch = batches
    out = fs.pp.combat(expr.to_numpy(), batch.to_numpy())
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, fs.pp.combat(expr, batch).to_numpy())
    with pytest.raises(TypeError, match="batch is a Series .* but expr is an array"):
        fs.pp.combat(expr.to_numpy(), batch)


# -- prediction -----------------------------------------------------------------------------------


def test_predict_too_few_shared_genes_is_an_error(screen):
    """Item 12: 5 of 300 shared genes gave predictions without a word."""
    test = screen.test_expr.rename(index=lambda g: g if g in screen.test_expr.index[:5]
                                   else g + "_x")
    with pytest.raises(ValueError, match=r"share only 5 gene names; at least "
                                         r"min_shared_genes=100 are needed"):
        drugs.predict_response(screen.train_expr, screen.train_response, test)
    half = screen.test_expr.iloc[:140]
    with pytest.warns(UserWarning, match="only 140 of the 300 training genes"):
        drugs.predict_response(screen.train_expr, screen.train_response, half)


def test_predict_infinite_response_is_an_error(screen):
    """Item 13: inf was treated as 'not screened' without a word."""
    response = screen.train_response.copy()
    response.iloc[2, 0] = np.inf
    with pytest.raises(ValueError, match=r"train_response has 1 infinite values "
                                         r"\('SYNTH_DRUG_000'"):
        drugs.predict_response(screen.train_expr, response, screen.test_expr)


@pytest.mark.parametrize("method", ["standardize", "combat", "rank"])
def test_predict_one_test_sample(screen, method):
    """Item 14 (standardize gave all NaN) and the unclear error (combat suggested mean_only=True,
    which predict_response does not accept)."""
    one = screen.test_expr.iloc[:, :1]
    with pytest.raises(ValueError, match=rf"homogenize='{method}' .* needs at least 2 of them "
                                         r"\(got 1\)") as error:
        drugs.predict_response(screen.train_expr, screen.train_response, one, homogenize=method)
    assert "mean_only" not in str(error.value)
    result = quiet(drugs.predict_response, screen.train_expr, screen.train_response, one,
                   homogenize="quantile")
    assert result.predictions.notna().all().all()


def test_predict_standardize_drops_genes_constant_in_the_test_set(screen):
    test = screen.test_expr.copy()
    test.iloc[0] = 1.0
    result = quiet(drugs.predict_response, screen.train_expr, screen.train_response, test,
                   homogenize="standardize", min_variance_quantile=0)
    assert result.params["n_genes_not_finite_after_homogenizing"] == 1
    assert result.predictions.notna().all().all()


def test_predict_duplicated_line_in_train_expr_is_an_error(screen):
    """Item 15: a duplicated cell-line column misaligned rows silently."""
    names = list(screen.train_expr.columns)
    names[1] = names[0]
    with pytest.raises(ValueError, match=r"1 sample names occur more than once in the columns "
                                         r"of train_expr \(e.g. \['SYNTH_LINE_0000'\]\)"):
        drugs.predict_response(screen.train_expr.set_axis(names, axis=1), screen.train_response,
                               screen.test_expr)


def test_predict_duplicated_lines_or_drugs_in_response(screen):
    """Unclear error: duplicated lines in the response gave an IndexError."""
    response = pd.concat([screen.train_response, screen.train_response.iloc[:2]])
    with pytest.raises(ValueError, match=r"2 cell lines occur more than once in train_response"):
        drugs.predict_response(screen.train_expr, response, screen.test_expr)
    doubled = screen.train_response.set_axis(["a", "a", "b"], axis=1)
    with pytest.raises(ValueError, match=r"1 drugs occur more than once in train_response"):
        drugs.predict_response(screen.train_expr, doubled, screen.test_expr)


def test_predict_non_numeric_response_is_an_error(screen):
    response = screen.train_response.astype(object)
    response.iloc[0, 1] = "n/a"
    with pytest.raises(ValueError, match=r"train_response must be numeric \(NaN = not "
                                         r"screened\); 1 cells are not \(e.g. 'n/a' for line "
                                         r"'SYNTH_LINE_0000', drug 'SYNTH_DRUG_001'\)"):
        drugs.predict_response(screen.train_expr, response, screen.test_expr)


def test_predict_lines_without_expression_are_reported(screen):
    response = pd.concat([screen.train_response,
                          screen.train_response.iloc[:3].rename(index=lambda n: n + "_new")])
    with pytest.warns(UserWarning, match="3 train_response lines have no expression"):
        result = drugs.predict_response(screen.train_expr, response, screen.test_expr)
    assert result.params["n_response_lines_without_expression"] == 3


# -- index alignment: any reordering of aligned inputs leaves the results unchanged -------------


permutation = st.randoms(use_true_random=False)
SETTINGS = settings(max_examples=8, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def shuffled(index: pd.Index, rnd) -> list:
    items = list(index)
    rnd.shuffle(items)
    return items


@SETTINGS
@given(rnd=permutation)
def test_associate_and_compare_groups_ignore_order(table, rnd):
    score, response = table
    rows, cols = shuffled(response.index, rnd), shuffled(response.columns, rnd)
    for method in ("spearman", "pearson"):
        base = drugs.associate(score, response, method).set_index("drug")
        moved = drugs.associate(score.loc[shuffled(score.index, rnd)], response.loc[rows, cols],
                                method).set_index("drug").loc[base.index]
        pd.testing.assert_frame_equal(base, moved, rtol=1e-12)
    groups = pd.Series(np.where(score > score.median(), "high", "low"), index=score.index)
    for test in ("mannwhitney", "kruskal"):
        base = drugs.compare_groups(response, groups, test).set_index("drug")
        moved = drugs.compare_groups(response.loc[rows, cols], groups.loc[shuffled(
            groups.index, rnd)], test).set_index("drug").loc[base.index]
        pd.testing.assert_frame_equal(base, moved, rtol=1e-12)


@SETTINGS
@given(rnd=permutation)
def test_combat_ignores_sample_and_gene_order(batches, rnd):
    expr, batch = batches
    rows, cols = shuffled(expr.index, rnd), shuffled(expr.columns, rnd)
    base = fs.pp.combat(expr, batch)
    moved = fs.pp.combat(expr.loc[rows, cols], batch.loc[shuffled(batch.index, rnd)])
    pd.testing.assert_frame_equal(moved.loc[base.index, base.columns], base, rtol=1e-10,
                                  atol=1e-12)


@SETTINGS
@given(rnd=permutation)
def test_predict_response_ignores_order(screen, rnd):
    base = quiet(drugs.predict_response, screen.train_expr, screen.train_response,
                 screen.test_expr)
    moved = quiet(drugs.predict_response,
                  screen.train_expr.loc[shuffled(screen.train_expr.index, rnd),
                                        shuffled(screen.train_expr.columns, rnd)],
                  screen.train_response.loc[shuffled(screen.train_response.index, rnd),
                                            shuffled(screen.train_response.columns, rnd)],
                  screen.test_expr.loc[shuffled(screen.test_expr.index, rnd),
                                       shuffled(screen.test_expr.columns, rnd)])
    pd.testing.assert_frame_equal(moved.predictions.loc[base.predictions.index,
                                                        base.predictions.columns],
                                  base.predictions, rtol=1e-8)


def test_combat_leaves_its_input_unchanged(batches):
    expr, batch = batches
    frame, array = expr.copy(), expr.to_numpy().copy()
    fs.pp.combat(frame, batch)
    fs.pp.combat(array, batch.to_numpy())
    pd.testing.assert_frame_equal(frame, expr)
    np.testing.assert_array_equal(array, expr.to_numpy())
