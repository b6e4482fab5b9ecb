"""Readers for drug-screen resources that users download themselves (no downloads here).

- :func:`read_expression`: genes x samples tables, including the GDSC RMA file layout
  (``GENE_SYMBOLS``, ``GENE_title``, ``DATA.<COSMIC_ID>`` columns).
- :func:`read_response`: a wide samples x drugs matrix, or a long table (GDSC fitted dose
  response: ``COSMIC_ID``, ``DRUG_NAME``, ``LN_IC50``; CTRP: ``ccl_name``, ``cpd_name``,
  ``area_under_curve``) pivoted to samples x drugs.
- :func:`read_rds`: oncoPredict's ``.rds`` training files through the optional ``pyreadr``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from ferroscore.tables import read_table

__all__ = ["read_expression", "read_rds", "read_response"]

LONG_FORMATS = [
    ("COSMIC_ID", "DRUG_NAME", "LN_IC50"),   # GDSC fitted dose response
    ("ccl_name", "cpd_name", "area_under_curve"),  # CTRP v2
]


def read_expression(path: str | Path) -> pd.DataFrame:
    """Read a genes x samples expression table (CSV/TSV, optionally gzipped).

    The first column holds gene names; non-numeric annotation columns (e.g. ``GENE_title``)
    are dropped and ``DATA.`` prefixes of GDSC sample columns removed. Rows without a gene
    name are dropped; both are reported in a warning.
    """
    table = read_table(path, index_col=None, float_precision=None)
    genes = table.iloc[:, 0]
    data = table.iloc[:, 1:]
    numeric = data.select_dtypes("number")
    dropped_cols = [c for c in data.columns if c not in numeric.columns]
    numeric.columns = [str(c).removeprefix("DATA.") for c in numeric.columns]
    numeric.index = genes.astype("string")
    unnamed = numeric.index.isna() | (numeric.index.str.strip() == "")
    if dropped_cols or unnamed.any():
        warnings.warn(f"{path}: dropped non-numeric columns {dropped_cols[:5]} and "
                      f"{int(unnamed.sum())} rows without a gene name", UserWarning,
                      stacklevel=2)
    out = numeric[~unnamed]
    out.index = out.index.astype(str)
    out.index.name = "gene"
    return out


def read_response(path: str | Path, *, sample: str | None = None, drug: str | None = None,
                  value: str | None = None) -> pd.DataFrame:
    """Read drug response as samples x drugs.

    A long table is recognised by ``sample``/``drug``/``value`` column names (or the GDSC /
    CTRP defaults) and pivoted; repeated measurements of a sample-drug pair are averaged
    (reported). Otherwise the first column is taken as sample IDs and the rest as drugs.
    """
    table = read_table(path, index_col=None, float_precision=None)
    columns = set(table.columns)
    spec = (sample, drug, value) if sample or drug or value else next(
        (fmt for fmt in LONG_FORMATS if set(fmt) <= columns), None)
    if spec is None:
        wide = table.set_index(table.columns[0])
        wide.index = wide.index.astype(str)
        return wide.apply(pd.to_numeric, errors="coerce")
    if None in spec or not set(spec) <= columns:
        raise KeyError(f"long response tables need sample, drug and value columns; got "
                       f"{spec}, file columns {sorted(columns)[:10]}")
    s, d, v = spec
    repeated = table.duplicated([s, d]).sum()
    if repeated:
        warnings.warn(f"{path}: averaged {repeated} repeated sample-drug measurements",
                      UserWarning, stacklevel=2)
    wide = table.pivot_table(index=s, columns=d, values=v, aggfunc="mean")
    wide.index = wide.index.astype(str)
    return wide


def read_rds(path: str | Path) -> pd.DataFrame:
    """Read an R ``.rds`` object (e.g. oncoPredict's ``GDSC2_Expr.rds``) into a DataFrame.

    Needs the optional ``pyreadr`` package (``pip install pyreadr``).
    """
    try:
        import pyreadr
    except ImportError as error:
        raise ImportError("reading .rds files needs pyreadr: pip install pyreadr") from error
    result = pyreadr.read_r(str(path))
    frame = next(iter(result.values()))
    return frame
