"""Hostile input to the readers: GMT files, gene sets, identifier collapsing, tables.

Each case returned a silently wrong result or an unclear error before (issue 10); each asserts
the exact outcome.
"""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

import ferroscore as fs
from ferroscore.tables import read_table

# -- GMT -------------------------------------------------------------------------------------------


def test_gmt_byte_order_mark_is_not_part_of_the_first_name(tmp_path):
    path = tmp_path / "bom.gmt"
    path.write_bytes(b"\xef\xbb\xbfA\tdesc\tGPX4\tACSL4\nB\tdesc\tTFRC\n")
    sets = fs.genesets.read_gmt(path)
    assert list(sets) == ["A", "B"] and sets["A"].genes == ("GPX4", "ACSL4")


def test_gmt_pairing_refuses_a_plain_set_named_like_the_signature(tmp_path):
    path = tmp_path / "pairs.gmt"
    path.write_text("S_up\tna\tACSL4\nS_down\tna\tGPX4\nS\tna\tTFRC\n")
    with pytest.raises(ValueError, match=r"gene set 'S' is both a plain set and the signature "
                                         r"paired from 'S_up' and 'S_down'"):
        fs.genesets.read_gmt(path, pair_signatures=True)
    assert list(fs.genesets.read_gmt(path)) == ["S_up", "S_down", "S"]  # unpaired: all kept


def test_gmt_that_is_not_utf8_names_the_file_and_the_byte(tmp_path):
    path = tmp_path / "latin1.gmt"
    path.write_bytes("A\tna\tGPX4\nB\tcaf\xe9\tTFRC\n".encode("latin-1"))
    with pytest.raises(ValueError, match=rf"{path.name}: not UTF-8 text \(byte 0xe9 at byte "
                                         r"offset 15, line 2\); save the file as UTF-8"):
        fs.genesets.read_gmt(path)


# -- gene sets -------------------------------------------------------------------------------------


def test_signature_from_weights_keeps_their_magnitudes():
    signature = fs.GeneSet("r", ("A1", "B2", "C3"), weights=(0.5, -2.0, 1.5)).to_signature()
    assert signature.up.genes == ("A1", "C3") and signature.up.weights == (0.5, 1.5)
    assert signature.down.genes == ("B2",) and signature.down.weights == (2.0,)
    assert not fs.GeneSet("u", ("A1", "B2"), weights=(5, 1)).has_uniform_weights
    assert fs.GeneSet("u", ("A1", "B2"), weights=(-1, 1)).has_uniform_weights


def test_unknown_set_names_are_named_with_the_catalogue():
    with pytest.raises(TypeError, match=r"\['nope'\] are not catalogue gene sets \(available: "
                                        r"ferroptosis_core, .*fpi"):
        fs.genesets.coerce_sets(["nope"])


# -- ids.collapse ----------------------------------------------------------------------------------


def test_collapse_max_mean_never_prefers_a_row_with_nan():
    matrix = pd.DataFrame([[1.0, np.nan, 50.0], [2.0, 2.0, 2.0], [3.0, 3.0, 3.0],
                           [np.nan, 9.0, 9.0], [np.nan, np.nan, 1.0]],
                          index=["A", "A", "B", "C", "C"], columns=["s1", "s2", "s3"])
    with pytest.warns(UserWarning, match="collapsed 2 duplicated feature names"):
        out = fs.ids.collapse(matrix, how="max_mean")
    np.testing.assert_array_equal(out.loc["A"], [2.0, 2.0, 2.0])  # the complete row
    np.testing.assert_array_equal(out.loc["C"], [np.nan, 9.0, 9.0])  # fewest NaN
    report = out.attrs["collapsed"].set_index("feature")["kept"]
    assert report.to_dict() == {"A": "row 1 (1 rows with more NaN or inf skipped)",
                                "C": "row 3 (1 rows with more NaN or inf skipped)"}


# -- tables (the readers behind the command line) -------------------------------------------------

FRAME = pd.DataFrame({"s1": [1.5, 2.0], "s2": [3.0, 4.25]}, index=pd.Index(["GPX4", "TFRC"]))


@pytest.mark.parametrize(("name", "sep"), [("tab_named.csv", "\t"), ("comma_named.tsv", ","),
                                           ("plain.txt", "\t"), ("x.csv.gz", "\t")])
def test_read_table_sniffs_the_separator(tmp_path, name, sep):
    FRAME.to_csv(tmp_path / name, sep=sep)
    pd.testing.assert_frame_equal(read_table(tmp_path / name), FRAME)


@pytest.mark.parametrize(("content", "match"), [
    (b"", r"bad\.tsv is empty"),
    (b"\n\n", r"bad\.tsv is empty"),
    (b"gene\ts1\ts1\nGPX4\t1\t2\n", r"repeated column names \['s1'\] in the header"),
    (b"id,GPX4,TFRC,GPX4\nS1,1,2,3\n", r"repeated column names \['GPX4'\]"),
    (b"gene;s1;s2\nGPX4;1,5;2\n", r"header line has no tab or comma \(it looks separated by "
                                  r"';'\)"),
    (b"gene\ts1\nGPX4\t1\ncaf\xe9\t2\n", r"not UTF-8 text \(byte 0xe9 at byte offset 18, "
                                         r"line 3\)"),
    (b"gene\ts1\nGPX4\t1\t2\t3\n", r"not a tab-separated table"),
])
def test_read_table_bad_files(tmp_path, content, match):
    (tmp_path / "bad.tsv").write_bytes(content)
    with pytest.raises(ValueError, match=match):
        read_table(tmp_path / "bad.tsv")


def test_read_table_damaged_gzip(tmp_path):
    packed = gzip.compress(FRAME.to_csv(sep="\t").encode() * 50)
    (tmp_path / "cut.tsv.gz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ValueError, match=r"cut\.tsv\.gz: cannot decompress it as gzip .*"
                                         r"damaged or incomplete"):
        read_table(tmp_path / "cut.tsv.gz")
    (tmp_path / "plain.tsv.gz").write_text("gene\ts1\n")
    with pytest.raises(ValueError, match=r"plain\.tsv\.gz: named \.gz but not gzip-compressed"):
        read_table(tmp_path / "plain.tsv.gz")
