"""Build the ferroscore gene-set catalogue from the curated research tables.

Reads the research folder (``curated_driver_suppressor.tsv``, ``ferrdb_v2_driver_suppressor.tsv``,
``gene_identifiers.tsv``, ``ferroptosis_genesets.md``) and the package's NCBI gene table, and
writes ``catalogue.tsv`` (one row per gene per set), ``sets.tsv`` (one row per set) and
``gmt/*.gmt`` next to this script. Every symbol is checked against the NCBI table and replaced
by its current official symbol when the source used an older one (the original is kept in
``note``). Run from the repository root::

    PYTHONPATH=src python genesets/build_catalogue.py ../shared/docs/research
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd

from ferroscore import genesets, ids

HERE = Path(__file__).resolve().parent
CATALOGUE_VERSION = "2026.11.0"

CORE_DRIVERS = ["ACSL4", "LPCAT3", "TFRC", "NCOA4"]
CORE_SUPPRESSORS = ["GPX4", "SLC7A11", "AIFM2", "FTH1", "GCH1"]
# Curated genes whose evidence marks them as context-dependent (kept out of both sides).
CONTEXT = {
    "TP53": "represses SLC7A11 (pro-ferroptotic) but suppresses ferroptosis in colorectal cancer",
    "HMOX1": "haem-derived iron promotes ferroptosis, yet FerrDb also lists HMOX1 as a suppressor",
}
# Ferroptosis potential index regulators (Liu et al., iScience 2020), current symbols.
FPI_POSITIVE = ["ACSL4", "ALOX15", "ATP5MC3", "CARS1", "CS", "DPP4", "GLS2", "LPCAT3", "NCOA4",
                "RPL8", "TFRC", "SAT1", "SLC1A5", "FDFT1"]
FPI_NEGATIVE = ["CISD1", "FANCD2", "GPX4", "HSPB1", "MT1G", "NFE2L2", "SLC7A11", "EMC2", "HSPA5",
                "CDKN1A"]
FPI_PMID = "PMID:32629423"
KEGG_ID, WP_ID = "KEGG:hsa04216", "WikiPathways:WP4313"
# MAP1LC3BP1 is the MAP1LC3B pseudogene 1 (HGNC), although NCBI 2022-09 types it protein-coding.
PSEUDOGENES = {"MAP1LC3BP1"}

# Pathway axes: name -> (role of every member, description, genes). Each gene sits in one axis.
AXES = {
    "iron_import": ("driver", "iron uptake and ferritinophagy (labile iron supply)",
                    ["TFRC", "TF", "STEAP3", "SLC11A2", "SLC39A14", "SLC39A8", "IREB2", "NCOA4",
                     "ATG5", "ATG7"]),
    "iron_storage": ("suppressor", "iron storage and export",
                     ["FTH1", "FTL", "FTMT", "SLC40A1", "CP", "CISD1"]),
    "gsh_gpx4": ("suppressor", "cystine import, glutathione synthesis and GPX4",
                 ["GPX4", "SLC7A11", "SLC3A2", "GCLC", "GCLM", "GSS", "CBS"]),
    "lipid_peroxidation": ("driver", "PUFA-phospholipid synthesis and oxygenation",
                           ["ACSL4", "LPCAT3", "ALOX5", "ALOX12", "ALOX12B", "ALOX15", "ALOX15B",
                            "ALOXE3", "POR", "CYB5R1", "PEBP1"]),
    "fsp1_coq10": ("suppressor", "FSP1 (AIFM2) and the CoQ10 (mevalonate) branch",
                   ["AIFM2", "COQ2", "HMGCR"]),
    "gch1_bh4": ("suppressor", "GCH1 / tetrahydrobiopterin", ["GCH1"]),
    "dhodh": ("suppressor", "mitochondrial DHODH / CoQH2", ["DHODH"]),
    "nrf2": ("suppressor", "NRF2 antioxidant programme",
             ["NFE2L2", "NQO1", "SQSTM1", "TXNRD1", "MT1G"]),
    "mufa": ("suppressor", "monounsaturated fatty acid protection", ["SCD", "ACSL3"]),
}

SOURCES = {
    "curated": "curated literature driver/suppressor list (ferroscore research notes, PubMed)",
    "ferrdb": "FerrDb V2 (Zhou et al., Nucleic Acids Res 2023; doi:10.1093/nar/gkac935)",
    "fpi": "Liu et al., iScience 2020;23:101302 (PMID 32629423), FPI regulators",
    "kegg": "KEGG pathway hsa04216 Ferroptosis (KGML created 2022-01-14)",
    "wp": "WikiPathways WP4313 Ferroptosis (data-node export)",
}

WEIGHTS = {"driver": 1.0, "suppressor": -1.0, "context-dependent": 0.0, "member": 0.0}
COLUMNS = ["set", "kind", "symbol", "entrez_id", "ensembl_ids", "hgnc_id", "role", "weight",
           "axis", "evidence", "source", "note"]


def pmids(text: str) -> str:
    return ";".join(f"PMID:{p.strip()}" for p in text.split(";") if p.strip())


def pathway_block(markdown: str, heading: str) -> list[tuple[str, list[str]]]:
    """Parse ``SYMBOL(entrez;entrez)`` tokens from the code block after a heading."""
    start = markdown.index(heading)
    block = markdown[start:].split("```")[1]
    return [(sym, ids_.split(";")) for sym, ids_ in re.findall(r"([A-Z0-9]+)\(([\d;]+)\)", block)]


class Builder:
    def __init__(self, research: Path) -> None:
        self.index = ids.gene_index()
        self.table = ids.gene_table().set_index("entrez_id")
        self.curated = pd.read_csv(research / "curated_driver_suppressor.tsv", sep="\t", dtype=str)
        self.ferrdb = pd.read_csv(research / "ferrdb_v2_driver_suppressor.tsv", sep="\t", dtype=str)
        self.markdown = (research / "ferroptosis_genesets.md").read_text(encoding="utf-8")
        identifiers = pd.read_csv(research / "gene_identifiers.tsv", sep="\t", dtype=str)
        self.hgnc: dict[str, str] = {}
        for symbol, hgnc in [*zip(identifiers["symbol"], identifiers["hgnc_id"], strict=True),
                             *zip(self.curated["symbol"], self.curated["hgnc"], strict=True),
                             *zip(self.ferrdb["symbol"], self.ferrdb["hgnc_id"], strict=True)]:
            self.add_hgnc(symbol, hgnc)
        self.curated_evidence = dict(zip(self.curated["symbol"], self.curated["pmids"].map(pmids),
                                         strict=True))
        self.kegg = self.pathway("#### KEGG hsa04216")
        self.wp = self.pathway("#### WP4313")
        self.axis_of = {g: axis for axis, (_, _, genes) in AXES.items() for g in genes}
        self.rows: list[dict] = []
        self.sets: list[dict] = []

    def add_hgnc(self, symbol: str, hgnc: str) -> None:
        if not isinstance(hgnc, str) or not hgnc.startswith("HGNC:"):
            return
        res = ids.resolve([symbol]).iloc[0]
        if res["status"] not in ("official", "alias"):
            return  # non-coding FerrDb entries absent from NCBI; never used in a set
        current = res["symbol"]
        if self.hgnc.setdefault(current, hgnc) != hgnc:
            raise ValueError(f"conflicting HGNC IDs for {current}: {self.hgnc[current]} vs {hgnc}")

    def current_symbol(self, symbol: str, entrez: str | None = None) -> str:
        if entrez and entrez in self.table.index:
            return self.table.at[entrez, "symbol"]
        res = ids.resolve([symbol]).iloc[0]
        if res["status"] not in ("official", "alias"):
            raise ValueError(f"{symbol!r} does not resolve to one current symbol ({res['status']})")
        return res["symbol"]

    def pathway(self, heading: str) -> list[str]:
        genes = []
        for symbol, entrez_ids in pathway_block(self.markdown, heading):
            matching = [e for e in entrez_ids if self.table.symbol.get(e) == symbol]
            if len(matching) != 1:
                raise ValueError(f"{heading}: cannot pick the Entrez ID of {symbol} {entrez_ids}")
            coding = self.table.at[matching[0], "gene_type"] == "protein-coding"
            if coding and symbol not in PSEUDOGENES:
                genes.append(symbol)
        return list(dict.fromkeys(genes))

    def evidence(self, symbol: str) -> str:
        if symbol in self.curated_evidence:
            return self.curated_evidence[symbol]
        if symbol in self.kegg:
            return KEGG_ID
        if symbol in self.wp:
            return WP_ID
        raise ValueError(f"no evidence for {symbol}")

    def add(self, set_name: str, kind: str, symbol: str, role: str, evidence: str, source: str,
            note: str = "", axis: str | None = None) -> None:
        if symbol not in self.index.symbols:
            raise ValueError(f"{set_name}: {symbol} is not a current official symbol")
        info = self.index.lookup_symbol(symbol)
        self.rows.append({
            "set": set_name, "kind": kind, "symbol": symbol, "entrez_id": info["entrez_id"],
            "ensembl_ids": info["ensembl_ids"], "hgnc_id": self.hgnc.get(symbol, ""),
            "role": role, "weight": WEIGHTS[role],
            "axis": axis if axis is not None else self.axis_of.get(symbol, "other"),
            "evidence": evidence, "source": source, "note": note,
        })

    def declare(self, name: str, kind: str, description: str, source: str, version: str,
                direction: str = "") -> None:
        self.sets.append({"name": name, "kind": kind, "direction": direction,
                          "description": description, "source": source, "version": version,
                          "catalogue_version": CATALOGUE_VERSION})

    def build(self) -> None:
        self.build_signatures()
        self.build_ferrdb()
        self.build_fpi()
        self.build_pathways()
        self.build_axes()

    def build_signatures(self) -> None:
        src = SOURCES["curated"]
        self.declare("ferroptosis_core", "signature",
                     "core ferroptosis signature: ACSL4, LPCAT3, TFRC, NCOA4 (drivers) versus "
                     "GPX4, SLC7A11, AIFM2, FTH1, GCH1 (suppressors)", src, "1")
        for role, genes in (("driver", CORE_DRIVERS), ("suppressor", CORE_SUPPRESSORS)):
            for g in genes:
                self.add("ferroptosis_core", "signature", g, role, self.evidence(g), src)
        self.declare("ferroptosis_extended", "signature",
                     "curated literature drivers versus suppressors; context-dependent genes "
                     "(TP53, HMOX1) are in ferroptosis_context instead", src, "1")
        self.declare("ferroptosis_context", "context",
                     "curated genes whose effect on ferroptosis depends on context", src, "1")
        for row in self.curated.itertuples(index=False):
            symbol = self.current_symbol(row.symbol, row.entrez)
            if symbol in CONTEXT:
                self.add("ferroptosis_context", "context", symbol, "context-dependent",
                         pmids(row.pmids), src, CONTEXT[symbol])
            else:
                self.add("ferroptosis_extended", "signature", symbol, row.role, pmids(row.pmids),
                         src)

    def build_ferrdb(self) -> None:
        keep = self.ferrdb[(self.ferrdb["validated_human_record"] == "True")
                           & (self.ferrdb["in_both"] == "False")
                           & (self.ferrdb["gene_type"] == "gene with protein product")]
        self.declare("ferrdb_v2_validated", "signature",
                     "FerrDb V2 drivers versus suppressors: protein-coding, at least one validated "
                     "human record, not listed on both sides", SOURCES["ferrdb"], "FerrDb V2")
        for row in keep.itertuples(index=False):
            raw = row.symbol.strip()
            entrez = row.entrez if isinstance(row.entrez, str) else None
            symbol = self.current_symbol(raw, entrez)
            note = f"FerrDb symbol {raw}" if symbol != raw else ""
            if symbol in ("YY1AP1", "TAFAZZIN"):
                note = ("FerrDb maps the paper's alias (YAP/TAZ) to this gene as well as to "
                        "YAP1/WWTR1; treat with caution")
            evidence = (f"FerrDb V2 {row.category}: {row.n_records} record(s), confidence "
                        f"{row.confidence.replace(';', '/')}, organism "
                        f"{row.exp_organism.replace(';', '/')}")
            self.add("ferrdb_v2_validated", "signature", symbol, row.category, evidence,
                     SOURCES["ferrdb"], note)

    def build_fpi(self) -> None:
        self.declare("fpi", "signature",
                     "ferroptosis potential index regulators: 14 positive versus 10 negative "
                     "(FPI = ES(positive) - ES(negative) by ssGSEA)", SOURCES["fpi"], "2020")
        emc2 = ("negative in the FPI reproduction, but FerrDb V2 lists EMC2 (TTC35) as a driver "
                "(PMID 22632970); sign not verified against the paper's figure")
        for role, genes in (("driver", FPI_POSITIVE), ("suppressor", FPI_NEGATIVE)):
            for g in genes:
                self.add("fpi", "signature", g, role, FPI_PMID, SOURCES["fpi"],
                         emc2 if g == "EMC2" else "")

    def build_pathways(self) -> None:
        self.declare("kegg_ferroptosis", "pathway",
                     "KEGG hsa04216 Ferroptosis, protein-coding genes (pseudogene MAP1LC3BP1 "
                     "left out)", SOURCES["kegg"], "KGML 2022-01-14")
        for g in self.kegg:
            self.add("kegg_ferroptosis", "pathway", g, "member", KEGG_ID, SOURCES["kegg"])
        self.declare("wp_ferroptosis", "pathway", "WikiPathways WP4313 Ferroptosis",
                     SOURCES["wp"], "WP4313")
        for g in self.wp:
            self.add("wp_ferroptosis", "pathway", g, "member", WP_ID, SOURCES["wp"])

    def build_axes(self) -> None:
        for axis, (role, description, genes) in AXES.items():
            direction = "pro-ferroptotic" if role == "driver" else "anti-ferroptotic"
            self.declare(axis, "axis", description,
                         "ferroscore pathway axis; evidence per gene", "1", direction)
            for g in genes:
                self.add(axis, "axis", g, role, self.evidence(g),
                         "curated literature" if g in self.curated_evidence else
                         SOURCES["kegg"] if g in self.kegg else SOURCES["wp"], axis=axis)

    def write(self) -> None:
        rows = pd.DataFrame(self.rows, columns=COLUMNS)
        rows["weight"] = rows["weight"].map(lambda w: f"{w:g}")
        rows.to_csv(HERE / "catalogue.tsv", sep="\t", index=False)
        pd.DataFrame(self.sets).to_csv(HERE / "sets.tsv", sep="\t", index=False)
        genesets._catalogue_tables.cache_clear()
        gmt_dir = HERE / "gmt"
        gmt_dir.mkdir(exist_ok=True)
        names = [s["name"] for s in self.sets]
        for name in names:
            genesets.write_gmt(name, gmt_dir / f"{name}.gmt")
        genesets.write_gmt(names, gmt_dir / "ferroscore_catalogue.gmt")
        print(rows.groupby(["set", "role"]).size().to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("research", type=Path, help="folder with the research TSV/markdown files")
    builder = Builder(parser.parse_args().research)
    builder.build()
    builder.write()


if __name__ == "__main__":
    main()
