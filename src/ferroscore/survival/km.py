"""Kaplan-Meier curves and the log-rank test (R ``survdiff``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ferroscore.survival._validation import align_series, check_survival


def _km_curve(t: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier survival at each distinct time (events and censorings)."""
    times, inverse = np.unique(t, return_inverse=True)
    deaths = np.bincount(inverse, weights=e, minlength=len(times))
    leaving = np.bincount(inverse, minlength=len(times))
    at_risk = len(t) - np.r_[0, np.cumsum(leaving)[:-1]]
    return times, np.cumprod(1.0 - deaths / at_risk)


@dataclass
class LogrankResult:
    """Log-rank test (R ``survdiff``, rho = 0).

    Attributes
    ----------
    statistic, df, p_value
        Chi-square statistic, degrees of freedom (groups - 1) and p-value.
    table
        Per group: ``n``, ``observed``, ``expected`` events.
    """

    statistic: float
    df: int
    p_value: float
    table: pd.DataFrame


def _groups(groups: Any, n: int) -> pd.Series:
    """Group labels by position; missing labels (None, NaN, pd.NA) are an error, never a group
    called "nan"."""
    values = groups.to_numpy(dtype=object) if isinstance(groups, (pd.Series, pd.Index)) \
        else np.asarray(groups, dtype=object)  # object: a NaN in a list stays NaN
    if values.ndim != 1:
        raise ValueError(f"groups must be one-dimensional, got shape {values.shape}")
    labels = pd.Series(values)
    if len(labels) != n:
        raise ValueError(f"groups has {len(labels)} values for {n} observations")
    missing = np.flatnonzero(labels.isna().to_numpy())
    if len(missing):
        raise ValueError(f"{len(missing)} group labels are missing (positions "
                         f"{missing[:5].tolist()}); drop those samples from time, event and "
                         "groups, or give them a label")
    return labels


def logrank(time: Any, event: Any, groups: Any) -> LogrankResult:
    """Log-rank test comparing two or more groups.

    pandas Series among ``time``, ``event`` and ``groups`` are paired by index (the first
    Series sets the order); arrays and lists by position.

    Raises
    ------
    ValueError
        Fewer than two groups, a group with a single member, missing group labels, or Series
        whose indexes hold different samples.
    """
    paired, _ = align_series(time=time, event=event, groups=groups)
    t, e = check_survival(paired["time"], paired["event"])
    labels = _groups(paired["groups"], len(t))
    codes, levels = pd.factorize(labels, sort=True)
    counts = np.bincount(codes, minlength=len(levels))
    if len(levels) < 2:
        raise ValueError(f"log-rank test needs at least two groups, got {list(levels)}")
    if (counts < 2).any():
        small = [str(levels[i]) for i in np.flatnonzero(counts < 2)]
        raise ValueError(f"groups with a single member cannot be compared: {small}")
    times = np.unique(t[e == 1])
    k = len(levels)
    observed = np.zeros(k)
    expected = np.zeros(k)
    variance = np.zeros((k, k))
    for tj in times:
        at_risk = np.bincount(codes[t >= tj], minlength=k).astype(float)
        deaths = np.bincount(codes[(t == tj) & (e == 1)], minlength=k).astype(float)
        n_total, d_total = at_risk.sum(), deaths.sum()
        observed += deaths
        expected += d_total * at_risk / n_total
        if n_total > 1:
            factor = d_total * (n_total - d_total) / (n_total * n_total * (n_total - 1))
            variance += factor * (np.diag(at_risk) * n_total - np.outer(at_risk, at_risk))
    diff = (observed - expected)[:-1]
    statistic = float(diff @ np.linalg.solve(variance[:-1, :-1], diff))
    table = pd.DataFrame({"n": counts, "observed": observed, "expected": expected},
                         index=pd.Index(levels, name="group"))
    return LogrankResult(statistic, k - 1, float(stats.chi2.sf(statistic, k - 1)), table)


@dataclass
class KMResult:
    """Kaplan-Meier estimates per group.

    Attributes
    ----------
    tables
        Group -> DataFrame indexed by time with ``at_risk``, ``events``, ``censored``,
        ``survival``, ``lower``, ``upper`` (pointwise CI, exponential Greenwood / log-log).
    medians
        Per group: ``n``, ``events``, ``median`` and its CI (NaN when not reached).
    logrank
        Test across groups (None for a single group).
    fitters
        The lifelines ``KaplanMeierFitter`` of each group (for plotting).
    """

    tables: dict[Any, pd.DataFrame]
    medians: pd.DataFrame
    logrank: LogrankResult | None
    fitters: dict[Any, Any] = field(repr=False)

    def __repr__(self) -> str:
        groups = ", ".join(f"{g}: n={int(r.n)}, events={int(r.events)}"
                           for g, r in self.medians.iterrows())
        test = ("" if self.logrank is None
                else f"; log-rank p = {self.logrank.p_value:.3g} (df {self.logrank.df})")
        return f"KMResult({groups}{test})"


def km(time: Any, event: Any, groups: Any = None, *, alpha: float = 0.05) -> KMResult:
    """Kaplan-Meier curves per group, their medians, and a log-rank test.

    Inputs are paired as :func:`logrank` (Series by index); missing group labels are an
    error.
    """
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    paired, _ = align_series(time=time, event=event, groups=groups)
    t, e = check_survival(paired["time"], paired["event"])
    labels = pd.Series(["all"] * len(t)) if groups is None else _groups(paired["groups"],
                                                                         len(t))
    tables, medians, fitters = {}, [], {}
    for level in sorted(labels.unique(), key=str):
        mask = (labels == level).to_numpy()
        fitter = KaplanMeierFitter(alpha=alpha, label=str(level)).fit(t[mask], e[mask])
        ci = fitter.confidence_interval_
        events = fitter.event_table
        table = pd.DataFrame({
            "at_risk": events["at_risk"], "events": events["observed"],
            "censored": events["censored"],
            "survival": fitter.survival_function_.iloc[:, 0],
            "lower": ci.iloc[:, 0], "upper": ci.iloc[:, 1]})
        table.index.name = "time"
        tables[level] = table
        fitters[level] = fitter
        median_ci = median_survival_times(ci)
        medians.append({"group": level, "n": int(mask.sum()), "events": int(e[mask].sum()),
                        "median": float(fitter.median_survival_time_),
                        "median_lower": float(median_ci.iloc[0, 0]),
                        "median_upper": float(median_ci.iloc[0, 1])})
    medians_frame = pd.DataFrame(medians).set_index("group")
    medians_frame = medians_frame.replace([np.inf], np.nan)
    test = logrank(t, e, labels) if labels.nunique() > 1 else None
    return KMResult(tables, medians_frame, test, fitters)

