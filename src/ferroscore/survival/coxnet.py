"""LASSO / elastic-net Cox regression paths with glmnet's objective, lambda sequence and path
rules (R ``glmnet(family = "cox")``, glmnet 4.1).

What is computed (the definitions of glmnet's Fortran ``coxnet``):

- Objective, per lambda: ``-(1/n) loglik(X_s b) + lambda sum_j v_j [alpha |b_j| +
  (1 - alpha) b_j^2 / 2]`` with ``loglik`` the Breslow partial log-likelihood (ties as glmnet;
  :func:`ferroscore.survival.cox` and :func:`ferroscore.survival.screen` use Efron's), ``X_s``
  the genes centred and, with ``standardize``, divided by their 1/n-variance SD, and ``v`` the
  penalty factors rescaled to sum to the number of genes. Coefficients are reported on the
  original scale of X (``b / sd``).
- Lambda sequence: ``lambda_max = max_j |x_sj' r| / (n v_j max(alpha, 1e-3))`` over the
  penalised genes, with ``r`` the score residuals at the first solution (``b = 0``, or the fit
  of the unpenalised genes when some penalty factors are 0); each step multiplies by
  ``ratio ** e`` with ``ratio = max(lambda_min_ratio, 1e-6)`` and the exponent
  ``e = 1 / (n_lambdas - 1)`` computed in single precision, as glmnet's Fortran does. The first
  solution is the fit at an infinite lambda (only unpenalised genes) and its lambda is
  reported as ``exp(2 log l_2 - log l_3)`` (glmnet's ``fix.lam``).
- Path rules (only on the automatic sequence): from the 5th lambda on, stop after the lambda
  whose deviance ratio exceeds 0.99 or whose ratio grew by less than a relative 1e-3 over the
  last four steps.
- Solver: proximal Newton on the active set (the Breslow Hessian of the active genes, a
  coordinate-descent solution of each penalised quadratic model, backtracking line search), warm
  starts along the path, an active set made of the current support and the genes that violate
  their optimality (KKT) condition, grown until every gene outside it satisfies its own before a
  lambda is accepted. glmnet stops on the size of its coordinate steps
  and is not fully converged where the problem is ill-conditioned; this solver converges to the
  minimum (``tol``), so it agrees with glmnet wherever glmnet has converged and reaches an equal
  or lower penalised objective elsewhere.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ferroscore.survival._breslow import breslow_data, risk_state
from ferroscore.survival._coxnet_solver import newton
from ferroscore.survival._validation import samples_matrix, survival_for

__all__ = ["CoxnetPath", "coxnet", "fit_path", "interpolate"]

BIG = 9.9e35  # glmnet's "infinite" lambda of the first step
MIN_RATIO_FLOOR = 1e-6  # glmnet: lambda_min_ratio is at least eps = 1e-6
MIN_LAMBDAS = 5  # glmnet's mnlam: the path rules apply from this step on
FRACTIONAL_DEV = 1e-3  # glmnet's fdev (1e-5) x 100 for the Cox family
MAX_DEV_RATIO = 0.99  # glmnet's devmax (0.999) x 0.99 / 0.999 for the Cox family
@dataclass
class PathArrays:
    """Array-level result of :func:`fit_path` (genes in input order, lambdas decreasing).

    Attributes
    ----------
    lambdas
        (L,) penalties.
    beta
        (p, L) coefficients on the original scale of X.
    df
        (L,) number of non-zero coefficients.
    dev_ratio
        (L,) fraction of the null deviance explained, ``1 - dev / null_deviance``.
    null_deviance
        ``2 (saturated - null log partial likelihood)`` (Breslow, unit weights).
    converged
        (L,) whether the solver met ``tol`` at each lambda.
    constant
        (p,) genes with a single value (never enter the model, coefficient 0).
    """

    lambdas: np.ndarray
    beta: np.ndarray
    df: np.ndarray
    dev_ratio: np.ndarray
    null_deviance: float
    converged: np.ndarray
    constant: np.ndarray


def _lambda_ratio(lambda_min_ratio: float, n_lambdas: int) -> float:
    exponent = float(np.float32(1.0) / np.float32(n_lambdas - 1))  # glmnet: 1.0/(nlam-1), REAL
    return max(MIN_RATIO_FLOOR, lambda_min_ratio) ** exponent


def _penalty_factors(penalty_factor: np.ndarray | None, p: int) -> tuple[np.ndarray, np.ndarray]:
    """glmnet's rescaled penalty factors (sum = number of genes) and the excluded genes
    (factor inf)."""
    if penalty_factor is None:
        return np.ones(p), np.zeros(p, dtype=bool)
    factors = np.asarray(penalty_factor, dtype=float)
    if factors.shape != (p,):
        raise ValueError(f"penalty_factor needs one value per gene ({p}), got shape "
                         f"{factors.shape}")
    if np.isnan(factors).any() or (factors < 0).any():
        raise ValueError("penalty_factor must be >= 0 (inf excludes a gene)")
    excluded = np.isinf(factors)
    factors = np.where(excluded, 1.0, factors)  # as glmnet: excluded genes count as 1
    if not (factors[~excluded] > 0).any():
        raise ValueError("every gene has penalty factor 0 or is excluded: nothing to penalise")
    return factors * p / factors.sum(), excluded


def fit_path(
    x: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    *,
    alpha: float = 1.0,
    lambdas: Any = None,
    n_lambdas: int = 100,
    lambda_min_ratio: float | None = None,
    standardize: bool = True,
    penalty_factor: np.ndarray | None = None,
    tol: float = 1e-10,
) -> PathArrays:
    """The array-level engine behind :func:`coxnet` (no names, no alignment).

    ``x`` is a finite (n, p) float array, ``time`` and ``event`` validated arrays (see
    :func:`ferroscore.survival.check_survival`); other arguments as :func:`coxnet`. Pure
    function: used by :func:`ferroscore.survival.cv_coxnet` on every fold.
    """
    # many small matrix products: one BLAS thread is much faster (and deterministic)
    with threadpool_limits(1, user_api="blas"):
        return _fit_path(x, time, event, alpha=alpha, lambdas=lambdas, n_lambdas=n_lambdas,
                         lambda_min_ratio=lambda_min_ratio, standardize=standardize,
                         penalty_factor=penalty_factor, tol=tol)


def _fit_path(x: np.ndarray, time: np.ndarray, event: np.ndarray, *, alpha: float,
              lambdas: Any, n_lambdas: int, lambda_min_ratio: float | None, standardize: bool,
              penalty_factor: np.ndarray | None, tol: float) -> PathArrays:
    n, p = x.shape
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    if not tol > 0:
        raise ValueError(f"tol must be > 0, got {tol}")
    vp, excluded = _penalty_factors(penalty_factor, p)
    data = breslow_data(time, event)
    xs = x[data.order]
    constant = np.all(xs == xs[:1], axis=0)
    usable = ~constant & ~excluded
    centre = xs.mean(axis=0)
    xs = xs - centre
    scale = np.sqrt(np.mean(xs * xs, axis=0)) if standardize else np.ones(p)
    scale[constant] = 1.0
    xs = xs / scale
    null_loglik, weight, _, _ = risk_state(np.zeros(n), data.event, data.starts, data.deaths)
    saturated = data.saturated_loglik
    tol_scaled = tol * (saturated - null_loglik) / n  # glmnet's thresh x its null deviance
    gradient = np.abs(xs.T @ (data.event - weight)) / n
    if lambdas is None:
        if n_lambdas < 2:
            raise ValueError(f"n_lambdas must be >= 2, got {n_lambdas}")
        ratio_floor = (0.01 if n < p else 1e-4) if lambda_min_ratio is None else lambda_min_ratio
        if not 0 < ratio_floor < 1:
            raise ValueError(f"lambda_min_ratio must be in (0, 1), got {ratio_floor}")
        ratio = _lambda_ratio(ratio_floor, n_lambdas)
        n_steps, automatic = n_lambdas, True
    else:
        planned = np.sort(np.atleast_1d(np.asarray(lambdas, dtype=float)))[::-1]
        if len(planned) == 0 or not np.isfinite(planned).all() or (planned < 0).any():
            raise ValueError("lambdas must be finite and >= 0")
        n_steps, automatic = len(planned), False
    penalised = usable & (vp > 0)
    beta = np.zeros(p)
    eta = np.zeros(n)
    lam = lambda_max = 0.0
    fitted, path, deviance_ratios, converged = [], [], [], []
    for step in range(n_steps):
        if not automatic:
            lam = planned[step]
        elif step == 0:
            lam = BIG  # glmnet's first step: only the unpenalised genes move
        elif step == 1:  # the largest useful lambda, at the first solution (as glmnet)
            lambda_max = (np.max(gradient[penalised] / vp[penalised], initial=0.0)
                          / max(alpha, 1e-3))
            lam = ratio * lambda_max
        else:
            lam = lam * ratio  # sequential products, as glmnet
        l1, l2 = lam * alpha * vp, lam * (1.0 - alpha) * vp
        # active set: the current support, the unpenalised genes and the genes whose optimality
        # condition fails at the warm start; grown until every other gene satisfies its own
        selected = usable & ((beta != 0) | (vp == 0) | (gradient > l1))
        ok = True
        while True:
            active = np.flatnonzero(selected)
            if len(active):
                beta_active, eta, solved = newton(
                    np.ascontiguousarray(xs[:, active]), data.event, data.starts, data.deaths,
                    beta[active], eta, l1[active], l2[active], tol_scaled)
                beta[active] = beta_active
                ok = ok and solved
            value, weight, _, _ = risk_state(eta, data.event, data.starts, data.deaths)
            gradient = np.abs(xs.T @ (data.event - weight)) / n
            violators = usable & ~selected & (gradient > l1)
            if not violators.any():
                break
            selected |= violators
        fitted.append(lam)
        path.append(beta.copy())
        converged.append(ok)
        deviance_ratios.append((value - null_loglik) / (saturated - null_loglik))
        k = step + 1  # glmnet's 1-based step
        if automatic and k >= min(MIN_LAMBDAS, n_lambdas):
            now, before = deviance_ratios[-1], deviance_ratios[k - min(MIN_LAMBDAS, n_lambdas)]
            if now > 0 and (now - before) / now < FRACTIONAL_DEV:
                break
            if now > MAX_DEV_RATIO:
                break
    reported = np.asarray(fitted)
    if automatic:
        if len(reported) > 2:
            logs = np.log(reported[1:3])
            reported[0] = np.exp(2 * logs[0] - logs[1])  # glmnet's fix.lam
        else:
            reported[0] = lambda_max
    coefficients = np.column_stack(path) / scale[:, None]
    return PathArrays(reported, coefficients, (coefficients != 0).sum(axis=0),
                      np.asarray(deviance_ratios), float(2 * (saturated - null_loglik)),
                      np.asarray(converged), constant)


def interpolate(lambdas: np.ndarray, beta: np.ndarray, at: Any) -> np.ndarray:
    """Coefficients at penalties ``at`` by glmnet's ``lambda.interp``: linear in lambda between
    the two neighbouring path lambdas, the path's first / last solution outside its range.

    Returns (p, len(at))."""
    at = np.atleast_1d(np.asarray(at, dtype=float))
    if len(lambdas) == 1:
        return np.repeat(beta[:, :1], len(at), axis=1)
    span = lambdas[0] - lambdas[-1]
    position = (lambdas[0] - lambdas) / span  # 0 .. 1, increasing
    wanted = np.clip((lambdas[0] - at) / span, position.min(), position.max())
    coordinate = np.interp(wanted, position, np.arange(len(lambdas)))
    left, right = np.floor(coordinate).astype(int), np.ceil(coordinate).astype(int)
    gap = position[left] - position[right]
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = (wanted - position[right]) / gap
    fraction[(left == right) | (np.abs(gap) < np.finfo(float).eps)] = 1.0
    return beta[:, left] * fraction + beta[:, right] * (1.0 - fraction)


@dataclass
class CoxnetPath:
    """A LASSO / elastic-net Cox path (:func:`coxnet`).

    Attributes
    ----------
    lambdas
        (L,) penalties, decreasing.
    coef
        Genes x lambdas DataFrame of coefficients on the original scale of X (columns: the
        lambdas, named ``"lambda"``).
    df
        (L,) number of non-zero coefficients per lambda.
    dev_ratio
        (L,) fraction of the null deviance explained.
    null_deviance
        Null deviance ``2 (saturated - null log partial likelihood)`` (Breslow).
    converged
        (L,) whether the solver reached ``tol``.
    params
        The arguments used (``alpha``, ``standardize``, ``tol``, ...), ``n``, ``n_events`` and
        the genes that were constant (``constant_genes``; coefficient 0 throughout).
    """

    lambdas: np.ndarray
    coef: pd.DataFrame
    df: np.ndarray
    dev_ratio: np.ndarray
    null_deviance: float
    converged: np.ndarray
    params: dict = field(repr=False)

    def __repr__(self) -> str:
        return (f"CoxnetPath({len(self.coef)} genes, {len(self.lambdas)} lambdas from "
                f"{self.lambdas[0]:.4g} to {self.lambdas[-1]:.4g}, alpha={self.params['alpha']},"
                f" df {self.df[0]}..{self.df[-1]}, dev_ratio up to {self.dev_ratio[-1]:.3f})")

    def to_frame(self) -> pd.DataFrame:
        """One row per lambda: ``lambda``, ``df``, ``dev_ratio``, ``converged``."""
        return pd.DataFrame({"lambda": self.lambdas, "df": self.df,
                             "dev_ratio": self.dev_ratio, "converged": self.converged})

    def coef_at(self, lam: float) -> pd.Series:
        """Coefficients at penalty ``lam`` (glmnet's interpolation between path lambdas)."""
        values = interpolate(self.lambdas, self.coef.to_numpy(), [lam])[:, 0]
        return pd.Series(values, index=self.coef.index, name=lam)

    def predict(self, X: pd.DataFrame, lam: float) -> pd.Series:
        """Linear predictor ``X b(lam)`` (uncentred, as glmnet's ``predict``) for a samples x
        genes DataFrame holding every gene of the model."""
        missing = self.coef.index.difference(X.columns)
        if len(missing):
            raise ValueError(f"X lacks {len(missing)} genes of the model (e.g. "
                             f"{list(missing[:5])})")
        values, samples, _ = samples_matrix(X[self.coef.index], "X")
        return pd.Series(values @ self.coef_at(lam).to_numpy(), index=samples,
                         name="linear_predictor")


def _warn_identical(x: np.ndarray, genes: pd.Index, constant: np.ndarray) -> None:
    columns = np.flatnonzero(~constant)
    if len(columns) < 2:
        return
    _, first, counts = np.unique(x[:, columns].T, axis=0, return_index=True, return_counts=True)
    if (counts > 1).any():
        examples = []
        for j in first[counts > 1][:3]:
            same = np.all(x[:, columns] == x[:, [columns[j]]], axis=0)
            examples.append(list(genes[columns[same]]))
        warnings.warn(f"{int((counts - 1)[counts > 1].sum())} genes have exactly the values of "
                      f"another gene (e.g. {examples}); the LASSO gives such a group one "
                      "coefficient between them (here: to the first), so drop duplicates to "
                      "read the coefficients", UserWarning, stacklevel=3)


def coxnet(
    X: pd.DataFrame,
    time: Any,
    event: Any,
    alpha: float = 1.0,
    lambdas: Any = None,
    n_lambdas: int = 100,
    lambda_min_ratio: float | None = None,
    standardize: bool = True,
    penalty_factor: Any = None,
    tol: float = 1e-10,
) -> CoxnetPath:
    """LASSO (``alpha=1``) or elastic-net Cox regression path, as R ``glmnet(family="cox")``.

    Parameters
    ----------
    X
        Samples x genes DataFrame (or a 2-D array), finite values.
    time, event
        Survival time (> 0) and event indicator per sample: Series are paired with the rows of
        ``X`` by index, arrays by position.
    alpha
        Elastic-net mixing: 1 = LASSO, 0 = ridge.
    lambdas
        Penalties to fit (sorted decreasing); by default glmnet's sequence of ``n_lambdas``
        values from ``lambda_max`` to ``lambda_min_ratio * lambda_max`` with its path rules.
    n_lambdas, lambda_min_ratio
        Length and depth of the default sequence; ``lambda_min_ratio`` defaults to 0.01 when
        there are fewer samples than genes, else 1e-4 (glmnet).
    standardize
        Penalise the genes on the scale of their (1/n) standard deviation (glmnet's default);
        coefficients are always reported on the original scale.
    penalty_factor
        Per-gene multiplier of the penalty (Series by gene name, or an array in column order);
        0 leaves a gene unpenalised, inf excludes it. Rescaled to sum to the number of genes,
        as glmnet.
    tol
        Convergence tolerance of the solver, relative to the null deviance (as glmnet's
        ``thresh``, but the solver converges to the minimum: see the module notes).

    Returns
    -------
    CoxnetPath
        ``.lambdas``, ``.coef`` (genes x lambdas), ``.df``, ``.dev_ratio``, ``.to_frame()``,
        ``.coef_at(lam)``, ``.predict(X, lam)``.

    Raises
    ------
    ValueError
        Missing or infinite values in X, repeated gene or sample names, misaligned or bad
        survival data, no gene with more than one value.

    Warns
    -----
    UserWarning
        Constant genes (kept with coefficient 0) and genes identical to another gene.

    Examples
    --------
    >>> import ferroscore as fs
    >>> expr, clinical = fs.datasets.breast_cancer(as_frames=True)
    >>> X = expr.loc[["GPX4", "SLC7A11", "ACSL4", "TFRC", "FTH1", "NCOA4"]].T
    >>> path = fs.survival.coxnet(X, clinical["rfs_months"], clinical["rfs_event"])
    >>> int(path.df[0]), path.coef.shape[0]
    (0, 6)
    """
    x, samples, genes = samples_matrix(X, "X")
    t, e = survival_for(samples, time, event, "X")
    if isinstance(penalty_factor, pd.Series):
        unknown = penalty_factor.index.difference(genes)
        missing = genes.difference(penalty_factor.index)
        if len(unknown) or len(missing):
            raise ValueError(f"penalty_factor must name every gene of X once: {len(missing)} "
                             f"genes without a factor (e.g. {list(missing[:3])}), "
                             f"{len(unknown)} unknown names (e.g. {list(unknown[:3])})")
        penalty_factor = penalty_factor.reindex(genes).to_numpy(dtype=float)
    arrays = fit_path(x, t, e, alpha=alpha, lambdas=lambdas, n_lambdas=n_lambdas,
                      lambda_min_ratio=lambda_min_ratio, standardize=standardize,
                      penalty_factor=penalty_factor, tol=tol)
    if arrays.constant.all():
        raise ValueError("every gene of X has a single value: nothing to fit")
    if arrays.constant.any():
        warnings.warn(f"{int(arrays.constant.sum())} genes have one value in every sample and "
                      f"cannot enter the model (coefficient 0): "
                      f"{list(genes[arrays.constant][:10])}", UserWarning, stacklevel=2)
    _warn_identical(x, genes, arrays.constant)
    if not arrays.converged.all():
        bad = np.flatnonzero(~arrays.converged)
        warnings.warn(f"the solver did not reach tol={tol:g} at {len(bad)} lambdas (first: "
                      f"{arrays.lambdas[bad[0]]:.4g}); see .converged", UserWarning,
                      stacklevel=2)
    coef = pd.DataFrame(arrays.beta, index=genes,
                        columns=pd.Index(arrays.lambdas, name="lambda"))
    params = {"alpha": alpha, "n_lambdas": n_lambdas, "lambda_min_ratio": lambda_min_ratio,
              "standardize": standardize, "tol": tol, "ties": "breslow", "n": len(t),
              "n_events": int(e.sum()), "user_lambdas": lambdas is not None,
              "constant_genes": list(genes[arrays.constant])}
    return CoxnetPath(arrays.lambdas, coef, arrays.df, arrays.dev_ratio, arrays.null_deviance,
                      arrays.converged, params)
