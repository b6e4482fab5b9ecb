"""Build the compact single-cell test file ``tests/data/hsmm_myoblasts.h5ad``.

Source: the HSMM myoblast dataset (Trapnell et al. 2014, Bioconductor HSMMSingleCell; 271
human skeletal muscle myoblasts, FPKM, versioned Ensembl IDs with ``var["gene_short_name"]``)
from the project's shared data folder. Kept: all cells; genes detected in at least 3 cells plus
every gene of the ferroscore catalogue; obs and var annotations as given.

Usage::

    python scripts/build_test_data.py ../shared/data/hsmm_single_cell.h5ad
"""

from __future__ import annotations

import argparse
from pathlib import Path

import anndata as ad
import numpy as np

import ferroscore as fs

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "hsmm_myoblasts.h5ad"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    adata = ad.read_h5ad(parser.parse_args().source)
    detected = np.diff(adata.X.tocsc().indptr) >= 3
    symbols = fs.ids.resolve([name.split(".")[0] for name in adata.var_names])["symbol"]
    in_catalogue = symbols.isin(set(fs.genesets.catalogue()["symbol"])).to_numpy()
    subset = adata[:, detected | in_catalogue].copy()
    subset.uns["dataset"] = {
        "name": "HSMM myoblasts (subset)",
        "citation": "Trapnell C et al. Nat Biotechnol 2014;32:381-386; Bioconductor "
                    "HSMMSingleCell",
        "values": "FPKM",
        "subset": "all 271 cells; genes detected in >= 3 cells plus all catalogue genes",
    }
    subset.write_h5ad(OUT, compression="gzip")
    print(f"wrote {OUT}: {subset.n_obs} cells x {subset.n_vars} genes")


if __name__ == "__main__":
    main()
