"""Meta-analysis of one effect across cohorts (e.g. a score's log hazard ratio), as R metafor's
``rma(yi, vi, method = ...)`` for the intercept-only model (metafor 3.8).

Definitions, with ``y_i`` the estimates, ``v_i = se_i^2``, ``k`` studies and ``w_i = 1/v_i``:

- ``Q = sum w_i (y_i - y_FE)^2`` on ``k - 1`` degrees of freedom (always with the fixed-effect
  weights).
- tau^2 (between-study variance), truncated at 0 where the estimator can be negative:
  ``"DL"`` DerSimonian-Laird ``(Q - (k-1)) / (sum w - sum w^2 / sum w)``; ``"HE"`` Hedges
  ``(sum (y - mean y)^2 - (k-1)/k sum v) / (k - 1)``; ``"SJ"`` Sidik-Jonkman one step from
  ``tau0^2 = mean((y - mean y)^2)``; ``"PM"`` Paule-Mandel, the root of the generalised Q
  statistic equal to ``k - 1``; ``"REML"`` restricted maximum likelihood by Fisher scoring from
  the Hedges estimate (iterated to convergence, and 0 when the restricted likelihood is higher
  there, as metafor's ``ll0check``); ``"FE"`` fixed effect (tau^2 = 0). Standard errors of
  tau^2 are metafor's for each estimator.
- Pooled estimate with weights ``1 / (v_i + tau^2)``, its standard error
  ``1 / sqrt(sum weights)``, a z test (normal CI); with ``knha=True`` the Knapp-Hartung
  adjustment multiplies the variance by ``sum weights (y - estimate)^2 / (k - 1)`` and uses a t
  distribution on ``k - 1`` degrees of freedom (not truncated at 1, as metafor's ``test =
  "knha"``).
- ``I2 = 100 tau^2 / (tau^2 + s^2)`` and ``H2 = 1 + tau^2 / s^2`` with the typical within-study
  variance ``s^2 = (k - 1) / (sum w - sum w^2 / sum w)`` (fixed effect: ``I2 = 100 (Q - (k-1))
  / Q``, ``H2 = Q / (k - 1)``); prediction interval ``estimate +- crit sqrt(se^2 + tau^2)`` for
  random-effects models (undefined for FE).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ferroscore.survival._validation import _as_array, align_series

__all__ = ["MetaAnalysis", "meta_analysis"]

METHODS = ("FE", "DL", "REML", "PM", "HE", "SJ")
REML_TOL = 1e-15
REML_MAX_ITER = 1000
LL0_TOL = np.finfo(float).eps ** 0.25  # metafor's con$tol, used by its ll0check


@dataclass
class MetaAnalysis:
    """Result of :func:`meta_analysis` (see the module notes for the definitions).

    Attributes
    ----------
    method, knha, level
        The estimator, whether the Knapp-Hartung adjustment was used, the confidence level.
    estimate, se, statistic, p, ci_lower, ci_upper
        The pooled effect, its standard error, z (or t with ``knha``), p-value and CI.
    df
        Degrees of freedom of the t test (``knha``), else None.
    tau2, tau2_se
        Between-study variance and its standard error (NaN for FE).
    I2, H2
        Heterogeneity: percentage of variability due to tau^2, and ratio of total to sampling
        variability.
    Q, Q_df, Q_p
        Cochran's Q test of heterogeneity.
    pi_lower, pi_upper
        Prediction interval for the effect in a new cohort (NaN for FE).
    k
        Number of studies.
    studies
        Per study: ``estimate``, ``se``, ``ci_lower``, ``ci_upper``, ``weight`` (percent of the
        total weight in the pooled estimate).
    """

    method: str
    knha: bool
    level: float
    estimate: float
    se: float
    statistic: float
    p: float
    ci_lower: float
    ci_upper: float
    df: int | None
    tau2: float
    tau2_se: float
    I2: float
    H2: float
    Q: float
    Q_df: int
    Q_p: float
    pi_lower: float
    pi_upper: float
    k: int
    studies: pd.DataFrame = field(repr=False)

    def __repr__(self) -> str:
        test = f"t({self.df})" if self.knha else "z"
        return (f"MetaAnalysis({self.method}{' + Knapp-Hartung' if self.knha else ''}, k="
                f"{self.k}: estimate {self.estimate:.4g} (se {self.se:.3g}, {test} = "
                f"{self.statistic:.3g}, p = {self.p:.3g}), tau2 = {self.tau2:.3g}, "
                f"I2 = {self.I2:.1f}%, Q = {self.Q:.3g} (p = {self.Q_p:.3g}))")

    @property
    def label(self) -> str:
        """Name of the pooled row, e.g. ``"RE (REML)"``."""
        kind = "FE" if self.method == "FE" else "RE"
        return f"{kind} ({self.method}{', Knapp-Hartung' if self.knha else ''})"

    def to_frame(self) -> pd.DataFrame:
        """The pooled statistics as one row indexed by :attr:`label`."""
        names = ["method", "knha", "k", "estimate", "se", "statistic", "df", "p", "ci_lower",
                 "ci_upper", "tau2", "tau2_se", "I2", "H2", "Q", "Q_df", "Q_p", "pi_lower",
                 "pi_upper"]
        return pd.DataFrame([{name: getattr(self, name) for name in names}],
                            index=pd.Index([self.label], name="model"))


def _projection(weights: np.ndarray) -> np.ndarray:
    """metafor's ``P = W - W X (X'WX)^-1 X'W`` for the intercept-only model."""
    return np.diag(weights) - np.outer(weights, weights) / weights.sum()


def _generalised_q(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    weights = 1.0 / (v + tau2)
    pooled = weights @ y / weights.sum()
    return float(weights @ (y - pooled) ** 2)


def _reml(y: np.ndarray, v: np.ndarray, start: float) -> float:
    """Fisher scoring for the REML tau^2 with step halving at 0 (metafor), then its
    ``ll0check``: tau^2 = 0 when the restricted likelihood is higher there."""
    tau2 = start
    for _ in range(REML_MAX_ITER):
        p_matrix = _projection(1.0 / (v + tau2))
        pp = p_matrix @ p_matrix
        step = (y @ pp @ y - np.trace(p_matrix)) / np.trace(pp)
        while tau2 + step < 0:
            step /= 2
        tau2, previous = tau2 + step, tau2
        if abs(tau2 - previous) <= REML_TOL * max(1.0, tau2):
            break
    else:
        raise ValueError("the REML estimate of tau^2 did not converge; try method='PM' or 'DL'")

    def restricted_loglik(t2: float) -> float:
        weights = 1.0 / (v + t2)
        pooled = weights @ y / weights.sum()
        return float(-0.5 * np.sum(np.log(v + t2)) - 0.5 * np.log(weights.sum())
                     - 0.5 * weights @ (y - pooled) ** 2)

    if restricted_loglik(0.0) - restricted_loglik(tau2) > LL0_TOL and tau2 > REML_TOL:
        warnings.warn("the REML iterations stopped at a local maximum; tau^2 set to 0 (as "
                      "metafor)", UserWarning, stacklevel=3)
        tau2 = 0.0
    return tau2


def _tau2(method: str, y: np.ndarray, v: np.ndarray) -> tuple[float, float]:
    """Between-study variance and its standard error (metafor's formulas)."""
    k = len(y)
    w = 1.0 / v
    centred = y - y.mean()
    if method == "FE":
        return 0.0, np.nan
    if method == "DL":
        p_matrix = _projection(w)
        trace = np.trace(p_matrix)
        tau2 = max(0.0, (y @ p_matrix @ y - (k - 1)) / trace)
        se = np.sqrt((2 * (k - 1) + 4 * tau2 * trace + 2 * tau2**2 * np.sum(p_matrix**2))
                     / trace**2)
        return tau2, float(se)
    hedges_p = np.eye(k) - 1.0 / k
    pv = hedges_p * v[None, :]
    hedges = (centred @ centred - np.trace(pv)) / (k - 1)
    if method == "HE":
        tau2 = max(0.0, hedges)
        se = np.sqrt((2 * np.sum(pv * pv.T) + 4 * tau2 * np.trace(pv) + 2 * tau2**2 * (k - 1))
                     / (k - 1) ** 2)
        return tau2, float(se)
    if method == "SJ":
        start = float(np.mean(centred**2))
        p_matrix = _projection(1.0 / (v + start))
        pv = p_matrix * v[None, :]
        tau2 = max(0.0, start * (y @ p_matrix @ y) / (k - 1))
        se = np.sqrt(start**2 / (k - 1) ** 2 * (2 * np.sum(pv * pv.T)
                                                 + 4 * tau2 * np.sum(pv * p_matrix)
                                                 + 2 * tau2**2 * np.sum(p_matrix**2)))
        return tau2, float(se)
    if method == "PM":
        target = k - 1
        if _generalised_q(0.0, y, v) <= target:
            tau2 = 0.0
        else:
            upper = max(1.0, hedges, float(np.var(y)))
            while _generalised_q(upper, y, v) > target:
                upper *= 2
            tau2 = optimize.brentq(lambda t: _generalised_q(t, y, v) - target, 0.0, upper,
                                   xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
        weights = 1.0 / (v + tau2)
        return tau2, float(np.sqrt(2 * k**2 / (k - 1) / weights.sum() ** 2))
    tau2 = _reml(y, v, max(0.0, hedges))
    p_matrix = _projection(1.0 / (v + tau2))
    return tau2, float(np.sqrt(2 / np.sum(p_matrix**2)))


def _inputs(estimates: Any, se: Any, labels: Any) -> tuple[np.ndarray, np.ndarray, list]:
    paired, index = align_series(estimates=estimates, se=se)
    y = _as_array(paired["estimates"], "estimates").astype(float)
    s = _as_array(paired["se"], "se").astype(float)
    if len(y) != len(s):
        raise ValueError(f"estimates and se have different lengths ({len(y)} and {len(s)})")
    if labels is None:
        names = list(index) if index is not None else [f"study {i + 1}" for i in range(len(y))]
    else:
        names = list(_as_array(labels, "labels"))
        if len(names) != len(y):
            raise ValueError(f"labels has {len(names)} names for {len(y)} studies")
    if len(y) < 2:
        raise ValueError(f"a meta-analysis needs at least 2 studies, got {len(y)}")
    bad = ~np.isfinite(y)
    if bad.any():
        shown = [names[i] for i in np.flatnonzero(bad)[:5]]
        raise ValueError(f"estimates must be finite; {int(bad.sum())} are not (studies {shown})")
    bad = ~(np.isfinite(s) & (s > 0))
    if bad.any():
        shown = {names[i]: float(s[i]) for i in np.flatnonzero(bad)[:5]}
        raise ValueError(f"standard errors must be finite and > 0 (a zero variance would give a "
                         f"study infinite weight): {shown}")
    return y, s, names


def meta_analysis(
    estimates: Any,
    se: Any,
    method: str = "REML",
    knha: bool = False,
    labels: Any = None,
    *,
    level: float = 0.95,
) -> MetaAnalysis:
    """Fixed- or random-effects meta-analysis of one effect, as R metafor ``rma(yi, vi,
    method=method, test="knha" if knha else "z")``.

    Parameters
    ----------
    estimates
        Effect per study (e.g. log hazard ratios), a Series (index = study names) or an array.
    se
        Standard error per study (> 0): paired with ``estimates`` by index when both are Series.
    method
        ``"REML"`` (default), ``"DL"``, ``"PM"``, ``"HE"``, ``"SJ"`` or ``"FE"`` (see the module
        notes).
    knha
        Knapp-Hartung adjustment (t test on k - 1 degrees of freedom).
    labels
        Study names (default: the index of ``estimates``, else ``"study 1"``, ...).
    level
        Confidence level of the confidence and prediction intervals.

    Returns
    -------
    MetaAnalysis
        The pooled estimate, tests, heterogeneity statistics, per-study weights;
        ``.to_frame()`` gives them as one row. ``fs.pl.forest`` draws it.

    Raises
    ------
    ValueError
        Fewer than 2 studies, non-finite estimates, standard errors that are not finite and
        > 0, unknown method.

    Examples
    --------
    >>> import pandas as pd
    >>> import ferroscore as fs
    >>> log_hr = pd.Series({"GSE1992": 0.41, "TCGA": 0.22, "METABRIC": 0.30})
    >>> se = pd.Series({"GSE1992": 0.20, "TCGA": 0.09, "METABRIC": 0.07})
    >>> result = fs.survival.meta_analysis(log_hr, se, method="REML")
    >>> round(result.estimate, 3), result.k
    (0.28, 3)
    """
    method = method.upper()
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    y, s, names = _inputs(estimates, se, labels)
    v = s**2
    k = len(y)
    fixed = 1.0 / v
    q = float(fixed @ (y - fixed @ y / fixed.sum()) ** 2)
    tau2, tau2_se = _tau2(method, y, v)
    weights = 1.0 / (v + tau2)
    estimate = float(weights @ y / weights.sum())
    variance = 1.0 / weights.sum()
    df = None
    if knha:
        if method == "FE":
            warnings.warn("the Knapp-Hartung adjustment is meant for random-effects models",
                          UserWarning, stacklevel=2)
        residual = float(weights @ (y - estimate) ** 2)
        variance *= residual / (k - 1) if residual > np.finfo(float).eps else 0.0
        df = k - 1
    se_pooled = float(np.sqrt(variance))
    distribution = stats.t(df) if knha else stats.norm()
    crit = float(distribution.ppf(1 - (1 - level) / 2))
    statistic = estimate / se_pooled
    p = float(2 * distribution.sf(abs(statistic)))
    if method == "FE":
        i2 = max(0.0, 100 * (q - (k - 1)) / q) if q > 0 else 0.0
        h2 = q / (k - 1)
        pi_lower = pi_upper = np.nan
    else:
        typical = (k - 1) / np.trace(_projection(fixed))
        i2 = 100 * tau2 / (typical + tau2)
        h2 = tau2 / typical + 1
        half = crit * np.sqrt(variance + tau2)
        pi_lower, pi_upper = estimate - half, estimate + half
    z_study = float(stats.norm.ppf(1 - (1 - level) / 2))
    studies = pd.DataFrame({"estimate": y, "se": s, "ci_lower": y - z_study * s,
                            "ci_upper": y + z_study * s,
                            "weight": 100 * weights / weights.sum()},
                           index=pd.Index(names, name="study"))
    return MetaAnalysis(method, bool(knha), level, estimate, se_pooled, float(statistic), p,
                        estimate - crit * se_pooled, estimate + crit * se_pooled, df,
                        float(tau2), float(tau2_se), float(i2), float(h2), q, k - 1,
                        float(stats.chi2.sf(q, k - 1)), float(pi_lower), float(pi_upper), k,
                        studies)
