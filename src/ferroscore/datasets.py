"""Real datasets bundled with ferroscore (read from package data; no network access)."""

from __future__ import annotations

from importlib import resources

import anndata as ad
import numpy as np
import pandas as pd

__all__ = ["breast_cancer"]

BREAST_CITATION = (
    "GEO GSE1992: Hu Z, Fan C, Oh DS, et al. The molecular portraits of breast tumors are "
    "conserved across microarray platforms. BMC Genomics 2006;7:96. Redistributed by the "
    "survJamda.data R package and the SurvSet Python package."
)
CLINICAL_COLUMNS = ["rfs_months", "rfs_event", "er_positive", "node_positive", "grade",
                    "size_class", "age"]


def _data_file(name: str):
    return resources.files("ferroscore") / "data" / name


def breast_cancer(*, as_frames: bool = False) -> ad.AnnData | tuple[pd.DataFrame, pd.DataFrame]:
    """The GSE1992 breast tumour cohort with relapse-free survival.

    124 primary breast tumours profiled on two-colour Agilent arrays (log ratios against a
    reference, as deposited), 15,528 genes named as given by the source, including outdated
    symbols such as MBOAT5 (LPCAT3), CARS (CARS1), ATP5G3 (ATP5MC3) and TTC35 (EMC2); ferroscore
    finds set members through these names without renaming any row.

    Source: GEO GSE1992 (Hu et al. 2006, BMC Genomics 7:96), redistributed by survJamda.data /
    SurvSet.

    Parameters
    ----------
    as_frames
        Return ``(expression, clinical)`` DataFrames (expression genes x samples) instead of an
        AnnData.

    Returns
    -------
    AnnData or (DataFrame, DataFrame)
        AnnData with ``X`` = 124 samples x 15,528 genes (float64 log ratios), ``obs`` =
        ``rfs_months`` (relapse-free survival time, months), ``rfs_event`` (1 = relapse),
        ``er_positive``, ``node_positive`` (0/1), ``grade`` (1-3), ``size_class`` and ``age``
        (years), all pandas nullable ``Int64`` with the source's "missing" as ``<NA>``.
        ``uns["dataset"]`` records the source.
    """
    with resources.as_file(_data_file("breast_gse1992_expression.csv.gz")) as path:
        expression = pd.read_csv(path, index_col=0)
    expression.index.name = "gene"
    expression.columns.name = "sample"
    with resources.as_file(_data_file("breast_gse1992_clinical.csv")) as path:
        clinical = pd.read_csv(path, index_col="sample", na_values=["missing"],
                               keep_default_na=False)
    clinical = clinical[CLINICAL_COLUMNS].astype("Int64")
    if not clinical.index.equals(expression.columns):
        raise RuntimeError("bundled GSE1992 clinical and expression samples differ")
    if as_frames:
        return expression, clinical
    adata = ad.AnnData(
        X=np.ascontiguousarray(expression.to_numpy(dtype=np.float64).T),
        obs=clinical.copy(),
        var=pd.DataFrame(index=expression.index.astype(str)),
    )
    adata.uns["dataset"] = {
        "name": "GSE1992 breast cancer",
        "citation": BREAST_CITATION,
        "values": "two-colour log ratios (tumour vs reference), as deposited",
        "time_unit": "months",
    }
    return adata
