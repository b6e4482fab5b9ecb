"""Build the compact human gene identifier table shipped inside the package.

Source: NCBI Gene via Bioconductor org.Hs.eg.db 3.16 (NCBI Gene 2022-09-12), as exported to
``human_gene_ids.tsv.gz`` in the project's shared data folder. The only change is that the
cytogenetic ``map_location`` column is dropped; rows, symbols, aliases and Ensembl IDs are
kept exactly as given.

Usage::

    python scripts/build_gene_table.py ../shared/data/human_gene_ids.tsv.gz
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "src" / "ferroscore" / "data" / "human_gene_ids.tsv.gz"
COLUMNS = ["entrez_id", "symbol", "gene_type", "aliases", "ensembl_ids"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="human_gene_ids.tsv.gz from ../shared/data")
    args = parser.parse_args()
    table = pd.read_csv(args.source, sep="\t", dtype=str, keep_default_na=False)
    table[COLUMNS].to_csv(
        OUT, sep="\t", index=False, compression={"method": "gzip", "compresslevel": 9, "mtime": 0}
    )
    print(f"wrote {OUT} ({len(table)} genes)")


if __name__ == "__main__":
    main()
