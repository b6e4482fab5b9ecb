"""Validate the whole shipped catalogue against the shipped NCBI identifier table."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import ferroscore as fs
from ferroscore.genesets import GeneSet, Signature

CAT = fs.genesets.catalogue()
TABLE = fs.ids.gene_table().drop_duplicates("symbol").set_index("symbol")
REPO_GENESETS = Path(__file__).resolve().parents[1] / "genesets"


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
    assert (CAT["evidence"].str.len() > 0).all()
    pmid = re.compile(r"^PMID:\d+(;PMID:\d+)*$")
    for name in ("ferroptosis_core", "ferroptosis_extended", "ferroptosis_context", "fpi"):
        assert CAT.loc[CAT["set"] == name, "evidence"].str.match(pmid).all(), name
    ferrdb = CAT.loc[CAT["set"] == "ferrdb_v2_validated", "evidence"]
    assert ferrdb.str.contains("FerrDb V2").all() and ferrdb.str.contains("Validated").all()
    assert (CAT.loc[CAT["set"] == "kegg_ferroptosis", "evidence"] == "KEGG:hsa04216").all()
    assert (CAT.loc[CAT["set"] == "wp_ferroptosis", "evidence"] == "WikiPathways:WP4313").all()


def test_roles_and_weights_are_consistent():
    expected = {"driver": 1.0, "suppressor": -1.0, "context-dependent": 0.0, "member": 0.0}
    assert (CAT["role"].map(expected) == CAT["weight"]).all()


def test_no_gene_on_both_sides_and_no_repeats():
    assert not CAT.duplicated(["set", "symbol"]).any()
    for name in CAT.loc[CAT["kind"] == "signature", "set"].unique():
        rows = CAT[CAT["set"] == name]
        both = set(rows.loc[rows["weight"] > 0, "symbol"]) & set(rows.loc[rows["weight"] < 0,
                                                                         "symbol"])
        assert not both, name


@pytest.mark.parametrize(
    ("name", "n_up", "n_down", "n_genes"),
    [
        ("ferroptosis_core", 4, 5, 9),
        ("ferroptosis_extended", 38, 31, 69),
        ("ferroptosis_context", 0, 0, 2),
        ("ferrdb_v2_validated", 115, 116, 231),
        ("fpi", 14, 10, 24),
        ("kegg_ferroptosis", 0, 0, 41),
        ("wp_ferroptosis", 0, 0, 64),
    ],
)
def test_set_sizes(name, n_up, n_down, n_genes):
    row = fs.genesets.available().set_index("name").loc[name]
    assert (row["n_up"], row["n_down"], row["n_genes"]) == (n_up, n_down, n_genes)


def test_context_genes_are_out_of_the_extended_signature():
    ext = fs.genesets.load("ferroptosis_extended")
    assert {"TP53", "HMOX1"}.isdisjoint(ext.genes)
    assert set(fs.genesets.load("ferroptosis_context").genes) == {"TP53", "HMOX1"}


def test_pathway_contents():
    kegg = fs.genesets.load("kegg_ferroptosis")
    assert "MAP1LC3BP1" not in kegg.genes and "MAP1LC3B2" in kegg.genes
    wp = fs.genesets.load("wp_ferroptosis")
    assert {"BACH1", "CBS", "AIFM2", "GCH1"} <= set(wp.genes)


def test_axes_are_listed_and_single_sided():
    table = fs.genesets.available()
    axes = table[table["kind"] == "axis"]
    assert set(axes["name"]) == {"iron_import", "iron_storage", "gsh_gpx4", "lipid_peroxidation",
                                 "fsp1_coq10", "gch1_bh4", "dhodh", "nrf2", "mufa"}
    assert ((axes["n_up"] == 0) | (axes["n_down"] == 0)).all()
    assert set(axes["direction"]) == {"pro-ferroptotic", "anti-ferroptotic"}
    # every signature gene's axis label is an axis or "other"
    assert set(CAT["axis"]) <= set(axes["name"]) | {"other"}
    for name in axes["name"]:
        assert isinstance(fs.genesets.load(name), GeneSet)


def test_gmt_files_match_the_catalogue():
    folder = fs.genesets.catalogue_dir() / "gmt"
    for name in fs.genesets.available()["name"]:
        from_gmt = fs.genesets.read_gmt(folder / f"{name}.gmt", pair_signatures=True)[name]
        loaded = fs.genesets.load(name)
        if isinstance(loaded, Signature):
            assert (from_gmt.up.genes, from_gmt.down.genes) == (loaded.up.genes,
                                                                 loaded.down.genes)
        else:
            assert from_gmt.genes == loaded.genes
    combined = fs.genesets.read_gmt(folder / "ferroscore_catalogue.gmt", pair_signatures=True)
    assert list(combined) == fs.genesets.available()["name"].tolist()


@pytest.mark.skipif(not REPO_GENESETS.is_dir(), reason="not run from a source checkout")
def test_installed_catalogue_equals_the_repository_copy():
    installed = fs.genesets.catalogue_dir()
    for name in ("catalogue.tsv", "sets.tsv"):
        assert (installed / name).read_bytes() == (REPO_GENESETS / name).read_bytes()


def test_catalogue_version_recorded():
    assert re.fullmatch(r"\d{4}\.\d+\.\d+", fs.genesets.catalogue_version())
    assert isinstance(fs.genesets.catalogue(), pd.DataFrame)
