"""Optimal cut points by the maximally selected log-rank statistic (R ``maxstat``), and
labelled groups of samples by score."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ferroscore.survival._validation import _as_array, align_series, check_survival

P_METHODS = ("none", "lau92", "lau94", "exact_gauss", "permutation")


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

    def __repr__(self) -> str:
        return (f"CutpointResult(cut {self.value:.4g}: {self.n_low} low / {self.n_high} high, "
                f"statistic {self.statistic:.3f}, p ({self.p_method}) = {self.p_value:.3g}, "
                f"unadjusted p = {self.p_raw:.3g}, {len(self.profile)} candidate cuts)")

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

    pandas Series among ``score``, ``time`` and ``event`` are paired by index (the first Series
    sets the order); arrays and lists by position.

    Raises
    ------
    ValueError
        Non-finite scores, bad survival data, fewer than two candidate cuts, unknown method,
        Series whose indexes hold different samples.
    """
    p_method = p_method.lower()
    if p_method not in P_METHODS:
        raise ValueError(f"p_method must be one of {P_METHODS}, got {p_method!r}")
    maxprop = 1 - minprop if maxprop is None else maxprop
    if not 0 <= minprop < maxprop <= 1:
        raise ValueError(f"need 0 <= minprop < maxprop <= 1, got {minprop}, {maxprop}")
    paired, _ = align_series(score=score, time=time, event=event)
    t, e = check_survival(paired["time"], paired["event"])
    x = _as_array(paired["score"], "score").astype(float)
    if len(x) != len(t):
        raise ValueError(f"score has {len(x)} values for {len(t)} observations")
    if not np.isfinite(x).all():
        raise ValueError(f"scores must be finite; {int((~np.isfinite(x)).sum())} are missing or "
                         "infinite: drop those samples (from time and event too) first")
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


def low_high(values: pd.Series, threshold: float, what: str, *,
             empty: str = "error") -> pd.Series:
    """low = score <= threshold. One group empty: a ValueError (``empty="error"``) or a
    warning (``"warn"``, for a threshold fixed elsewhere, e.g. a training cohort's median)."""
    low = values.to_numpy() <= threshold
    if low.all() or not low.any():
        side = "low" if low.all() else "high"
        message = (f"every one of the {len(values)} scores falls in the {side} group at "
                   f"{what} (scores {values.min():g} to {values.max():g})")
        if empty == "warn":
            warnings.warn(message, UserWarning, stacklevel=3)
        else:
            raise ValueError(f"{message}, so there is nothing to compare; use a threshold "
                             "inside that range")
    return pd.Series(np.where(low, "low", "high"), index=values.index,
                     dtype=pd.CategoricalDtype(["low", "high"], ordered=True))


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
    :func:`cutpoint` cut; needs ``time`` and ``event``, paired with the score as in
    :func:`cutpoint`). Returns an ordered categorical Series (indexed like ``score``).

    Raises
    ------
    ValueError
        Missing scores, or tertiles / quartiles whose boundaries coincide because of tied
        scores.
    """
    values = pd.Series(_as_array(score, "score").astype(float),
                       index=getattr(score, "index", None))
    if values.isna().any():
        raise ValueError("scores contain missing values; drop them first")
    if isinstance(how, (int, float)) and not isinstance(how, bool):
        return low_high(values, how, f"the threshold {how:g}")
    if how == "median":
        return low_high(values, values.median(), "the median")
    if how in ("tertiles", "quartiles"):
        k = 3 if how == "tertiles" else 4
        labels = [f"{'T' if k == 3 else 'Q'}{i}" for i in range(1, k + 1)]
        edges = values.quantile(np.linspace(0, 1, k + 1)).to_numpy()
        if len(np.unique(edges)) < len(edges):
            tied = pd.Series(edges).value_counts().index[0]
            raise ValueError(
                f"{how} are not defined for this score: {int((values == tied).sum())} of "
                f"{len(values)} samples share the value {tied:g}, so two {how[:-1]} boundaries "
                f"coincide; use how='median' or a number, or break the ties (e.g. a "
                "continuous score)")
        return pd.qcut(values, k, labels=labels)
    if how == "optimal":
        if time is None or event is None:
            raise ValueError("how='optimal' needs time= and event=")
        return cutpoint(values, time, event, **cutpoint_options).groups(values)
    raise ValueError(f"how must be 'median', 'tertiles', 'quartiles', 'optimal' or a number, "
                     f"got {how!r}")

