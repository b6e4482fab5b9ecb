"""Empirical-Bayes batch correction (ComBat; Johnson, Li and Rabinovic 2007), as ``sva::ComBat``.

The steps follow sva 3.46: genes constant within any batch are left unadjusted; the data are
standardised gene-wise with a regression on batch indicators and covariates (pooled variance
with denominator n); batch location/scale estimates get normal / inverse-gamma priors whose
hyper-parameters are estimated across genes; the posterior estimates are found by the same
fixed-point iteration (relative tolerance 1e-4) and removed. ``mean_only=True`` adjusts
locations only; a batch with a single sample needs it (sva switches silently, ferroscore asks).

Input rules: values must be finite numbers (NaN and infinity are errors naming a gene and a
sample); the priors are estimated across genes, so at least two genes must vary within every
batch; a pandas input is aligned by sample ID, a numpy array by position.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ferroscore.tables import design_matrix, numeric_frame

__all__ = ["combat"]

MIN_GENES = 2


def _row_var(x: np.ndarray) -> np.ndarray:
    return x.var(axis=1, ddof=1)


def combat(
    expr: pd.DataFrame | np.ndarray,
    batch: pd.Series | np.ndarray | list,
    covariates: pd.DataFrame | None = None,
    parametric: bool = True,
    mean_only: bool = False,
) -> pd.DataFrame | np.ndarray:
    """Remove batch effects with empirical-Bayes ComBat.

    Parameters
    ----------
    expr
        Genes x samples (log-scale, normalised): a DataFrame, or a 2-D numpy array (then
        ``batch`` is matched by position and an array is returned).
    batch
        One batch label per sample (a Series indexed by sample IDs is aligned to the columns).
    covariates
        Samples-indexed DataFrame of biological covariates to preserve (R's ``mod``); categorical
        columns are one-hot encoded as ``model.matrix`` would.
    parametric
        Parametric priors (``par.prior=TRUE``); the non-parametric variant is not implemented.
    mean_only
        Adjust only the batch means (required when a batch has one sample).

    Returns
    -------
    DataFrame or ndarray
        Batch-adjusted values, same shape and labels as ``expr``; genes constant within a
        batch are returned unchanged (as sva does).

    Raises
    ------
    ValueError
        Non-numeric, missing or infinite values, fewer than two genes varying within every
        batch, fewer than two batches, a single-sample batch without ``mean_only``, covariates
        missing for some samples, incomplete or confounded with batch.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> expr = pd.DataFrame(rng.normal(size=(50, 8)), columns=[f"s{i}" for i in range(8)])
    >>> adjusted = fs.pp.combat(expr + [0, 0, 0, 0, 2, 2, 2, 2], [1, 1, 1, 1, 2, 2, 2, 2])
    >>> adjusted.shape
    (50, 8)
    """
    if not parametric:
        raise NotImplementedError("only parametric ComBat (par.prior=TRUE) is implemented")
    as_array = isinstance(expr, np.ndarray)
    if as_array:
        if expr.ndim != 2:
            raise ValueError(f"expr must be a 2-D genes x samples array, got {expr.ndim}-D")
        if isinstance(batch, pd.Series):
            raise TypeError("batch is a Series (aligned by sample ID) but expr is an array "
                            "without sample IDs; pass expr as a DataFrame with sample columns, "
                            "or batch as a list in column order")
        expr = pd.DataFrame(expr)
    elif not isinstance(expr, pd.DataFrame):
        raise TypeError(f"expr must be a genes x samples DataFrame or 2-D numpy array, got "
                        f"{type(expr).__name__}")
    if expr.columns.has_duplicates:
        repeated = expr.columns[expr.columns.duplicated()].unique()
        raise ValueError(f"ComBat input has duplicated sample names (e.g. {list(repeated[:3])}); "
                         "keep one column per sample")
    data = _numeric_values(expr)
    labels = _align(batch, expr.columns, "batch")
    levels = sorted(pd.unique(labels), key=str)
    if len(levels) < 2:
        raise ValueError(f"ComBat needs at least two batches, got {levels}")
    batches = [np.flatnonzero(labels == level) for level in levels]
    sizes = np.array([len(b) for b in batches])
    if (sizes == 1).all():
        raise ValueError("every batch has a single sample: batch effects cannot be estimated")
    if (sizes == 1).any() and not mean_only:
        single = [str(levels[i]) for i in np.flatnonzero(sizes == 1)]
        raise ValueError(f"batch(es) {single} have a single sample, so their variance cannot be "
                         "estimated; pass mean_only=True to adjust locations only (what "
                         "sva::ComBat switches to by itself)")

    zero = np.zeros(data.shape[0], dtype=bool)
    for b in batches:
        if len(b) > 1:
            zero |= _row_var(data[:, b]) == 0
    kept = data[~zero]
    if len(kept) < MIN_GENES:
        raise ValueError(f"ComBat estimates its priors across genes and needs at least "
                         f"{MIN_GENES} genes that vary within every batch; {len(kept)} of "
                         f"{len(data)} genes do (the others are constant within a batch)")

    batch_design = np.zeros((data.shape[1], len(levels)))
    for j, b in enumerate(batches):
        batch_design[b, j] = 1.0
    design = batch_design
    if covariates is not None:
        extra = _covariate_design(covariates, expr.columns)
        keep_cols = ~np.all(extra == 1, axis=0)  # an intercept column is dropped, as sva
        design = np.hstack([batch_design, extra[:, keep_cols]])
    if np.linalg.matrix_rank(design) < design.shape[1]:
        raise ValueError("the covariates are confounded with batch; remove them and rerun")

    n_array = data.shape[1]
    b_hat = np.linalg.solve(design.T @ design, design.T @ kept.T)
    grand_mean = (sizes / n_array) @ b_hat[: len(levels)]
    residual = kept - (design @ b_hat).T
    np.square(residual, out=residual)
    var_pooled = residual @ np.full(n_array, 1.0 / n_array)
    del residual
    stand_mean = grand_mean[:, None]  # genes x 1; genes x samples with covariates
    if design.shape[1] > len(levels):
        tmp = design.copy()
        tmp[:, : len(levels)] = 0
        stand_mean = stand_mean + (tmp @ b_hat).T
    scale = np.sqrt(var_pooled)[:, None]
    s_data = kept - stand_mean
    s_data /= scale
    blocks = [s_data[:, b] for b in batches]

    gamma_hat = np.linalg.solve(batch_design.T @ batch_design, batch_design.T @ s_data.T)
    if mean_only:
        delta_hat = np.ones((len(levels), kept.shape[0]))
    else:
        delta_hat = np.vstack([_row_var(block) for block in blocks])
    gamma_bar = gamma_hat.mean(axis=1)
    t2 = gamma_hat.var(axis=1, ddof=1)
    adjusted = s_data  # a new array (``kept`` is a copy), overwritten batch by batch
    for j, (b, block) in enumerate(zip(batches, blocks, strict=True)):
        if mean_only:
            gamma_star = _postmean(gamma_hat[j], gamma_bar[j], 1.0, 1.0, t2[j])
            delta_star = np.ones_like(gamma_star)
        else:
            a_prior, b_prior = _inverse_gamma_prior(delta_hat[j])
            gamma_star, delta_star = _iterate(block, gamma_hat[j], delta_hat[j], gamma_bar[j],
                                              t2[j], a_prior, b_prior)
        block -= gamma_star[:, None]
        block /= np.sqrt(delta_star)[:, None]
        block *= scale
        block += stand_mean if stand_mean.shape[1] == 1 else stand_mean[:, b]
        adjusted[:, b] = block
    if zero.any():
        out = data.copy()  # never write into the caller's array
        out[~zero] = adjusted
    else:
        out = adjusted
    if as_array:
        return out
    return pd.DataFrame(out, index=expr.index, columns=expr.columns)


def _numeric_values(expr: pd.DataFrame) -> np.ndarray:
    """The values as floats; non-numeric, missing and infinite cells are errors naming one."""
    if expr.shape[0] == 0 or expr.shape[1] == 0:
        raise ValueError(f"ComBat input is empty (shape {expr.shape})")
    expr = numeric_frame(expr, "ComBat input", "gene", "sample")
    data = expr.to_numpy(dtype=float)
    finite = np.isfinite(data)
    if not finite.all():
        i, j = np.argwhere(~finite)[0]
        raise ValueError(f"ComBat input has {int((~finite).sum())} missing values or "
                         f"infinities (e.g. {data[i, j]} at gene {expr.index[i]!r}, sample "
                         f"{expr.columns[j]!r}); impute or drop those genes first")
    return data


def _align(values, samples: pd.Index, what: str) -> np.ndarray:
    if isinstance(values, pd.Series):
        missing = samples.difference(values.index)
        if len(missing):
            raise ValueError(f"{what} has no label for samples {list(missing[:5])}")
        values = values.loc[samples]
    array = np.asarray(values)
    if len(array) != len(samples):
        raise ValueError(f"{what} has {len(array)} labels for {len(samples)} samples")
    if pd.isna(array).any():
        raise ValueError(f"{what} has missing labels")
    return array


def _covariate_design(covariates: pd.DataFrame, samples: pd.Index) -> np.ndarray:
    if not isinstance(covariates, pd.DataFrame):
        raise TypeError(f"covariates must be a samples-indexed DataFrame, got "
                        f"{type(covariates).__name__}")
    missing = samples.difference(covariates.index)
    if len(missing):
        raise ValueError(f"covariates have no row for {len(missing)} samples "
                         f"(e.g. {list(missing[:5])})")
    rows = covariates.loc[samples]
    incomplete = rows.columns[rows.isna().any()].tolist()
    if incomplete:
        raise ValueError(f"covariates {incomplete} have missing values; ComBat needs complete "
                         "covariates (impute them or drop the samples)")
    design, _ = design_matrix(rows, single_level="drop")
    return design.to_numpy(dtype=float)


def _postmean(g_hat, g_bar, n, d_star, t2):
    return (t2 * n * g_hat + d_star * g_bar) / (t2 * n + d_star)


def _postvar(sum2, n, a, b):
    return (0.5 * sum2 + b) / (n / 2.0 + a - 1.0)


def _inverse_gamma_prior(delta_hat: np.ndarray) -> tuple[float, float]:
    m, s2 = delta_hat.mean(), delta_hat.var(ddof=1)
    return (2 * s2 + m * m) / s2, (m * s2 + m**3) / s2


def _iterate(s_data, g_hat, d_hat, g_bar, t2, a, b, tolerance: float = 1e-4,
             max_iter: int = 10_000):
    """sva's ``it.sol``: all genes of a batch iterate until the largest relative change is
    below ``tolerance``."""
    n = s_data.shape[1]
    g_old, d_old = g_hat, d_hat
    for _ in range(max_iter):
        g_new = _postmean(g_hat, g_bar, n, d_old, t2)
        sum2 = ((s_data - g_new[:, None]) ** 2).sum(axis=1)
        d_new = _postvar(sum2, n, a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            change = np.max(np.r_[np.abs(g_new - g_old) / g_old, np.abs(d_new - d_old) / d_old])
        g_old, d_old = g_new, d_new
        if not change > tolerance:
            return g_new, d_new
    raise RuntimeError("ComBat's empirical-Bayes iteration did not converge")
