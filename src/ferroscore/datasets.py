"""Real datasets bundled with ferroscore (read from package data; no network access)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import anndata as ad

__all__ = ["SyntheticScreen", "breast_cancer", "synthetic_drug_screen"]

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
    import anndata as ad

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


@dataclass
class SyntheticScreen:
    """A SYNTHETIC cell-line drug screen (see :func:`synthetic_drug_screen`).

    Attributes
    ----------
    train_expr
        Genes x training lines (log-scale expression).
    train_response
        Training lines x drugs IC50 (positive, micromolar-like; some values missing).
    test_expr
        Genes x held-out samples, shifted and rescaled per gene to mimic another platform.
    test_truth
        Held-out samples x drugs true IC50.
    effects
        Drug x gene planted effects (long table: ``drug``, ``gene``, ``effect``).
    """

    train_expr: pd.DataFrame
    train_response: pd.DataFrame
    test_expr: pd.DataFrame
    test_truth: pd.DataFrame
    effects: pd.DataFrame


def synthetic_drug_screen(
    n_genes: int = 2000,
    n_lines: int = 300,
    n_test: int = 100,
    n_drugs: int = 20,
    *,
    genes: list[str] | None = None,
    n_programs: int = 10,
    program_size: int = 40,
    effect_genes: int = 20,
    noise: float = 0.5,
    missing: float = 0.1,
    seed: int = 0,
) -> SyntheticScreen:
    """Generate a SYNTHETIC drug screen with planted gene-drug effects (no real data).

    Generative model (all random draws from ``seed``):

    - expression: ``n_programs`` co-expressed gene programmes (pathways) of ``program_size``
      genes each share a programme factor (loadings U(0.6, 1)); every gene also loads on 5
      global factors (N(0, 0.5)) and has its own N(0, 1) noise. The standardised value
      ``z_gs`` is mapped to ``m_g + sd_g * z_gs`` (m ~ U(4, 10), sd ~ U(0.5, 1.5)).
    - response: drug ``d`` is assigned programme ``d mod n_programs`` and ``effect_genes`` of
      its genes with planted weights ``s_d * |N(1, 0.5)|`` (``s_d = +-1``, sensitising or
      protective); ``ln IC50 = b_d + signal / sd(signal) + N(0, noise^2)``, IC50 = exp(ln IC50).
      A fraction ``missing`` of training values is removed (not screened).
    - held-out samples come from the same model, with a gene-wise shift and rescaling of their
      expression (a batch/platform effect), so homogenisation matters.

    With ``noise=0.5`` the best possible correlation with the truth on the log scale is 0.89.
    Real cell-line expression is not available offline; point
    :func:`ferroscore.drugs.predict_response` at a downloaded GDSC/CTRP release for real use.
    """
    rng = np.random.default_rng(seed)
    names = list(genes)[:n_genes] if genes is not None else [f"GENE{i:05d}" for i in
                                                              range(n_genes)]
    n_genes = len(names)
    if n_programs * program_size > n_genes:
        raise ValueError("n_programs * program_size exceeds n_genes")
    total = n_lines + n_test
    z = rng.normal(0, 0.5, (n_genes, 5)) @ rng.normal(size=(5, total))
    z += rng.normal(size=(n_genes, total))
    members = rng.permutation(n_genes)[: n_programs * program_size].reshape(n_programs, -1)
    for program in members:
        z[program] += rng.uniform(0.6, 1.0, (len(program), 1)) * rng.normal(size=(1, total))
    z = (z - z.mean(axis=1, keepdims=True)) / z.std(axis=1, keepdims=True)
    expression = rng.uniform(4, 10, (n_genes, 1)) + rng.uniform(0.5, 1.5, (n_genes, 1)) * z
    drugs = [f"SYNTH_DRUG_{d:03d}" for d in range(n_drugs)]
    effects, ln_ic50 = [], np.empty((total, n_drugs))
    for d in range(n_drugs):
        chosen = rng.choice(members[d % n_programs], effect_genes, replace=False)
        weights = rng.choice([-1.0, 1.0]) * np.abs(rng.normal(1.0, 0.5, effect_genes))
        signal = weights @ z[chosen]
        ln_ic50[:, d] = rng.uniform(-2, 3) + signal / signal.std() + rng.normal(0, noise, total)
        effects += [(drugs[d], names[g], w) for g, w in zip(chosen, weights, strict=True)]
    lines = [f"SYNTH_LINE_{i:04d}" for i in range(n_lines)]
    samples = [f"SYNTH_TUMOUR_{i:04d}" for i in range(n_test)]
    ic50 = np.exp(ln_ic50)
    train_response = pd.DataFrame(ic50[:n_lines], index=lines, columns=drugs)
    train_response = train_response.mask(rng.uniform(size=train_response.shape) < missing)
    test_values = expression[:, n_lines:]
    test_values = (test_values * rng.uniform(0.8, 1.25, (n_genes, 1))
                   + rng.normal(0.5, 0.5, (n_genes, 1)))
    return SyntheticScreen(
        train_expr=pd.DataFrame(expression[:, :n_lines], index=names, columns=lines),
        train_response=train_response,
        test_expr=pd.DataFrame(test_values, index=names, columns=samples),
        test_truth=pd.DataFrame(ic50[n_lines:], index=samples, columns=drugs),
        effects=pd.DataFrame(effects, columns=["drug", "gene", "effect"]),
    )
