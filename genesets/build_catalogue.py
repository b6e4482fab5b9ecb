"""Build the ferroscore gene-set catalogue from the curated research tables.

Reads the research folder (``curated_driver_suppressor.tsv``, ``ferrdb_v2_driver_suppressor.tsv``,
``gene_identifiers.tsv``, ``ferroptosis_genesets.md``), this folder's ``curation.tsv`` (genes
added or re-placed by the catalogue itself, each with its evidence) and the package's NCBI gene
table, and writes ``catalogue.tsv`` (one row per gene per set), ``sets.tsv`` (one row per set)
and ``gmt/*.gmt`` next to this script. Every symbol is checked against the NCBI table and
replaced by its current official symbol when the source used an older one (the original is kept
in ``note``). The placement rules are documented in ``README.md`` ("Placement rules"). Run from
the repository root::

    PYTHONPATH=src python genesets/build_catalogue.py ../shared/docs/research
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd

from ferroscore import genesets, ids

HERE = Path(__file__).resolve().parent
CATALOGUE_VERSION = "2026.12.0"

# Two-sided rule: a gene with FerrDb V2 records on both sides goes to the side with at least
# TWO_SIDED_MIN records and at least TWO_SIDED_RATIO times the other side's count; otherwise it
# goes to ferroptosis_context.
TWO_SIDED_MIN = 3
TWO_SIDED_RATIO = 3
# FerrDb V2 maps the aliases YAP / TAZ used by papers to these genes as well as to YAP1 / WWTR1.
MISMAPPED_ALIASES = {"YY1AP1": "YAP", "TAFAZZIN": "TAZ"}

CORE_DRIVERS = ["ACSL4", "LPCAT3", "TFRC", "NCOA4"]
CORE_SUPPRESSORS = ["GPX4", "SLC7A11", "AIFM2", "FTH1", "GCH1"]
# Ferroptosis potential index regulators (Liu et al., iScience 2020), current symbols. The split
# is reconstructed from the label colours of a public re-implementation of the paper's Figure 1B
# (14 red, 10 blue); the paper's methods and supplementary tables could not be read, so every
# sign below is unverified (see FPI_UNVERIFIED and README.md).
FPI_POSITIVE = ["ACSL4", "ALOX15", "ATP5MC3", "CARS1", "CS", "DPP4", "GLS2", "LPCAT3", "NCOA4",
                "RPL8", "TFRC", "SAT1", "SLC1A5", "FDFT1"]
FPI_NEGATIVE = ["CISD1", "FANCD2", "GPX4", "HSPB1", "MT1G", "NFE2L2", "SLC7A11", "EMC2", "HSPA5",
                "CDKN1A"]
FPI_VERIFIED: dict[str, str] = {}  # gene -> source passage/table, for signs checked in the paper
FPI_UNVERIFIED = [g for g in FPI_POSITIVE + FPI_NEGATIVE if g not in FPI_VERIFIED]
FPI_PMID = "PMID:32629423"
FPI_SIGN_NOTE = ("sign reconstructed from the label colours of a public re-implementation of "
                 "the paper's Figure 1B, not verified against Liu et al. 2020 (its methods and "
                 "supplementary tables were not reachable; only the PMC abstract page was)")
KEGG_ID, WP_ID = "KEGG:hsa04216", "WikiPathways:WP4313"
# MAP1LC3BP1 is the MAP1LC3B pseudogene 1 (HGNC), although NCBI 2022-09 types it protein-coding.
PSEUDOGENES = {"MAP1LC3BP1"}

# Pathway axes: name -> (role of every member, description, genes). Each gene sits in at most
# one axis; curation.tsv adds members through its ``axis`` column. Every axis is
# one-directional: members whose placement is context-dependent are left out.
AXES = {
    "iron_import": ("driver", "iron uptake and ferritinophagy (labile iron supply)",
                    ["TFRC", "TF", "STEAP3", "SLC11A2", "SLC39A14", "SLC39A8", "IREB2", "NCOA4",
                     "ATG5", "ATG7"]),
    "iron_storage": ("suppressor", "iron storage and export",
                     ["FTH1", "FTL", "FTMT", "SLC40A1", "CP", "CISD1"]),
    "gsh_gpx4": ("suppressor", "cystine import, glutathione synthesis and GPX4 (incl. its "
                 "selenocysteine supply)",
                 ["GPX4", "SLC7A11", "SLC3A2", "GCLC", "GCLM", "GSS", "CBS"]),
    "lipid_peroxidation": ("driver", "PUFA-phospholipid synthesis and oxygenation",
                           ["ACSL4", "LPCAT3", "ALOX5", "ALOX12", "ALOX12B", "ALOX15", "ALOX15B",
                            "ALOXE3", "POR", "CYB5R1", "PEBP1"]),
    "fsp1_coq10": ("suppressor", "FSP1 (AIFM2) and CoQ10 supply (biosynthesis, mevalonate "
                   "branch, transport)", ["AIFM2", "COQ2", "HMGCR"]),
    "gch1_bh4": ("suppressor", "tetrahydrobiopterin (BH4) synthesis and regeneration",
                 ["GCH1"]),
    "dhodh": ("suppressor", "mitochondrial DHODH / CoQH2", ["DHODH"]),
    "nrf2": ("suppressor", "NRF2 antioxidant programme",
             ["NFE2L2", "NQO1", "SQSTM1", "TXNRD1", "MT1G"]),
    "mufa": ("suppressor", "monounsaturated fatty acid protection", ["SCD", "ACSL3"]),
}
# Set versions: bumped when a set's membership changes.
SET_VERSIONS = {"ferroptosis_extended": "2", "ferroptosis_context": "2", "iron_import": "2",
                "gsh_gpx4": "2", "fsp1_coq10": "2", "gch1_bh4": "2"}

SOURCES = {
    "curated": "curated literature driver/suppressor list (ferroscore research notes, PubMed)",
    "curation": "ferroscore catalogue curation (genesets/curation.tsv, PubMed / DOI)",
    "ferrdb": "FerrDb V2 (Zhou et al., Nucleic Acids Res 2023; doi:10.1093/nar/gkac935)",
    "fpi": "Liu et al., iScience 2020;23:101302 (PMID 32629423), FPI regulators",
    "kegg": "KEGG pathway hsa04216 Ferroptosis (KGML created 2022-01-14)",
    "wp": "WikiPathways WP4313 Ferroptosis (data-node export)",
    "breast": "Peng et al., Front Oncol 2024;14:1499125 (PMID 39759144) and the primary studies "
              "cited per gene",
}

WEIGHTS = {"driver": 1.0, "suppressor": -1.0, "context-dependent": 0.0, "member": 0.0}
COLUMNS = ["set", "kind", "symbol", "entrez_id", "ensembl_ids", "hgnc_id", "role", "weight",
           "axis", "evidence", "source", "note", "n_driver_records", "n_suppressor_records",
           "sign_status"]


def pmids(text: str) -> str:
    return ";".join(f"PMID:{p.strip()}" for p in text.split(";") if p.strip())


def two_sided_side(n_driver: int, n_suppressor: int) -> str | None:
    """Side of a gene with records on both sides, or ``None`` (it goes to ferroptosis_context)."""
    if n_driver >= TWO_SIDED_MIN and n_driver >= TWO_SIDED_RATIO * n_suppressor:
        return "driver"
    if n_suppressor >= TWO_SIDED_MIN and n_suppressor >= TWO_SIDED_RATIO * n_driver:
        return "suppressor"
    return None


def ferrdb_evidence(row) -> str:
    return (f"FerrDb V2 {row.category}: {row.n_records} record(s), confidence "
            f"{row.confidence.replace(';', '/')}, organism {row.exp_organism.replace(';', '/')}")


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
        self.ferrdb["raw"] = self.ferrdb["symbol"].str.strip()
        self.ferrdb["current"] = [self.ferrdb_symbol(r) for r in self.ferrdb.itertuples()]
        self.curation = pd.read_csv(HERE / "curation.tsv", sep="\t", dtype=str,
                                    keep_default_na=False)
        self.markdown = (research / "ferroptosis_genesets.md").read_text(encoding="utf-8")
        identifiers = pd.read_csv(research / "gene_identifiers.tsv", sep="\t", dtype=str)
        self.hgnc: dict[str, str] = {}
        for symbol, hgnc in [*zip(identifiers["symbol"], identifiers["hgnc_id"], strict=True),
                             *zip(self.curated["symbol"], self.curated["hgnc"], strict=True),
                             *zip(self.ferrdb["raw"], self.ferrdb["hgnc_id"], strict=True)]:
            self.add_hgnc(symbol, hgnc)
        # FerrDb V2 record counts per current symbol and side (all confidences and organisms).
        self.counts: dict[str, dict[str, int]] = {}
        for row in self.ferrdb.dropna(subset=["current"]).itertuples():
            side = self.counts.setdefault(row.current, {"driver": 0, "suppressor": 0})
            side[row.category] += int(row.n_records)
        self.curated_evidence = dict(zip(self.curated["symbol"], self.curated["pmids"].map(pmids),
                                         strict=True))
        self.curation_rows = {r.symbol: r for r in self.curation.itertuples(index=False)}
        self.literature_context = {r.symbol for r in self.curation_rows.values()
                                   if r.role == "context-dependent"}
        self.kegg = self.pathway("#### KEGG hsa04216")
        self.wp = self.pathway("#### WP4313")
        self.axes = self.axis_members()
        self.axis_of = {g: axis for axis, genes in self.axes.items() for g in genes}
        self.rows: list[dict] = []
        self.sets: list[dict] = []
        self.context: dict[str, dict] = {}  # symbol -> merged evidence for ferroptosis_context

    # -- identifiers -----------------------------------------------------------------------

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

    def ferrdb_symbol(self, row) -> str | None:
        """Current symbol of a FerrDb record, or None for entries NCBI does not know (ncRNAs)."""
        entrez = row.entrez if isinstance(row.entrez, str) else None
        try:
            return self.current_symbol(row.raw, entrez)
        except ValueError:
            return None

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

    # -- placement rules -------------------------------------------------------------------

    def record_counts(self, symbol: str) -> tuple[int, int] | None:
        found = self.counts.get(symbol)
        return (found["driver"], found["suppressor"]) if found else None

    def placement(self, symbol: str, listed: str | None) -> tuple[str, str]:
        """Role a gene listed on side ``listed`` takes in a signed set, and why.

        Literature context genes go to ferroptosis_context; a gene with FerrDb V2 records on
        both sides follows the two-sided rule (and must agree with ``listed`` unless that is
        ``None``, as for FerrDb itself); otherwise the listed side is kept.
        """
        if symbol in self.literature_context:
            return "context-dependent", "literature context (see ferroptosis_context)"
        counts = self.record_counts(symbol)
        if counts and all(counts):
            side = two_sided_side(*counts)
            how = f"FerrDb V2 {counts[0]} driver vs {counts[1]} suppressor records"
            if side is None:
                return "context-dependent", f"{how} fail the two-sided rule"
            if listed is not None and side != listed:
                return "context-dependent", f"{how} contradict the listed side ({listed})"
            return side, f"{how}: {side} by the two-sided rule"
        return listed, ""

    def axis_members(self) -> dict[str, list[str]]:
        members = {axis: list(genes) for axis, (_, _, genes) in AXES.items()}
        for row in self.curation_rows.values():
            if row.axis != "other":
                members[row.axis].append(row.symbol)
        for axis, genes in members.items():
            role = AXES[axis][0]
            context = [g for g in genes if self.placement(g, role)[0] != role]
            if context:
                print(f"{axis}: left out (context-dependent): {', '.join(context)}")
            members[axis] = [g for g in genes if g not in context]
        return members

    # -- rows and sets ---------------------------------------------------------------------

    def evidence(self, symbol: str) -> str:
        if symbol in self.curation_rows:
            return self.curation_rows[symbol].evidence
        if symbol in self.curated_evidence:
            return self.curated_evidence[symbol]
        if symbol in self.kegg:
            return KEGG_ID
        if symbol in self.wp:
            return WP_ID
        raise ValueError(f"no evidence for {symbol}")

    def evidence_source(self, symbol: str) -> str:
        if symbol in self.curation_rows:
            return SOURCES["curation"]
        if symbol in self.curated_evidence:
            return SOURCES["curated"]
        return SOURCES["kegg"] if symbol in self.kegg else SOURCES["wp"]

    def add(self, set_name: str, kind: str, symbol: str, role: str, evidence: str, source: str,
            note: str = "", axis: str | None = None, sign_status: str = "") -> None:
        if symbol not in self.index.symbols:
            raise ValueError(f"{set_name}: {symbol} is not a current official symbol")
        info = self.index.lookup_symbol(symbol)
        counts = self.record_counts(symbol)
        self.rows.append({
            "set": set_name, "kind": kind, "symbol": symbol, "entrez_id": info["entrez_id"],
            "ensembl_ids": info["ensembl_ids"], "hgnc_id": self.hgnc.get(symbol, ""),
            "role": role, "weight": WEIGHTS[role],
            "axis": axis if axis is not None else self.axis_of.get(symbol, "other"),
            "evidence": evidence, "source": source, "note": note,
            "n_driver_records": "" if counts is None else str(counts[0]),
            "n_suppressor_records": "" if counts is None else str(counts[1]),
            "sign_status": sign_status,
        })

    def add_placed(self, set_name: str, symbol: str, listed: str, evidence: str, source: str,
                   note: str = "") -> None:
        """Add a gene to a signed set, or to ferroptosis_context if the rules say so."""
        role, why = self.placement(symbol, listed)
        if role == "context-dependent":
            self.add_context(symbol, evidence, source, why)
            return
        self.add(set_name, "signature", symbol, role, evidence, source,
                 "; ".join(n for n in (note, why) if n))

    def add_context(self, symbol: str, evidence: str, source: str, why: str) -> None:
        entry = self.context.setdefault(symbol, {"evidence": [], "sources": [], "notes": []})
        for item, key in ((evidence, "evidence"), (source, "sources"), (why, "notes")):
            for part in item.split(";") if key == "evidence" else [item]:
                if part and part not in entry[key]:
                    entry[key].append(part)

    def declare(self, name: str, kind: str, description: str, source: str, version: str,
                direction: str = "", provenance: str = "") -> None:
        self.sets.append({"name": name, "kind": kind, "direction": direction,
                          "description": description, "source": source,
                          "version": SET_VERSIONS.get(name, version),
                          "catalogue_version": CATALOGUE_VERSION, "provenance": provenance})

    def build(self) -> None:
        self.build_signatures()
        self.build_ferrdb()
        self.build_breast()
        self.build_fpi()
        self.build_pathways()
        self.build_axes()
        self.build_context()

    def build_signatures(self) -> None:
        src = SOURCES["curated"]
        self.declare("ferroptosis_core", "signature",
                     "core ferroptosis signature: ACSL4, LPCAT3, TFRC, NCOA4 (drivers) versus "
                     "GPX4, SLC7A11, AIFM2, FTH1, GCH1 (suppressors)", src, "1")
        for role, genes in (("driver", CORE_DRIVERS), ("suppressor", CORE_SUPPRESSORS)):
            for g in genes:
                self.add_placed("ferroptosis_core", g, role, self.evidence(g), src)
        self.declare("ferroptosis_extended", "signature",
                     "curated literature drivers versus suppressors, plus the catalogue's "
                     "curated additions; context-dependent and two-sided genes are in "
                     "ferroptosis_context instead", f"{src}; {SOURCES['curation']}", "1")
        self.declare("ferroptosis_context", "context",
                     "ferroptosis-linked genes whose direction is context-dependent, two-sided "
                     "(they fail the two-sided rule) or unresolved; on neither side of any "
                     "signed set", f"{src}; {SOURCES['curation']}; {SOURCES['ferrdb']}", "1")
        for row in self.curated.itertuples(index=False):
            symbol = self.current_symbol(row.symbol, row.entrez)
            self.add_placed("ferroptosis_extended", symbol, row.role, pmids(row.pmids), src)
        for row in self.curation_rows.values():
            if row.sets == "ferroptosis_extended":
                self.add_placed("ferroptosis_extended", row.symbol, row.role, row.evidence,
                                SOURCES["curation"], row.note)

    def build_ferrdb(self) -> None:
        self.declare("ferrdb_v2_validated", "signature",
                     "FerrDb V2 drivers versus suppressors: protein-coding, at least one "
                     "validated human record; genes on both sides follow the two-sided rule; "
                     "mis-mapped YAP/TAZ aliases and context-dependent genes left out",
                     SOURCES["ferrdb"], "FerrDb V2")
        coding = self.ferrdb[(self.ferrdb["gene_type"] == "gene with protein product")
                             & self.ferrdb["current"].notna()
                             & ~self.ferrdb["current"].isin(list(MISMAPPED_ALIASES))]
        validated = coding.groupby("current")["validated_human_record"].agg(
            lambda v: (v == "True").any())
        for row in coding.itertuples(index=False):
            if not validated[row.current]:
                continue
            sides = coding[coding["current"] == row.current]
            two_sided = sides["category"].nunique() == 2
            role, why = self.placement(row.current, None if two_sided else row.category)
            evidence = ";".join(ferrdb_evidence(r) for r in sides.itertuples())
            note = "; ".join(n for n in (
                f"FerrDb symbol {row.raw}" if row.current != row.raw else "", why) if n)
            if role == "context-dependent":
                self.add_context(row.current, evidence, SOURCES["ferrdb"], why)
            elif role == row.category:
                if row.validated_human_record != "True":
                    raise ValueError(f"{row.current}: placed on the {role} side, which has no "
                                     "validated human record")
                self.add("ferrdb_v2_validated", "signature", row.current, role, evidence,
                         SOURCES["ferrdb"], note)

    def build_breast(self) -> None:
        self.declare("breast_ferroptosis", "signature",
                     "breast-cancer ferroptosis regulators named by Peng et al. 2024 (drug "
                     "resistance review), each placed by its primary study: drivers versus "
                     "suppressors", SOURCES["breast"], "1")
        for row in self.curation_rows.values():
            if row.sets == "breast_ferroptosis":
                self.add_placed("breast_ferroptosis", row.symbol, row.role, row.evidence,
                                SOURCES["curation"], row.note)

    def fpi_note(self, gene: str, role: str) -> str:
        counts = self.record_counts(gene)
        if counts is None:
            independent = "not in the FerrDb V2 driver/suppressor lists"
        else:
            sides = [s for s, n in zip(("driver", "suppressor"), counts, strict=True) if n]
            side = sides[0] if len(sides) == 1 else two_sided_side(*counts)
            agree = "agrees" if side == role else "disagrees"
            rule = " (two-sided rule: " + side + ")" if len(sides) == 2 else ""
            independent = (f"FerrDb V2 lists it as {' and '.join(sides)} ({counts[0]} driver, "
                           f"{counts[1]} suppressor records){rule}: {agree} with the "
                           "reconstructed sign")
        extra = (" (Dixon 2012 shRNA screen, PMID 22632970: knock-down protects from erastin)"
                 if gene == "EMC2" else "")
        return f"{FPI_SIGN_NOTE}; independent evidence, not a verification: {independent}{extra}"

    def build_fpi(self) -> None:
        provenance = ("reconstructed, signs unverified: " + ", ".join(FPI_UNVERIFIED)
                      if FPI_UNVERIFIED else "signs verified against the paper")
        self.declare("fpi", "signature",
                     "ferroptosis potential index regulators, reconstructed (signs unverified): "
                     "14 positive versus 10 negative (FPI = ES(positive) - ES(negative) by "
                     "ssGSEA)", SOURCES["fpi"], "2020", provenance=provenance)
        for role, genes in (("driver", FPI_POSITIVE), ("suppressor", FPI_NEGATIVE)):
            for g in genes:
                if self.placement(g, role)[0] != role:
                    raise ValueError(f"FPI gene {g} conflicts with the placement rules")
                status = "verified" if g in FPI_VERIFIED else "unverified"
                note = FPI_VERIFIED.get(g) or self.fpi_note(g, role)
                self.add("fpi", "signature", g, role, FPI_PMID, SOURCES["fpi"], note,
                         sign_status=status)

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
        signed = {(r["symbol"], r["role"]) for r in self.rows if r["kind"] == "signature"}
        for axis, (role, description, _) in AXES.items():
            direction = "pro-ferroptotic" if role == "driver" else "anti-ferroptotic"
            self.declare(axis, "axis", description,
                         "ferroscore pathway axis; evidence per gene", "1", direction)
            for g in self.axes[axis]:
                other = "suppressor" if role == "driver" else "driver"
                if (g, other) in signed:
                    raise ValueError(f"{g} is a {other} in a signature but sits in the {role} "
                                     f"axis {axis}")
                note = self.curation_rows[g].note if g in self.curation_rows else ""
                self.add(axis, "axis", g, role, self.evidence(g), self.evidence_source(g),
                         note, axis=axis)

    def build_context(self) -> None:
        for row in self.curation_rows.values():
            if row.role == "context-dependent":
                self.add_context(row.symbol, row.evidence, SOURCES["curation"], "")
        order = [g for g in self.curation_rows if g in self.context]
        order += [g for g in self.context if g not in order]
        for g in order:
            entry = self.context[g]
            notes = ([self.curation_rows[g].note] if g in self.curation_rows else []) + [
                n for n in entry["notes"] if not n.startswith("literature context")]
            self.add("ferroptosis_context", "context", g, "context-dependent",
                     ";".join(entry["evidence"]), " + ".join(entry["sources"]),
                     "; ".join(dict.fromkeys(notes)), axis="other")

    def write(self) -> None:
        rows = pd.DataFrame(self.rows, columns=COLUMNS)
        order = {s["name"]: i for i, s in enumerate(self.sets)}
        rows = rows.sort_values("set", key=lambda s: s.map(order), kind="stable")
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
        print(rows.groupby(["set", "role"], sort=False).size().to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("research", type=Path, help="folder with the research TSV/markdown files")
    builder = Builder(parser.parse_args().research)
    builder.build()
    builder.write()


if __name__ == "__main__":
    main()
