"""Shared table helpers: reading, sample alignment, design matrices."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ferroscore.tables import align_samples, design_matrix, read_table


def test_design_matrix_encodes_like_model_matrix():
    frame = pd.DataFrame({
        "age": [50, 61, 47, 70],
        "node_positive": [True, False, True, False],
        "grade": ["G3", "G1", "G2", "G1"],
        "subtype": pd.Categorical(["basal", "luminal", "luminal", "basal"],
                                  categories=["luminal", "basal"]),
    }, index=list("abcd"))
    design, references = design_matrix(frame)
    assert list(design.columns) == ["age", "node_positive", "grade[G2]", "grade[G3]",
                                    "subtype[basal]"]
    np.testing.assert_array_equal(design.to_numpy(), [[50, 1, 0, 1, 1], [61, 0, 0, 0, 0],
                                                      [47, 1, 1, 0, 0], [70, 0, 0, 0, 1]])
    assert references == {"grade": "G1", "subtype": "luminal"}
    assert list(design.index) == list("abcd")


def test_design_matrix_single_level():
    frame = pd.DataFrame({"tissue": ["lung"] * 3, "flag": [True] * 3, "x": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="'tissue' has a single level"):
        design_matrix(frame)
    with pytest.raises(ValueError, match="'flag' has a single level"):
        design_matrix(frame[["flag"]])
    design, references = design_matrix(frame, single_level="drop")
    assert list(design.columns) == ["x"] and references == {}
    assert design_matrix(frame[["tissue"]], single_level="drop")[0].shape == (3, 0)
    with pytest.raises(ValueError, match="single_level must be one of"):
        design_matrix(frame, single_level="keep")


@given(st.permutations(range(6)), st.permutations(range(6)))
def test_align_samples_is_order_free(left_order, right_order):
    ids = [f"s{i}" for i in range(6)]
    left = pd.Series(np.arange(6.0), index=ids).iloc[list(left_order)]
    right = pd.DataFrame({"v": np.arange(6.0) * 10}, index=ids).iloc[list(right_order)]
    a, b, dropped = align_samples(left, right, join="exact", left_name="l", right_name="r")
    assert dropped == 0
    assert list(a.index) == list(left.index) == list(b.index)
    np.testing.assert_array_equal(a.to_numpy() * 10, b["v"].to_numpy())


def test_align_samples_bad_input():
    left = pd.Series([1.0, 2.0, 3.0], index=[1, 2, 3])
    right = pd.DataFrame({"v": [1.0, 2.0, 4.0]}, index=["2", "3", "4"])
    with pytest.raises(ValueError, match=r"1 only in scores \(e.g. \['1'\]\), 1 only in "
                                         r"clinical data \(e.g. \['4'\]\).*join='inner'"):
        align_samples(left, right, join="exact", left_name="scores", right_name="clinical data")
    with pytest.warns(UserWarning, match="2 samples not in both scores and clinical"):
        a, b, dropped = align_samples(left, right, join="inner", left_name="scores",
                                      right_name="clinical data")
    assert dropped == 2 and list(a.index) == ["2", "3"] == list(b.index)
    with pytest.raises(ValueError, match="no sample IDs in common"):
        align_samples(left, right.set_axis(["7", "8", "9"]), join="inner", left_name="x",
                      right_name="y")
    with pytest.raises(ValueError, match=r"1 sample IDs occur more than once in y "
                                         r"\(e.g. \['2'\]\)"):
        align_samples(left, right.set_axis(["2", "2", "3"]), join="inner", left_name="x",
                      right_name="y")
    with pytest.raises(ValueError, match="join must be one of"):
        align_samples(left, right, join="outer", left_name="x", right_name="y")


def test_read_table_formats_and_exact_floats(tmp_path):
    values = pd.DataFrame({"a": [0.1 + 0.2, np.pi / 3], "b": [1e-300 / 3, 2 / 3]},
                          index=["g1", "g2"])
    csv, tsv = tmp_path / "t.csv.gz", tmp_path / "t.tsv"
    values.to_csv(csv, float_format="%.17g")
    values.to_csv(tsv, sep="\t", float_format="%.17g")
    for path in (csv, tsv, str(tsv)):
        pd.testing.assert_frame_equal(read_table(path), values, check_exact=True)
    raw = read_table(tsv, index_col=None)
    assert list(raw.columns) == ["Unnamed: 0", "a", "b"]
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_table(tmp_path / "missing.tsv")


def test_read_table_from_stdin(tmp_path):
    code = ("import sys; from ferroscore.tables import read_table; "
            "t = read_table('-'); print(t.shape, list(t.columns), t.iloc[0, 0])")
    for text in ("id,a,b\nx,1.5,2\ny,3,4\n", "id\ta\tb\nx\t1.5\t2\ny\t3\t4\n"):
        out = subprocess.run([sys.executable, "-c", code], input=text, capture_output=True,
                             text=True, check=True).stdout
        assert out.strip() == "(2, 2) ['a', 'b'] 1.5"
