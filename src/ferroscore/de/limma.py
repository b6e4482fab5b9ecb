"""``fs.de.limma``: moderated t and F tests for every gene, as limma's
``eBayes(lmFit(...))`` + ``topTable(sort.by="none")``."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from ferroscore.de import design as design_module
from ferroscore.de.ebayes import benjamini_hochberg, moderate, moderated_f
from ferroscore.de.linear import contrasts_fit, lm_series

__all__ = ["LimmaResult", "limma"]


@lru_cache(maxsize=1)
def _versions() -> dict:
    from ferroscore.scoring import versions

    return versions()

#: limma version whose definitions this module follows (and that the fixtures were made with).
LIMMA_VERSION = "3.54.1"
SORT_KEYS = {"P": "P.Value", "P.Value": "P.Value", "B": "B", "t": "t", "F": "F",
             "logFC": "logFC", "AveExpr": "AveExpr", "none": None}


@dataclass
class LimmaResult:
    """Moderated tests of every gene.

    Attributes
    ----------
    table
        One row per gene in the input order (limma's ``topTable(sort.by="none")``). One
        coefficient: ``logFC``, ``AveExpr``, ``t``, ``P.Value``, ``adj.P.Val``, ``B``; several:
        one column of estimates per coefficient, ``AveExpr``, ``F``, ``P.Value``,
        ``adj.P.Val``. Both end with ``s2_post`` (posterior variance) and ``df_total``.
    coefficients
        Names of the tested coefficients (design columns or contrasts).
    df_prior, s2_prior
        The fitted prior degrees of freedom ``d0`` and variance ``s0^2`` (a Series by gene with
        ``trend=True``).
    design
        The design matrix used (samples x columns), after leaving out samples with missing
        labels.
    contrasts
        The contrast weights (design columns x contrasts), or None.
    params
        Parameters, sample counts and versions.
    """

    table: pd.DataFrame
    coefficients: list[str]
    df_prior: float
    s2_prior: float | pd.Series
    design: pd.DataFrame
    contrasts: pd.DataFrame | None
    params: dict = field(repr=False)

    def top(self, n: int | None = 10, sort_by: str = "P") -> pd.DataFrame:
        """The ``n`` top genes (all with ``n=None``) sorted by ``"P"`` (default), ``"B"``,
        ``"t"`` / ``"logFC"`` (by absolute value), ``"F"``, ``"AveExpr"`` or ``"none"``."""
        if sort_by not in SORT_KEYS:
            raise ValueError(f"sort_by must be one of {list(SORT_KEYS)}, got {sort_by!r}")
        column = SORT_KEYS[sort_by]
        table = self.table
        if column is not None:
            if column not in table:
                raise ValueError(f"this result has no {column!r} column (columns: "
                                 f"{list(table.columns)})")
            key = table[column].abs() if column in ("t", "logFC") else table[column]
            ascending = column == "P.Value"
            table = table.iloc[np.argsort(key.to_numpy() if ascending else -key.to_numpy(),
                                          kind="stable")]
        return table if n is None else table.head(n)

    @property
    def significant(self) -> pd.DataFrame:
        """Genes with ``adj.P.Val < 0.05``, by p-value."""
        top = self.top(None)
        return top[top["adj.P.Val"] < 0.05]


def limma(
    expr: Any,
    groups_or_design: pd.Series | pd.DataFrame | str,
    contrast: Any = None,
    coef: Any = None,
    trend: bool = False,
    *,
    intercept: bool | None = None,
    proportion: float = 0.01,
    stdev_coef_lim: tuple[float, float] = (0.1, 4.0),
) -> LimmaResult:
    """Differential expression with limma's empirical-Bayes moderated statistics.

    Ordinary least squares for every gene (``lmFit``), optional contrasts (``contrasts.fit``),
    then ``eBayes``: a scaled-F prior fitted to the residual variances (``fitFDist``, prior df
    through the inverse trigamma function), posterior variances, moderated t (one coefficient)
    or moderated F (several), the B statistic, and Benjamini-Hochberg adjusted p-values.
    Conformance with limma 3.54.1 on GSE1992 is 1e-8 relative or better
    (src/ferroscore/data/agreement.toml).

    Parameters
    ----------
    expr
        Expression, genes x samples (as limma takes it) or samples x genes (detected from the
        sample IDs of ``groups_or_design``), log scale; or an AnnData. NaN marks a missing
        value: that gene is fitted on its observed samples with its own residual df, as limma
        does. Genes without any observed value are an error.
    groups_or_design
        A Series of group labels indexed by sample (``~ group``: an intercept plus one
        indicator per non-reference level; the reference is the first category of a
        categorical, else the smallest label), a DataFrame of covariates indexed by sample
        (numeric columns as is, others one-hot; an intercept is added unless the columns span a
        constant), or, for AnnData, the name of an ``obs`` column. Samples with a missing label
        or covariate are left out with a warning. Every sample of ``expr`` needs a row.
    contrast
        Optional: ``(level_a, level_b)`` for groups (``a - b``), a mapping
        ``{design column: weight}``, or a DataFrame of weights (design columns x contrasts).
    coef
        The coefficients (or contrasts) to test: a name, a 0-based position, or a list. Default:
        every contrast, or every design column but the intercept. One gives a moderated t test;
        several give the moderated F test that all are zero.
    trend
        Let the prior variance depend on the average expression (``eBayes(trend=TRUE)``).
    intercept
        Force (True) or forbid (False) the intercept; default: as described above.
    proportion, stdev_coef_lim
        limma's assumed proportion of differentially expressed genes and the limits on the SD
        of their log fold changes (B statistic only).

    Returns
    -------
    LimmaResult
        ``.table`` (one row per gene, limma's column names), ``.top(n)``, ``.df_prior``,
        ``.s2_prior``, ``.design``, ``.params``.

    Raises
    ------
    ValueError
        A group with fewer than 2 samples, a design not of full rank (the aliased columns are
        named), no residual degrees of freedom, unknown coefficients or contrast columns,
        samples without a design row, genes without observed values, infinite values.

    Examples
    --------
    >>> import ferroscore as fs
    >>> expr, clinical = fs.datasets.breast_cancer(as_frames=True)
    >>> res = fs.de.limma(expr, clinical["er_positive"])  # doctest: +SKIP
    >>> res.top(3)[["logFC", "t", "adj.P.Val"]]  # doctest: +SKIP
    """
    if not 0 < proportion < 1:
        raise ValueError(f"proportion must be in (0, 1), got {proportion!r}")
    design = design_module.make_design(groups_or_design, expr, intercept)
    frame = design_module.expression_frame(expr, design.matrix.index.union(
        pd.Index(design.dropped)))
    frame = frame[design.matrix.index]
    design_module.check_full_rank(design)
    x = design.matrix.to_numpy()
    fit = lm_series(frame.to_numpy(), x)
    names = design.columns
    contrasts = design_module.contrast_matrix(contrast, design)
    if contrasts is not None:
        fit = contrasts_fit(fit, contrasts.to_numpy())
        names = [str(c) for c in contrasts.columns]
    tested = design_module.tested_columns(coef, names, contrasts is not None)
    covariate = fit.amean if trend else None
    moderated = moderate(fit.coefficients[:, tested], fit.stdev_unscaled[:, tested], fit.sigma,
                         fit.df_residual, covariate, proportion=proportion,
                         stdev_coef_lim=stdev_coef_lim)
    genes = frame.index
    chosen = [names[i] for i in tested]
    if len(tested) == 1:
        p = moderated.p_value[:, 0]
        table = pd.DataFrame({"logFC": fit.coefficients[:, tested[0]], "AveExpr": fit.amean,
                              "t": moderated.t[:, 0], "P.Value": p,
                              "adj.P.Val": benjamini_hochberg(p), "B": moderated.lods[:, 0]},
                             index=genes)
    else:
        cov = fit.cov_coefficients[np.ix_(tested, tested)]
        f, df1, p = moderated_f(moderated.t, cov, fit.df_residual, moderated.prior.df)
        table = pd.DataFrame(fit.coefficients[:, tested], index=genes, columns=chosen)
        table["AveExpr"] = fit.amean
        table["F"] = f
        table["P.Value"] = p
        table["adj.P.Val"] = benjamini_hochberg(p)
    table["s2_post"] = moderated.s2_post
    table["df_total"] = moderated.df_total
    table.index.name = "gene"
    scale = moderated.prior.scale
    s2_prior = pd.Series(scale, index=genes, name="s2_prior") if trend else float(scale[0])
    n_missing = int(np.isnan(frame.to_numpy()).sum())
    not_estimable = int(np.isnan(fit.coefficients[:, tested]).any(axis=1).sum())
    if not_estimable:
        warnings.warn(f"{not_estimable} genes cannot estimate the tested coefficient(s) from "
                      "their observed samples (e.g. every sample of a group missing); their "
                      "statistics are NaN", UserWarning, stacklevel=2)
    params = {
        "method": "limma eBayes (moderated t)" if len(tested) == 1 else
                  "limma eBayes (moderated F)",
        "reproduces": f"limma {LIMMA_VERSION}: eBayes(lmFit(y, design), trend={trend}), "
                      "topTable(sort.by='none')",
        "coefficients": chosen, "design_columns": design.columns, "trend": trend,
        "proportion": proportion, "stdev_coef_lim": list(stdev_coef_lim),
        "n_samples": int(x.shape[0]), "n_genes": int(len(genes)),
        "samples_left_out": design.dropped, "missing_values": n_missing,
        "genes_with_non_estimable_coefficients": not_estimable,
        "df_prior": moderated.prior.df, "var_prior": moderated.var_prior.tolist(),
    }
    if len(tested) > 1:
        params["f_df1"] = df1
    params["versions"] = dict(_versions())
    return LimmaResult(table, chosen, moderated.prior.df, s2_prior, design.matrix, contrasts,
                       params)
