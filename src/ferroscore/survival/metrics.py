"""Discrimination of a risk score: Harrell's and Uno's concordance, and the cumulative/dynamic
time-dependent AUC."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import pandas as pd

from ferroscore.survival._validation import _as_array, align_series, check_survival
from ferroscore.survival.km import _km_curve


def _censoring_km(t: np.ndarray, e: np.ndarray):
    """Kaplan-Meier estimate G of the censoring distribution, right-continuous.

    At a time shared by events and censorings the events leave the risk set first (the usual
    convention for inverse-probability-of-censoring weights, as scikit-survival).
    """
    times, inverse = np.unique(t, return_inverse=True)
    events = np.bincount(inverse, weights=e, minlength=len(times))
    leaving = np.bincount(inverse, minlength=len(times))
    at_risk = len(t) - np.r_[0, np.cumsum(leaving)[:-1]] - events
    censored = leaving - events
    ratio = np.divide(censored, at_risk, out=np.zeros(len(times)), where=at_risk > 0)
    surv = np.cumprod(1.0 - ratio)

    def g(at: np.ndarray) -> np.ndarray:
        return np.r_[1.0, surv][np.searchsorted(times, at, side="right")]

    return g


def _ipcw(g, at: np.ndarray) -> np.ndarray:
    """Inverse probability of censoring weights 1 / G(at)."""
    probability = g(at)
    if (probability <= 0).any():
        raise ValueError("the censoring survival estimate reaches 0 before some event times; "
                         "restrict tau / times to earlier follow-up")
    return 1.0 / probability


@numba.njit(nogil=True, cache=True)
def _concordance_sums(t, e, r, w):  # pragma: no cover - compiled
    """Weighted concordant and comparable pair counts: sample ``i`` (weight ``w_i`` > 0, an
    event) against every ``j`` known to survive longer (``t_j > t_i``, or censored at
    ``t_i``); risk ties count 1/2."""
    numerator = 0.0
    denominator = 0.0
    n = t.shape[0]
    for i in range(n):
        if w[i] == 0.0:
            continue
        for j in range(n):
            if t[j] > t[i] or (t[j] == t[i] and e[j] == 0):
                denominator += w[i]
                if r[i] > r[j]:
                    numerator += w[i]
                elif r[i] == r[j]:
                    numerator += 0.5 * w[i]
    return numerator, denominator


def harrell_counts(t: np.ndarray, e: np.ndarray, risk: np.ndarray) -> tuple[float, float]:
    """Harrell's concordant (ties 1/2) and comparable pair counts for validated arrays."""
    return _concordance_sums(t, e, risk, e.astype(float))


def _risk_inputs(time: Any, event: Any, risk: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated time, event and risk, Series paired by index (the first Series sets the
    order), arrays by position; a risk of the wrong length or with missing values is an
    error (never silently dropped)."""
    paired, _ = align_series(time=time, event=event, risk=risk)
    t, e = check_survival(paired["time"], paired["event"])
    r = _as_array(paired["risk"], "risk").astype(float)
    if len(r) != len(t):
        raise ValueError(f"risk has {len(r)} values for {len(t)} observations (time and "
                         "event); give one risk per sample")
    bad = ~np.isfinite(r)
    if bad.any():
        raise ValueError(f"{int(bad.sum())} risk values are missing or infinite (positions "
                         f"{np.flatnonzero(bad)[:5].tolist()}); drop those samples from time, "
                         "event and risk first")
    return t, e, r


def concordance(time: Any, event: Any, risk: Any, *, method: str = "harrell",
                tau: float | None = None) -> float:
    """Concordance of a risk score with survival (higher risk = shorter survival).

    ``method="harrell"``: Harrell's C over comparable pairs (the shorter time is an event; a
    sample censored at the same time as an event counts as surviving longer), ties in risk
    count 1/2, as R's ``concordance`` for a Cox model. ``method="uno"``: Uno's C with inverse
    probability of censoring weights ``G(t)^-2``, restricted to times ``< tau``.

    pandas Series among ``time``, ``event`` and ``risk`` are paired by index (the first Series
    sets the order); arrays by position. Missing risks are an error.
    """
    t, e, r = _risk_inputs(time, event, risk)
    if method not in ("harrell", "uno"):
        raise ValueError(f"method must be 'harrell' or 'uno', got {method!r}")
    if method == "uno":
        used = (e == 1) & (t < (np.inf if tau is None else tau))
        weight = np.zeros(len(t))
        weight[used] = _ipcw(_censoring_km(t, e), t[used]) ** 2
    else:
        weight = e.astype(float)
    numerator, denominator = _concordance_sums(t, e, r, weight)
    if denominator == 0:
        raise ValueError("no comparable pairs: concordance is undefined")
    return float(numerator / denominator)


def _dynamic_auc(t: np.ndarray, e: np.ndarray, r: np.ndarray, grid: np.ndarray,
                 ipcw: np.ndarray) -> np.ndarray:
    """Cumulative/dynamic AUC at each time of ``grid``: cases (events at or before ``s``)
    weighted by ``ipcw``, controls (still event-free after ``s``) unweighted; risk ties count
    1/2. NaN where a time has no case or no control, or a case has no weight (``ipcw``
    NaN)."""
    auc = np.full(len(grid), np.nan)
    for k, s in enumerate(grid):
        cases = (t <= s) & (e == 1)
        controls = np.sort(r[t > s])
        if not cases.any() or not len(controls) or np.isnan(ipcw[cases]).any():
            continue
        below = np.searchsorted(controls, r[cases], side="left")
        tied = np.searchsorted(controls, r[cases], side="right") - below
        wins = below + 0.5 * tied
        auc[k] = float(ipcw[cases] @ wins / (ipcw[cases].sum() * len(controls)))
    return auc


def time_auc(time: Any, event: Any, risk: Any, times: Any, *, train_time: Any = None,
             train_event: Any = None) -> pd.DataFrame:
    """Cumulative/dynamic time-dependent AUC with IPCW (Uno et al. 2007; as scikit-survival's
    ``cumulative_dynamic_auc``).

    At time ``t``, cases are samples with an event at or before ``t`` (weighted by
    ``1 / G(T_i)``), controls those still event-free after ``t``; ``G`` is the Kaplan-Meier
    censoring distribution of the training data (the same data unless ``train_time`` /
    ``train_event`` are given). Inputs are paired as :func:`concordance` (Series by index);
    a missing risk is an error, not a sample silently left out. For AUCs at fixed horizons in
    years with bootstrap confidence intervals, see :func:`time_auc_ci`.

    Returns
    -------
    DataFrame
        ``time``, ``auc``; ``attrs["mean_auc"]`` is the AUC averaged with the survival
        function's decrements as weights.
    """
    t, e, r = _risk_inputs(time, event, risk)
    grid = np.atleast_1d(np.asarray(times, dtype=float))
    if train_time is None:
        tt, te = t, e
    else:
        train, _ = align_series(train_time=train_time, train_event=train_event)
        tt, te = check_survival(train["train_time"], train["train_event"])
    if (grid >= tt.max()).any() or (grid <= 0).any():
        raise ValueError(f"times must lie in (0, {tt.max():g}) (the follow-up of the data)")
    used = (e == 1) & (t <= grid.max())
    ipcw = np.zeros(len(t))
    ipcw[used] = _ipcw(_censoring_km(tt, te), t[used])
    frame = pd.DataFrame({"time": grid, "auc": _dynamic_auc(t, e, r, grid, ipcw)})
    km_times, km_surv = _km_curve(t, e)
    surv_at = np.r_[1.0, km_surv][np.searchsorted(km_times, grid, side="right")]
    drops = -np.diff(np.r_[1.0, surv_at])
    ok = ~np.isnan(frame["auc"].to_numpy())
    frame.attrs["mean_auc"] = float(np.sum(frame["auc"].to_numpy()[ok] * drops[ok]) /
                                    (1.0 - surv_at[-1])) if len(grid) > 1 else float(
        frame["auc"].iloc[0])
    return frame


#: Length of one year in each supported time unit (a year is 365.25 days).
YEAR = {"days": 365.25, "weeks": 365.25 / 7, "months": 12.0, "years": 1.0}
DEFAULT_HORIZONS = (1, 3, 5)


def horizon_times(horizons: Any = DEFAULT_HORIZONS, time_unit: str = "months") -> np.ndarray:
    """Horizons in years converted to the unit of the survival times (``"days"``, ``"weeks"``,
    ``"months"`` or ``"years"``; a year is 365.25 days or 12 months).

    Examples
    --------
    >>> horizon_times((1, 3, 5), "months").tolist()
    [12.0, 36.0, 60.0]
    """
    if time_unit not in YEAR:
        raise ValueError(f"time_unit must be one of {list(YEAR)}, got {time_unit!r}")
    years = np.atleast_1d(np.asarray(horizons, dtype=float))
    if len(years) == 0 or not np.isfinite(years).all() or (years <= 0).any():
        raise ValueError(f"horizons must be positive numbers of years, got {horizons!r}")
    return years * YEAR[time_unit]


def horizon_label(years: float) -> str:
    """``1y``, ``2.5y``: the name of a horizon in tables (``AUC_1y``)."""
    return f"{years:g}y"


def _horizon_weights(t: np.ndarray, e: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """``1 / G(T_i)`` for the events up to the last horizon (the censoring Kaplan-Meier of the
    same data), NaN where ``G`` has reached 0 (no follow-up left), 0 elsewhere."""
    used = (e == 1) & (t <= grid.max())
    weights = np.zeros(len(t))
    probability = _censoring_km(t, e)(t[used])
    with np.errstate(divide="ignore"):
        weights[used] = np.where(probability > 0, 1.0 / probability, np.nan)
    return weights


def horizon_auc(t: np.ndarray, e: np.ndarray, r: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """AUC at each time of ``grid`` for validated arrays, censoring weights from the same data;
    NaN where undefined (no case, no control, no follow-up left). The array-level core of
    :func:`time_auc_ci`, used by the bootstrap of :meth:`RiskModel.validate_internal`."""
    return _dynamic_auc(t, e, r, grid, _horizon_weights(t, e, grid))


def _percentile_interval(draws: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray,
                                                                   np.ndarray]:
    """Per column of ``draws`` (B, k): the percentile interval over the defined (non-NaN)
    resamples, and how many were defined."""
    defined = np.isfinite(draws)
    lower = np.full(draws.shape[1], np.nan)
    upper = np.full(draws.shape[1], np.nan)
    tail = (1.0 - level) / 2.0
    for k in range(draws.shape[1]):
        values = draws[defined[:, k], k]
        if len(values):
            lower[k], upper[k] = np.quantile(values, [tail, 1.0 - tail])
    return lower, upper, defined.sum(axis=0)


def time_auc_ci(time: Any, event: Any, risk: Any, horizons: Any = DEFAULT_HORIZONS, *,
                time_unit: str = "months", B: int = 200, seed: int | None = 0,
                level: float = 0.95) -> pd.DataFrame:
    """Time-dependent AUC at fixed horizons (in years) with percentile-bootstrap confidence
    intervals.

    The AUC is :func:`time_auc`'s cumulative/dynamic AUC with inverse-probability-of-censoring
    weights from the same data. The interval resamples the samples ``B`` times with
    replacement (``numpy.random.default_rng(seed)``), recomputes the censoring distribution and
    the AUC in every resample, and takes the ``(1 - level) / 2`` and ``(1 + level) / 2``
    quantiles of the resamples where the AUC is defined (``n_boot`` of them). A horizon with
    no event before it or no sample followed beyond it has no AUC (NaN and a ``note``); this
    is reported, not an error, so a table over cohorts with different follow-up stays whole.

    Parameters
    ----------
    time, event, risk
        Survival times (in ``time_unit``), events (1 = event) and risk scores (higher = worse),
        paired as :func:`concordance` (Series by index, arrays by position).
    horizons
        Horizons in years (default 1, 3 and 5).
    time_unit
        Unit of ``time``: ``"days"``, ``"weeks"``, ``"months"`` (the bundled GSE1992 cohort)
        or ``"years"``.
    B
        Bootstrap resamples (0: no interval).
    seed
        Seed of the resamples; the same seed gives the same intervals.
    level
        Confidence level.

    Returns
    -------
    DataFrame
        One row per horizon: ``horizon`` (label, e.g. ``"3y"``), ``years``, ``time`` (in
        ``time_unit``), ``auc``, ``ci_lower``, ``ci_upper``, ``n_cases``, ``n_controls``,
        ``n_boot`` (resamples with a defined AUC), ``note``. ``attrs``: ``B``, ``seed``,
        ``level``, ``time_unit``, ``method``.

    Examples
    --------
    >>> import ferroscore as fs
    >>> expr, clinical = fs.datasets.breast_cancer(as_frames=True)
    >>> auc = fs.survival.time_auc_ci(clinical["rfs_months"], clinical["rfs_event"],
    ...                               expr.loc["CS"], horizons=(1, 3), B=50)
    >>> auc["horizon"].tolist(), auc.attrs["B"]
    (['1y', '3y'], 50)
    """
    from ferroscore.scoring import _check_integer

    _check_integer("B", B, 0)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    t, e, r = _risk_inputs(time, event, risk)
    years = np.atleast_1d(np.asarray(horizons, dtype=float))
    grid = horizon_times(years, time_unit)
    auc = horizon_auc(t, e, r, grid)
    draws = np.full((B, len(grid)), np.nan)
    rng = np.random.default_rng(seed)
    for b in range(B):
        pick = rng.integers(0, len(t), len(t))
        if e[pick].any():
            draws[b] = horizon_auc(t[pick], e[pick], r[pick], grid)
    lower, upper, n_boot = _percentile_interval(draws, level)
    n_cases = [int(((t <= s) & (e == 1)).sum()) for s in grid]
    n_controls = [int((t > s).sum()) for s in grid]
    notes = ["no event by this horizon" if not cases else
             "no sample followed beyond this horizon" if not controls else ""
             for cases, controls in zip(n_cases, n_controls, strict=True)]
    frame = pd.DataFrame({"horizon": [horizon_label(y) for y in years], "years": years,
                          "time": grid, "auc": auc, "ci_lower": lower, "ci_upper": upper,
                          "n_cases": n_cases, "n_controls": n_controls, "n_boot": n_boot,
                          "note": notes})
    frame.attrs.update({"B": B, "seed": seed, "level": level, "time_unit": time_unit,
                        "method": "cumulative/dynamic AUC with IPCW (as time_auc); percentile "
                                  "bootstrap over samples, censoring weights refitted in "
                                  "every resample"})
    return frame


def time_roc(time: Any, event: Any, risk: Any, horizon: float, *,
             time_unit: str = "months") -> pd.DataFrame:
    """The cumulative/dynamic ROC curve at one horizon (in years): for every threshold ``c``
    (the distinct risks, decreasing), the IPCW-weighted share of cases with risk >= ``c``
    (``tpr``) and the share of controls with risk >= ``c`` (``fpr``), from (0, 0) to (1, 1).
    The area under it (trapezoids, so tied risks count 1/2) is :func:`time_auc`'s AUC,
    stored in ``attrs["auc"]``.

    Raises
    ------
    ValueError
        The horizon has no case or no control (no AUC there).
    """
    t, e, r = _risk_inputs(time, event, risk)
    grid = horizon_times([horizon], time_unit)
    weights = _horizon_weights(t, e, grid)
    cases = (t <= grid[0]) & (e == 1)
    controls = t > grid[0]
    if not cases.any() or not controls.any() or np.isnan(weights[cases]).any():
        raise ValueError(f"no ROC curve at {horizon:g} years ({grid[0]:g} {time_unit}): "
                         f"{int(cases.sum())} events before it and {int(controls.sum())} "
                         "samples followed beyond it")
    thresholds = np.unique(r[cases | controls])[::-1]
    case_risk, case_weight = r[cases], weights[cases]
    order = np.argsort(case_risk)
    cumulative = np.r_[0.0, np.cumsum(case_weight[order])]
    positives = cumulative[-1] - cumulative[np.searchsorted(case_risk[order], thresholds,
                                                            side="left")]
    control_risk = np.sort(r[controls])
    false = len(control_risk) - np.searchsorted(control_risk, thresholds, side="left")
    frame = pd.DataFrame({"threshold": np.r_[np.inf, thresholds],
                          "fpr": np.r_[0.0, false / len(control_risk)],
                          "tpr": np.r_[0.0, positives / cumulative[-1]]})
    frame.attrs.update({"auc": float(np.trapezoid(frame["tpr"], frame["fpr"])),
                        "horizon": float(horizon), "time": float(grid[0]),
                        "time_unit": time_unit, "n_cases": int(cases.sum()),
                        "n_controls": int(controls.sum())})
    return frame
