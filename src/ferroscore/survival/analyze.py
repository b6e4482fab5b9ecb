"""The one-call workflow: every score column related to survival."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ferroscore.significance import benjamini_hochberg
from ferroscore.survival._validation import check_survival
from ferroscore.survival.cox import cox
from ferroscore.survival.cutpoint import CutpointResult, cutpoint, split
from ferroscore.survival.km import KMResult, km
from ferroscore.survival.metrics import concordance
from ferroscore.tables import align_samples


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

    def __repr__(self) -> str:
        table = self.table
        lines = [f"SurvivalAnalysis of {len(table)} score columns "
                 f"({', '.join(map(str, table['score'][:4]))}{', ...' if len(table) > 4 else ''})"
                 f" on {self.params['time']!r} / {self.params['event']!r}"]
        if len(table):
            best = table.loc[table["q_cox"].idxmin()]
            lines.append(f"  n = {int(table['n'].max())}, events = {int(table['n_events'].max())};"
                         f" smallest q (Cox per SD) = {best['q_cox']:.3g} ({best['score']}, HR "
                         f"{best['hr_per_sd']:.2f})")
        if self.params["covariates"]:
            lines.append(f"  adjusted for {self.params['covariates']}")
        lines.append("  see .table, .cox_univariate, .cox_multivariable, .km, .cutpoints")
        return "\n".join(lines)

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
    missing = [c for c in [time, event, *covariates] if c not in clinical.columns]
    if missing:
        raise KeyError(f"columns not in the clinical data: {missing}; available: "
                       f"{list(clinical.columns)}")
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
