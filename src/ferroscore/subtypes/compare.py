"""Compare subtypes in one call: survival (Kaplan-Meier, log-rank), score distributions and
differentially expressed genes (limma) across the subtypes."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ferroscore.significance import benjamini_hochberg
from ferroscore.subtypes.consensus import ConsensusResult

__all__ = ["SubtypeComparison", "compare"]


@dataclass
class SubtypeComparison:
    """What differs between subtypes.

    Attributes
    ----------
    classes
        Subtype of every sample (categorical Series).
    survival
        :class:`ferroscore.survival.KMResult` across subtypes (``.logrank``, ``.medians``;
        plot with ``fs.pl.km``), or None without survival data.
    score_summary
        Per score and subtype: ``n``, ``mean``, ``median``, ``sd``.
    score_tests
        Per score: the test across subtypes (Wilcoxon rank-sum for two, Kruskal-Wallis for
        more), its statistic, ``p`` and ``q`` (BH across the scores).
    de
        :class:`ferroscore.de.LimmaResult` of the subtypes (moderated t for two subtypes,
        moderated F across all for more), or None without expression.
    de_genes
        Genes with ``adj.P.Val < de_q``, by p-value.
    params
        What was compared and what was left out.
    """

    classes: pd.Series
    survival: Any
    score_summary: pd.DataFrame | None
    score_tests: pd.DataFrame | None
    de: Any
    de_genes: list[str]
    params: dict = field(repr=False)


def _classes(classes: Any, k: int | None) -> pd.Series:
    if isinstance(classes, ConsensusResult):
        if k is None:
            raise ValueError("pass k= to compare the classes of a ConsensusResult (available: "
                             f"{classes.ks})")
        if k not in classes.classes:
            raise ValueError(f"k={k} was not computed (available: {classes.ks})")
        classes = classes.classes[k]
    if not isinstance(classes, pd.Series):
        raise TypeError("classes must be a Series of subtypes indexed by sample, or a "
                        "ConsensusResult with k=")
    labels = classes.set_axis(classes.index.astype(str))
    if labels.index.has_duplicates:
        raise ValueError("duplicated sample IDs in classes")
    missing = labels.isna()
    if missing.any():
        warnings.warn(f"{int(missing.sum())} samples without a subtype were left out",
                      UserWarning, stacklevel=3)
        labels = labels[~missing]
    categories = sorted(pd.unique(labels), key=lambda v: (str(type(v)), v))
    return labels.astype(pd.CategoricalDtype(categories)).rename("subtype")


def _over_expression_samples(labels: pd.Series, expr: Any) -> pd.Series:
    """The subtypes reindexed to every sample of ``expr`` (NaN where a sample has none, which
    limma then leaves out and reports)."""
    if type(expr).__name__ == "AnnData":
        samples = pd.Index(expr.obs_names.astype(str))
    elif isinstance(expr, pd.DataFrame):
        columns, rows = pd.Index(expr.columns.astype(str)), pd.Index(expr.index.astype(str))
        samples = columns if len(labels.index.intersection(columns)) >= len(
            labels.index.intersection(rows)) else rows
    else:
        return labels
    return labels.reindex(samples)


def _survival(labels: pd.Series, clinical: pd.DataFrame, time: str, event: str):
    from ferroscore import survival

    for column in (time, event):
        if column not in clinical:
            raise KeyError(f"{column!r} is not a column of clinical (columns: "
                           f"{list(clinical.columns)})")
    table = clinical.set_axis(clinical.index.astype(str))[[time, event]]
    table = table.reindex(labels.index)
    complete = table.notna().all(axis=1).to_numpy()
    left_out = labels.index[~complete].tolist()
    if left_out:
        warnings.warn(f"{len(left_out)} samples without survival data were left out of the "
                      f"survival comparison: {left_out[:10]}", UserWarning, stacklevel=3)
    kept = table[complete]
    result = survival.km(kept[time].to_numpy(dtype=float), kept[event].to_numpy(dtype=float),
                         labels[complete].astype(str).to_numpy())
    return result, left_out


def _score_tests(labels: pd.Series, scores: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = scores.set_axis(scores.index.astype(str))
    missing = labels.index.difference(frame.index)
    if len(missing):
        raise ValueError(f"{len(missing)} samples with a subtype have no score (e.g. "
                         f"{missing[:5].tolist()})")
    frame = frame.loc[labels.index].select_dtypes("number")
    groups = [lv for lv in labels.cat.categories if (labels == lv).any()]
    summary, tests = [], []
    for column in frame.columns:
        values = frame[column]
        parts = [values[(labels == lv).to_numpy()].dropna().to_numpy() for lv in groups]
        for level, part in zip(groups, parts, strict=True):
            summary.append({"score": column, "subtype": level, "n": len(part),
                            "mean": float(np.mean(part)) if len(part) else np.nan,
                            "median": float(np.median(part)) if len(part) else np.nan,
                            "sd": float(np.std(part, ddof=1)) if len(part) > 1 else np.nan})
        if len(parts) == 2:
            test = stats.mannwhitneyu(parts[0], parts[1], alternative="two-sided")
            name = "wilcoxon rank-sum"
        else:
            test = stats.kruskal(*parts)
            name = "kruskal-wallis"
        tests.append({"score": column, "test": name, "statistic": float(test.statistic),
                      "p": float(test.pvalue)})
    tests_frame = pd.DataFrame(tests).set_index("score")
    tests_frame["q"] = benjamini_hochberg(tests_frame["p"].to_numpy())
    return pd.DataFrame(summary), tests_frame


def compare(
    classes: pd.Series | ConsensusResult,
    *,
    k: int | None = None,
    expr: Any = None,
    clinical: pd.DataFrame | None = None,
    time: str | None = None,
    event: str | None = None,
    scores: Any = None,
    de_q: float = 0.05,
    trend: bool = False,
) -> SubtypeComparison:
    """Survival, score distributions and differential expression across subtypes.

    Parameters
    ----------
    classes
        Subtype per sample (Series indexed by sample), or a :class:`ConsensusResult` with
        ``k``.
    expr
        Expression for the differential expression (anything :func:`ferroscore.de.limma`
        takes); skipped when None.
    clinical, time, event
        Clinical table indexed by sample and its survival time / event (1 = event) columns;
        Kaplan-Meier curves and the log-rank test across subtypes (:func:`ferroscore.survival.km`).
        Samples with missing survival are left out (reported).
    scores
        DataFrame of per-sample scores (or a :class:`ferroscore.ScoreResult`); each numeric
        column is summarised by subtype and tested across subtypes.
    de_q
        BH threshold for ``de_genes``.
    trend
        limma's ``trend=True``.

    Returns
    -------
    SubtypeComparison

    Examples
    --------
    >>> import ferroscore as fs
    >>> expr, clinical = fs.datasets.breast_cancer(as_frames=True)
    >>> res = fs.subtypes.consensus(expr, fs.genesets.load("kegg_ferroptosis").genes,
    ...                             k=range(2, 4), reps=100)  # doctest: +SKIP
    >>> cmp = fs.subtypes.compare(res, k=2, expr=expr, clinical=clinical, time="rfs_months",
    ...                           event="rfs_event")  # doctest: +SKIP
    >>> cmp.survival.logrank.p_value  # doctest: +SKIP
    """
    from ferroscore.de import limma

    labels = _classes(classes, k)
    if labels.nunique() < 2:
        raise ValueError(f"a comparison needs at least two subtypes, got {labels.unique()}")
    params: dict = {"n_samples": int(len(labels)),
                    "sizes": {str(a): int(b) for a, b in labels.value_counts(sort=False).items()}}
    km_result = None
    if (time is None) != (event is None) or (clinical is None) != (time is None):
        raise ValueError("survival needs clinical=, time= and event= together")
    if clinical is not None:
        km_result, left_out = _survival(labels, clinical, time, event)
        params["survival_left_out"] = left_out
        params["logrank_p"] = None if km_result.logrank is None else km_result.logrank.p_value
    summary = tests = None
    if scores is not None:
        frame = scores.scores if hasattr(scores, "scores") else scores
        if not isinstance(frame, pd.DataFrame):
            raise TypeError("scores must be a DataFrame (samples x scores) or a ScoreResult")
        summary, tests = _score_tests(labels, frame)
    de_result, de_genes = None, []
    if expr is not None:
        de_result = limma(expr, _over_expression_samples(labels, expr), trend=trend)
        de_genes = de_result.top(None).query("`adj.P.Val` < @de_q").index.tolist()
        params["de_test"] = de_result.params["method"]
    return SubtypeComparison(labels, km_result, summary, tests, de_result, de_genes, params)
