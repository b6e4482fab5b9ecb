"""Cross-validation of the LASSO / elastic-net Cox path, as R ``cv.glmnet(family = "cox")``.

Definitions (glmnet 4.1's ``cv.glmnet``, ``buildPredmat.coxnetlist``, ``cv.coxnet``,
``cvstats``, ``getOptcv.glmnet``):

- The path is fitted on all samples; its lambdas are the grid. Each fold's training samples get
  their own path (their own lambda sequence and path rules), whose coefficients are
  interpolated onto the grid (glmnet's ``lambda.interp``; beyond a fold's range, its first or
  last solution).
- ``measure="deviance"``: fold ``k``'s value is the Verweij & van Houwelingen cross-validated
  partial likelihood, ``deviance_all(b_k) - deviance_training(b_k)`` (Breslow, unit weights),
  divided by the number of events in fold ``k``; folds are averaged with their event counts as
  weights.
- ``measure="C"``: Harrell's C of the held-out linear predictors within fold ``k`` (a censored
  sample at an event time counts as at risk; tied predictions count 1/2), folds averaged with
  their sizes as weights.
- ``cvsd = sqrt(weighted mean of (value - cvm)^2 / (folds - 1))``; ``lambda_min`` is the
  largest lambda with the best ``cvm`` (lowest deviance / highest C), ``lambda_1se`` the largest
  lambda whose ``cvm`` is within one ``cvsd`` of it (``cvsd`` at ``lambda_min``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ferroscore.survival._breslow import breslow_data, deviance
from ferroscore.survival._validation import (
    _as_array,
    reindex_like,
    samples_matrix,
    survival_for,
)
from ferroscore.survival.coxnet import CoxnetPath, coxnet, fit_path, interpolate
from ferroscore.survival.metrics import harrell_counts
from ferroscore.survival.screen import _n_jobs

__all__ = ["CVCoxnetResult", "cv_coxnet", "fold_ids"]

MEASURES = ("deviance", "C")


def fold_ids(event: Any, n_folds: int = 10, seed: int | None = 0) -> np.ndarray:
    """Random fold labels 1..``n_folds``, stratified by event status: the events, then the
    censored samples, are dealt to the folds in turn after a seeded shuffle, so every fold gets
    ``floor`` or ``ceil`` of events / folds events. (glmnet draws unstratified folds,
    ``sample(rep(1:nfolds, length = n))``; pass its fold ids to reproduce it exactly.)

    Raises
    ------
    ValueError
        Fewer than 3 folds, more folds than samples, or fewer events than folds.
    """
    e = _as_array(event, "event").astype(int)
    n, n_events = len(e), int(e.sum())
    if n_folds < 3:
        raise ValueError(f"n_folds must be >= 3 (glmnet's minimum), got {n_folds}")
    if n_folds > n:
        raise ValueError(f"{n_folds} folds for {n} samples: use at most {n} folds")
    if n_events < n_folds:
        raise ValueError(f"{n_events} events cannot be spread over {n_folds} folds (every fold "
                         f"needs an event for the cross-validated likelihood and C): use at "
                         f"most {n_events} folds")
    rng = np.random.default_rng(seed)
    folds = np.empty(n, dtype=int)
    offset = 0
    for status in (1, 0):
        members = rng.permutation(np.flatnonzero(e == status))
        folds[members] = (offset + np.arange(len(members))) % n_folds + 1
        offset += len(members)
    return folds


def _check_folds(folds: Any, samples: pd.Index, event: np.ndarray, seed: int | None
                 ) -> np.ndarray:
    """Fold labels 1..K for the rows ``samples`` from an int (number of folds) or labels."""
    if isinstance(folds, (int, np.integer)) and not isinstance(folds, bool):
        return fold_ids(event, int(folds), seed)
    if isinstance(folds, pd.Series):
        folds = reindex_like(folds, samples, "folds", "the rows of X")
    labels = _as_array(folds, "folds")
    if len(labels) != len(samples):
        raise ValueError(f"folds has {len(labels)} fold ids for the {len(samples)} rows of X")
    if pd.isna(labels).any():
        raise ValueError(f"{int(pd.isna(labels).sum())} fold ids are missing")
    levels, codes = np.unique(labels, return_inverse=True)
    if len(levels) < 3:
        raise ValueError(f"cross-validation needs at least 3 folds, got {len(levels)} "
                         f"({levels.tolist()})")
    codes = codes + 1
    events = np.bincount(codes, weights=event, minlength=len(levels) + 1)[1:]
    empty = levels[events == 0].tolist()
    if empty:
        raise ValueError(f"folds {empty} hold no event: their cross-validated deviance and C "
                         "are undefined (cv.glmnet silently leaves such a fold out of cvm but "
                         "still counts it in cvsd); use fewer folds, or fold_ids(event, ...), "
                         "which spreads the events over the folds")
    return codes


@dataclass
class CVCoxnetResult:
    """Cross-validated LASSO / elastic-net Cox path (:func:`cv_coxnet`).

    Attributes
    ----------
    lambdas
        (L,) the full-data path's lambdas.
    cvm, cvsd
        (L,) cross-validated measure and its standard error.
    nzero
        (L,) non-zero coefficients of the full-data fit.
    lambda_min, lambda_1se
        Best lambda, and the largest within one standard error of it.
    index_min, index_1se
        Their positions in ``lambdas``.
    coef_min, coef_1se
        Full-data coefficients at those lambdas (Series over genes).
    measure
        ``"deviance"`` or ``"C"``.
    folds
        Fold id (1..K) per sample (Series indexed like X).
    path
        The full-data :class:`~ferroscore.survival.CoxnetPath`.
    fold_values
        (K, L) the per-fold values behind ``cvm``.
    """

    lambdas: np.ndarray
    cvm: np.ndarray
    cvsd: np.ndarray
    nzero: np.ndarray
    lambda_min: float
    lambda_1se: float
    index_min: int
    index_1se: int
    coef_min: pd.Series
    coef_1se: pd.Series
    measure: str
    folds: pd.Series
    path: CoxnetPath = field(repr=False)
    fold_values: np.ndarray = field(repr=False)

    def __repr__(self) -> str:
        return (f"CVCoxnetResult(measure={self.measure!r}, {self.folds.nunique()} folds, "
                f"{len(self.lambdas)} lambdas; lambda_min={self.lambda_min:.4g} "
                f"({self.nzero[self.index_min]} genes), lambda_1se={self.lambda_1se:.4g} "
                f"({self.nzero[self.index_1se]} genes))")

    @property
    def cvup(self) -> np.ndarray:
        return self.cvm + self.cvsd

    @property
    def cvlo(self) -> np.ndarray:
        return self.cvm - self.cvsd

    def to_frame(self) -> pd.DataFrame:
        """One row per lambda: ``lambda``, ``cvm``, ``cvsd``, ``cvup``, ``cvlo``, ``nzero``."""
        return pd.DataFrame({"lambda": self.lambdas, "cvm": self.cvm, "cvsd": self.cvsd,
                             "cvup": self.cvup, "cvlo": self.cvlo, "nzero": self.nzero})


def _best(lambdas: np.ndarray, cvm: np.ndarray, cvsd: np.ndarray, measure: str
          ) -> tuple[int, int]:
    """Positions of lambda.min and lambda.1se (glmnet's ``getOptcv.glmnet``)."""
    loss = -cvm if measure == "C" else cvm
    best = np.nanmin(loss)
    index_min = int(np.flatnonzero(lambdas == np.max(lambdas[loss <= best]))[0])
    within = loss <= (loss + cvsd)[index_min]
    index_1se = int(np.flatnonzero(lambdas == np.max(lambdas[within]))[0])
    return index_min, index_1se


def _weighted_stats(values: np.ndarray, weights: np.ndarray, n_folds: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Fold-weighted mean and standard error per lambda, as glmnet's ``cvstats`` (undefined
    fold values are left out, as ``weighted.mean(na.rm = TRUE)``)."""
    defined = np.isfinite(values)
    w = np.where(defined, weights[:, None], 0.0)
    filled = np.where(defined, values, 0.0)
    cvm = (w * filled).sum(axis=0) / w.sum(axis=0)
    spread = (w * (filled - cvm) ** 2).sum(axis=0) / w.sum(axis=0)
    return cvm, np.sqrt(spread / (n_folds - 1))


def _fold_values(x: np.ndarray, t: np.ndarray, e: np.ndarray, codes: np.ndarray,
                 lambdas: np.ndarray, measure: str, alpha: float, penalty: Any,
                 path_options: dict, n_jobs: int) -> np.ndarray:
    """(folds, lambdas) cross-validated deviance per event, or held-out Harrell C; the folds
    are fitted in parallel threads (the compiled solver releases the GIL)."""
    everyone = breslow_data(t, e)

    def one_fold(k: int) -> np.ndarray:
        held_out = codes == k
        train = ~held_out
        fit = fit_path(x[train], t[train], e[train], alpha=alpha, penalty_factor=penalty,
                       **path_options)
        beta = interpolate(fit.lambdas, fit.beta, lambdas)  # (p, L)
        if measure == "deviance":
            training = breslow_data(t[train], e[train])
            pooled = (deviance(everyone, x[everyone.order] @ beta)
                      - deviance(training, x[train][training.order] @ beta))
            return pooled / e[held_out].sum()
        risk = x[held_out] @ beta
        values = np.empty(len(lambdas))
        for j in range(len(lambdas)):
            concordant, comparable = harrell_counts(t[held_out], e[held_out], risk[:, j])
            values[j] = concordant / comparable if comparable else np.nan
        return values

    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        return np.vstack(list(pool.map(one_fold, range(1, int(codes.max()) + 1))))


def cv_coxnet(
    X: pd.DataFrame,
    time: Any,
    event: Any,
    folds: int | Any = 10,
    measure: str = "deviance",
    alpha: float = 1.0,
    seed: int | None = 0,
    n_jobs: int | None = None,
    **path_options: Any,
) -> CVCoxnetResult:
    """K-fold cross-validation of the LASSO / elastic-net Cox path, as R ``cv.glmnet``.

    Parameters
    ----------
    X, time, event
        As :func:`~ferroscore.survival.coxnet` (Series are paired with the rows of X by
        index).
    folds
        Number of folds (event-stratified random folds from ``seed``, see :func:`fold_ids`),
        or a fold id per sample (Series paired by index, or an array in row order), e.g. the
        ``foldid`` given to ``cv.glmnet``.
    measure
        ``"deviance"`` (grouped cross-validated partial likelihood) or ``"C"`` (Harrell's C),
        see the module notes.
    alpha
        Elastic-net mixing, as :func:`~ferroscore.survival.coxnet`.
    seed
        Seed of the random folds when ``folds`` is a number.
    n_jobs
        Threads fitting the folds (default: all cores); the result does not depend on it.
    **path_options
        ``n_lambdas``, ``lambda_min_ratio``, ``standardize``, ``penalty_factor``, ``tol``:
        passed to every path fit.

    Returns
    -------
    CVCoxnetResult
        ``.lambdas``, ``.cvm``, ``.cvsd``, ``.lambda_min``, ``.lambda_1se``, ``.coef_min``,
        ``.coef_1se``, ``.path``, ``.to_frame()``.

    Raises
    ------
    ValueError
        Fewer events than folds, a fold without events, fewer than 3 folds, fold ids that do
        not match the samples, an unknown measure, or any :func:`coxnet` input error.

    Examples
    --------
    >>> import ferroscore as fs
    >>> expr, clinical = fs.datasets.breast_cancer(as_frames=True)
    >>> X = expr.loc[["GPX4", "SLC7A11", "ACSL4", "TFRC", "FTH1", "NCOA4"]].T
    >>> cv = fs.survival.cv_coxnet(X, clinical["rfs_months"], clinical["rfs_event"], folds=5)
    >>> cv.lambda_1se >= cv.lambda_min
    True
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
    if "lambdas" in path_options:
        raise TypeError("cv_coxnet fits glmnet's own lambda sequence on every fold; "
                        "lambdas cannot be given")
    x, samples, genes = samples_matrix(X, "X")
    t, e = survival_for(samples, time, event, "X")
    codes = _check_folds(folds, samples, e, seed)
    full = coxnet(X, t, e, alpha=alpha, **path_options)
    penalty = path_options.pop("penalty_factor", None)
    if isinstance(penalty, pd.Series):
        penalty = penalty.reindex(genes).to_numpy(dtype=float)
    lambdas = full.lambdas
    with threadpool_limits(1, user_api="blas"):  # small products: one thread is fastest
        values = _fold_values(x, t, e, codes, lambdas, measure, alpha, penalty, path_options,
                              _n_jobs(n_jobs))
    weights = np.bincount(codes, weights=e if measure == "deviance" else None)[1:]
    # glmnet counts the folds with a value for the deviance, every fold for C
    counted = np.isfinite(values).sum(axis=0) if measure == "deviance" else len(values)
    cvm, cvsd = _weighted_stats(values, weights.astype(float), counted)
    index_min, index_1se = _best(lambdas, cvm, cvsd, measure)
    return CVCoxnetResult(
        lambdas, cvm, cvsd, full.df, float(lambdas[index_min]), float(lambdas[index_1se]),
        index_min, index_1se, full.coef.iloc[:, index_min].rename(lambdas[index_min]),
        full.coef.iloc[:, index_1se].rename(lambdas[index_1se]), measure,
        pd.Series(codes, index=samples, name="fold"), full, values)
