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


def time_auc(time: Any, event: Any, risk: Any, times: Any, *, train_time: Any = None,
             train_event: Any = None) -> pd.DataFrame:
    """Cumulative/dynamic time-dependent AUC with IPCW (Uno et al. 2007; as scikit-survival's
    ``cumulative_dynamic_auc``).

    At time ``t``, cases are samples with an event at or before ``t`` (weighted by
    ``1 / G(T_i)``), controls those still event-free after ``t``; ``G`` is the Kaplan-Meier
    censoring distribution of the training data (the same data unless ``train_time`` /
    ``train_event`` are given). Inputs are paired as :func:`concordance` (Series by index);
    a missing risk is an error, not a sample silently left out.

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
    auc = []
    for s in grid:
        cases = (t <= s) & (e == 1)
        controls = t > s
        if not cases.any() or not controls.any():
            auc.append(np.nan)
            continue
        wins = (r[cases][:, None] > r[controls][None, :]) + 0.5 * (
            r[cases][:, None] == r[controls][None, :])
        auc.append(float((ipcw[cases] @ wins).sum() / (ipcw[cases].sum() * controls.sum())))
    frame = pd.DataFrame({"time": grid, "auc": auc})
    km_times, km_surv = _km_curve(t, e)
    surv_at = np.r_[1.0, km_surv][np.searchsorted(km_times, grid, side="right")]
    drops = -np.diff(np.r_[1.0, surv_at])
    ok = ~np.isnan(frame["auc"].to_numpy())
    frame.attrs["mean_auc"] = float(np.sum(frame["auc"].to_numpy()[ok] * drops[ok]) /
                                    (1.0 - surv_at[-1])) if len(grid) > 1 else float(
        frame["auc"].iloc[0])
    return frame

