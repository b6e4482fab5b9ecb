"""Survival analysis of ferroptosis scores, matching R ``survival`` and ``maxstat``.

- :func:`cox`: Cox proportional hazards (lifelines, Efron ties, tightened convergence) with a
  tidy table and the likelihood-ratio and score tests; :func:`ph_test` is R's current
  ``cox.zph(transform="km", terms=FALSE)`` (survival >= 3.0).
- :func:`km`, :func:`logrank`: Kaplan-Meier curves and the log-rank test (R ``survdiff``).
- :func:`cutpoint`: the maximally selected log-rank statistic (``maxstat``), whose p-value is
  adjusted for the search over cut points by default. :func:`split` makes labelled groups.
- :func:`concordance` (Harrell or Uno) and :func:`time_auc` (cumulative/dynamic AUC with IPCW).
- :func:`analyze`: the whole workflow on a ScoreResult and a clinical table.

Engines for building and pooling prognostic signatures:

- :func:`screen`: univariate Cox per gene (Efron ties), vectorised over genes, BH q-values.
- :func:`coxnet`: LASSO / elastic-net Cox path with glmnet's objective (Breslow ties), lambda
  sequence and path rules; :func:`cv_coxnet`: ``cv.glmnet``'s cross-validation (grouped
  deviance or Harrell's C, ``lambda_min`` / ``lambda_1se``).
- :func:`meta_analysis`: fixed- and random-effects pooling across cohorts, as metafor's
  ``rma`` (FE, DL, REML, PM, HE, SJ, Knapp-Hartung).

Times must be positive and finite; events 0/1 (booleans accepted). Higher risk scores mean
shorter survival throughout.

One module per job: ``cox`` (Cox models, ``cox.zph``), ``km`` (Kaplan-Meier, log-rank),
``cutpoint`` (maxstat, ``split``), ``metrics`` (concordance, time-dependent AUC), ``analyze``
(the workflow), ``screen``, ``coxnet`` (with ``_breslow``, the Breslow likelihood, and
``_coxnet_solver``, its compiled solver), ``cv`` and ``meta``; ``_validation`` holds the shared
input checks, including the rule that pandas inputs are paired by index.
"""

# The private helpers are re-exported too: code written against the single-file module used
# them as ``ferroscore.survival._name``.
# ruff: noqa: F401
from ferroscore.survival._validation import _as_array, check_survival
from ferroscore.survival.analyze import SurvivalAnalysis, _score_columns, analyze
from ferroscore.survival.cox import (
    COX_COLUMNS,
    _convergence_message,
    _efron_derivatives,
    _prepare,
    _scale,
    _time_transform,
    cox,
    ph_test,
)
from ferroscore.survival.coxnet import CoxnetPath, coxnet
from ferroscore.survival.cutpoint import (
    P_METHODS,
    CutpointResult,
    _exact_gauss,
    _lau92,
    _lau94,
    _permutation_p,
    cutpoint,
    logrank_scores,
    split,
)
from ferroscore.survival.cv import CVCoxnetResult, cv_coxnet, fold_ids
from ferroscore.survival.km import KMResult, LogrankResult, _groups, _km_curve, km, logrank
from ferroscore.survival.meta import MetaAnalysis, meta_analysis
from ferroscore.survival.metrics import _censoring_km, _ipcw, concordance, time_auc
from ferroscore.survival.screen import screen

__all__ = [
    "CVCoxnetResult",
    "CoxnetPath",
    "CutpointResult",
    "KMResult",
    "LogrankResult",
    "MetaAnalysis",
    "SurvivalAnalysis",
    "analyze",
    "concordance",
    "cox",
    "coxnet",
    "cutpoint",
    "cv_coxnet",
    "fold_ids",
    "km",
    "logrank",
    "meta_analysis",
    "ph_test",
    "screen",
    "split",
    "time_auc",
]
