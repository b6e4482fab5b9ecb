"""Discrimination of a risk score: Harrell's and Uno's concordance, and the cumulative/dynamic
time-dependent AUC."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ferroscore.survival._validation import _as_array, check_survival
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


def concordance(time: Any, event: Any, risk: Any, *, method: str = "harrell",
                tau: float | None = None) -> float:
    """Concordance of a risk score with survival (higher risk = shorter survival).

    ``method="harrell"``: Harrell's C over comparable pairs (the shorter time is an event; a
    sample censored at the same time as an event counts as surviving longer), ties in risk
    count 1/2, as R's ``concordance`` for a Cox model. ``method="uno"``: Uno's C with inverse
    probability of censoring weights ``G(t)^-2``, restricted to times ``< tau``.
    """
    t, e = check_survival(time, event)
    r = _as_array(risk, "risk").astype(float)
    if len(r) != len(t) or not np.isfinite(r).all():
        raise ValueError("risk must be finite and have one value per observation")
    if method not in ("harrell", "uno"):
        raise ValueError(f"method must be 'harrell' or 'uno', got {method!r}")
    if method == "uno":
        used = (e == 1) & (t < (np.inf if tau is None else tau))
        weight = np.zeros(len(t))
        weight[used] = _ipcw(_censoring_km(t, e), t[used]) ** 2
    else:
        weight = e.astype(float)
    numerator = denominator = 0.0
    for i in np.flatnonzero(weight > 0):
        later = (t > t[i]) | ((t == t[i]) & (e == 0))
        w = weight[i]
        denominator += w * later.sum()
        numerator += w * ((r[i] > r[later]).sum() + 0.5 * (r[i] == r[later]).sum())
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
    ``train_event`` are given).

    Returns
    -------
    DataFrame
        ``time``, ``auc``; ``attrs["mean_auc"]`` is the AUC averaged with the survival
        function's decrements as weights.
    """
    t, e = check_survival(time, event)
    r = _as_array(risk, "risk").astype(float)
    grid = np.atleast_1d(np.asarray(times, dtype=float))
    tt, te = (t, e) if train_time is None else check_survival(train_time, train_event)
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

