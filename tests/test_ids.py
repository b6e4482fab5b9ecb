"""Identifier resolution: the traps named in the foundation issue, and the matching rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import ferroscore as fs


def resolved(name, **kw):
    return fs.ids.resolve([name], **kw).iloc[0]


@pytest.mark.parametrize(
    ("alias", "candidates"),
    [
        ("FSP1", "AIFM2|ATL1|S100A4"),
        ("NRF2", "GABPA|NFE2L2"),
        ("DMT1", "CHMP2B|DMRT1|SLC11A2"),
    ],
)
def test_ambiguous_aliases_are_never_guessed(alias, candidates):
    row = resolved(alias)
    assert row["status"] == "ambiguous"
    assert row["symbol"] is None
    assert row["candidates"] == candidates


@pytest.mark.parametrize(
    ("name", "symbol", "status"),
    [
        ("PRG3", "PRG3", "official"),  # official symbol of proteoglycan 3, never AIFM2
        ("MBOAT5", "LPCAT3", "alias"),
        ("CARS", "CARS1", "alias"),
        ("TFR1", "TFRC", "alias"),
        ("xCT", "SLC7A11", "alias"),
        ("TTC35", "EMC2", "alias"),
        ("ATP5G3", "ATP5MC3", "alias"),
        ("GLS", "GLS", "official"),  # also an alias of GLS2, but official wins
        ("POR", "POR", "official"),  # also an alias of VDAC2
        ("GPX4", "GPX4", "official"),
    ],
)
def test_symbol_traps(name, symbol, status):
    row = resolved(name)
    assert (row["symbol"], row["status"]) == (symbol, status)


def test_ensembl_with_version_and_entrez_int_and_str():
    table = fs.ids.resolve(["ENSG00000167468.12", "ENSG00000167468", 2879, "2879"])
    assert table["symbol"].tolist() == ["GPX4"] * 4
    assert table["status"].tolist() == ["ensembl", "ensembl", "entrez", "entrez"]


def test_unknown_and_case_sensitivity_by_default():
    table = fs.ids.resolve(["gpx4", "NOT_A_GENE", "ENSG99999999999"])
    assert table["status"].tolist() == ["unknown"] * 3
    row = resolved("gpx4", case_insensitive=True)
    assert (row["symbol"], row["status"], row["via"]) == ("GPX4", "official", "case-insensitive")


def test_mouse_symbols_and_exceptions_are_reported():
    table = fs.ids.resolve(["Gpx4", "Slc7a11", "Trp53", "Ftl1", "Cars"], species="mouse")
    assert table["symbol"].tolist() == ["GPX4", "SLC7A11", "TP53", "FTL", "CARS1"]
    assert table["via"].str.startswith("mouse").all()
    # without the option, mouse symbols are unknown rather than silently upper-cased
    assert fs.ids.resolve(["Gpx4"])["status"].item() == "unknown"


def test_whitespace_is_stripped_and_reported():
    row = resolved("RNF113A ")
    assert (row["symbol"], row["via"]) == ("RNF113A", "stripped whitespace")


@pytest.mark.parametrize("bad", [None, float("nan"), 2879.0, True])
def test_non_string_identifiers_are_errors(bad):
    with pytest.raises(TypeError, match="position 1"):
        fs.ids.resolve(["GPX4", bad])


def test_species_must_be_known():
    with pytest.raises(ValueError, match="species"):
        fs.ids.resolve(["GPX4"], species="rat")


def test_gene_table_is_the_shipped_ncbi_table():
    table = fs.ids.gene_table()
    assert len(table) == 77614
    assert list(table.columns) == ["entrez_id", "symbol", "gene_type", "aliases", "ensembl_ids"]


# -- locating set members among matrix features -------------------------------------------------


def test_locate_uses_aliases_without_touching_features():
    features = ["MBOAT5", "CARS", "GPX4", "FSP1", "ACTB"]
    located = fs.ids.locate(["LPCAT3", "CARS1", "GPX4", "AIFM2", "NCOA4"], features)
    assert located.indices.tolist() == [0, 1, 2]
    assert located.mapped == {"LPCAT3": "MBOAT5", "CARS1": "CARS"}
    # AIFM2 is not found: the matrix row FSP1 is ambiguous, so it is not taken as AIFM2
    assert located.missing == ["AIFM2", "NCOA4"]


def test_locate_reports_ambiguous_members():
    located = fs.ids.locate(["FSP1", "GPX4"], ["GPX4", "AIFM2", "S100A4"])
    assert located.indices.tolist() == [0]
    assert located.ambiguous == {"FSP1": "AIFM2|ATL1|S100A4"}


def test_locate_exact_name_first_and_custom_ids():
    located = fs.ids.locate(["g1", "g3"], ["g0", "g1", "g2", "g3"])
    assert located.indices.tolist() == [1, 3]
    assert located.mapped == {}


def test_locate_prefers_official_symbol_then_highest_mean():
    # two rows stand for LPCAT3 (asked for by Entrez ID): the official-symbol row wins
    located = fs.ids.locate(["10162"], ["MBOAT5", "LPCAT3"])
    assert located.indices.tolist() == [1]
    assert "official-symbol match" in located.choices[0]
    # an alias member with two alias rows and no official row: highest mean wins, reported
    located = fs.ids.locate(["LPCAT3"], ["MBOAT5", "10162", "GPX4"],
                            feature_means=np.array([1.0, 5.0, 0.0]))
    assert located.indices.tolist() == [1]
    assert "highest mean" in located.choices[0]


def test_locate_deduplicates_two_members_on_one_feature():
    located = fs.ids.locate(["LPCAT3", "MBOAT5"], ["MBOAT5", "GPX4"])
    assert located.indices.tolist() == [0]
    assert len(located.duplicates) == 1


def test_feature_index_rejects_duplicated_features():
    with pytest.raises(ValueError, match="collapse"):
        fs.ids.FeatureIndex(["GPX4", "GPX4", "ACSL4"])
    with pytest.raises(ValueError, match="collapse"):  # an Index, kept as it is
        fs.ids.FeatureIndex(pd.Index(["GPX4", "ACSL4", "GPX4"]))


@pytest.mark.parametrize("features", [["TFRC", "GPX4", "ACSL4", "GPX4", "FTH1"],
                                      ["ACSL4", "FTH1", "GPX4", "GPX4", "TFRC"]])
@pytest.mark.parametrize("as_index", [False, True])
def test_feature_positions_with_repeated_names(features, as_index):
    """Repeated names (an AnnData symbol column) give every position; the others one,
    whether the names are sorted or not."""
    index = fs.ids.FeatureIndex(pd.Index(features) if as_index else features,
                                allow_duplicates=True)
    for name in set(features):
        assert index.positions(name) == [i for i, f in enumerate(features) if f == name]
    assert index.positions("NCOA4") == []


# -- explicit collapsing --------------------------------------------------------------------------


def test_collapse_max_mean_and_mean_are_reported():
    m = pd.DataFrame([[1.0, 1.0], [5.0, 7.0], [2.0, 2.0]], index=["A", "A", "B"],
                     columns=["s1", "s2"])
    with pytest.warns(UserWarning, match="collapsed 1 duplicated"):
        out = fs.ids.collapse(m, how="max_mean")
    assert out.index.tolist() == ["A", "B"]
    np.testing.assert_array_equal(out.loc["A"].to_numpy(), [5.0, 7.0])
    assert out.attrs["collapsed"]["feature"].tolist() == ["A"]
    with pytest.warns(UserWarning):
        out = fs.ids.collapse(m.T, how="mean", genes_axis="columns")
    np.testing.assert_array_equal(out["A"].to_numpy(), [3.0, 4.0])


def test_collapse_without_duplicates_is_a_copy():
    m = pd.DataFrame([[1.0], [2.0]], index=["A", "B"])
    out = fs.ids.collapse(m)
    pd.testing.assert_frame_equal(out, m)
    assert out.attrs["collapsed"].empty


def test_collapse_rejects_unknown_how():
    with pytest.raises(ValueError, match="how"):
        fs.ids.collapse(pd.DataFrame([[1.0]], index=["A"]), how="sum")
