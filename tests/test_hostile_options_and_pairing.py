"""Hostile input found by a second review (after issue 10): option types, colliding output
columns, ambiguous pairing of survival inputs, degenerate splits, collapse of unnamed or
non-finite features, empty unnamed table columns and CLI options given as ``--param``."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import ferroscore as fs
from ferroscore.cli import main
from ferroscore.tables import read_table

GENES = [f"g{i:02d}" for i in range(30)]


@pytest.fixture(scope="module")
def matrix() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(12, 30))


@pytest.fixture(scope="module")
def signature() -> fs.Signature:
    return fs.Signature.from_sets("s", GENES[:4], GENES[10:14])


def score(matrix, sets, method="singscore", **options):
    if method == "mean":  # 30 genes: few control genes, few bins
        options = {"ctrl_size": 5, "n_bins": 3, **options}
    return fs.score(matrix, sets, method, genes=GENES, min_coverage=0, **options)


def test_a_set_named_like_a_signature_column_is_an_error(matrix, signature):
    with pytest.raises(ValueError, match=r"\['s_up'.*written twice.*rename one"):
        score(matrix, [signature, fs.GeneSet("s_up", GENES[20:24])])
    with pytest.raises(ValueError, match="written twice"):
        score(matrix, [signature, fs.GeneSet("s_pvalue", GENES[20:24])], n_permutations=5)


def test_tl_score_reports_the_collision_too(matrix, signature):
    import anndata as ad

    adata = ad.AnnData(matrix, var=pd.DataFrame(index=GENES))
    with pytest.raises(ValueError, match="written twice"):
        fs.tl.score(adata, [signature, fs.GeneSet("s_down", GENES[20:24])], min_coverage=0)


@pytest.mark.parametrize(("method", "option"), [
    ("ssgsea", "normalize"), ("gsva", "max_diff"), ("gsva", "abs_ranking"), ("ucell", "clip"),
    ("singscore", "center"), ("mean", "order_free"),
])
def test_flags_must_be_booleans(matrix, signature, method, option):
    with pytest.raises(TypeError, match=f"parameter {option} must be True or False, got 'false'"):
        score(matrix, signature, method, **{option: "false"})
    assert score(matrix, signature, method, **{option: np.bool_(True)}).scores.notna().all().all()


@pytest.mark.parametrize("option", ["ctrl_size", "n_bins"])
def test_counts_are_never_truncated(matrix, signature, option):
    with pytest.raises(TypeError, match=f"parameter {option} must be an integer, got 2.7"):
        score(matrix, signature, "mean", **{option: 2.7})
    exact = score(matrix, signature, "mean", **{option: 3})
    as_float = score(matrix, signature, "mean", **{option: 3.0})
    pd.testing.assert_frame_equal(exact.scores, as_float.scores)
    assert as_float.params["parameters"][option] == 3


def test_numbers_must_be_finite(matrix, signature):
    with pytest.raises(TypeError, match="parameter w_neg must be a finite number, got nan"):
        score(matrix, signature, "ucell", w_neg=np.nan)


@pytest.mark.parametrize("coverage", [-1, np.nan, 2, "half", True])
def test_min_coverage_is_a_fraction(matrix, signature, coverage):
    with pytest.raises(ValueError, match="min_coverage is the fraction.*between 0 and 1"):
        fs.score(matrix, signature, genes=GENES, min_coverage=coverage)


def test_arrays_beside_series_in_different_orders_are_ambiguous():
    rng = np.random.default_rng(1)
    ids = [f"S{i}" for i in range(40)]
    time = pd.Series(rng.exponential(10, 40), index=ids)
    event = pd.Series(rng.integers(0, 2, 40), index=ids)
    risk = pd.Series(rng.normal(size=40), index=ids)
    shuffled = time.sample(frac=1, random_state=0)
    with pytest.raises(ValueError, match="ambiguous"):
        fs.survival.concordance(shuffled, event.to_numpy(), risk)
    with pytest.raises(ValueError, match="ambiguous"):
        fs.survival.logrank(shuffled, event.to_numpy(),
                            pd.Series(np.repeat(["a", "b"], 20), index=ids))
    # the same order everywhere, or Series everywhere, stays fine
    same = fs.survival.concordance(time, event.to_numpy(), risk)
    assert fs.survival.concordance(shuffled, event, risk) == pytest.approx(same, abs=0)


@pytest.mark.parametrize("how", ["median", 99.0, -99.0])
def test_a_split_with_an_empty_group_is_an_error(how):
    scores = pd.Series(np.r_[np.zeros(10), np.linspace(0, 1, 10) * (how != "median")])
    if how == "median":
        scores = pd.Series(np.zeros(20))
    with pytest.raises(ValueError, match="nothing to compare"):
        fs.survival.split(scores, how)


def test_collapse_refuses_unnamed_features_and_non_numbers():
    unnamed = pd.DataFrame({"s1": [1.0, 2.0, 3.0]}, index=["A", np.nan, np.nan])
    with pytest.raises(ValueError, match=r"2 features have no name \(positions \[1, 2\]"):
        fs.ids.collapse(unnamed)
    text = pd.DataFrame({"s1": ["x", 1.0]}, index=["A", "A"])
    with pytest.raises(ValueError, match="'x' for gene 'A', sample 's1'"):
        fs.ids.collapse(text)


def test_collapse_never_prefers_an_infinite_row():
    frame = pd.DataFrame({"s1": [np.inf, 1.0], "s2": [1.0, 1.0]}, index=["A", "A"])
    with pytest.warns(UserWarning, match="collapsed 1"):
        kept = fs.ids.collapse(frame)
    assert kept.loc["A"].tolist() == [1.0, 1.0]
    assert "NaN or inf" in kept.attrs["collapsed"]["kept"].iloc[0]


def test_trailing_separators_are_ignored_with_a_warning(tmp_path):
    path = tmp_path / "trailing.tsv"
    path.write_text("gene\ta\tb\t\nG1\t1\t2\t\nG2\t3\t4\t\n")
    with pytest.warns(UserWarning, match="ignored 1 empty column"):
        table = read_table(path)
    assert table.columns.tolist() == ["a", "b"]
    holding = tmp_path / "holding.tsv"
    holding.write_text("gene\ta\t\tb\nG1\t1\t5\t2\nG2\t3\t6\t4\n")
    with pytest.raises(ValueError, match=r"column\(s\) \[3\].*no name in the header"):
        read_table(holding)


@pytest.mark.parametrize(("param", "flag"), [("na=drop_genes", "--na"),
                                             ("n_permutations=10", "--permutations"),
                                             ("random_state=1", "--seed")])
def test_cli_options_given_as_params_name_the_option(tmp_path, capsys, param, flag):
    expr, _ = fs.datasets.breast_cancer(as_frames=True)
    path = tmp_path / "expr.tsv"
    expr.iloc[:, :6].to_csv(path, sep="\t")
    code = main(["score", str(path), "--param", param])
    assert code == 2
    assert f"use the option {flag} instead" in capsys.readouterr().err


def test_cli_flag_values_are_case_insensitive(tmp_path):
    expr, _ = fs.datasets.breast_cancer(as_frames=True)
    path = tmp_path / "expr.tsv"
    expr.iloc[:, :6].to_csv(path, sep="\t")
    out = tmp_path / "scores.tsv"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # missing catalogue genes
        assert main(["score", str(path), "--method", "ssgsea", "--param", "normalize=False",
                     "-o", str(out)]) == 0
    raw = fs.score(expr.iloc[:, :6], "ferroptosis_core", "ssgsea", normalize=False).scores
    written = pd.read_csv(out, sep="\t", index_col=0)
    assert np.allclose(written["ferroptosis_core"], raw["ferroptosis_core"], rtol=0, atol=1e-12)


def test_forest_of_one_term_warns_nothing():
    import matplotlib

    matplotlib.use("Agg")
    table = pd.DataFrame({"term": ["score"], "n": [100], "hr": [1.2], "hr_lower": [0.9],
                          "hr_upper": [1.6], "p": [0.2]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = fs.pl.forest(table)
    assert ax.get_yticklabels()[0].get_text() == "score"


def test_drugs_left_unpredicted_are_named_in_a_warning():
    rng = np.random.default_rng(2)
    genes = [f"G{i}" for i in range(150)]
    lines = [f"L{i}" for i in range(30)]
    train = pd.DataFrame(rng.normal(size=(150, 30)), index=genes, columns=lines)
    test = pd.DataFrame(rng.normal(size=(150, 4)), index=genes, columns=list("abcd"))
    response = pd.DataFrame({"kept": rng.normal(size=30), "sparse": np.nan,
                             "flat": 1.0}, index=lines)
    response.iloc[:5, 1] = rng.normal(size=5)
    with pytest.warns(UserWarning, match=r"2 drugs were not predicted.*sparse: fewer than "
                                         r"min_train_samples=10 lines; flat: constant response"):
        result = fs.drugs.predict_response(train, response, test, homogenize="standardize")
    assert result.predictions["kept"].notna().all()
    assert result.predictions[["sparse", "flat"]].isna().all().all()
