"""A frozen LASSO / elastic-net Cox risk model: screen -> cross-validated coxnet -> frozen
coefficients, applied to new cohorts by a stated cross-platform rule and saved as JSON.

Scales (what the numbers mean):

- ``coef_``: the model's coefficients on the original scale of the training expression, as
  glmnet reports them. The training cohort's risk score is glmnet's linear predictor
  ``X beta`` (uncentred, ``predict(cv, newx = X, s = ...)``), which is the fixture's
  ``risk.lp_train_C`` on GSE1992.
- ``weights_ = coef_ * scale_``: the same coefficients per training standard deviation
  (``scale_`` is the 1/n SD, as glmnet standardises), i.e. the model on the training cohort's
  standardised scale, and ``offset_ = sum(coef_ * center_)`` the training cohort's mean risk.
  Then ``X beta = offset_ + sum_g weights_g (x_g - center_g) / scale_g`` exactly.
- A cohort is scored as ``offset_ + sum_g weights_g z_g``, where ``z_g`` is gene ``g``
  standardised by ``standardize_new``: ``"within_cohort"`` (default) centres each model gene
  on the new cohort's own mean and divides by its own 1/n SD, the cross-platform rule (a new
  platform, batch or normalisation changes a gene's location and scale, not its ranking of the
  samples); ``"none"`` uses the training mean and SD, i.e. the values are used as they are
  (``X beta``), valid only for samples measured and processed as the training cohort. On the
  training cohort both rules give ``X beta``. The sum is computed by ``method="wsum"`` on the
  standardised values (:attr:`RiskModel.signature_`), with its coverage report.
- Missing genes contribute 0: the gene at its cohort mean. A gene constant in a new cohort
  cannot be standardised there and counts as missing. The share of the model's total absolute
  weight carried by the genes that can be used is the cohort's *weight coverage*; below
  ``min_coverage`` (default 0.8) the model refuses to score the cohort.
- High / low risk: above / at or below the training cohort's median risk (``cutoff_``).
  Under within-cohort standardisation a new cohort's risks centre on ``offset_`` as the
  training cohort's do, so the training median is a meaningful cut there too.
- Predicted survival: the Breslow-type baseline cumulative hazard of the training cohort with
  Efron's correction for tied event times (R ``survfit`` of a Cox model with Efron ties, as
  glmnet's ``survfit.coxnet``), ``S(t | x) = exp(-H0(t) exp(risk(x) - offset_))``.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ferroscore import genesets, ids
from ferroscore._interface import hint
from ferroscore.genesets import GeneSet, Signature
from ferroscore.result import ScoreResult, to_jsonable
from ferroscore.survival._validation import check_survival, check_unique_genes
from ferroscore.survival.cv import MEASURES, CVCoxnetResult, cv_coxnet
from ferroscore.survival.metrics import (
    DEFAULT_HORIZONS,
    YEAR,
    harrell_counts,
    horizon_auc,
    horizon_label,
    horizon_times,
)
from ferroscore.survival.screen import screen
from ferroscore.tables import align_samples

__all__ = ["RiskModel", "RiskScores"]

FORMAT = "ferroscore.survival.RiskModel"
FORMAT_VERSION = 1
LAMBDA_RULES = ("min", "1se")
STANDARDIZE_NEW = ("within_cohort", "none")
SIGNATURE_NAME = "risk_score"
LONG_FOLLOW_UP = {"months": 360.0, "weeks": 1565.0, "years": 30.0}  # > 30 years: wrong unit?


@dataclass
class RiskScores:
    """Risk scores of one cohort (:meth:`RiskModel.apply`).

    Attributes
    ----------
    risk
        Risk score per sample (Series indexed by sample ID; higher = shorter survival).
    group
        ``"low"`` / ``"high"`` by the training cohort's median risk (ordered categorical).
    coverage
        The ``method="wsum"`` coverage report of the model's signature (one row per side:
        genes found, missing, aliases used).
    report
        ``rule`` (the standardisation used), ``n_genes``, ``found`` (model genes used),
        ``features`` (the row of expr used for each), ``missing``, ``constant`` (constant in
        this cohort, so unusable), ``mapped_aliases``, ``weight_coverage``, ``min_coverage``,
        ``cutoff``.
    """

    risk: pd.Series
    group: pd.Series
    coverage: pd.DataFrame
    report: dict = field(repr=False)

    def __repr__(self) -> str:
        r = self.report
        return (f"RiskScores({len(self.risk)} samples, {len(r['found'])} of {r['n_genes']} "
                f"model genes used, weight coverage {r['weight_coverage']:.0%}, rule "
                f"{r['rule']!r}; {int((self.group == 'high').sum())} high / "
                f"{int((self.group == 'low').sum())} low at the training median)")

    def to_frame(self) -> pd.DataFrame:
        """``risk`` and ``group`` per sample."""
        return pd.DataFrame({"risk": self.risk, "group": self.group})


# -- inputs -------------------------------------------------------------------------------------


def _as_str_index(index: pd.Index) -> pd.Index:
    return pd.Index(index.astype(str))


def _genes_by_samples(expr: Any, samples: pd.Index) -> pd.DataFrame:
    """``expr`` as genes x samples: the axis whose labels are the clinical sample IDs is the
    samples axis (either orientation is accepted)."""
    if not isinstance(expr, pd.DataFrame):
        raise TypeError(f"expr must be a DataFrame (genes x samples or samples x genes), got "
                        f"{type(expr).__name__}")
    on_columns = _as_str_index(expr.columns).isin(samples).sum()
    on_rows = _as_str_index(expr.index).isin(samples).sum()
    if on_columns == 0 and on_rows == 0:
        raise ValueError(f"no sample ID of the clinical data (e.g. {list(samples[:3])}) is a "
                         f"row or column of expr (columns e.g. {list(expr.columns[:3])}, rows "
                         f"e.g. {list(expr.index[:3])}); align the sample IDs first")
    return expr if on_columns >= on_rows else expr.T


def _candidate_genes(genes: Any) -> list[str] | None:
    """The candidate genes named by ``genes``: None (every gene), a catalogue name, a GeneSet
    or Signature, or a list of identifiers."""
    if genes is None:
        return None
    if isinstance(genes, str):
        genes = genesets.load(genes)
    if isinstance(genes, (GeneSet, Signature)):
        return list(genes.genes)
    names = list(genes)
    bad = [g for g in names if not isinstance(g, str) or not g.strip()]
    if bad:
        raise TypeError(f"genes must be gene identifiers (strings); got {bad[:5]!r}")
    repeated = sorted({g for g in names if names.count(g) > 1})
    if repeated:
        raise ValueError(f"genes lists some genes more than once: {repeated[:5]}")
    if not names:
        raise ValueError("genes is empty: give candidate genes, or None for every gene")
    return names


@dataclass
class TrainingData:
    """The training cohort as arrays: ``x`` (samples x candidate genes), ``time``, ``event``,
    the candidate gene names, sample IDs, and what was dropped on the way."""

    x: np.ndarray
    time: np.ndarray
    event: np.ndarray
    genes: list[str]
    samples: pd.Index
    report: dict


def _training_data(expr: Any, clinical: pd.DataFrame, time: str, event: str, genes: Any,
                   join: str) -> TrainingData:
    if not isinstance(clinical, pd.DataFrame):
        raise TypeError(f"clinical must be a DataFrame indexed by sample ID, got "
                        f"{type(clinical).__name__}")
    for name, flag in ((time, "time"), (event, "event")):
        if name not in clinical.columns:
            raise KeyError(f"{name!r} ({hint(flag + '=', '--' + flag)}) is not a column of "
                           f"the clinical data; available: {list(clinical.columns)}")
    matrix = _genes_by_samples(expr, _as_str_index(clinical.index))
    samples, clinical, _ = align_samples(pd.DataFrame(index=matrix.columns), clinical,
                                         join=join, left_name="expr (samples)",
                                         right_name="clinical data", stacklevel=4)
    complete = clinical[[time, event]].dropna()
    report: dict[str, Any] = {"n_dropped_missing_survival": len(clinical) - len(complete)}
    if report["n_dropped_missing_survival"]:
        warnings.warn(f"{report['n_dropped_missing_survival']} samples with a missing {time} or "
                      f"{event} were left out of the training", UserWarning, stacklevel=3)
    t, e = check_survival(complete[time], complete[event])
    matrix = matrix.set_axis(_as_str_index(matrix.columns), axis=1)[complete.index]
    wanted = _candidate_genes(genes)
    if wanted is None:
        check_unique_genes(matrix.index)
        names = [str(g) for g in matrix.index]
        values = matrix.to_numpy()
    else:
        located = ids.locate(wanted, [str(g) for g in matrix.index])
        if located.missing:
            warnings.warn(f"{len(located.missing)} of {len(wanted)} candidate genes are not in "
                          f"expr and were left out: {located.missing[:20]}", UserWarning,
                          stacklevel=3)
        if not located.found:
            raise ValueError(f"none of the {len(wanted)} candidate genes is in expr (e.g. "
                             f"{wanted[:5]})")
        names = list(located.found)
        values = matrix.to_numpy()[located.indices]
        report["missing_candidates"] = list(located.missing)
        report["mapped_aliases"] = dict(located.mapped)
    try:
        values = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError("expr must hold numbers for the candidate genes") from None
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        listed = [names[i] for i in np.flatnonzero(bad)]
        raise ValueError(f"{len(listed)} candidate genes have missing or infinite values (e.g. "
                         f"{listed[:5]}); impute them or leave those genes out of "
                         f"{hint('genes=', '--genes')}")
    constant = np.all(values == values[:, :1], axis=1)
    if constant.all():
        raise ValueError(f"every candidate gene has one value in all {values.shape[1]} samples")
    if constant.any():
        removed = [names[i] for i in np.flatnonzero(constant)]
        warnings.warn(f"{len(removed)} candidate genes have one value in every sample and were "
                      f"left out: {removed[:10]}", UserWarning, stacklevel=3)
        report["constant_genes_removed"] = removed
    keep = ~constant
    return TrainingData(values[keep].T.copy(), t, e, [n for n, k in zip(names, keep,
                                                                        strict=True) if k],
                        complete.index, report)


# -- the pipeline on arrays ---------------------------------------------------------------------


@dataclass
class PipelineFit:
    """One run of screen -> cv_coxnet -> coefficients on arrays."""

    coef: np.ndarray  # (p,) original scale, 0 outside the model
    cv: CVCoxnetResult | None
    screen: pd.DataFrame | None
    screened: np.ndarray  # (p,) genes passed to the LASSO


def fit_pipeline(x: np.ndarray, t: np.ndarray, e: np.ndarray, genes: list[str], *,
                 alpha: float, folds: Any, measure: str, lambda_rule: str,
                 screen_p: float | None, seed: int | None, n_jobs: int | None) -> PipelineFit:
    """screen (univariate Cox, ``p < screen_p``) -> ``cv_coxnet`` -> the coefficients at
    ``lambda_min`` or ``lambda_1se``, for validated arrays (rows may repeat, as in a bootstrap
    resample). ``folds`` is a number of folds (event-stratified, from ``seed``) or fold ids."""
    p = x.shape[1]
    coef = np.zeros(p)
    table = None
    screened = np.ones(p, dtype=bool)
    labels = pd.RangeIndex(len(t))
    if screen_p is not None:
        clinical = pd.DataFrame({"time": t, "event": e}, index=labels)
        table = screen(pd.DataFrame(x.T, index=genes, columns=labels), clinical, time="time",
                       event="event", n_jobs=n_jobs)
        screened = (table["p"] < screen_p).to_numpy()
        if not screened.any():
            return PipelineFit(coef, None, table, screened)
    columns = np.flatnonzero(screened)
    X = pd.DataFrame(x[:, columns], index=labels, columns=[genes[j] for j in columns])
    cv = cv_coxnet(X, t, e, folds=folds, measure=measure, alpha=alpha, seed=seed,
                   n_jobs=n_jobs)
    chosen = cv.coef_min if lambda_rule == "min" else cv.coef_1se
    coef[columns] = chosen.to_numpy()
    return PipelineFit(coef, cv, table, screened)


def performance(risk: np.ndarray, t: np.ndarray, e: np.ndarray, grid: np.ndarray
                ) -> np.ndarray:
    """Harrell's C and the AUC at each time of ``grid`` (NaN where undefined)."""
    concordant, comparable = harrell_counts(t, e, risk)
    c = concordant / comparable if comparable else np.nan
    return np.r_[c, horizon_auc(t, e, risk, grid)]


def metric_names(horizons: Any) -> list[str]:
    return ["C", *[f"AUC_{horizon_label(y)}" for y in np.atleast_1d(horizons)]]


def efron_baseline(t: np.ndarray, e: np.ndarray, risk: np.ndarray, centre: float
                   ) -> pd.DataFrame:
    """Baseline cumulative hazard at the distinct event times, with Efron's correction for
    tied events (R ``survfit.coxph`` of an Efron fit), for risks centred at ``centre``."""
    weight = np.exp(risk - centre)
    times = np.unique(t[e == 1])
    increments = np.empty(len(times))
    for k, s in enumerate(times):
        at_risk = weight[t >= s].sum()
        dying = (t == s) & (e == 1)
        d, dying_weight = int(dying.sum()), weight[dying].sum()
        increments[k] = np.sum(1.0 / (at_risk - np.arange(d) / d * dying_weight))
    return pd.DataFrame({"time": times, "cumulative_hazard": np.cumsum(increments)})


def _without_nan(value: Any) -> Any:
    """JSON-ready data with NaN / inf (undefined metrics) as null."""
    if isinstance(value, dict):
        return {k: _without_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nan(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


# -- the estimator ------------------------------------------------------------------------------


class RiskModel(BaseEstimator):
    """A LASSO / elastic-net Cox risk model, trained once and frozen (scikit-learn estimator).

    ``fit`` runs the usual signature pipeline: optionally a univariate Cox screen of the
    candidate genes (:func:`~ferroscore.survival.screen`, keep ``p < screen_p``), then
    :func:`~ferroscore.survival.cv_coxnet` and the coefficients at ``lambda_min`` or
    ``lambda_1se``, which are frozen. ``predict`` scores any cohort by the rule of
    ``standardize_new`` (see the module notes for the scales); ``validate_internal`` estimates
    how optimistic the training performance is; :func:`~ferroscore.survival.validate` measures
    it on external cohorts.

    Parameters
    ----------
    genes
        Candidate genes: None (every gene of expr), a catalogue name, a GeneSet / Signature, or
        a list of identifiers (found through aliases, as by :func:`ferroscore.score`).
    alpha
        Elastic-net mixing (1 = LASSO).
    folds
        Number of cross-validation folds (event-stratified, drawn from ``seed``); glmnet's own
        fold ids can be given to :meth:`fit` as ``fold_ids``.
    measure
        Cross-validation measure: ``"deviance"`` (glmnet's default) or ``"C"``.
    lambda_rule
        ``"min"`` (best cross-validated measure) or ``"1se"`` (largest lambda within one
        standard error of it: fewer genes).
    screen_p
        Keep only candidates with univariate Cox ``p < screen_p`` (None: no screen). The screen
        is refitted inside every bootstrap resample of :meth:`validate_internal`.
    standardize_new
        How a cohort is put on the model's scale: ``"within_cohort"`` (default: each model
        gene standardised within the cohort scored) or ``"none"`` (values used as they are:
        same platform and processing as the training cohort).
    min_coverage
        Refuse to score a cohort whose usable model genes carry less than this share of the
        model's total absolute weight.
    seed
        Seed of the folds (and of nothing else in ``fit``).
    n_jobs
        Threads (default: all cores); results do not depend on it.

    Attributes
    ----------
    genes_, coef_, weights_, center_, scale_, offset_
        The model genes (non-zero coefficients), coefficients on the original and on the
        training-standardised scale, the training means and 1/n SDs, and ``sum(coef_ *
        center_)`` (Series indexed by gene; ``offset_`` a float).
    cutoff_
        The training cohort's median risk (high / low split).
    signature_
        The model as a weighted :class:`~ferroscore.genesets.GeneSet` (weights ``weights_``;
        None for the null model).
    baseline_
        Baseline cumulative hazard (``time``, ``cumulative_hazard``).
    cv_, screen_
        The cross-validation and the screen of the fit (None after :meth:`from_json`).
    training_
        Summary of the training cohort and of the selection (saved in the JSON).
    optimism_
        The table of :meth:`validate_internal` (None until it is run).

    Examples
    --------
    >>> import ferroscore as fs
    >>> expr, clinical = fs.datasets.breast_cancer(as_frames=True)
    >>> model = fs.survival.RiskModel(genes="ferroptosis_extended", measure="C", folds=5)
    >>> model = model.fit(expr, clinical, time="rfs_months", event="rfs_event")  # doctest: +SKIP
    >>> risk = model.predict(expr)  # doctest: +SKIP
    """

    def __init__(self, genes: Any = None, alpha: float = 1.0, folds: int = 10,
                 measure: str = "deviance", lambda_rule: str = "min",
                 screen_p: float | None = None, standardize_new: str = "within_cohort",
                 min_coverage: float = 0.8, seed: int | None = 0,
                 n_jobs: int | None = None) -> None:
        self.genes = genes
        self.alpha = alpha
        self.folds = folds
        self.measure = measure
        self.lambda_rule = lambda_rule
        self.screen_p = screen_p
        self.standardize_new = standardize_new
        self.min_coverage = min_coverage
        self.seed = seed
        self.n_jobs = n_jobs

    # -- fitting --------------------------------------------------------------------------------

    def _check_params(self) -> None:
        from ferroscore.scoring import _check_integer

        def name(param: str) -> str:  # the parameter as the user's interface spells it
            return hint(param, "--" + param.replace("_", "-"))

        if self.measure not in MEASURES:
            raise ValueError(f"{name('measure')} must be one of {MEASURES}, got "
                             f"{self.measure!r}")
        if self.lambda_rule not in LAMBDA_RULES:
            raise ValueError(f"{name('lambda_rule')} must be one of {LAMBDA_RULES}, got "
                             f"{self.lambda_rule!r}")
        if self.standardize_new not in STANDARDIZE_NEW:
            raise ValueError(f"{name('standardize_new')} must be one of {STANDARDIZE_NEW}, got "
                             f"{self.standardize_new!r}")
        _check_integer(name("folds"), self.folds, 3)
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"{name('alpha')} must be in [0, 1], got {self.alpha}")
        if self.screen_p is not None and not 0.0 < self.screen_p <= 1.0:
            raise ValueError(f"{name('screen_p')} must be in (0, 1] or None, got "
                             f"{self.screen_p}")
        if not 0.0 < self.min_coverage <= 1.0:
            raise ValueError(f"{name('min_coverage')} must be in (0, 1], got "
                             f"{self.min_coverage}")

    def _pipeline_options(self) -> dict:
        return {"alpha": self.alpha, "measure": self.measure, "lambda_rule": self.lambda_rule,
                "screen_p": self.screen_p}

    def fit(self, expr: pd.DataFrame, clinical: pd.DataFrame, *, time: str, event: str,
            time_unit: str = "months", fold_ids: Any = None, join: str = "exact"
            ) -> RiskModel:
        """Run screen -> cross-validated coxnet on one cohort and freeze the coefficients.

        Parameters
        ----------
        expr
            Expression, genes x samples (as :func:`ferroscore.score`) or samples x genes: the
            axis holding the clinical sample IDs is the samples axis.
        clinical
            One row per sample (index = sample IDs).
        time, event
            Columns of ``clinical``: survival time (> 0, in ``time_unit``) and event (1 =
            event). Samples missing either are left out (with a warning).
        time_unit
            ``"days"``, ``"weeks"``, ``"months"`` (GSE1992) or ``"years"``: the AUC horizons
            of :meth:`validate_internal` are in years.
        fold_ids
            Fold id per sample (Series by sample ID), e.g. the ``foldid`` given to
            ``cv.glmnet``, instead of ``folds`` random folds.
        join
            ``"exact"``: expr and clinical hold the same samples; ``"inner"``: the common
            ones (reported).
        """
        self._check_params()
        if time_unit not in YEAR:
            raise ValueError(f"time_unit must be one of {list(YEAR)}, got {time_unit!r}")
        data = _training_data(expr, clinical, time, event, self.genes, join)
        if time_unit in LONG_FOLLOW_UP and data.time.max() > LONG_FOLLOW_UP[time_unit]:
            warnings.warn(f"the longest follow-up is {data.time.max():g} {time_unit} (over 30 "
                          f"years): is {time!r} in {time_unit}? Pass time_unit= with the "
                          "unit of the times", UserWarning, stacklevel=2)
        folds: Any = self.folds
        if fold_ids is not None:
            if not isinstance(fold_ids, pd.Series):
                raise TypeError("fold_ids must be a Series of fold ids indexed by sample ID")
            fold_ids = fold_ids.set_axis(_as_str_index(fold_ids.index))
            missing = data.samples.difference(fold_ids.index)
            if len(missing):
                raise ValueError(f"fold_ids has no fold for {len(missing)} training samples "
                                 f"(e.g. {list(missing[:3])})")
            folds = fold_ids.reindex(data.samples).to_numpy()
        fit = fit_pipeline(data.x, data.time, data.event, data.genes, folds=folds,
                           seed=self.seed, n_jobs=self.n_jobs, **self._pipeline_options())
        self._freeze(data, fit, time=time, event=event, time_unit=time_unit,
                     given_folds=fold_ids is not None)
        self._training_data = data
        return self

    def _freeze(self, data: TrainingData, fit: PipelineFit, *, time: str, event: str,
                time_unit: str, given_folds: bool) -> None:
        selected = np.flatnonzero(fit.coef != 0)
        genes = pd.Index([data.genes[j] for j in selected], name="gene")
        x = data.x[:, selected]
        self.coef_ = pd.Series(fit.coef[selected], index=genes, name="coef")
        self.center_ = pd.Series(x.mean(axis=0), index=genes, name="center")
        self.scale_ = pd.Series(np.sqrt(np.mean((x - x.mean(axis=0)) ** 2, axis=0)),
                                index=genes, name="scale")
        self.weights_ = (self.coef_ * self.scale_).rename("weight")
        self.offset_ = float(self.coef_ @ self.center_)
        self.genes_ = list(genes)
        risk = x @ self.coef_.to_numpy()
        self.cutoff_ = float(np.median(risk))
        self.baseline_ = efron_baseline(data.time, data.event, risk, self.offset_)
        self.cv_, self.screen_ = fit.cv, fit.screen
        self.optimism_ = None
        grid = horizon_times(DEFAULT_HORIZONS, time_unit)
        apparent = performance(risk, data.time, data.event, grid)
        cv = fit.cv
        selection = {
            "n_candidates": len(data.genes), "n_screened": int(fit.screened.sum()),
            "screen_p": self.screen_p, "measure": self.measure,
            "lambda_rule": self.lambda_rule, "n_genes": len(genes),
            "folds": "given (fold_ids)" if given_folds else
            f"{self.folds} event-stratified folds, seed {self.seed}",
        }
        if cv is not None:
            index = cv.index_min if self.lambda_rule == "min" else cv.index_1se
            selection.update(lambda_=float(cv.lambdas[index]), lambda_min=cv.lambda_min,
                             lambda_1se=cv.lambda_1se, cvm=float(cv.cvm[index]),
                             cvsd=float(cv.cvsd[index]))
        self.training_ = {
            "n": len(data.time), "n_events": int(data.event.sum()), "time": time,
            "event": event, "time_unit": time_unit,
            "max_follow_up": float(data.time.max()),
            "samples": [str(s) for s in data.samples], "candidates": list(data.genes),
            **data.report, "selection": selection,
            "apparent": dict(zip(metric_names(DEFAULT_HORIZONS), apparent.tolist(),
                                 strict=True)),
            "optimism": None,
        }
        if not len(genes):
            warnings.warn(f"the model selected no gene (cross-validated {self.measure} chose "
                          "the null model): every sample gets the same risk. On small cohorts "
                          "CV deviance often does; measure='C' or a larger cohort may select "
                          "genes, whose performance validate_internal() then checks",
                          UserWarning, stacklevel=3)

    # -- applying -------------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise RuntimeError("this RiskModel is not fitted yet; call fit(expr, clinical, "
                               "time=..., event=...) or RiskModel.from_json(path)")

    @property
    def signature_(self) -> GeneSet | None:
        """The model as a weighted gene set: ``weights_`` (coefficients per training SD) over
        ``genes_``. ``fs.score(z, model.signature_, method="wsum")`` on standardised values
        ``z`` plus ``offset_`` is the risk score (what :meth:`predict` computes)."""
        self._check_fitted()
        if not self.genes_:
            return None
        return GeneSet(SIGNATURE_NAME, tuple(self.genes_), tuple(self.weights_.tolist()),
                       description="LASSO-Cox risk model (ferroscore RiskModel): weights per "
                                   "training SD; score standardised values with "
                                   "method='wsum' and add the offset")

    def apply(self, expr: pd.DataFrame) -> RiskScores:
        """Risk scores, high / low groups and the coverage report of one cohort.

        ``expr`` is genes x samples or samples x genes (the axis holding the model's genes is
        the genes axis); model genes are found by name or alias, as by :func:`ferroscore.score`.

        Raises
        ------
        ValueError
            The usable model genes carry less than ``min_coverage`` of the model's weight;
            missing or infinite values in a model gene; within-cohort standardisation of
            fewer than 3 samples.

        Warns
        -----
        UserWarning
            Any model gene missing (the ``wsum`` coverage warning), constant in this cohort,
            or the null model.
        """
        self._check_fitted()
        matrix = self._genes_axis(expr)
        samples = matrix.columns
        if matrix.columns.has_duplicates:
            repeated = matrix.columns[matrix.columns.duplicated()].unique()
            raise ValueError(f"expr has {len(repeated)} repeated sample IDs (e.g. "
                             f"{list(repeated[:3])}); keep one column per sample")
        report: dict[str, Any] = {"rule": self.standardize_new, "n_genes": len(self.genes_),
                                  "cutoff": self.cutoff_, "min_coverage": self.min_coverage}
        if not self.genes_:
            warnings.warn("the null model (no gene selected): every sample gets the same risk",
                          UserWarning, stacklevel=2)
            risk = pd.Series(self.offset_, index=samples, name="risk")
            report.update(found=[], features={}, missing=[], constant=[], weight_coverage=1.0)
            return RiskScores(risk, self._groups(risk), pd.DataFrame(), report)
        located = ids.locate(self.genes_, [str(g) for g in matrix.index])
        values = matrix.to_numpy()[located.indices]
        try:
            values = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise TypeError("expr must hold numbers for the model genes") from None
        found = list(located.found)
        bad = ~np.isfinite(values).all(axis=1)
        if bad.any():
            listed = [found[i] for i in np.flatnonzero(bad)]
            raise ValueError(f"model genes {listed[:10]} have missing or infinite values; impute "
                             "them, or drop those genes (the model then scores without them, "
                             "reported as missing)")
        z, constant = self._standardise(values, found)
        usable = [g for g, c in zip(found, constant, strict=True) if not c]
        weight = self.weights_.abs()
        coverage = float(weight[usable].sum() / weight.sum())
        features = {g: f for g, f, c in zip(found, located.features, constant, strict=True)
                    if not c}
        report.update(found=usable, missing=list(located.missing),
                      constant=[g for g, c in zip(found, constant, strict=True) if c],
                      mapped_aliases=dict(located.mapped), features=features,
                      weight_coverage=coverage)
        if report["constant"]:
            warnings.warn(f"model genes {report['constant']} have one value in every sample of "
                          "this cohort: within-cohort standardisation is undefined, so they "
                          "count as missing", UserWarning, stacklevel=2)
        if coverage < self.min_coverage:
            raise ValueError(
                f"the cohort has {len(usable)} of the model's {len(self.genes_)} genes, "
                f"carrying {coverage:.0%} of its weight (< min_coverage "
                f"{self.min_coverage:.0%}); missing: {report['missing'] + report['constant']}. "
                f"Scores without them would not be the model's; measure those genes, or lower "
                f"{hint('min_coverage=', '--min-coverage')} knowingly")
        frame = pd.DataFrame(z[~constant].T, index=samples, columns=list(features.values()))
        result = self._score(frame)
        scores = result.scores[SIGNATURE_NAME]
        if not _as_str_index(scores.index).equals(_as_str_index(samples)):
            raise RuntimeError("internal error: scored samples do not match the input")
        risk = pd.Series(self.offset_ + scores.to_numpy(), index=samples, name="risk")
        return RiskScores(risk, self._groups(risk), result.coverage, report)

    def _score(self, frame: pd.DataFrame) -> ScoreResult:
        from ferroscore.scoring import score

        return score(frame, self.signature_, "wsum", genes_axis="columns", min_coverage=0.0,
                     n_jobs=1)

    def _genes_axis(self, expr: Any) -> pd.DataFrame:
        if not isinstance(expr, pd.DataFrame):
            raise TypeError(f"expr must be a DataFrame (genes x samples or samples x genes), "
                            f"got {type(expr).__name__}")
        genes = set(self.genes_)
        on_rows = sum(str(g) in genes for g in expr.index)
        on_columns = sum(str(g) in genes for g in expr.columns)
        if on_rows == 0 and on_columns == 0 and self.genes_:
            by_rows = ids.locate(self.genes_, [str(g) for g in expr.index]).n_found
            by_columns = ids.locate(self.genes_, [str(g) for g in expr.columns]).n_found
            if by_rows == 0 and by_columns == 0:
                raise ValueError(f"none of the model's {len(self.genes_)} genes (e.g. "
                                 f"{self.genes_[:5]}) is a row or column of expr, even through "
                                 "aliases")
            on_rows, on_columns = by_rows, by_columns
        return expr if on_rows >= on_columns else expr.T

    def _standardise(self, values: np.ndarray, genes: list[str]
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Model genes (rows) standardised by the model's rule; which rows are constant."""
        if self.standardize_new == "none":
            centre = self.center_[genes].to_numpy()[:, None]
            scale = self.scale_[genes].to_numpy()[:, None]
            return (values - centre) / scale, np.zeros(len(genes), dtype=bool)
        n = values.shape[1]
        if n < 3:
            fix = hint("standardize_new='none'", "--standardize-new none")
            raise ValueError(f"within-cohort standardisation needs at least 3 samples, got {n}; "
                             f"for samples measured as the training cohort use {fix}")
        centre = values.mean(axis=1, keepdims=True)
        deviation = values - centre
        scale = np.sqrt(np.mean(deviation**2, axis=1, keepdims=True))
        constant = np.all(values == values[:, :1], axis=1)
        scale[constant] = 1.0
        return deviation / scale, constant

    def _groups(self, risk: pd.Series) -> pd.Series:
        from ferroscore.survival.cutpoint import low_high

        return low_high(risk, self.cutoff_, f"the training cut-off {self.cutoff_:g}",
                        empty="warn").rename("group")

    def predict(self, expr: pd.DataFrame) -> pd.Series:
        """Risk score per sample (Series indexed by sample ID); see :meth:`apply`."""
        return self.apply(expr).risk

    def predict_survival(self, expr: pd.DataFrame, times: Any) -> pd.DataFrame:
        """Predicted survival probability at ``times`` (in the training time unit) per sample
        (samples x times): ``exp(-H0(t) exp(risk - offset_))`` with the training baseline."""
        self._check_fitted()
        grid = np.atleast_1d(np.asarray(times, dtype=float))
        risk = self.predict(expr)
        return self._survival_at(risk, grid)

    def _survival_at(self, risk: pd.Series, grid: np.ndarray) -> pd.DataFrame:
        baseline = self.baseline_
        position = np.searchsorted(baseline["time"].to_numpy(), grid, side="right")
        cumulative = np.r_[0.0, baseline["cumulative_hazard"].to_numpy()][position]
        values = np.exp(-np.outer(np.exp(risk.to_numpy() - self.offset_), cumulative))
        return pd.DataFrame(values, index=risk.index, columns=pd.Index(grid, name="time"))

    # -- internal validation --------------------------------------------------------------------

    def validate_internal(self, B: int = 100, seed: int | None = 0,
                          horizons: Any = DEFAULT_HORIZONS, n_jobs: int | None = None
                          ) -> pd.DataFrame:
        """Harrell's bootstrap estimate of the optimism of the training performance.

        In each of ``B`` resamples (samples drawn with replacement, seeded), the whole
        pipeline (screen, cross-validation with new folds, fit) is refitted; the optimism of a
        resample is its model's performance on the resample minus its performance on the
        original cohort. The corrected performance is the apparent one (the final model on the
        training cohort) minus the mean optimism. Performance: Harrell's C and the AUC at each
        horizon (years), with the risk scores on the training scale (``X beta``).

        Returns
        -------
        DataFrame
            Index ``metric`` (``C``, ``AUC_1y``, ...); columns ``apparent``, ``optimism``,
            ``corrected``, ``n_resamples`` (resamples where the metric is defined). ``attrs``:
            ``B``, ``seed``, ``seconds``, ``n_failed``, ``n_null_models``,
            ``selection_frequency`` (share of resamples selecting each gene), ``resamples``
            (per resample: each metric on the resample and on the original cohort, the number
            of genes and the lambda chosen).
        """
        from ferroscore.survival.optimism import bootstrap_optimism

        self._check_fitted()
        data = getattr(self, "_training_data", None)
        if data is None:
            raise RuntimeError("validate_internal needs the training data: it is available on "
                               "a model fitted in this session, not on one loaded from JSON")
        table = bootstrap_optimism(self, data, B=B, seed=seed, horizons=horizons,
                                   n_jobs=n_jobs)
        self.optimism_ = table
        self.training_["optimism"] = {
            "B": B, "seed": seed, "horizons": list(np.atleast_1d(horizons).tolist()),
            "table": {metric: row.to_dict() for metric, row in table.iterrows()},
            "n_failed": table.attrs["n_failed"], "n_null_models": table.attrs["n_null_models"],
        }
        return table

    def performance(self) -> pd.DataFrame:
        """Training performance with its optimism-corrected value beside it: the table of
        :meth:`validate_internal`, or the apparent values with NaN corrections (and a note)
        before it has been run."""
        self._check_fitted()
        if self.optimism_ is not None:
            return self.optimism_
        stored = self.training_.get("optimism")
        if stored:
            return pd.DataFrame(stored["table"]).T.rename_axis("metric")
        apparent = pd.Series(self.training_["apparent"], name="apparent")
        frame = pd.DataFrame({"apparent": apparent, "optimism": np.nan, "corrected": np.nan})
        frame.attrs["note"] = ("apparent performance on the training cohort is optimistic; run "
                               "validate_internal() for the corrected values")
        return frame.rename_axis("metric")

    def coefficients(self) -> pd.DataFrame:
        """One row per model gene: ``coef`` (original scale), ``weight`` (per training SD),
        ``hr_per_sd`` (``exp(weight)``), ``center``, ``scale``."""
        self._check_fitted()
        return pd.DataFrame({"coef": self.coef_, "weight": self.weights_,
                             "hr_per_sd": np.exp(self.weights_), "center": self.center_,
                             "scale": self.scale_})

    # -- JSON -----------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The frozen model as JSON-ready data (see :meth:`to_json`)."""
        from ferroscore.scoring import versions

        self._check_fitted()
        params = self.get_params()
        genes = params["genes"]
        if isinstance(genes, (GeneSet, Signature)):
            params["genes"] = list(genes.genes)
        elif genes is not None and not isinstance(genes, str):
            params["genes"] = [str(g) for g in genes]
        return _without_nan(to_jsonable({
            "format": FORMAT, "format_version": FORMAT_VERSION, "params": params,
            "model": {
                "genes": self.genes_, "coef": self.coef_.tolist(),
                "weights": self.weights_.tolist(), "center": self.center_.tolist(),
                "scale": self.scale_.tolist(), "offset": self.offset_,
                "cutoff": self.cutoff_,
                "cutoff_rule": "median risk of the training cohort (high: above it)",
                "standardisation": {
                    "training": "each model gene centred and divided by its 1/n SD on the "
                                "training cohort (center, scale); weights = coef * scale",
                    "new_cohort": self.standardize_new,
                    "risk": "offset + sum(weights * z), z = the gene standardised by the rule "
                            "(within_cohort: the cohort's own mean and 1/n SD; none: the "
                            "training center and scale); missing genes contribute 0",
                    "min_coverage": self.min_coverage},
                "baseline": {"time": self.baseline_["time"].tolist(),
                             "cumulative_hazard": self.baseline_["cumulative_hazard"].tolist(),
                             "ties": "efron", "centred_at": "offset"},
            },
            "training": self.training_,
            "versions": versions(),
            "catalogue_version": genesets.catalogue_version(),
        }))

    def to_json(self, path: str | Path) -> Path:
        """Save the frozen model as JSON (coefficients, genes, standardisation, cut-off,
        baseline hazard, training-cohort summary and performance, versions, catalogue
        version). Never a pickle: the file is readable and diffable."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n")
        return path

    @classmethod
    def from_json(cls, path: str | Path) -> RiskModel:
        """Load a model saved by :meth:`to_json`; it predicts exactly as the saved one."""
        path = Path(path)
        try:
            content = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not a JSON file ({error})") from None
        if not isinstance(content, dict) or content.get("format") != FORMAT:
            raise ValueError(f"{path} is not a ferroscore RiskModel file (no \"format\": "
                             f"\"{FORMAT}\")")
        if content.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{path} has RiskModel format version "
                             f"{content.get('format_version')}; this ferroscore reads "
                             f"version {FORMAT_VERSION}")
        try:
            model = cls(**content["params"])
            saved = content["model"]
            genes = pd.Index([str(g) for g in saved["genes"]], name="gene")
            arrays = {key: np.asarray(saved[key], dtype=float)
                      for key in ("coef", "weights", "center", "scale")}
            baseline = saved["baseline"]
            offset, cutoff = float(saved["offset"]), float(saved["cutoff"])
            training = content["training"]
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{path}: incomplete or malformed RiskModel file ({error!r})"
                             ) from None
        if any(len(a) != len(genes) for a in arrays.values()) or genes.has_duplicates:
            raise ValueError(f"{path}: the model's genes and coefficients do not match")
        if not all(np.isfinite(a).all() for a in arrays.values()) or not (
                arrays["scale"] > 0).all():
            raise ValueError(f"{path}: non-finite coefficients or non-positive scales")
        model.genes_ = list(genes)
        model.coef_ = pd.Series(arrays["coef"], index=genes, name="coef")
        model.weights_ = pd.Series(arrays["weights"], index=genes, name="weight")
        model.center_ = pd.Series(arrays["center"], index=genes, name="center")
        model.scale_ = pd.Series(arrays["scale"], index=genes, name="scale")
        model.offset_, model.cutoff_ = offset, cutoff
        model.baseline_ = pd.DataFrame({"time": np.asarray(baseline["time"], dtype=float),
                                        "cumulative_hazard": np.asarray(
                                            baseline["cumulative_hazard"], dtype=float)})
        model.cv_ = model.screen_ = model.optimism_ = None
        model.training_ = training
        return model
