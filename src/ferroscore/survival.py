"""Survival analysis of ferroptosis scores, matching R ``survival`` and ``maxstat``.

- :func:`cox`: Cox proportional hazards (lifelines, Efron ties, tightened convergence) with a
  tidy table and the likelihood-ratio and score tests; :func:`ph_test` is R's current
  ``cox.zph(transform="km", terms=FALSE)`` (survival >= 3.0).
- :func:`km`, :func:`logrank`: Kaplan-Meier curves and the log-rank test (R ``survdiff``).
- :func:`cutpoint`: the maximally selected log-rank statistic (``maxstat``), whose p-value is
  adjusted for the search over cut points by default. :func:`split` makes labelled groups.
- :func:`concordance` (Harrell or Uno) and :func:`time_auc` (cumulative/dynamic AUC with IPCW).
- :func:`analyze`: the whole workflow on a ScoreResult and a clinical table.

Times must be positive and finite; events 0/1 (booleans accepted). Higher risk scores mean
shorter survival throughout.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ferroscore.significance import benjamini_hochberg
from ferroscore.tables import align_samples, design_matrix

__all__ = [
    "CutpointResult",
    "KMResult",
    "LogrankResult",
    "SurvivalAnalysis",
    "analyze",
    "concordance",
    "cox",
    "cutpoint",
    "km",
    "logrank",
    "ph_test",
    "split",
    "time_auc",
]

P_METHODS = ("none", "lau92", "lau94", "exact_gauss", "permutation")
COX_COLUMNS = ["term", "n", "n_events", "coef", "hr", "hr_lower", "hr_upper", "se", "z", "p"]


# ----------------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------------


def _as_array(values: Any, name: str) -> np.ndarray:
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.to_numpy()
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def check_survival(time: Any, event: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate survival times and event indicators; returns float times and int events.

    Raises
    ------
    ValueError
        Times missing, non-finite or <= 0; events not 0/1; lengths differ; no events.
    """
    t = _as_array(time, "time")
    e = _as_array(event, "event")
    if len(t) != len(e):
        raise ValueError(f"time and event have different lengths ({len(t)} and {len(e)})")
    if len(t) == 0:
        raise ValueError("no observations")
    try:
        t = t.astype(float)
    except (TypeError, ValueError) as error:
        raise TypeError(f"survival times must be numeric: {error}") from None
    bad = ~np.isfinite(t)
    if bad.any():
        raise ValueError(f"{int(bad.sum())} survival times are missing or infinite (positions "
                         f"{np.flatnonzero(bad)[:5].tolist()}); drop those samples first")
    if (t <= 0).any():
        raise ValueError(f"survival times must be > 0; {int((t <= 0).sum())} are <= 0 (e.g. "
                         f"{t[t <= 0][:5].tolist()})")
    if e.dtype == bool:
        e = e.astype(int)
    try:
        e_float = e.astype(float)
    except (TypeError, ValueError):
        raise ValueError(f"events must be 0/1 or booleans, got values {pd.unique(e)[:5]}") \
            from None
    if not np.isin(e_float, (0.0, 1.0)).all():
        wrong = pd.unique(e[~np.isin(e_float, (0.0, 1.0))])[:5].tolist()
        raise ValueError(f"events must be 0/1 or booleans; found {wrong}")
    e = e_float.astype(int)
    if e.sum() == 0:
        raise ValueError("all observations are censored (no events); survival statistics are "
                         "undefined")
    return t, e


# ----------------------------------------------------------------------------------------------
# Partial-likelihood derivatives (Efron ties), shared by the score test and cox.zph
# ----------------------------------------------------------------------------------------------


def _efron_derivatives(time: np.ndarray, event: np.ndarray, x: np.ndarray, eta: np.ndarray,
                       strata: np.ndarray, gtime: np.ndarray | None = None):
    """Score vector and information matrix of the Cox partial likelihood (Efron ties).

    With ``gtime`` (a function of time per observation) the covariates are augmented by
    ``gtime * x`` (R survival's ``zph1``): returns ``u`` (2p), ``imat`` (2p x 2p); without it
    ``u`` (p) and ``imat`` (p x p). Covariates are centred first, as R does.
    """
    n, p = x.shape
    x = x - x.mean(axis=0)
    g = np.zeros(n) if gtime is None else gtime
    q = p if gtime is None else 2 * p
    u = np.zeros(q)
    imat = np.zeros((q, q))
    order = np.lexsort((time, strata))[::-1]  # backwards in time within strata
    risk = np.exp(eta)
    i = 0
    current = None
    denom, a, cmat = 0.0, np.zeros(p), np.zeros((p, p))
    while i < n:
        person = order[i]
        if strata[person] != current:
            current = strata[person]
            denom, a, cmat = 0.0, np.zeros(p), np.zeros((p, p))
        j = i
        while j < n and time[order[j]] == time[person] and strata[order[j]] == current:
            j += 1
        group = order[i:j]
        censored = group[event[group] == 0]
        dead = group[event[group] == 1]
        denom += risk[censored].sum()
        a += risk[censored] @ x[censored]
        cmat += (x[censored] * risk[censored][:, None]).T @ x[censored]
        if len(dead):
            d = len(dead)
            weight = g[person]
            denom2 = risk[dead].sum()
            a2 = risk[dead] @ x[dead]
            cmat2 = (x[dead] * risk[dead][:, None]).T @ x[dead]
            xsum = x[dead].sum(axis=0)
            u[:p] += xsum
            if gtime is not None:
                u[p:] += weight * xsum
            for _ in range(d):
                denom += denom2 / d
                a += a2 / d
                cmat += cmat2 / d
                mean = a / denom
                u[:p] -= mean
                block = (cmat - np.outer(mean, a)) / denom
                imat[:p, :p] += block
                if gtime is not None:
                    u[p:] -= weight * mean
                    imat[:p, p:] += weight * block
                    imat[p:, p:] += weight * weight * block
        i = j
    if gtime is not None:
        imat[p:, :p] = imat[:p, p:].T
    return u, imat


# ----------------------------------------------------------------------------------------------
# Cox models
# ----------------------------------------------------------------------------------------------


def _prepare(data: pd.DataFrame, time: str, event: str, covariates: list[str],
             strata: list[str]) -> tuple[pd.DataFrame, int]:
    missing = [c for c in [time, event, *covariates, *strata] if c not in data.columns]
    if missing:
        raise KeyError(f"columns not in data: {missing}; available: {list(data.columns)}")
    used = data[[time, event, *covariates, *strata]]
    complete = used.dropna()
    return complete, len(used) - len(complete)


def _scale(design: pd.DataFrame, per_sd: bool | list[str]) -> dict[str, float]:
    if per_sd is False:
        return {}
    if per_sd is True:
        cols = [c for c in design.columns if design[c].nunique() > 2]
    else:
        cols = list(per_sd)
        unknown = sorted(set(cols) - set(design.columns))
        if unknown:
            raise KeyError(f"per_sd columns not among the covariates: {unknown}")
    scales = {}
    for col in cols:
        sd = design[col].std(ddof=1)
        if not sd > 0:
            raise ValueError(f"covariate {col!r} is constant; it cannot be scaled per SD")
        design[col] = (design[col] - design[col].mean()) / sd
        scales[col] = float(sd)
    return scales


def cox(
    data: pd.DataFrame,
    time: str,
    event: str,
    covariates: str | list[str],
    strata: str | list[str] | None = None,
    per_sd: bool | list[str] = False,
    *,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Cox proportional-hazards model with Efron ties, as R ``coxph``.

    Parameters
    ----------
    data
        One row per sample.
    time, event
        Column names: survival time (> 0) and event indicator (1 = event, 0 = censored).
    covariates
        Column name(s). Numeric and boolean columns enter as they are; other columns are
        one-hot encoded against their first level (reported in ``attrs["reference_levels"]``).
    strata
        Column name(s) to stratify the baseline hazard by.
    per_sd
        ``True`` standardises every continuous covariate (more than two distinct values), so
        its HR is per standard deviation; or a list of design columns to standardise.
    alpha
        1 - confidence level of the HR interval.

    Returns
    -------
    DataFrame
        One row per term: ``term, n, n_events, coef, hr, hr_lower, hr_upper, se, z, p`` (Wald).
        ``attrs``: ``concordance`` (Harrell), ``p_lrt`` (likelihood ratio), ``p_score`` (score /
        log-rank test), ``n``, ``n_events``, ``n_dropped`` (rows with missing values),
        ``loglik``, ``reference_levels``, ``scales`` (SDs used by ``per_sd``).

    Raises
    ------
    ValueError
        Bad times or events, a constant covariate, or a model that does not converge (with the
        likely cause: separation or collinearity).
    """
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError, ConvergenceWarning

    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    strata = [] if strata is None else [strata] if isinstance(strata, str) else list(strata)
    if not covariates:
        raise ValueError("at least one covariate is needed")
    complete, n_dropped = _prepare(data, time, event, covariates, strata)
    t, e = check_survival(complete[time], complete[event])
    design, references = design_matrix(complete[covariates])
    scales = _scale(design, per_sd)
    constant = [c for c in design.columns if design[c].nunique() < 2]
    if constant:
        raise ValueError(f"covariates with one value only (no information): {constant}")
    frame = design.assign(_time=t, _event=e)
    for col in strata:
        frame[f"_strata_{col}"] = complete[col].to_numpy()
    fitter = CoxPHFitter(alpha=alpha, strata=[f"_strata_{c}" for c in strata] or None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            fitter.fit(frame, "_time", "_event",
                       fit_options={"precision": 1e-12, "r_precision": 1e-14, "max_steps": 200})
        except ConvergenceError as error:
            raise ValueError(_convergence_message(str(error), design)) from None
    problems = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    if problems:
        raise ValueError(_convergence_message(problems[0], design))
    summary = fitter.summary
    z_crit = stats.norm.ppf(1 - alpha / 2)
    table = pd.DataFrame({
        "term": list(design.columns),
        "n": len(t),
        "n_events": int(e.sum()),
        "coef": summary["coef"].to_numpy(),
        "hr": np.exp(summary["coef"].to_numpy()),
        "hr_lower": np.exp(summary["coef"].to_numpy() - z_crit * summary["se(coef)"].to_numpy()),
        "hr_upper": np.exp(summary["coef"].to_numpy() + z_crit * summary["se(coef)"].to_numpy()),
        "se": summary["se(coef)"].to_numpy(),
        "z": summary["z"].to_numpy(),
        "p": summary["p"].to_numpy(),
    })[COX_COLUMNS]
    strata_codes = (pd.Series([tuple(r) for r in complete[strata].to_numpy()]).factorize()[0]
                    if strata else np.zeros(len(t), dtype=int))
    u, imat = _efron_derivatives(t, e, design.to_numpy(), np.zeros(len(t)), strata_codes)
    p_score = float(stats.chi2.sf(u @ np.linalg.solve(imat, u), df=design.shape[1]))
    lrt = fitter.log_likelihood_ratio_test()
    risk = design.to_numpy() @ fitter.params_.to_numpy()
    table.attrs.update({
        "concordance": concordance(t, e, risk),
        "p_lrt": float(lrt.p_value),
        "p_score": p_score,
        "n": len(t),
        "n_events": int(e.sum()),
        "n_dropped": int(n_dropped),
        "loglik": float(fitter.log_likelihood_),
        "reference_levels": references,
        "scales": scales,
        "strata": strata,
    })
    table.attrs["_fit"] = {"beta": fitter.params_.to_numpy(), "design": design, "time": t,
                           "event": e, "strata": strata_codes}
    return table


def _convergence_message(raw: str, design: pd.DataFrame) -> str:
    corr = design.corr().abs().to_numpy()
    np.fill_diagonal(corr, 0)
    hint = ""
    if design.shape[1] > 1 and np.nanmax(corr) > 0.98:
        i, j = np.unravel_index(np.nanargmax(corr), corr.shape)
        hint = (f" Covariates {design.columns[i]!r} and {design.columns[j]!r} are almost "
                "collinear; drop one.")
    return ("the Cox model did not converge: likely complete separation (a covariate or level "
            "that alone predicts every event or none) or collinearity among covariates; "
            f"lifelines said: {raw.strip().splitlines()[0]}.{hint}")


def ph_test(
    data: pd.DataFrame,
    time: str,
    event: str,
    covariates: str | list[str],
    strata: str | list[str] | None = None,
    *,
    transform: Literal["km", "rank", "identity", "log"] = "km",
) -> pd.DataFrame:
    """Proportional-hazards test per term and global, as R survival >= 3.0
    ``cox.zph(fit, transform=transform, terms=FALSE)``.

    The test is the score test for adding ``g(t) * x`` to the fitted model (Grambsch and
    Therneau), with ``g`` the chosen transform of time (``"km"``: 1 - left-continuous
    Kaplan-Meier estimate) centred on the event times.

    Returns
    -------
    DataFrame
        Index = terms and ``"GLOBAL"``; columns ``chisq``, ``df``, ``p``.
    """
    fit = cox(data, time, event, covariates, strata).attrs["_fit"]
    t, e, design = fit["time"], fit["event"], fit["design"]
    x = design.to_numpy()
    g = _time_transform(t, e, transform)
    gtime = g - g[e == 1].mean()
    u, imat = _efron_derivatives(t, e, x, x @ fit["beta"], fit["strata"], gtime)
    p = x.shape[1]
    rows = {}
    for j, term in enumerate(design.columns):
        keep = np.r_[np.arange(p), p + j]
        uj = np.r_[np.zeros(p), u[p + j]]
        rows[term] = float(uj @ np.linalg.solve(imat[np.ix_(keep, keep)], uj))
    u_all = np.r_[np.zeros(p), u[p:]]
    rows["GLOBAL"] = float(u_all @ np.linalg.solve(imat, u_all))
    table = pd.DataFrame({"chisq": pd.Series(rows)})
    table["df"] = [1] * p + [p]
    table["p"] = stats.chi2.sf(table["chisq"], table["df"])
    table.index.name = "term"
    return table


def _time_transform(t: np.ndarray, e: np.ndarray, transform: str) -> np.ndarray:
    if transform == "identity":
        return t.copy()
    if transform == "log":
        return np.log(t)
    if transform == "rank":
        return stats.rankdata(t)
    if transform != "km":
        raise ValueError(f"transform must be 'km', 'rank', 'identity' or 'log', got {transform!r}")
    times, surv = _km_curve(t, e)
    # left-continuous: the survival just before each time
    idx = np.searchsorted(times, t, side="left")
    return 1.0 - np.r_[1.0, surv][idx]


def _km_curve(t: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier survival at each distinct time (events and censorings)."""
    times, inverse = np.unique(t, return_inverse=True)
    deaths = np.bincount(inverse, weights=e, minlength=len(times))
    leaving = np.bincount(inverse, minlength=len(times))
    at_risk = len(t) - np.r_[0, np.cumsum(leaving)[:-1]]
    return times, np.cumprod(1.0 - deaths / at_risk)


# ----------------------------------------------------------------------------------------------
# Kaplan-Meier and log-rank
# ----------------------------------------------------------------------------------------------


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
    labels = pd.Series(_as_array(groups, "groups"))
    if len(labels) != n:
        raise ValueError(f"groups has {len(labels)} values for {n} observations")
    if labels.isna().any():
        raise ValueError(f"{int(labels.isna().sum())} group labels are missing; drop those "
                         "samples first")
    return labels


def logrank(time: Any, event: Any, groups: Any) -> LogrankResult:
    """Log-rank test comparing two or more groups.

    Raises
    ------
    ValueError
        Fewer than two groups, or a group with a single member.
    """
    t, e = check_survival(time, event)
    labels = _groups(groups, len(t))
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


def km(time: Any, event: Any, groups: Any = None, *, alpha: float = 0.05) -> KMResult:
    """Kaplan-Meier curves per group, their medians, and a log-rank test."""
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    t, e = check_survival(time, event)
    labels = pd.Series(["all"] * len(t)) if groups is None else _groups(groups, len(t))
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


# ----------------------------------------------------------------------------------------------
# Maximally selected log-rank statistic (maxstat)
# ----------------------------------------------------------------------------------------------


def logrank_scores(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """Log-rank (Savage) scores ``a_i = e_i - sum_{j: t_j <= t_i} e_j / (N - r_j + 1)`` with
    ``r`` the number of observations with time <= t (exactRankTests ``cscores.Surv``)."""
    n = len(time)
    order = np.argsort(time, kind="mergesort")
    rank_max = np.searchsorted(np.sort(time), time, side="right")  # number <= t
    factor = event / (n - rank_max + 1.0)
    cumulative = np.cumsum(factor[order])
    return event - cumulative[rank_max - 1]


def _lau92(b: float, minprop: float, maxprop: float) -> float:
    if b < 1:
        return 1.0
    db = stats.norm.pdf(b)
    p = 4 * db / b + db * (b - 1 / b) * np.log(maxprop * (1 - minprop) / ((1 - maxprop) * minprop))
    return float(max(p, 0.0))


def _lau94(b: float, n: int, m: np.ndarray) -> float:
    m1, m2 = m[:-1].astype(float), m[1:].astype(float)
    t = np.sqrt(1 - m1 * (n - m2) / ((n - m1) * m2))
    d = np.sum(1 / np.pi * np.exp(-b * b / 2) * (t - (b * b / 4 - 1) * t**3 / 6))
    return float(min(1.0, 1 - (stats.norm.cdf(b) - stats.norm.cdf(-b)) + d))


def _exact_gauss(b: float, n: int, m: np.ndarray, grid: int = 2001) -> float:
    """P(max_j |Z_j| >= b) for the Gaussian process with corr(Z_i, Z_j) =
    sqrt(m_i (n - m_j) / ((n - m_i) m_j)), m_i <= m_j (maxstat's exactGauss).

    This correlation is a product over consecutive cut points, so Z is a Gauss-Markov chain
    and the probability follows from recursive numerical integration on a grid over [-b, b]
    (deterministic; maxstat uses quasi-Monte-Carlo ``pmvnorm`` with error about 1e-3).
    """
    if len(m) == 1:
        return float(2 * stats.norm.sf(b))
    x = np.linspace(-b, b, grid)
    step = x[1] - x[0]
    weights = np.full(grid, step)
    weights[[0, -1]] = step / 2  # trapezoid rule
    density = stats.norm.pdf(x)
    m = m.astype(float)
    rho = np.sqrt(m[:-1] * (n - m[1:]) / ((n - m[:-1]) * m[1:]))
    for r in rho:
        sd = np.sqrt(1 - r * r)
        kernel = stats.norm.pdf((x[:, None] - r * x[None, :]) / sd) / sd
        density = kernel @ (density * weights)
    inside = float(density @ weights)
    return float(min(1.0, max(0.0, 1 - inside)))


@dataclass
class CutpointResult:
    """Optimal cut point by the maximally selected standardised log-rank statistic.

    Attributes
    ----------
    value
        The cut: samples with ``score <= value`` form the low group (as maxstat).
    statistic
        Maximum of the standardised log-rank statistic over the candidate cuts.
    p_value
        Adjusted for the search by ``p_method`` (NaN for ``"none"``).
    p_raw
        The naive two-sided p-value of the chosen cut, ``2 * (1 - Phi(statistic))``; shown
        for reference only: it ignores the search and is anti-conservative.
    profile
        Per candidate cut: ``cut``, ``statistic``, ``n_low``, ``n_high``.
    """

    value: float
    statistic: float
    p_value: float
    p_raw: float
    p_method: str
    profile: pd.DataFrame
    n_low: int
    n_high: int
    minprop: float
    maxprop: float
    n_permutations: int | None = None

    def groups(self, score: Any) -> pd.Series:
        """Labels ``"low"`` (score <= cut) / ``"high"`` for a score vector."""
        values = _as_array(score, "score").astype(float)
        return pd.Series(np.where(values <= self.value, "low", "high"),
                         index=getattr(score, "index", None)).astype(
            pd.CategoricalDtype(["low", "high"], ordered=True))


def cutpoint(
    score: Any,
    time: Any,
    event: Any,
    minprop: float = 0.1,
    p_method: str = "lau94",
    *,
    maxprop: float | None = None,
    n_permutations: int = 20000,
    random_state: int | None = 0,
) -> CutpointResult:
    """Optimal cut point of a score for survival (R ``maxstat.test``, ``smethod="LogRank"``).

    Candidate cuts are the distinct score values whose low group (score <= cut) holds between
    ``floor(N * minprop)`` and ``floor(N * maxprop)`` samples (``maxprop`` defaults to
    ``1 - minprop``). The statistic is the standardised sum of log-rank scores in the low
    group; the cut maximising its absolute value is chosen.

    ``p_method`` adjusts the p-value for the search: ``"lau94"`` (improved Bonferroni,
    default), ``"lau92"`` (Miller-Siegmund), ``"exact_gauss"`` (the Gaussian approximation
    evaluated exactly), ``"permutation"`` (conditional Monte Carlo with ``n_permutations``
    and ``random_state``, ``p = (1 + #{max >= observed}) / (B + 1)``) or ``"none"``.

    Raises
    ------
    ValueError
        Non-finite scores, bad survival data, fewer than two candidate cuts, unknown method.
    """
    p_method = p_method.lower()
    if p_method not in P_METHODS:
        raise ValueError(f"p_method must be one of {P_METHODS}, got {p_method!r}")
    maxprop = 1 - minprop if maxprop is None else maxprop
    if not 0 <= minprop < maxprop <= 1:
        raise ValueError(f"need 0 <= minprop < maxprop <= 1, got {minprop}, {maxprop}")
    t, e = check_survival(time, event)
    x = _as_array(score, "score").astype(float)
    if len(x) != len(t):
        raise ValueError(f"score has {len(x)} values for {len(t)} observations")
    if not np.isfinite(x).all():
        raise ValueError("scores must be finite; drop samples with missing scores first")
    n = len(x)
    scores = logrank_scores(t, e)
    order = np.argsort(x, kind="mergesort")
    xs, ys = x[order], scores[order]
    first = np.r_[True, xs[1:] != xs[:-1]]
    m = np.flatnonzero(first)  # number of samples below each new value
    m = m[(m >= np.floor(n * minprop)) & (m <= np.floor(n * maxprop)) & (m > 0)]
    if len(m) < 2:
        raise ValueError(f"fewer than two candidate cuts with minprop={minprop} and maxprop="
                         f"{maxprop} ({n} samples, {len(np.unique(x))} distinct scores)")
    total = ys.sum()
    expected = m / n * total
    variance = m * (n - m) / (n * n * (n - 1.0)) * (n * np.sum(ys**2) - total**2)
    statistics = np.abs((np.cumsum(ys)[m - 1] - expected) / np.sqrt(variance))
    best = int(np.argmax(statistics))
    statistic = float(statistics[best])
    cut = float(xs[m[best] - 1])
    if p_method == "none":
        p_value = float("nan")
    elif p_method == "lau92":
        p_value = _lau92(statistic, minprop, maxprop)
    elif p_method == "lau94":
        p_value = _lau94(statistic, n, m)
    elif p_method == "exact_gauss":
        p_value = _exact_gauss(statistic, n, m)
    else:
        p_value = _permutation_p(ys, m, statistic, n_permutations, random_state)
    profile = pd.DataFrame({"cut": xs[m - 1], "statistic": statistics, "n_low": m,
                            "n_high": n - m})
    n_low = int((x <= cut).sum())
    return CutpointResult(cut, statistic, p_value, float(2 * stats.norm.sf(statistic)),
                          p_method, profile, n_low, n - n_low, minprop, maxprop,
                          n_permutations if p_method == "permutation" else None)


def _permutation_p(ys: np.ndarray, m: np.ndarray, observed: float, n_perm: int,
                   random_state: int | None, batch: int = 2000) -> float:
    if n_perm < 1:
        raise ValueError(f"n_permutations must be >= 1, got {n_perm}")
    rng = np.random.default_rng(random_state)
    n = len(ys)
    total = ys.sum()
    expected = m / n * total
    sd = np.sqrt(m * (n - m) / (n * n * (n - 1.0)) * (n * np.sum(ys**2) - total**2))
    exceed = 0
    for start in range(0, n_perm, batch):
        size = min(batch, n_perm - start)
        perm = rng.permuted(np.tile(ys, (size, 1)), axis=1)
        maxima = np.abs((np.cumsum(perm, axis=1)[:, m - 1] - expected) / sd).max(axis=1)
        exceed += int((maxima >= observed - 1e-12).sum())
    return (1 + exceed) / (n_perm + 1)


def split(
    score: Any,
    how: str | float = "median",
    *,
    time: Any = None,
    event: Any = None,
    **cutpoint_options: Any,
) -> pd.Series:
    """Label samples by their score.

    ``how``: ``"median"`` (low = score <= median, high otherwise), ``"tertiles"`` (T1-T3),
    ``"quartiles"`` (Q1-Q4), a number (low = score <= number) or ``"optimal"`` (the
    :func:`cutpoint` cut; needs ``time`` and ``event``). Returns an ordered categorical Series.
    """
    values = pd.Series(_as_array(score, "score").astype(float),
                       index=getattr(score, "index", None))
    if values.isna().any():
        raise ValueError("scores contain missing values; drop them first")
    low_high = pd.CategoricalDtype(["low", "high"], ordered=True)
    if isinstance(how, (int, float)) and not isinstance(how, bool):
        return pd.Series(np.where(values <= how, "low", "high"), index=values.index,
                         dtype=low_high)
    if how == "median":
        return pd.Series(np.where(values <= values.median(), "low", "high"),
                         index=values.index, dtype=low_high)
    if how in ("tertiles", "quartiles"):
        k = 3 if how == "tertiles" else 4
        labels = [f"{'T' if k == 3 else 'Q'}{i}" for i in range(1, k + 1)]
        return pd.qcut(values, k, labels=labels)
    if how == "optimal":
        if time is None or event is None:
            raise ValueError("how='optimal' needs time= and event=")
        return cutpoint(values, time, event, **cutpoint_options).groups(values)
    raise ValueError(f"how must be 'median', 'tertiles', 'quartiles', 'optimal' or a number, "
                     f"got {how!r}")


# ----------------------------------------------------------------------------------------------
# Discrimination
# ----------------------------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------------------------
# The one-call workflow
# ----------------------------------------------------------------------------------------------


@dataclass
class SurvivalAnalysis:
    """Result of :func:`analyze`.

    Attributes
    ----------
    table
        One row per score column (see :func:`analyze`).
    cox_univariate, cox_multivariable
        Score column -> Cox table (per SD of the score).
    km
        Score column -> :class:`KMResult` of the median split.
    cutpoints
        Score column -> :class:`CutpointResult`.
    params
        The arguments used.
    """

    table: pd.DataFrame
    cox_univariate: dict[str, pd.DataFrame]
    cox_multivariable: dict[str, pd.DataFrame]
    km: dict[str, KMResult]
    cutpoints: dict[str, CutpointResult]
    params: dict

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def _score_columns(scores: Any) -> pd.DataFrame:
    from ferroscore.result import ScoreResult

    if isinstance(scores, ScoreResult):
        return scores.set_scores()
    if isinstance(scores, pd.Series):
        return scores.to_frame(scores.name or "score")
    if isinstance(scores, pd.DataFrame):
        return scores.select_dtypes("number")
    raise TypeError(f"scores must be a ScoreResult, DataFrame or Series, got "
                    f"{type(scores).__name__}")


def analyze(
    scores: Any,
    clinical: pd.DataFrame,
    *,
    time: str,
    event: str,
    covariates: list[str] | None = None,
    minprop: float = 0.1,
    p_method: str = "lau94",
    join: str = "exact",
) -> SurvivalAnalysis:
    """Relate every score column to survival in one call.

    Per score column: univariate Cox (HR per SD of the score), multivariable Cox with
    ``covariates`` (HR per SD), median split with Kaplan-Meier and log-rank, the optimal cut
    with its search-adjusted p-value (``p_method``), and Harrell's concordance. Samples with
    missing values are dropped per model and counted. Benjamini-Hochberg q-values are computed
    across the score columns for each test.

    Returns
    -------
    SurvivalAnalysis
        ``.table`` columns: ``score``, ``n``, ``n_events``, ``hr_per_sd``, ``hr_lower``,
        ``hr_upper``, ``p_cox``, ``q_cox``, ``n_multi``, ``n_dropped_multi``,
        ``hr_per_sd_multi``, ``hr_multi_lower``, ``hr_multi_upper``, ``p_cox_multi``,
        ``q_cox_multi``, ``p_logrank_median``, ``q_logrank_median``, ``cut``, ``cut_statistic``,
        ``p_cut`` (adjusted), ``p_cut_raw`` (unadjusted, for reference), ``q_cut``,
        ``n_low_cut``, ``n_high_cut``, ``concordance``.
    """
    covariates = list(covariates or [])
    frame = _score_columns(scores)
    frame, clinical, dropped = align_samples(frame, clinical, join=join, left_name="scores",
                                             right_name="clinical data")
    rows, uni, multi, kms, cuts = [], {}, {}, {}, {}
    for column in frame.columns:
        data = clinical.assign(__score=frame[column].to_numpy())
        base = data[["__score", time, event]].dropna()
        t, e = check_survival(base[time], base[event])
        u = cox(data, time, event, "__score", per_sd=True)
        uni[column] = u.assign(term=u["term"].replace("__score", column))
        row = {"score": column, "n": u.attrs["n"], "n_events": u.attrs["n_events"],
               "hr_per_sd": u["hr"].iat[0], "hr_lower": u["hr_lower"].iat[0],
               "hr_upper": u["hr_upper"].iat[0], "p_cox": u["p"].iat[0]}
        if covariates:
            mv = cox(data, time, event, ["__score", *covariates], per_sd=["__score"])
            multi[column] = mv.assign(term=mv["term"].replace("__score", column))
            row.update(n_multi=mv.attrs["n"], n_dropped_multi=mv.attrs["n_dropped"],
                       hr_per_sd_multi=mv["hr"].iat[0], hr_multi_lower=mv["hr_lower"].iat[0],
                       hr_multi_upper=mv["hr_upper"].iat[0], p_cox_multi=mv["p"].iat[0])
        groups = split(base["__score"], "median")
        kms[column] = km(t, e, groups.to_numpy())
        cut = cutpoint(base["__score"], t, e, minprop=minprop, p_method=p_method)
        cuts[column] = cut
        row.update(p_logrank_median=kms[column].logrank.p_value, cut=cut.value,
                   cut_statistic=cut.statistic, p_cut=cut.p_value, p_cut_raw=cut.p_raw,
                   n_low_cut=cut.n_low, n_high_cut=cut.n_high,
                   concordance=concordance(t, e, base["__score"].to_numpy()))
        rows.append(row)
    table = pd.DataFrame(rows)
    for p_col, q_col in (("p_cox", "q_cox"), ("p_cox_multi", "q_cox_multi"),
                         ("p_logrank_median", "q_logrank_median"), ("p_cut", "q_cut")):
        if p_col in table:
            table[q_col] = benjamini_hochberg(table[p_col].to_numpy())
    order = ["score", "n", "n_events", "hr_per_sd", "hr_lower", "hr_upper", "p_cox", "q_cox",
             "n_multi", "n_dropped_multi", "hr_per_sd_multi", "hr_multi_lower",
             "hr_multi_upper", "p_cox_multi", "q_cox_multi", "p_logrank_median",
             "q_logrank_median", "cut", "cut_statistic", "p_cut", "p_cut_raw", "q_cut",
             "n_low_cut", "n_high_cut", "concordance"]
    table = table[[c for c in order if c in table.columns]]
    params = {"time": time, "event": event, "covariates": covariates, "minprop": minprop,
              "p_method": p_method, "join": join, "n_dropped_join": dropped}
    return SurvivalAnalysis(table, uni, multi, kms, cuts, params)
