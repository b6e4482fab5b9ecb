"""The one-call workflow: every score column related to survival, optionally scored with
several methods (method sensitivity), with each score's direction and generated conclusions."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ferroscore.significance import benjamini_hochberg
from ferroscore.survival import interpret
from ferroscore.survival._validation import check_survival
from ferroscore.survival.cox import cox
from ferroscore.survival.cutpoint import CutpointResult, cutpoint, split
from ferroscore.survival.km import KMResult, km
from ferroscore.survival.metrics import concordance, horizon_times, time_auc_ci
from ferroscore.tables import align_samples

TABLE_COLUMNS = [
    "score", "method", "direction", "n_genes_found", "n_genes_requested", "n", "n_events",
    "hr_per_sd", "hr_lower", "hr_upper", "p_cox", "q_cox", "n_multi", "n_dropped_multi",
    "hr_per_sd_multi", "hr_multi_lower", "hr_multi_upper", "p_cox_multi", "q_cox_multi",
    "p_logrank_median", "q_logrank_median", "cut", "cut_statistic", "p_cut", "p_cut_raw",
    "q_cut", "n_low_cut", "n_high_cut", "concordance",
]
AUC_COLUMNS = ["score", "method", "horizon", "years", "time", "auc", "ci_lower", "ci_upper",
               "n_cases", "n_controls", "n_boot", "note"]
Q_VALUES = (("p_cox", "q_cox"), ("p_cox_multi", "q_cox_multi"),
            ("p_logrank_median", "q_logrank_median"), ("p_cut", "q_cut"))


@dataclass
class SurvivalAnalysis:
    """Result of :func:`analyze`.

    Attributes
    ----------
    table
        One row per score column and method (see :func:`analyze`).
    cox_univariate, cox_multivariable
        Key -> Cox table (per SD of the score). The key is the score column, or
        ``"<score> [<method>]"`` when several methods were analysed (see :meth:`key`).
    km
        Key -> :class:`KMResult` of the median split.
    cutpoints
        Key -> :class:`CutpointResult`.
    params
        The arguments used, the methods and the ``platform`` note (None if not given).
    method_sensitivity
        With several methods, one row per score: the range of HR and q across the methods
        and whether the result flips with the method (see
        :func:`ferroscore.survival.interpret.method_sensitivity`); empty otherwise.
    scores
        Method -> :class:`~ferroscore.ScoreResult` the analysis used (empty for plain score
        tables).
    time_auc
        One row per score column, method and horizon: time-dependent AUC of the score as a
        risk marker with its bootstrap CI (:func:`~ferroscore.survival.time_auc_ci`); empty
        when ``analyze`` was not given ``time_unit``.
    """

    table: pd.DataFrame
    cox_univariate: dict[str, pd.DataFrame]
    cox_multivariable: dict[str, pd.DataFrame]
    km: dict[str, KMResult]
    cutpoints: dict[str, CutpointResult]
    params: dict
    method_sensitivity: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=interpret.SENSITIVITY_COLUMNS))
    scores: dict = field(default_factory=dict, repr=False)
    time_auc: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def __repr__(self) -> str:
        table = self.table
        names = list(dict.fromkeys(table["score"].astype(str)))
        lines = [f"SurvivalAnalysis of {len(names)} score columns "
                 f"({', '.join(names[:4])}{', ...' if len(names) > 4 else ''})"
                 f" on {self.params['time']!r} / {self.params['event']!r}"]
        methods = self.params.get("methods") or []
        if len(methods) > 1:
            lines.append(f"  methods: {', '.join(methods)}")
        if len(table):
            best = table.loc[table["q_cox"].idxmin()]
            lines.append(f"  n = {int(table['n'].max())}, events = {int(table['n_events'].max())};"
                         f" smallest q (Cox per SD) = {best['q_cox']:.3g} ({best['score']}, HR "
                         f"{best['hr_per_sd']:.2f})")
        if self.params["covariates"]:
            lines.append(f"  adjusted for {self.params['covariates']}")
        if self.params.get("platform"):
            lines.append(f"  platform: {self.params['platform']}")
        lines.append(f"  {self.conclusion()}")
        lines.append("  see .table, .method_sensitivity, .cox_univariate, .cox_multivariable, "
                     ".km, .cutpoints, .conclusion()")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def key(self, score: str, method: str | None = None) -> str:
        """The key of ``score`` (scored with ``method``) in the dicts of Cox tables, KM
        curves and cut points."""
        return score if len(self.params.get("methods") or [None]) <= 1 else f"{score} [{method}]"

    def conclusion(self, endpoint: str | None = None, *, alpha: float = 0.05) -> str:
        """A sentence generated from the table: which scores are associated with survival
        (univariate Cox per SD, ``q < alpha``), in which direction, whether that holds after
        adjustment and with every method. ``endpoint`` names the outcome in the sentence
        (default: the time and event columns)."""
        endpoint = endpoint or f"survival ({self.params['time']}, {self.params['event']})"
        return interpret.conclusion(self.table, endpoint=endpoint,
                                    covariates=self.params["covariates"], alpha=alpha)


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


@dataclass
class _Scored:
    """The score columns of one method with what is known about each column."""

    method: str | None
    frame: pd.DataFrame
    directions: dict[str, str]
    genes: dict[str, tuple[int, int]]  # column -> (found, requested)
    result: Any = None


def _from_result(result: Any, method: str | None = None) -> _Scored:
    from ferroscore import genesets

    entries = {e["name"]: e for e in result.params["sets"]}
    directions = {name: e.get("direction") or genesets.direction_of(name)
                  for name, e in entries.items()}
    genes = {name: (e["n_found"], e["n_requested"]) for name, e in entries.items()}
    return _Scored(method or result.params.get("method"), result.set_scores(), directions,
                   genes, result)


def _scored_inputs(data: Any, sets: Any, methods: Sequence[str] | None,
                   score_options: Mapping | None) -> list[_Scored]:
    """Turn every accepted form of ``data`` into score columns per method."""
    from ferroscore import genesets
    from ferroscore.result import ScoreResult
    from ferroscore.scoring import DEFAULT_METHOD, score

    if sets is not None or methods is not None:
        if isinstance(data, (ScoreResult, Mapping)) or isinstance(data, pd.Series):
            raise TypeError("sets= and methods= score expression data; this input holds "
                            "scores already: pass the expression (genes x samples) instead, or "
                            "leave out sets= and methods=")
        if isinstance(methods, str):
            methods = [methods]
        methods = list(methods or [DEFAULT_METHOD])
        repeated = sorted({m for m in methods if methods.count(m) > 1})
        if repeated or not methods:
            raise ValueError(f"methods must be distinct method names, got {methods}")
        options = {"progress": False, **dict(score_options or {})}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = [_from_result(score(data, "ferroptosis_core" if sets is None else sets, m,
                                      **options), m) for m in methods]
        for message, category in dict.fromkeys((str(w.message), w.category) for w in caught):
            warnings.warn(message, category, stacklevel=3)  # each once, not once per method
        return out
    if score_options:
        raise TypeError("score_options= is for scoring expression: pass sets= or methods= too")
    if isinstance(data, ScoreResult):
        return [_from_result(data)]
    if isinstance(data, Mapping):
        if not data or not all(isinstance(r, ScoreResult) for r in data.values()):
            raise TypeError("a dict input maps method names to ScoreResults "
                            "({'singscore': fs.score(...), ...})")
        return [_from_result(r, str(m)) for m, r in data.items()]
    frame = _score_columns(data)
    return [_Scored(None, frame, {c: genesets.direction_of(str(c)) for c in frame.columns}, {})]


def _check_directions(directions: Mapping[str, str] | None) -> dict[str, str]:
    from ferroscore.genesets import DIRECTIONS

    directions = dict(directions or {})
    bad = {k: v for k, v in directions.items() if v not in DIRECTIONS}
    if bad:
        raise ValueError(f"unknown directions {bad}; use one of {list(DIRECTIONS)}")
    return directions


def _looks_like_expression(frame: pd.DataFrame, clinical: pd.DataFrame) -> bool:
    samples = pd.Index(clinical.index.astype(str))
    return (not len(pd.Index(frame.index.astype(str)).intersection(samples))
            and len(pd.Index(frame.columns.astype(str)).intersection(samples)) > 0)


def _platform(platform: str | None, data: Any, inputs: list[_Scored]) -> str | None:
    from ferroscore.datasets import platform_note

    if platform is not None:
        return platform
    notes = [s.result.params.get("platform") for s in inputs if s.result is not None]
    return next((n for n in notes if n), None) or platform_note(data)


def analyze(
    data: Any,
    clinical: pd.DataFrame,
    *,
    time: str,
    event: str,
    covariates: list[str] | None = None,
    sets: Any = None,
    methods: Sequence[str] | None = None,
    platform: str | None = None,
    directions: Mapping[str, str] | None = None,
    minprop: float = 0.1,
    p_method: str = "lau94",
    join: str = "exact",
    score_options: Mapping[str, Any] | None = None,
    time_unit: str | None = None,
    auc_horizons: Sequence[float] = (1, 3, 5),
    auc_bootstrap: int = 200,
    seed: int = 0,
) -> SurvivalAnalysis:
    """Relate every score column to survival in one call, optionally with several scoring
    methods.

    Per score column (and method): univariate Cox (HR per SD of the score), multivariable Cox
    with ``covariates`` (HR per SD), median split with Kaplan-Meier and log-rank, the optimal
    cut with its search-adjusted p-value (``p_method``), and Harrell's concordance. Samples
    with missing values are dropped per model and counted. Benjamini-Hochberg q-values are
    computed across the score columns for each test, within each method: they do not cover
    choosing a method after seeing the results, which is what the method-sensitivity table
    is for.

    Parameters
    ----------
    data
        The scores: a :class:`~ferroscore.ScoreResult`, a dict ``{method: ScoreResult}``, or a
        DataFrame / Series of scores (samples x columns). With ``sets=`` or ``methods=``:
        the expression to score (anything :func:`ferroscore.score` takes), scored with each
        method.
    clinical
        Samples x clinical columns, paired with the scores by sample ID.
    time, event, covariates
        Column names: survival time (> 0), event (1 = event), covariates of the
        multivariable model.
    sets, methods
        Gene sets (default ``"ferroptosis_core"``) and scoring methods (default
        ``["singscore"]``), e.g. ``methods=["singscore", "ssgsea", "gsva"]``.
        ``score_options`` go to :func:`ferroscore.score`.
    platform
        What the expression values are (e.g. two-colour log ratios against a reference, whose
        within-sample ranks describe tumour vs reference); default: the note the data carry
        (:func:`ferroscore.datasets.platform_note`). Kept in ``params`` and printed by
        reports.
    directions
        Column -> direction (a key of ``ferroscore.genesets.DIRECTIONS``), overriding what
        is known: the directions recorded by :func:`ferroscore.score` (``"signed"``,
        ``"pro-ferroptotic axis"``, ``"anti-ferroptotic axis"``, ``"unsigned"``), else the
        catalogue set of the column's name, else ``"unknown"``.
    time_unit
        Unit of the ``time`` column (``"days"``, ``"weeks"``, ``"months"``, ``"years"``).
        Given, every score also gets its time-dependent AUC at ``auc_horizons`` (years), the
        score taken as a risk marker (AUC < 0.5: higher score, longer survival), with a
        percentile-bootstrap CI from ``auc_bootstrap`` resamples seeded by ``seed``
        (:func:`~ferroscore.survival.time_auc_ci`). Not given, there is no AUC (the unit is
        never guessed).

    Warns
    -----
    UserWarning
        Once per call when scores without a ferroptosis direction are tested (``unsigned``
        sets such as KEGG or WikiPathways mix drivers and suppressors; ``unknown`` columns),
        and once when a result flips with the method.

    Returns
    -------
    SurvivalAnalysis
        ``.table`` columns: ``score``, ``method`` (None for plain score tables),
        ``direction``, ``n_genes_found``, ``n_genes_requested`` (for scored sets), ``n``,
        ``n_events``, ``hr_per_sd``, ``hr_lower``, ``hr_upper``, ``p_cox``, ``q_cox``,
        ``n_multi``, ``n_dropped_multi``, ``hr_per_sd_multi``, ``hr_multi_lower``,
        ``hr_multi_upper``, ``p_cox_multi``, ``q_cox_multi``, ``p_logrank_median``,
        ``q_logrank_median``, ``cut``, ``cut_statistic``, ``p_cut`` (adjusted), ``p_cut_raw``
        (unadjusted, for reference), ``q_cut``, ``n_low_cut``, ``n_high_cut``,
        ``concordance``; with ``time_unit``, ``auc_<h>``, ``auc_<h>_lower`` and
        ``auc_<h>_upper`` per horizon (e.g. ``auc_3y``; the tidy table is ``.time_auc``).
        ``.method_sensitivity`` and ``.conclusion()`` interpret it.

    Examples
    --------
    >>> import ferroscore as fs
    >>> expr, clinical = fs.datasets.breast_cancer(as_frames=True)
    >>> surv = fs.survival.analyze(expr, clinical, time="rfs_months", event="rfs_event",
    ...                            sets="ferroptosis_core", methods=["singscore", "ssgsea"])
    >>> surv.table[["score", "method", "direction"]].values.tolist()
    [['ferroptosis_core', 'singscore', 'signed'], ['ferroptosis_core', 'ssgsea', 'signed']]
    """
    covariates = list(covariates or [])
    missing = [c for c in [time, event, *covariates] if c not in clinical.columns]
    if missing:
        raise KeyError(f"columns not in the clinical data: {missing}; available: "
                       f"{list(clinical.columns)}")
    overrides = _check_directions(directions)
    auc = _auc_options(time_unit, auc_horizons, auc_bootstrap, seed)
    inputs = _scored_inputs(data, sets, methods, score_options)
    if len(inputs) == 1 and inputs[0].method is None and _looks_like_expression(
            inputs[0].frame, clinical):
        raise ValueError("the scores' rows are not the clinical samples, but their columns are: "
                         "this looks like expression (genes x samples); pass sets= or methods= "
                         "to score it, or transpose the score table")
    method_names = [s.method for s in inputs]
    several = len(inputs) > 1
    rows, uni, multi, kms, cuts, aucs = [], {}, {}, {}, {}, []
    dropped = 0
    for scored in inputs:
        frame, aligned, dropped = align_samples(scored.frame, clinical, join=join,
                                                left_name="scores", right_name="clinical data")
        for column in frame.columns:
            key = f"{column} [{scored.method}]" if several else column
            found, requested = scored.genes.get(column, (pd.NA, pd.NA))
            row = {"score": column, "method": scored.method,
                   "direction": overrides.get(column, scored.directions.get(column, "unknown")),
                   "n_genes_found": found, "n_genes_requested": requested}
            row.update(_fit_one(frame[column], aligned, time, event, covariates, minprop,
                                p_method, key, uni, multi, kms, cuts))
            if auc is not None:
                horizons = _time_auc(frame[column], aligned, time, event, auc)
                aucs.append(horizons.assign(score=column, method=scored.method))
                row.update(_auc_columns(horizons))
            rows.append(row)
    table = pd.DataFrame(rows)
    for column in ("n_genes_found", "n_genes_requested"):
        table[column] = table[column].astype("Int64")
    for p_col, q_col in Q_VALUES:
        if p_col in table:
            table[q_col] = pd.concat(
                [pd.Series(benjamini_hochberg(g[p_col].to_numpy()), index=g.index)
                 for _, g in table.groupby("method", sort=False, dropna=False)])
    table = table[[c for c in TABLE_COLUMNS if c in table.columns]
                  + [c for c in table.columns if c.startswith("auc_")]]
    sensitivity = interpret.method_sensitivity(table)
    _warn(table, sensitivity)
    params = {"time": time, "event": event, "covariates": covariates, "minprop": minprop,
              "p_method": p_method, "join": join, "n_dropped_join": dropped,
              "methods": method_names, "platform": _platform(platform, data, inputs),
              "time_unit": time_unit, "time_auc": auc}
    results = {s.method: s.result for s in inputs if s.result is not None}
    time_aucs = (pd.concat(aucs, ignore_index=True)[AUC_COLUMNS] if aucs
                 else pd.DataFrame(columns=AUC_COLUMNS))
    return SurvivalAnalysis(table, uni, multi, kms, cuts, params, sensitivity, results,
                            time_aucs)


def _auc_options(time_unit: str | None, horizons: Sequence[float], bootstrap: int,
                 seed: int) -> dict | None:
    """The time-dependent AUC settings, checked before any model is fitted (None: no AUC)."""
    if time_unit is None:
        return None
    horizon_times(horizons, time_unit)  # checks the unit and the horizons
    return {"time_unit": time_unit, "horizons": [float(h) for h in np.atleast_1d(horizons)],
            "B": bootstrap, "seed": seed}


def _time_auc(score: pd.Series, clinical: pd.DataFrame, time: str, event: str,
              options: dict) -> pd.DataFrame:
    """Time-dependent AUC with CIs of one score, on the samples with score and survival."""
    data = clinical[[time, event]].assign(__score=score.to_numpy()).dropna()
    return time_auc_ci(data[time], data[event], data["__score"], options["horizons"],
                       time_unit=options["time_unit"], B=options["B"], seed=options["seed"])


def _auc_columns(horizons: pd.DataFrame) -> dict:
    out = {}
    for row in horizons.itertuples(index=False):
        out.update({f"auc_{row.horizon}": row.auc, f"auc_{row.horizon}_lower": row.ci_lower,
                    f"auc_{row.horizon}_upper": row.ci_upper})
    return out


def _fit_one(score: pd.Series, clinical: pd.DataFrame, time: str, event: str,
             covariates: list[str], minprop: float, p_method: str, key: str,
             uni: dict, multi: dict, kms: dict, cuts: dict) -> dict:
    """The numbers of one score column; the fitted objects go to the dicts under ``key``."""
    name = str(score.name)
    data = clinical.assign(__score=score.to_numpy())
    base = data[["__score", time, event]].dropna()
    t, e = check_survival(base[time], base[event])
    u = cox(data, time, event, "__score", per_sd=True)
    uni[key] = u.assign(term=u["term"].replace("__score", name))
    row = {"n": u.attrs["n"], "n_events": u.attrs["n_events"], "hr_per_sd": u["hr"].iat[0],
           "hr_lower": u["hr_lower"].iat[0], "hr_upper": u["hr_upper"].iat[0],
           "p_cox": u["p"].iat[0]}
    if covariates:
        mv = cox(data, time, event, ["__score", *covariates], per_sd=["__score"])
        multi[key] = mv.assign(term=mv["term"].replace("__score", name))
        row.update(n_multi=mv.attrs["n"], n_dropped_multi=mv.attrs["n_dropped"],
                   hr_per_sd_multi=mv["hr"].iat[0], hr_multi_lower=mv["hr_lower"].iat[0],
                   hr_multi_upper=mv["hr_upper"].iat[0], p_cox_multi=mv["p"].iat[0])
    groups = split(base["__score"], "median")
    kms[key] = km(t, e, groups.to_numpy())
    cut = cutpoint(base["__score"], t, e, minprop=minprop, p_method=p_method)
    cuts[key] = cut
    row.update(p_logrank_median=kms[key].logrank.p_value, cut=cut.value,
               cut_statistic=cut.statistic, p_cut=cut.p_value, p_cut_raw=cut.p_raw,
               n_low_cut=cut.n_low, n_high_cut=cut.n_high,
               concordance=concordance(t, e, base["__score"].to_numpy()))
    return row


def _warn(table: pd.DataFrame, sensitivity: pd.DataFrame) -> None:
    undirected = interpret.undirected_scores(table)
    if undirected:
        count = f"{len(undirected)} score{' has' if len(undirected) == 1 else 's have'}"
        warnings.warn(f"{count} no ferroptosis direction "
                      f"({', '.join(undirected)}: unsigned sets mix drivers and suppressors, "
                      "unknown columns were not scored by ferroscore): their hazard ratios say "
                      "whether the score relates to survival, not in which ferroptosis "
                      "direction; see the 'direction' column", UserWarning, stacklevel=3)
    flips = sensitivity[sensitivity["flips"]]
    if len(flips):
        warnings.warn("results flip with the scoring method: " + " ".join(flips["summary"]),
                      UserWarning, stacklevel=3)
