"""Conformance with the R reference implementations on the real GSE1992 cohort.

Fixtures (tests/data/gse1992, see ../shared/fixtures/README.md): GSVA 1.46.0 and singscore R
outputs, computed after renaming four outdated symbols (MBOAT5 -> LPCAT3, CARS -> CARS1,
ATP5G3 -> ATP5MC3, TTC35 -> EMC2). ferroscore scores the bundled matrix *unrenamed*: the sets
find those rows through aliases, and every one of the 15,528 rows stays in the ranking.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import ferroscore as fs

from .agreement import tolerance
from .conftest import DATA

FIXTURES = DATA / "gse1992"
SETS = {
    "core_drivers": "ACSL4 LPCAT3 TFRC NCOA4".split(),
    "core_suppressors": "GPX4 SLC7A11 AIFM2 FTH1 GCH1".split(),
    "fpi_positive": ("ACSL4 ALOX15 ATP5MC3 CARS1 CS DPP4 GLS2 LPCAT3 NCOA4 RPL8 TFRC SAT1 "
                     "SLC1A5 FDFT1").split(),
    "fpi_negative": "CISD1 FANCD2 GPX4 HSPB1 MT1G NFE2L2 SLC7A11 EMC2 HSPA5 CDKN1A".split(),
    "kegg_ferroptosis": (
        "ALOX15 CP CYBB ACSL1 ACSL3 ACSL4 FTH1 FTL GCLC GCLM GPX4 GSS HMOX1 SLC11A2 PCBP1 PCBP2 "
        "PRNP SAT1 SLC3A2 TF TFRC TP53 VDAC2 VDAC3 NCOA4 ATG5 LPCAT3 ATG7 ACSL6 SLC39A14 "
        "SLC7A11 SLC40A1 ACSL5 STEAP3 SLC39A8 MAP1LC3B MAP1LC3A FTMT SAT2 MAP1LC3C").split(),
}
GSVA_CASES = [
    ("ssgsea_normalised", "gsva_ssgsea_norm.csv", "ssgsea", {}),
    ("ssgsea_raw", "gsva_ssgsea_raw.csv", "ssgsea", {"normalize": False}),
    ("gsva_max_diff", "gsva_gsva_gaussian_mxdiff.csv", "gsva", {"kcdf": "gaussian",
                                                                "max_diff": True}),
    ("gsva_max_deviation", "gsva_gsva_gaussian_maxdev.csv", "gsva", {"kcdf": "gaussian",
                                                                     "max_diff": False}),
    ("zscore", "gsva_zscore.csv", "zscore", {}),
]


def reference(name: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / name, index_col=0)


@pytest.fixture(scope="module")
def expression(breast):
    return breast[0]


def test_set_sizes_after_matching_equal_the_fixture(expression):
    result = fs.score(expression, SETS, "zscore", min_coverage=0)
    provenance = (FIXTURES / "provenance.txt").read_text().split("set_sizes ")[1].strip()
    expected = dict(item.split() for item in provenance.split(";"))
    assert result.coverage["n_found"].to_dict() == {k: int(v) for k, v in expected.items()}
    # the outdated rows were used through their aliases
    mapped = result.coverage.loc["fpi_positive", "mapped_aliases"]
    assert mapped == {"ATP5MC3": "ATP5G3", "CARS1": "CARS", "LPCAT3": "MBOAT5"}


@pytest.mark.parametrize(("key", "fixture", "method", "params"), GSVA_CASES,
                         ids=[c[0] for c in GSVA_CASES])
def test_gsva_package_methods(expression, key, fixture, method, params):
    ref = reference(fixture)
    got = fs.score(expression, SETS, method, min_coverage=0, **params).scores
    got = got.loc[ref.index, ref.columns]
    assert np.abs(got.to_numpy() - ref.to_numpy()).max() <= tolerance(key)


def test_plage_up_to_sign(expression):
    ref = reference("gsva_plage.csv")
    got = fs.score(expression, SETS, "plage", min_coverage=0).scores.loc[ref.index, ref.columns]
    for column in ref.columns:
        a, b = got[column].to_numpy(), ref[column].to_numpy()
        assert min(np.abs(a - b).max(), np.abs(a + b).max()) <= tolerance("plage"), column


def test_plage_sign_is_oriented_to_the_mean_z(expression):
    got = fs.score(expression, SETS, "plage", min_coverage=0).scores
    mean_z = fs.score(expression, SETS, "zscore", min_coverage=0).scores
    for column in SETS:
        assert np.corrcoef(got[column], mean_z[column])[0, 1] > 0


@pytest.fixture(scope="module")
def singscore_ref():
    return reference("singscore.csv")


@pytest.mark.parametrize("prefix, up, down", [
    ("core", "core_drivers", "core_suppressors"),
    ("fpi", "fpi_positive", "fpi_negative"),
])
def test_singscore_up_down(expression, singscore_ref, prefix, up, down):
    sig = fs.Signature.from_sets(f"{prefix}_updown", SETS[up], SETS[down])
    res = fs.score(expression, [sig, fs.GeneSet(f"{prefix}_up", SETS[up])], "singscore",
                   min_coverage=0).scores.loc[singscore_ref.index]
    n = f"{prefix}_updown"
    expected = {
        f"{n}_TotalScore": res[n], f"{n}_TotalDispersion": res[f"{n}_dispersion"],
        f"{n}_UpScore": res[f"{n}_up"], f"{n}_UpDispersion": res[f"{n}_up_dispersion"],
        # singscore reports the down side reversed: DownScore = 0.5 - S_down = -N_down
        f"{n}_DownScore": -res[f"{n}_down"], f"{n}_DownDispersion": res[f"{n}_down_dispersion"],
        f"{prefix}_up_TotalScore": res[f"{prefix}_up"],
        f"{prefix}_up_TotalDispersion": res[f"{prefix}_up_dispersion"],
    }
    for column, values in expected.items():
        difference = np.abs(values.to_numpy() - singscore_ref[column].to_numpy()).max()
        assert difference <= tolerance("singscore"), column


@pytest.mark.parametrize("prefix, up", [("core", "core_drivers"), ("fpi", "fpi_positive")])
def test_singscore_uncentred(expression, singscore_ref, prefix, up):
    res = fs.score(expression, {"s": SETS[up]}, "singscore", center=False,
                   min_coverage=0).scores.loc[singscore_ref.index]
    for stat, column in (("TotalScore", "s"), ("TotalDispersion", "s_dispersion")):
        ref = singscore_ref[f"{prefix}_up_uncentered_{stat}"].to_numpy()
        assert np.abs(res[column].to_numpy() - ref).max() <= tolerance("singscore")


def test_scores_equal_on_renamed_and_unrenamed_matrix(expression):
    renamed = expression.rename(index={"MBOAT5": "LPCAT3", "CARS": "CARS1",
                                       "ATP5G3": "ATP5MC3", "TTC35": "EMC2"})
    for method in ("singscore", "ssgsea", "gsva", "zscore"):
        a = fs.score(expression, SETS, method, min_coverage=0).scores
        b = fs.score(renamed, SETS, method, min_coverage=0).scores
        np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


def test_samples_x_genes_orientation_gives_the_same_scores(expression):
    a = fs.score(expression, "ferroptosis_core").scores
    b = fs.score(expression.T, "ferroptosis_core").scores
    pd.testing.assert_frame_equal(a, b)
