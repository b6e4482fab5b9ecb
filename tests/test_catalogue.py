"""Validate the whole shipped catalogue: identifiers, evidence and the placement rules.

The rules are documented in ``genesets/README.md`` ("Placement rules"); each test below names
the rule it enforces.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ferroscore as fs
from ferroscore.genesets import GeneSet, Signature

CAT = fs.genesets.catalogue()
SETS = fs.genesets.available().set_index("name")
TABLE = fs.ids.gene_table().drop_duplicates("symbol").set_index("symbol")
FOLDER = fs.genesets.catalogue_dir()
REPO_GENESETS = Path(__file__).resolve().parents[1] / "genesets"
CURATION = pd.read_csv(FOLDER / "curation.tsv", sep="\t", dtype=str, keep_default_na=False)
CHANGELOG = (FOLDER / "CHANGELOG.md").read_text(encoding="utf-8")

SIGNED = CAT[CAT["kind"] == "signature"]
CONTEXT = set(CAT.loc[CAT["set"] == "ferroptosis_context", "symbol"])
AXES = SETS[SETS["kind"] == "axis"]
AXIS_ROWS = CAT[CAT["kind"] == "axis"]
COUNTED = CAT[CAT["n_driver_records"] != ""].assign(
    d=lambda t: t["n_driver_records"].astype(int),
    s=lambda t: t["n_suppressor_records"].astype(int))

LITERATURE = r"(?:PMID:\d+|DOI:10\.\d{4,}/\S+|CITE:[^;]+)"
TOKEN = re.compile(rf"^({LITERATURE}|FerrDb V2 (driver|suppressor): \d+ record\(s\), confidence "
                   r"[\w/]+, organism [\w/]+|FerrDb 2023 preview: [^;]+|KEGG:hsa04216|"
                   r"WikiPathways:WP4313)$")


def two_sided_side(n_driver: int, n_suppressor: int) -> str | None:
    """The documented rule: >= 3 records and >= 3x the other side, else no side."""
    if n_driver >= 3 and n_driver >= 3 * n_suppressor:
        return "driver"
    if n_suppressor >= 3 and n_suppressor >= 3 * n_driver:
        return "suppressor"
    return None


def test_every_symbol_is_a_current_official_symbol():
    stale = sorted(set(CAT["symbol"]) - set(TABLE.index))
    assert stale == []
    status = fs.ids.resolve(CAT["symbol"].unique().tolist())["status"]
    assert (status == "official").all()


def test_identifiers_agree_with_ncbi_table():
    merged = CAT.join(TABLE[["entrez_id", "ensembl_ids"]], on="symbol", rsuffix="_ncbi")
    assert (merged["entrez_id"] == merged["entrez_id_ncbi"]).all()
    assert (merged["ensembl_ids"] == merged["ensembl_ids_ncbi"]).all()
    hgnc = CAT.loc[CAT["hgnc_id"] != "", "hgnc_id"]
    assert hgnc.str.fullmatch(r"HGNC:\d+").all()
    # one HGNC ID per symbol across all sets
    assert CAT[CAT["hgnc_id"] != ""].groupby("symbol")["hgnc_id"].nunique().max() == 1
    core = CAT[CAT["set"] == "ferroptosis_core"]
    assert (core["hgnc_id"] != "").all()


def test_every_row_has_evidence_of_the_right_kind():
    tokens = CAT["evidence"].str.split(";")
    bad = [(s, g, t) for s, g, ts in zip(CAT["set"], CAT["symbol"], tokens, strict=True)
           for t in ts if not TOKEN.match(t)]
    assert bad == []
    literature = CAT["evidence"].str.contains(LITERATURE)
    for name in ("ferroptosis_core", "ferroptosis_extended", "breast_ferroptosis", "fpi"):
        assert literature[CAT["set"] == name].all(), name
    ferrdb = CAT.loc[CAT["set"] == "ferrdb_v2_validated", "evidence"]
    assert ferrdb.str.startswith("FerrDb V2").all() and ferrdb.str.contains("Validated").all()
    assert (CAT.loc[CAT["set"] == "kegg_ferroptosis", "evidence"] == "KEGG:hsa04216").all()
    assert (CAT.loc[CAT["set"] == "wp_ferroptosis", "evidence"] == "WikiPathways:WP4313").all()


def test_roles_and_weights_are_consistent():
    expected = {"driver": 1.0, "suppressor": -1.0, "context-dependent": 0.0, "member": 0.0}
    assert (CAT["role"].map(expected) == CAT["weight"]).all()
    assert (CAT.loc[CAT["kind"] == "context", "role"] == "context-dependent").all()


def test_no_gene_on_both_sides_and_no_repeats():
    assert not CAT.duplicated(["set", "symbol"]).any()
    for name, rows in SIGNED.groupby("set"):
        both = set(rows.loc[rows["weight"] > 0, "symbol"]) & set(rows.loc[rows["weight"] < 0,
                                                                         "symbol"])
        assert not both, name


def test_mismapped_aliases_are_in_no_set():
    # FerrDb maps the YAP/TAZ aliases to YY1AP1 and TAFAZZIN as well as to YAP1/WWTR1
    assert {"YY1AP1", "TAFAZZIN"}.isdisjoint(CAT["symbol"])


def test_context_genes_are_on_no_side_of_any_signed_set_and_in_no_axis():
    assert CONTEXT.isdisjoint(SIGNED["symbol"])
    assert CONTEXT.isdisjoint(AXIS_ROWS["symbol"])
    assert {"TP53", "HMOX1", "YAP1", "WWTR1", "ATF4", "EGFR", "PRKAA1", "STK11"} <= CONTEXT
    context = CAT[CAT["set"] == "ferroptosis_context"]
    assert (context["axis"] == "other").all() and (context["note"] != "").all()


def test_record_counts_are_stored_and_match_the_evidence():
    ferrdb = CAT[CAT["set"] == "ferrdb_v2_validated"]
    assert (ferrdb["n_driver_records"] != "").all()
    # counts are a property of the gene: identical in every set
    assert COUNTED.groupby("symbol")[["d", "s"]].nunique().max().max() == 1
    for row in COUNTED[COUNTED["set"] == "ferrdb_v2_validated"].itertuples():
        stated = dict(re.findall(r"FerrDb V2 (driver|suppressor): (\d+) record", row.evidence))
        assert int(stated[row.role]) == (row.d if row.role == "driver" else row.s), row.symbol
        assert {int(n) for n in stated.values()} <= {row.d, row.s}


def test_two_sided_rule_is_applied_in_every_set():
    both = COUNTED[(COUNTED["d"] > 0) & (COUNTED["s"] > 0)]
    signed = both[both["kind"].isin(["signature", "axis"])]
    sides = [two_sided_side(d, s) for d, s in zip(signed["d"], signed["s"], strict=True)]
    assert (signed["role"] == pd.Series(sides, index=signed.index)).all()
    failing = {g for g, d, s in zip(both["symbol"], both["d"], both["s"], strict=True)
               if two_sided_side(d, s) is None}
    assert failing and failing <= CONTEXT
    # the rule brings these back to their sides in FerrDb
    ferrdb = SIGNED[SIGNED["set"] == "ferrdb_v2_validated"].set_index("symbol")["role"]
    assert (ferrdb["SLC7A11"], ferrdb["TFRC"]) == ("suppressor", "driver")
    extended = SIGNED[SIGNED["set"] == "ferroptosis_extended"].set_index("symbol")["role"]
    assert (extended["SLC7A11"], extended["TFRC"]) == ("suppressor", "driver")


def test_fpi_sign_verification_is_recorded_per_gene_and_in_the_set():
    fpi = CAT[CAT["set"] == "fpi"]
    assert set(fpi["sign_status"]) <= {"verified", "unverified"}
    assert (CAT.loc[CAT["set"] != "fpi", "sign_status"] == "").all()
    assert (fpi["note"] != "").all()
    unverified = fpi.loc[fpi["sign_status"] == "unverified", "symbol"].tolist()
    provenance = SETS.at["fpi", "provenance"]
    if unverified:
        assert provenance == "reconstructed, signs unverified: " + ", ".join(unverified)
        assert "signs unverified" in SETS.at["fpi", "description"]
        assert fs.genesets.load("fpi").meta["provenance"] == provenance


def test_every_result_records_the_fpi_provenance_and_catalogue_version():
    genes = fs.genesets.load("fpi").genes + fs.genesets.load("ferroptosis_core").genes
    rng = np.random.default_rng(0)
    expression = pd.DataFrame(rng.normal(size=(len(set(genes)), 6)),
                              index=sorted(set(genes)), columns=[f"s{i}" for i in range(6)])
    params = fs.score(expression, ["fpi", "ferroptosis_core"], "zscore").params
    entries = {e["name"]: e for e in params["sets"]}
    assert entries["fpi"]["provenance"] == SETS.at["fpi", "provenance"]
    assert entries["ferroptosis_core"]["provenance"] == ""
    assert params["catalogue_version"] == fs.genesets.catalogue_version() == "2026.12.0"


def test_every_curated_addition_has_evidence_an_axis_and_a_set():
    axes = set(AXES.index) | {"other"}
    for row in CURATION.itertuples():
        assert re.search(LITERATURE, row.evidence) or "FerrDb 2023 preview" in row.evidence
        assert row.axis in axes and row.note, row.symbol
        rows = CAT[CAT["symbol"] == row.symbol].set_index("set")
        assert (rows["axis"] == row.axis).all(), row.symbol
        if row.role == "context-dependent":
            assert row.symbol in CONTEXT
        elif row.sets:
            assert rows.at[row.sets, "role"] == row.role, row.symbol
        else:  # axis-only member
            assert row.axis != "other" and rows.at[row.axis, "role"] == row.role
        assert row.symbol in CHANGELOG, row.symbol


def test_genes_the_issue_names_are_added_or_their_absence_is_explained():
    named = ["PSAT1", "HIC1", "HNF4A", "CD36", "SLC27A2", "HAMP", "SIGMAR1", "PSTK", "DHFR",
             "PTS", "SPR", "QDPR", "GATA3", "CYB5R2", "HLF", "TIMM17B", "FGFR4", "ITGB3",
             "KLF4"]
    not_added = CHANGELOG.split("### Not added")[1].split("\n### ")[0]
    for gene in named:
        assert gene in set(CURATION["symbol"]) or gene in not_added, gene
    for gene in set(CURATION["symbol"]) | CONTEXT:
        assert gene in CHANGELOG, gene


def test_axes_are_one_directional():
    assert set(AXES["direction"]) == {"pro-ferroptotic", "anti-ferroptotic"}
    axis_role = AXES["direction"].map({"pro-ferroptotic": "driver",
                                       "anti-ferroptotic": "suppressor"})
    assert (AXIS_ROWS["role"] == AXIS_ROWS["set"].map(axis_role)).all()
    assert not AXIS_ROWS["symbol"].duplicated().any()  # each gene in at most one axis
    member_of = AXIS_ROWS.set_index("symbol")["set"]
    assert (CAT["axis"] == CAT["symbol"].map(member_of).fillna("other")).all()
    # a gene's role in any signature equals its axis's role
    in_axis = SIGNED[SIGNED["axis"] != "other"]
    assert (in_axis["role"] == in_axis["axis"].map(axis_role)).all()
    for name in AXES.index:
        assert isinstance(fs.genesets.load(name), GeneSet)


@pytest.mark.parametrize(
    ("name", "n_up", "n_down", "n_genes"),
    [
        ("ferroptosis_core", 4, 5, 9),
        ("ferroptosis_extended", 38, 37, 75),
        ("ferroptosis_context", 0, 0, 22),
        ("ferrdb_v2_validated", 111, 116, 227),
        ("breast_ferroptosis", 1, 5, 6),
        ("fpi", 14, 10, 24),
        ("kegg_ferroptosis", 0, 0, 41),
        ("wp_ferroptosis", 0, 0, 64),
        ("gch1_bh4", 0, 5, 5),
        ("fsp1_coq10", 0, 5, 5),
    ],
)
def test_set_sizes(name, n_up, n_down, n_genes):
    row = SETS.loc[name]
    assert (row["n_up"], row["n_down"], row["n_genes"]) == (n_up, n_down, n_genes)


def test_pathway_contents():
    kegg = fs.genesets.load("kegg_ferroptosis")
    assert "MAP1LC3BP1" not in kegg.genes and "MAP1LC3B2" in kegg.genes
    wp = fs.genesets.load("wp_ferroptosis")
    assert {"BACH1", "CBS", "AIFM2", "GCH1"} <= set(wp.genes)


def test_gmt_files_match_the_catalogue():
    folder = FOLDER / "gmt"
    for name in SETS.index:
        from_gmt = fs.genesets.read_gmt(folder / f"{name}.gmt", pair_signatures=True)[name]
        loaded = fs.genesets.load(name)
        if isinstance(loaded, Signature):
            assert (from_gmt.up.genes, from_gmt.down.genes) == (loaded.up.genes,
                                                                 loaded.down.genes)
        else:
            assert from_gmt.genes == loaded.genes
    combined = fs.genesets.read_gmt(folder / "ferroscore_catalogue.gmt", pair_signatures=True)
    assert list(combined) == SETS.index.tolist()


@pytest.mark.skipif(not REPO_GENESETS.is_dir(), reason="not run from a source checkout")
def test_installed_catalogue_equals_the_repository_copy():
    for name in ("catalogue.tsv", "sets.tsv", "curation.tsv"):
        assert (FOLDER / name).read_bytes() == (REPO_GENESETS / name).read_bytes()


def test_catalogue_version_recorded():
    assert re.fullmatch(r"\d{4}\.\d+\.\d+", fs.genesets.catalogue_version())
    assert f"## {fs.genesets.catalogue_version()}" in CHANGELOG
    assert isinstance(fs.genesets.catalogue(), pd.DataFrame)
