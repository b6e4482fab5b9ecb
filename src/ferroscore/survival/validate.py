"""External validation of a frozen risk model (or a fixed score) on several cohorts, with the
meta-analysis of the per-cohort hazard ratios.

Per cohort: the risk score (a :class:`~ferroscore.survival.RiskModel` by its cross-platform
rule, with its coverage report; or a fixed score), the Cox hazard ratio per SD of the score
within the cohort (Efron ties, as :func:`~ferroscore.survival.cox` with ``per_sd=True``: SD with
n - 1), Harrell's C, the time-dependent AUC at each horizon with bootstrap intervals
(:func:`~ferroscore.survival.time_auc_ci`), and the Kaplan-Meier curves and log-rank test of
the high / low split: a RiskModel's training median (its ``cutoff_``), or, for a fixed score
that has no training cohort, the cohort's own median. The per-cohort log hazard ratios are
pooled by :func:`~ferroscore.survival.meta_analysis` (REML by default, as metafor).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ferroscore.genesets import GeneSet, Signature
from ferroscore.survival._validation import check_survival
from ferroscore.survival.cox import cox
from ferroscore.survival.cutpoint import split
from ferroscore.survival.km import KMResult, km
from ferroscore.survival.meta import MetaAnalysis, meta_analysis
from ferroscore.survival.metrics import DEFAULT_HORIZONS, YEAR, concordance, time_auc_ci
from ferroscore.survival.risk_model import RiskModel
from ferroscore.tables import align_samples

__all__ = ["Validation", "validate"]


@dataclass
class Validation:
    """Result of :func:`validate`.

    Attributes
    ----------
    table
        One row per cohort: ``cohort``, ``n``, ``n_events``, ``hr_per_sd``, ``hr_lower``,
        ``hr_upper``, ``log_hr``, ``se``, ``p`` (Wald), ``C`` (Harrell), ``AUC_<h>`` with
        ``AUC_<h>_lower`` / ``_upper`` per horizon, ``n_low``, ``n_high``, ``p_logrank``,
        ``cut`` and, for a RiskModel, ``genes_used`` and ``weight_coverage``.
    meta
        The random-effects meta-analysis of the per-cohort log HR per SD (None with one
        cohort).
    auc
        Long table: one row per cohort and horizon (:func:`time_auc_ci`'s columns).
    km
        Cohort -> :class:`KMResult` of the high / low split.
    risk, groups
        Cohort -> risk scores and high / low labels (Series by sample ID).
    coverage
        Cohort -> the model's coverage report (RiskModel only).
    params
        The arguments used, the split rule and the score's description.
    """

    table: pd.DataFrame
    meta: MetaAnalysis | None
    auc: pd.DataFrame
    km: dict[str, KMResult] = field(repr=False)
    risk: dict[str, pd.Series] = field(repr=False)
    groups: dict[str, pd.Series] = field(repr=False)
    coverage: dict[str, Any] = field(repr=False)
    params: dict = field(repr=False)

    def __repr__(self) -> str:
        lines = [f"Validation of {self.params['score']} on {len(self.table)} cohorts"]
        for row in self.table.itertuples(index=False):
            lines.append(f"  {row.cohort}: n = {row.n} ({row.n_events} events), HR per SD "
                         f"{row.hr_per_sd:.2f} ({row.hr_lower:.2f}-{row.hr_upper:.2f}), "
                         f"p = {row.p:.2g}, C = {row.C:.3f}")
        if self.meta is not None:
            m = self.meta
            lines.append(f"  pooled ({m.label}): HR per SD {np.exp(m.estimate):.2f} "
                         f"({np.exp(m.ci_lower):.2f}-{np.exp(m.ci_upper):.2f}), p = {m.p:.2g}, "
                         f"I2 = {m.I2:.0f}%")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def _cohort_parts(name: str, value: Any) -> tuple[Any, pd.DataFrame, str, str, str | None]:
    if not isinstance(value, (tuple, list)) or len(value) not in (4, 5):
        raise TypeError(f"cohort {name!r}: expected (expr, clinical, time, event) or (expr, "
                        f"clinical, time, event, time_unit), got {type(value).__name__}"
                        f"{f' of length {len(value)}' if isinstance(value, (tuple, list)) else ''}")
    expr, clinical, time, event = value[:4]
    unit = value[4] if len(value) == 5 else None
    if not isinstance(clinical, pd.DataFrame):
        raise TypeError(f"cohort {name!r}: clinical must be a DataFrame indexed by sample ID")
    for column in (time, event):
        if column not in clinical.columns:
            raise KeyError(f"cohort {name!r}: {column!r} is not a column of its clinical data "
                           f"(available: {list(clinical.columns)})")
    if unit is not None and unit not in YEAR:
        raise ValueError(f"cohort {name!r}: time_unit must be one of {list(YEAR)}, got "
                         f"{unit!r}")
    return expr, clinical, time, event, unit


def _scorer(model_or_score: Any, method: str) -> tuple[Callable[[Any], tuple], str]:
    """A function expr -> (risk Series, cut or None, coverage, extra columns) and a name."""
    if isinstance(model_or_score, RiskModel):
        model_or_score._check_fitted()
        if not model_or_score.genes_:
            raise ValueError("the model selected no gene (the null model): there is no risk "
                             "score to validate")

        def by_model(expr: Any) -> tuple:
            scored = model_or_score.apply(expr)
            extra = {"genes_used": len(scored.report["found"]),
                     "weight_coverage": scored.report["weight_coverage"]}
            return scored.risk, model_or_score.cutoff_, scored.coverage, extra

        return by_model, f"RiskModel ({len(model_or_score.genes_)} genes)"
    if isinstance(model_or_score, (str, GeneSet, Signature)):
        from ferroscore.scoring import score

        name = model_or_score if isinstance(model_or_score, str) else model_or_score.name

        def by_set(expr: Any) -> tuple:
            result = score(expr, model_or_score, method)
            return result.set_scores().iloc[:, 0], None, result.coverage, {}

        return by_set, f"{name} ({method})"
    if callable(model_or_score):
        def by_function(expr: Any) -> tuple:
            risk = model_or_score(expr)
            if not isinstance(risk, pd.Series):
                raise TypeError("a score function must return a Series of risk scores indexed "
                                f"by sample ID, got {type(risk).__name__}")
            return risk, None, None, {}

        return by_function, getattr(model_or_score, "__name__", "score function")
    raise TypeError(f"model_or_score must be a fitted RiskModel, a gene set (catalogue name, "
                    f"GeneSet or Signature) or a function expr -> risk Series, got "
                    f"{type(model_or_score).__name__}")


def _check_external(model: Any, name: str, samples: pd.Index) -> None:
    training = getattr(model, "training_", None) or {}
    shared = samples.intersection(pd.Index(training.get("samples", [])))
    if len(shared):
        warnings.warn(f"cohort {name!r} shares {len(shared)} of its {len(samples)} samples with "
                      "the training cohort: its performance there is not external (it is "
                      "optimistic)", UserWarning, stacklevel=3)


def validate(
    model_or_score: Any,
    cohorts: Mapping[str, tuple],
    *,
    horizons: Any = DEFAULT_HORIZONS,
    time_unit: str = "months",
    B: int = 200,
    seed: int | None = 0,
    meta_method: str = "REML",
    method: str = "singscore",
    join: str = "exact",
) -> Validation:
    """Apply a frozen model or a fixed score to each cohort and pool the hazard ratios.

    Parameters
    ----------
    model_or_score
        A fitted :class:`RiskModel` (scored by its cross-platform rule, refused below its
        ``min_coverage``), a gene set (catalogue name, GeneSet, Signature: scored with
        ``method``), or a function ``expr -> risk Series`` (higher = worse).
    cohorts
        Name -> ``(expr, clinical, time, event)`` or ``(expr, clinical, time, event,
        time_unit)``: expression (genes x samples or samples x genes for a RiskModel), the
        clinical table indexed by sample ID and the names of its time and event columns.
    horizons, time_unit
        AUC horizons in years, and the unit of the times (per cohort when given in its tuple).
    B, seed
        Bootstrap resamples and seed of the AUC intervals.
    meta_method
        Estimator of :func:`meta_analysis` (``"REML"``, ``"DL"``, ``"FE"``, ...).
    method
        Scoring method for a gene set.
    join
        ``"exact"``: each cohort's scores and clinical data hold the same samples; ``"inner"``:
        the common ones (reported).

    Returns
    -------
    Validation
        ``.table`` (one row per cohort), ``.meta``, ``.auc``, ``.km``, ``.risk``, ``.groups``.

    Warns
    -----
    UserWarning
        A single cohort (no meta-analysis), a cohort sharing samples with the model's training
        cohort, samples without survival data (left out and counted), missing model genes.

    Examples
    --------
    >>> import ferroscore as fs
    >>> expr, clinical = fs.datasets.breast_cancer(as_frames=True)
    >>> er = clinical["er_positive"]
    >>> cohorts = {f"ER{'+' if v else '-'}": (expr.loc[:, er == v], clinical[er == v],
    ...                                       "rfs_months", "rfs_event") for v in (0, 1)}
    >>> result = fs.survival.validate("ferroptosis_core", cohorts, B=20)
    >>> result.table["cohort"].tolist(), result.meta.k
    (['ER-', 'ER+'], 2)
    """
    if not isinstance(cohorts, Mapping) or not cohorts:
        raise ValueError("cohorts must be a non-empty dict name -> (expr, clinical, time, "
                         "event)")
    score_of, description = _scorer(model_or_score, method)
    rows, auc_tables, kms, risks, groups, coverages = [], [], {}, {}, {}, {}
    for name, value in cohorts.items():
        name = str(name)
        expr, clinical, time, event, unit = _cohort_parts(name, value)
        risk, cut, coverage, extra = score_of(expr)
        frame, data, dropped = align_samples(risk.to_frame("risk"), clinical, join=join,
                                             left_name=f"scores of cohort {name!r}",
                                             right_name="its clinical data", stacklevel=3)
        complete = data[[time, event]].notna().all(axis=1)
        if not complete.all():
            warnings.warn(f"cohort {name!r}: {int((~complete).sum())} samples without {time} or "
                          f"{event} were left out", UserWarning, stacklevel=2)
        frame, data = frame[complete.to_numpy()], data[complete]
        if isinstance(model_or_score, RiskModel):
            _check_external(model_or_score, name, frame.index)
        t, e = check_survival(data[time], data[event])
        r = frame["risk"].to_numpy(dtype=float)
        if not np.isfinite(r).all():
            raise ValueError(f"cohort {name!r}: {int((~np.isfinite(r)).sum())} risk scores are "
                             "missing or infinite")
        if np.all(r == r[0]):
            raise ValueError(f"cohort {name!r}: the score is the same for every sample; it has "
                             "no hazard ratio or concordance")
        fit = cox(pd.DataFrame({"time": t, "event": e, "risk": r}, index=frame.index),
                  "time", "event", "risk", per_sd=True)
        labels = split(pd.Series(r, index=frame.index), "median" if cut is None else cut)
        survival_km = km(t, e, labels.to_numpy())
        auc = time_auc_ci(t, e, r, horizons, time_unit=unit or time_unit, B=B, seed=seed)
        auc_tables.append(auc.assign(cohort=name))
        row = {"cohort": name, "n": len(t), "n_events": int(e.sum()),
               "hr_per_sd": fit["hr"].iat[0], "hr_lower": fit["hr_lower"].iat[0],
               "hr_upper": fit["hr_upper"].iat[0], "log_hr": fit["coef"].iat[0],
               "se": fit["se"].iat[0], "p": fit["p"].iat[0],
               "C": concordance(t, e, r), "n_dropped": int(dropped + (~complete).sum())}
        for horizon in auc.itertuples(index=False):
            row[f"AUC_{horizon.horizon}"] = horizon.auc
            row[f"AUC_{horizon.horizon}_lower"] = horizon.ci_lower
            row[f"AUC_{horizon.horizon}_upper"] = horizon.ci_upper
        row.update(n_low=int((labels == "low").sum()), n_high=int((labels == "high").sum()),
                   p_logrank=(survival_km.logrank.p_value if survival_km.logrank is not None
                              else np.nan),
                   cut=float(np.median(r)) if cut is None else float(cut), **extra)
        rows.append(row)
        kms[name], risks[name], groups[name] = survival_km, frame["risk"], labels
        coverages[name] = coverage
    table = pd.DataFrame(rows)
    meta = None
    if len(table) >= 2:
        meta = meta_analysis(table["log_hr"], table["se"], method=meta_method,
                             labels=table["cohort"])
    else:
        warnings.warn("one cohort: its hazard ratio is reported, but a meta-analysis needs at "
                      "least two cohorts (.meta is None)", UserWarning, stacklevel=2)
    params = {"score": description, "horizons": list(np.atleast_1d(horizons)),
              "time_unit": time_unit, "B": B, "seed": seed, "meta_method": meta_method,
              "join": join,
              "split": ("the training cohort's median risk (RiskModel.cutoff_)"
                        if isinstance(model_or_score, RiskModel) else "each cohort's median"),
              "hr": "Cox per SD of the score within each cohort (Efron ties)"}
    return Validation(table, meta, pd.concat(auc_tables, ignore_index=True), kms, risks,
                      groups, coverages, params)
