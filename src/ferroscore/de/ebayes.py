"""limma's empirical-Bayes moderation (Smyth 2004), following limma 3.54's definitions.

- :func:`fit_f_dist`: the residual variances ``s2_g`` (``df_g`` degrees of freedom) are modelled
  as ``s2_g ~ s0^2 F(df_g, d0)``. On the log scale, ``e_g = log s2_g - digamma(df_g/2) +
  log(df_g/2)`` has mean ``log s0^2 - digamma(d0/2) + log(d0/2)`` and variance
  ``trigamma(df_g/2) + trigamma(d0/2)``; matching moments gives ``d0`` through the inverse of
  trigamma and then ``s0^2``. With a covariate (``trend=True``: the genes' average
  expression) the mean of ``e`` is a natural cubic spline in the covariate with up to 4
  degrees of freedom (``splines::ns(covariate, df, intercept=TRUE)``: knots at quantiles), and
  the variance is the residual mean square of that regression, so ``s0^2`` varies with the
  covariate while ``d0`` is one number.
- posterior variances ``(df_g s2_g + d0 s0^2) / (df_g + d0)``; moderated ``t`` with
  ``df_g + d0`` degrees of freedom (capped at the pooled residual df); the moderated F of
  several coefficients from their correlation in the design; the B statistic (log posterior
  odds of differential expression) with the prior variance of true effects estimated from the
  top ``proportion / 2`` of genes (``tmixture``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import interpolate, linalg, special, stats

#: Degree of freedom beyond which limma treats the prior as infinite in the B statistic.
INFINITE_DF = 1e6


@dataclass
class Prior:
    """Fitted prior: ``df`` (``d0``, possibly inf) and ``scale`` (``s0^2``, one per gene)."""

    df: float
    scale: np.ndarray


def trigamma_inverse(x: float) -> float:
    """The ``y`` with ``trigamma(y) = x`` (limma's Newton iteration on ``1/trigamma``)."""
    if x > 1e7:
        return 1.0 / np.sqrt(x)
    if x < 1e-6:
        return 1.0 / x
    y = 0.5 + 1.0 / x
    for _ in range(50):
        tri = special.polygamma(1, y)
        step = tri * (1.0 - tri / x) / special.polygamma(2, y)
        y += step
        if -step / y < 1e-8:
            return float(y)
    warnings.warn("trigamma inversion: iteration limit exceeded", RuntimeWarning, stacklevel=2)
    return float(y)


def _bspline_basis(x: np.ndarray, knots: np.ndarray, derivative: int = 0) -> np.ndarray:
    """Cubic B-spline basis (or its derivative) at ``x`` inside the boundary knots."""
    size = len(knots) - 4
    spline = interpolate.BSpline(knots, np.eye(size), 3, extrapolate=True)
    return spline.derivative(derivative)(x) if derivative else spline(x)


class NaturalSpline:
    """Basis of natural cubic splines, spanning the same space as R's
    ``splines::ns(x, df=df, intercept=TRUE)``: ``df - 2`` interior knots at the quantiles
    ``1/(df-1), ..., (df-2)/(df-1)`` of ``x``, boundary knots at its range, linear beyond them.
    Only the spanned space matters for the fitted values, so the basis is the B-spline basis
    times the null space of the two boundary second-derivative constraints."""

    def __init__(self, x: np.ndarray, df: int) -> None:
        probs = np.linspace(0.0, 1.0, df)[1:-1]
        interior = np.quantile(x, probs)  # R's quantile type 7
        self.boundary = (float(np.min(x)), float(np.max(x)))
        low, high = self.boundary
        self.knots = np.concatenate([[low] * 4, interior, [high] * 4])
        constraint = _bspline_basis(np.array([low, high]), self.knots, 2)
        self.projection = linalg.null_space(constraint)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        low, high = self.boundary
        inside = np.clip(x, low, high)
        basis = _bspline_basis(inside, self.knots)
        outside = (x < low) | (x > high)
        if outside.any():
            edge = np.where(x[outside] < low, low, high)
            slope = _bspline_basis(edge, self.knots, 1)
            basis[outside] = (_bspline_basis(edge, self.knots)
                              + (x[outside] - edge)[:, None] * slope)
        return basis @ self.projection


def fit_f_dist(variances: np.ndarray, df: np.ndarray, covariate: np.ndarray | None) -> Prior:
    """Prior df and scale of a scaled F distribution fitted to the variances (``fitFDist``)."""
    n = len(variances)
    ok = np.isfinite(df) & (df > 1e-15) & np.isfinite(variances) & (variances > -1e-15)
    n_ok = int(ok.sum())
    if n_ok == 0:
        raise ValueError("no gene has residual degrees of freedom: the prior cannot be "
                         "estimated (more samples than coefficients are needed)")
    if n_ok == 1:
        return Prior(0.0, np.full(n, variances[ok][0]))
    x, d1 = variances[ok], df[ok]
    spline_df = 1
    if covariate is not None:
        spline_df = 1 + (n_ok >= 3) + (n_ok >= 6) + (n_ok >= 30)
        spline_df = min(spline_df, len(np.unique(covariate[ok])))
        if spline_df < 2:
            covariate = None
    x = np.maximum(x, 0.0)
    middle = np.median(x)
    if middle == 0:
        warnings.warn("more than half of the residual variances are exactly zero: the "
                      "empirical Bayes moderation is unreliable", UserWarning, stacklevel=3)
        middle = 1.0
    elif (x == 0).any():
        warnings.warn("zero residual variances were offset away from zero (as limma does)",
                      UserWarning, stacklevel=3)
    x = np.maximum(x, 1e-5 * middle)
    e = np.log(x) - special.digamma(d1 / 2) + np.log(d1 / 2)
    if covariate is None:
        e_mean = np.full(n, e.mean())
        e_var = np.sum((e - e.mean()) ** 2) / (n_ok - 1)
    else:
        spline = NaturalSpline(covariate[ok], spline_df)
        basis = spline(covariate[ok])
        coef, _, rank, _ = np.linalg.lstsq(basis, e, rcond=None)
        fitted = basis @ coef
        e_var = np.sum((e - fitted) ** 2) / (n_ok - rank)
        e_mean = np.empty(n)
        e_mean[ok] = fitted
        if n_ok < n:
            e_mean[~ok] = spline(covariate[~ok]) @ coef
    e_var -= np.mean(special.polygamma(1, d1 / 2))
    if e_var > 0:
        d0 = 2 * trigamma_inverse(e_var)
        scale = np.exp(e_mean + special.digamma(d0 / 2) - np.log(d0 / 2))
    else:
        d0 = np.inf
        scale = np.full(n, np.mean(x)) if covariate is None else np.exp(e_mean)
    return Prior(float(d0), scale)


def squeeze_var(variances: np.ndarray, df: np.ndarray, covariate: np.ndarray | None
                ) -> tuple[Prior, np.ndarray]:
    """Fitted prior and posterior variances (``squeezeVar``; genes without residual df take
    the prior)."""
    variances = np.where(df == 0, 0.0, variances)
    prior = fit_f_dist(variances, df, covariate)
    if np.isfinite(prior.df):
        posterior = (df * variances + prior.df * prior.scale) / (df + prior.df)
    else:
        posterior = prior.scale.copy()
    return prior, posterior


def _t_isf_log(log_p: np.ndarray, df: float) -> np.ndarray:
    """Quantile ``t`` with ``log P(T > t) = log_p`` (R ``qt(log_p, df, lower=FALSE,
    log.p=TRUE)``), accurate where ``exp(log_p)`` underflows."""
    out = stats.t.isf(np.exp(log_p), df)
    tiny = ~np.isfinite(out)
    if tiny.any():
        # Newton steps on log P(T > t); start from the tail's power law
        target = log_p[tiny]
        t = np.exp((np.log(df) * (df / 2 - 0.5) - target) / df) + 1.0
        for _ in range(100):
            step = (stats.t.logsf(t, df) - target) / np.exp(stats.t.logpdf(t, df)
                                                            - stats.t.logsf(t, df))
            t = t + step
            if np.all(np.abs(step) <= 1e-12 * np.abs(t)):
                break
        out[tiny] = t
    return out


def _tmixture(t: np.ndarray, stdev_unscaled: np.ndarray, df: np.ndarray, proportion: float,
              limits: tuple[float, float]) -> float:
    """Prior variance of the true log fold changes of one coefficient (``tmixture.vector``)."""
    keep = ~np.isnan(t)
    t, stdev_unscaled, df = np.abs(t[keep]), stdev_unscaled[keep], df[keep]
    n_genes = len(t)
    n_target = int(np.ceil(proportion / 2 * n_genes))
    if n_target < 1:
        return np.nan
    p = max(n_target / n_genes, proportion)
    max_df = df.max()
    lower = df < max_df
    if lower.any():
        t = t.copy()
        t[lower] = _t_isf_log(stats.t.logsf(t[lower], df[lower]), max_df)
    top = np.argsort(-t, kind="stable")[:n_target]
    t_top, v1 = t[top], stdev_unscaled[top] ** 2
    rank = np.arange(1, n_target + 1)
    p0 = 2 * stats.t.sf(t_top, max_df)
    p_target = ((rank - 0.5) / n_genes - (1 - p) * p0) / p
    v0 = np.zeros(n_target)
    positive = p_target > p0
    if positive.any():
        q_target = stats.t.isf(p_target[positive] / 2, max_df)
        v0[positive] = v1[positive] * ((t_top[positive] / q_target) ** 2 - 1)
    return float(np.mean(np.clip(v0, limits[0], limits[1])))


@dataclass
class Moderated:
    """Moderated statistics of the tested coefficients (genes x coefficients)."""

    prior: Prior
    s2_post: np.ndarray
    df_total: np.ndarray
    t: np.ndarray
    p_value: np.ndarray
    lods: np.ndarray
    var_prior: np.ndarray


def moderate(coefficients: np.ndarray, stdev_unscaled: np.ndarray, sigma: np.ndarray,
             df_residual: np.ndarray, covariate: np.ndarray | None, *, proportion: float,
             stdev_coef_lim: tuple[float, float]) -> Moderated:
    """limma's ``eBayes`` for the given coefficients (``(n_genes, n_coef)`` arrays)."""
    prior, s2_post = squeeze_var(sigma**2, df_residual, covariate)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = coefficients / stdev_unscaled / np.sqrt(s2_post)[:, None]
    df_total = np.minimum(df_residual + prior.df, np.nansum(df_residual))
    p_value = 2 * stats.t.sf(np.abs(t), df_total[:, None])
    limits = tuple(np.asarray(stdev_coef_lim, dtype=float) ** 2 / np.median(prior.scale))
    var_prior = np.array([_tmixture(t[:, j], stdev_unscaled[:, j], df_total, proportion, limits)
                          for j in range(t.shape[1])])
    if np.isnan(var_prior).any():
        warnings.warn("estimation of the prior variance of the effects failed; set to "
                      "1 / s2_prior as limma does", UserWarning, stacklevel=3)
        var_prior = np.where(np.isnan(var_prior), 1 / prior.scale.mean(), var_prior)
    lods = _log_odds(t, stdev_unscaled, df_total, var_prior, prior.df, proportion)
    return Moderated(prior, s2_post, df_total, t, p_value, lods, var_prior)


def _log_odds(t, stdev_unscaled, df_total, var_prior, df_prior, proportion) -> np.ndarray:
    """B statistic: log posterior odds that a gene's coefficient is non-zero."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (stdev_unscaled**2 + var_prior[None, :]) / stdev_unscaled**2
        t2 = t**2
        if df_prior > INFINITE_DF:
            kernel = t2 * (1 - 1 / ratio) / 2
        else:
            df = df_total[:, None]
            kernel = (1 + df) / 2 * np.log((t2 + df) / (t2 / ratio + df))
        return np.log(proportion / (1 - proportion)) - np.log(ratio) / 2 + kernel


def moderated_f(t: np.ndarray, cov_coefficients: np.ndarray, df_residual: np.ndarray,
                df_prior: float) -> tuple[np.ndarray, int, np.ndarray]:
    """Moderated F over several coefficients (``classifyTestsF(fstat.only=TRUE)``).

    ``F = |t Q|^2`` with ``Q`` from the eigen-decomposition of the coefficients' correlation
    (eigenvalues below 1e-8 of the largest dropped, dimension ``r``), on ``r`` and
    ``d0 + df_g`` degrees of freedom (p-values from the chi-square limit beyond 1e6 df, as
    limma's subsetting does).

    Returns
    -------
    F, df1, p_value
    """
    scale = np.sqrt(np.diag(cov_coefficients))
    scale = np.where(scale == 0, 1.0, scale)
    correlation = cov_coefficients / np.outer(scale, scale)
    values, vectors = np.linalg.eigh(correlation)
    values, vectors = values[::-1], vectors[:, ::-1]
    rank = int(np.sum(values / values[0] > 1e-8))
    q = vectors[:, :rank] / np.sqrt(values[:rank]) / np.sqrt(rank)
    f = ((t @ q) ** 2).sum(axis=1)
    df2 = df_prior + df_residual
    with np.errstate(invalid="ignore"):
        p = np.where(df2 > INFINITE_DF, stats.chi2.sf(rank * f, rank),
                     stats.f.sf(f, rank, np.minimum(df2, INFINITE_DF * 10)))
    return f, rank, p


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """BH adjusted p-values (R ``p.adjust(method="BH")``; NaN stays NaN and is not counted)."""
    out = np.full(len(p), np.nan)
    keep = np.flatnonzero(~np.isnan(p))
    n = len(keep)
    if n == 0:
        return out
    order = np.argsort(-p[keep], kind="stable")
    ranks = n - np.arange(n)
    adjusted = np.minimum.accumulate(np.minimum(1.0, p[keep][order] * n / ranks))
    out[keep[order]] = adjusted
    return out
