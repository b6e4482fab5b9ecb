"""Ordinary least squares for every gene (limma's ``lmFit`` / ``lm.series``) and contrasts of
the fitted coefficients (``contrasts.fit``).

Genes without missing values share one QR decomposition of the design. A gene with NaN is
fitted on its observed samples only, with its own residual degrees of freedom (stacked QR
decompositions, one per gene, in chunks). A coefficient that a gene's observed
samples cannot estimate (say, every sample of a group missing) is NaN for that gene, as limma
reports NA.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ferroscore.de.design import ALIAS_TOLERANCE, estimable


@dataclass
class LinearFit:
    """Per-gene least-squares fits (genes in rows).

    Attributes
    ----------
    coefficients, stdev_unscaled
        ``(n_genes, n_coef)``; ``stdev_unscaled`` is the square root of the diagonal of
        ``(X'X)^-1`` for the gene's observed samples, so ``se = sigma * stdev_unscaled``.
    sigma, df_residual
        Residual standard deviation and residual degrees of freedom ``(n_genes,)``; sigma is
        NaN where no degree of freedom is left.
    cov_coefficients
        ``(X'X)^-1`` of the full design (limma uses it for contrasts and F tests of every gene).
    amean
        Mean expression of every gene over its observed samples (limma's ``Amean``).
    """

    coefficients: np.ndarray
    stdev_unscaled: np.ndarray
    sigma: np.ndarray
    df_residual: np.ndarray
    cov_coefficients: np.ndarray
    amean: np.ndarray


def _solve_block(design: np.ndarray, y: np.ndarray):
    """Least squares of the genes ``y`` (n_genes x n_obs) on a full-rank design.

    Returns beta ``(n_genes, n_coef)``, the residual sums of squares, the residual df and the
    unscaled SDs ``(n_coef,)``."""
    q, r = np.linalg.qr(design)
    beta = np.linalg.solve(r, (y @ q).T).T
    residual = y - beta @ design.T
    df = design.shape[0] - design.shape[1]
    rss = np.einsum("ij,ij->i", residual, residual)
    r_inv = np.linalg.solve(r, np.eye(r.shape[0]))
    unscaled = np.sqrt(np.einsum("ij,ij->i", r_inv, r_inv))
    return beta, rss, df, unscaled


def _solve_masked(design: np.ndarray, y: np.ndarray, observed: np.ndarray):
    """Least squares of genes with missing values, one stacked QR per gene: zeroing a missing
    sample's row in the design and the data leaves the fit on the observed samples.

    Returns beta ``(g, p)``, rss, df, unscaled ``(g, p)`` and a mask of genes whose observed
    design is rank deficient (left for :func:`estimable`)."""
    mask = observed.astype(float)
    stacked = design[None, :, :] * mask[:, :, None]
    q, r = np.linalg.qr(stacked)
    diagonal = np.abs(np.diagonal(r, axis1=1, axis2=2))
    norms = np.sqrt(np.einsum("gnp,gnp->gp", stacked, stacked))
    deficient = (diagonal <= ALIAS_TOLERANCE * norms).any(axis=1)
    r[deficient] = np.eye(design.shape[1])
    values = np.where(observed, y, 0.0)
    beta = np.linalg.solve(r, np.einsum("gnp,gn->gp", q, values)[:, :, None])[:, :, 0]
    residual = values - np.einsum("gnp,gp->gn", stacked, beta)
    rss = np.einsum("gn,gn->g", residual, residual)
    df = observed.sum(axis=1) - design.shape[1]
    r_inv = np.linalg.solve(r, np.broadcast_to(np.eye(design.shape[1]), r.shape))
    unscaled = np.sqrt(np.einsum("gij,gij->gi", r_inv, r_inv))
    return beta, rss, df, unscaled, deficient


def lm_series(y: np.ndarray, design: np.ndarray, chunk: int = 2048) -> LinearFit:
    """Fit ``y[g] = design @ beta[g]`` for every gene ``g``.

    Parameters
    ----------
    y
        ``(n_genes, n_samples)`` expression; NaN marks a missing value.
    design
        ``(n_samples, n_coef)`` full-rank design matrix.
    chunk
        Genes with missing values fitted together (bounds memory).
    """
    n_genes = y.shape[0]
    n_coef = design.shape[1]
    coefficients = np.full((n_genes, n_coef), np.nan)
    stdev = np.full((n_genes, n_coef), np.nan)
    sigma = np.full(n_genes, np.nan)
    df_residual = np.zeros(n_genes)
    observed = ~np.isnan(y)
    is_complete = observed.all(axis=1)
    complete = np.flatnonzero(is_complete)
    if len(complete):
        beta, rss, df, unscaled = _solve_block(design, y if is_complete.all() else y[complete])
        coefficients[complete], stdev[complete] = beta, unscaled
        df_residual[complete] = df
        if df > 0:
            sigma[complete] = np.sqrt(rss / df)
    incomplete = np.flatnonzero(~is_complete)
    deficient_genes = []
    for start in range(0, len(incomplete), chunk):
        genes = incomplete[start:start + chunk]
        beta, rss, df, unscaled, deficient = _solve_masked(design, y[genes], observed[genes])
        good = genes[~deficient]
        coefficients[good], stdev[good] = beta[~deficient], unscaled[~deficient]
        df_residual[good] = df[~deficient]
        with np.errstate(invalid="ignore", divide="ignore"):
            sigma[good] = np.where(df[~deficient] > 0, np.sqrt(rss[~deficient]
                                                               / df[~deficient]), np.nan)
        deficient_genes.extend(genes[deficient].tolist())
    for gene in deficient_genes:  # R's pivoting: later aliased columns get NaN
        rows = observed[gene]
        keep = estimable(design[rows])
        beta, rss, df, unscaled = _solve_block(design[rows][:, keep], y[gene, rows][None, :])
        coefficients[gene, keep], stdev[gene, keep] = beta[0], unscaled
        df_residual[gene] = df
        if df > 0:
            sigma[gene] = np.sqrt(rss[0] / df)
    cov = np.linalg.inv(design.T @ design)
    amean = np.nanmean(y, axis=1)
    return LinearFit(coefficients, stdev, sigma, df_residual, cov, amean)


def cov_to_cor(cov: np.ndarray) -> np.ndarray:
    scale = np.sqrt(np.diag(cov))
    return cov / np.outer(scale, scale)


def contrasts_fit(fit: LinearFit, contrasts: np.ndarray) -> LinearFit:
    """Coefficients and unscaled SDs of ``contrasts`` (n_coef x n_contrasts), as limma's
    ``contrasts.fit``.

    For a non-orthogonal design the unscaled SDs combine each gene's own ``stdev_unscaled``
    with the correlation of the coefficients in the full design (limma's definition; exact for
    genes without missing values). Coefficients a gene cannot estimate make the contrasts that
    use them NaN.
    """
    coefficients = fit.coefficients.copy()
    stdev = fit.stdev_unscaled.copy()
    missing = np.isnan(coefficients)
    coefficients[missing] = 0.0
    stdev[missing] = 1e30
    correlation = cov_to_cor(fit.cov_coefficients)
    off_diagonal = correlation[np.tril_indices_from(correlation, -1)]
    new_coef = coefficients @ contrasts
    if off_diagonal.size == 0 or np.all(np.abs(off_diagonal) < 1e-14):
        new_stdev = np.sqrt(stdev**2 @ contrasts**2)
    else:
        upper = np.linalg.cholesky(correlation).T  # R's chol(): upper triangular
        # per gene: R %*% diag(stdev_g) %*% C, then column norms
        scaled = upper[None, :, :] * stdev[:, None, :]
        new_stdev = np.sqrt((np.einsum("gij,jc->gic", scaled, contrasts) ** 2).sum(axis=1))
    bad = new_stdev > 1e20
    new_coef[bad] = np.nan
    new_stdev[bad] = np.nan
    cov = contrasts.T @ fit.cov_coefficients @ contrasts
    return LinearFit(new_coef, new_stdev, fit.sigma, fit.df_residual, cov, fit.amean)
