"""Cox proportional-hazards models (Efron ties, as R ``coxph``) and R's current ``cox.zph``."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from ferroscore.survival._validation import check_survival
from ferroscore.survival.km import _km_curve
from ferroscore.survival.metrics import concordance
from ferroscore.tables import design_matrix

COX_COLUMNS = ["term", "n", "n_events", "coef", "hr", "hr_lower", "hr_upper", "se", "z", "p"]


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
    return _fit_cox(data, time, event, covariates, strata, per_sd, alpha=alpha)[0]


@dataclass
class _CoxFit:
    """What :func:`ph_test` needs from a fitted model (kept out of the table's ``attrs``, so
    that tables print and copy like any DataFrame)."""

    beta: np.ndarray
    design: pd.DataFrame
    time: np.ndarray
    event: np.ndarray
    strata: np.ndarray


def _fit_cox(data: pd.DataFrame, time: str, event: str, covariates: str | list[str],
             strata: str | list[str] | None, per_sd: bool | list[str], *, alpha: float
             ) -> tuple[pd.DataFrame, _CoxFit]:
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
    return table, _CoxFit(fitter.params_.to_numpy(), design, t, e, strata_codes)


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
    fit = _fit_cox(data, time, event, covariates, strata, False, alpha=0.05)[1]
    t, e, design = fit.time, fit.event, fit.design
    x = design.to_numpy()
    g = _time_transform(t, e, transform)
    gtime = g - g[e == 1].mean()
    u, imat = _efron_derivatives(t, e, x, x @ fit.beta, fit.strata, gtime)
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

