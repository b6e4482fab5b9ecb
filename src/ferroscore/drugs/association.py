"""Association of a per-sample variable (a ferroptosis score) with drug response.

- :func:`associate`: correlation (Spearman, Pearson) or a linear model with covariates
  (tissue, MSI, ...) per drug, the score term tested by an F-test as GDSC/PharmacoGx do;
  Benjamini-Hochberg q-values across drugs.
- :func:`compare_groups`: response between score groups (Mann-Whitney / Wilcoxon rank-sum with
  continuity correction, as R ``wilcox.test(exact=FALSE)``; Kruskal-Wallis for more groups).

Each drug uses its own complete cases. Drugs that cannot be tested (too few samples, constant
response, nothing measured) get a row with missing statistics and a ``reason``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ferroscore.significance import benjamini_hochberg
from ferroscore.tables import align_samples, check_finite, design_matrix, numeric_frame

__all__ = ["associate", "compare_groups"]

METHODS = ("spearman", "pearson", "lm")


def _score_series(score: Any, column: str | None) -> pd.Series:
    from ferroscore.result import ScoreResult, set_names

    if isinstance(score, ScoreResult):
        column = column or set_names(score.params)[0]
        if column not in score.scores:
            raise KeyError(f"column {column!r} not in the scores; available: "
                           f"{list(score.scores.columns)}")
        return score.scores[column]
    if isinstance(score, pd.DataFrame):
        if column is None:
            if score.shape[1] != 1:
                raise ValueError("score is a DataFrame with several columns; pass column=")
            column = score.columns[0]
        return score[column]
    if isinstance(score, pd.Series):
        return score
    raise TypeError("score must be a pandas Series (indexed by sample), a one-column DataFrame "
                    f"or a ScoreResult, got {type(score).__name__}")


def _check_response(response: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(response, pd.DataFrame):
        raise TypeError("response must be a samples x drugs DataFrame")
    if response.shape[1] == 0 or response.shape[0] == 0:
        raise ValueError(f"response is empty (shape {response.shape})")
    if response.columns.has_duplicates:
        repeated = response.columns[response.columns.duplicated()].unique()
        raise ValueError(f"duplicated drug names in response: {repeated[:5].tolist()}; keep one "
                         "column per drug (e.g. average repeated screens of a drug)")
    response = numeric_frame(response, "response", "sample", "drug", " (NaN = not measured)")
    check_finite(response, "response")
    return response


def _f_test(y: np.ndarray, reduced: np.ndarray, full: np.ndarray) -> tuple[float, float, float,
                                                                              int, int]:
    """F-test of full vs reduced least-squares models; returns F, p, rss_full, df1, df2."""
    def fit(x):
        coef, _, rank, _ = np.linalg.lstsq(x, y, rcond=None)
        resid = y - x @ coef
        return coef, float(resid @ resid), int(rank)

    _, rss0, rank0 = fit(reduced)
    coef1, rss1, rank1 = fit(full)
    df1, df2 = rank1 - rank0, len(y) - rank1
    if df1 < 1 or df2 < 1 or rss1 <= 0:
        return np.nan, np.nan, coef1[-1], df1, df2
    f_stat = ((rss0 - rss1) / df1) / (rss1 / df2)
    return f_stat, float(stats.f.sf(f_stat, df1, df2)), coef1[-1], df1, df2


def associate(
    score: Any,
    response: pd.DataFrame,
    method: str = "spearman",
    covariates: pd.DataFrame | None = None,
    min_samples: int = 10,
    *,
    column: str | None = None,
    join: str = "exact",
) -> pd.DataFrame:
    """Test the association of a score with each drug's response.

    Parameters
    ----------
    score
        A Series indexed by sample IDs, or a ScoreResult (``column`` names the score column;
        default: the first set).
    response
        Samples x drugs DataFrame (e.g. ln IC50 or AUC); missing = not measured.
    method
        ``"spearman"`` (rho, t-approximation p as R ``cor.test(exact=FALSE)``), ``"pearson"``
        (r, t-test p), or ``"lm"``: ``response ~ covariates + score`` compared with
        ``response ~ covariates`` by an F-test (R ``anova``); the estimate is the score
        coefficient per unit, ``estimate_per_sd`` the same per SD of the score.
    covariates
        Samples x covariates DataFrame for ``"lm"``; categorical columns (tissue, MSI) are
        one-hot encoded against their first level.
    min_samples
        Drugs with fewer complete cases get a row with missing statistics and a reason.
    join
        ``"exact"``: the score and response must have the same sample IDs; ``"inner"``: use
        the common samples (reported).

    Returns
    -------
    DataFrame
        One row per drug: ``drug``, ``n``, ``estimate`` (rho, r or coefficient),
        ``estimate_per_sd`` (lm), ``statistic`` (t for correlations, F for lm), ``p``, ``q``
        (BH across tested drugs), ``reason`` (why a drug was not tested).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    response = _check_response(response)
    values = _score_series(score, column).astype(float)
    check_finite(values, "score")
    values, response, _ = align_samples(values, response, join=join, left_name="score",
                                        right_name="response")
    design = None
    if method == "lm":
        if covariates is None:
            design = pd.DataFrame(index=values.index)
        else:
            cov = covariates.set_axis(covariates.index.astype(str))
            missing = values.index.difference(cov.index)
            if len(missing):
                raise ValueError(f"covariates lack samples {list(missing[:5])}")
            design = cov.loc[values.index]
    elif covariates is not None:
        raise ValueError("covariates are used with method='lm' only")
    rows = []
    for drug in response.columns:
        rows.append(_associate_one(drug, values, response[drug], method, design, min_samples))
    table = _explain_untested(pd.DataFrame(rows))
    table["q"] = benjamini_hochberg(table["p"].to_numpy())
    columns = ["drug", "n", "estimate"] + (["estimate_per_sd"] if method == "lm" else []) + [
        "statistic", "p", "q", "reason"]
    untested = table["reason"].ne("").sum()
    if untested:
        warnings.warn(f"{untested} of {len(table)} drugs were not tested (see the 'reason' "
                      "column)", UserWarning, stacklevel=2)
    return table[columns]


def _explain_untested(table: pd.DataFrame) -> pd.DataFrame:
    """Every row without a p-value says why (no NaN row with an empty reason)."""
    silent = table["p"].isna() & table["reason"].eq("")
    table.loc[silent, "reason"] = "test statistic undefined for these values"
    return table


def _associate_one(drug, score: pd.Series, y: pd.Series, method: str,
                   design: pd.DataFrame | None, min_samples: int) -> dict:
    frame = pd.concat([score.rename("__score"), y.rename("__y")], axis=1)
    if design is not None:
        frame = frame.join(design)
    complete = frame.dropna()
    row = {"drug": drug, "n": len(complete), "estimate": np.nan, "estimate_per_sd": np.nan,
           "statistic": np.nan, "p": np.nan, "reason": ""}
    if y.notna().sum() == 0:
        row["reason"] = "no measurements"
    elif len(complete) < min_samples:
        row["reason"] = f"fewer than min_samples={min_samples} complete samples"
    elif complete["__y"].nunique() < 2:
        row["reason"] = "constant response"
    elif complete["__score"].nunique() < 2:
        row["reason"] = "constant score"
    if row["reason"]:
        return row
    x, yy = complete["__score"].to_numpy(), complete["__y"].to_numpy()
    n = len(x)
    if method in ("spearman", "pearson"):
        result = (stats.spearmanr if method == "spearman" else stats.pearsonr)(x, yy)
        r = float(result.statistic)
        row["estimate"], row["p"] = r, float(result.pvalue)
        row["statistic"] = r * np.sqrt((n - 2) / (1 - r * r)) if abs(r) < 1 else np.inf * r
        return row
    covariate_design, _ = design_matrix(complete.drop(columns=["__score", "__y"]),
                                        single_level="drop")
    reduced = np.column_stack([np.ones(n), covariate_design.to_numpy(dtype=float)])
    full = np.column_stack([reduced, x])
    f_stat, p, coef, _, _ = _f_test(yy, reduced, full)
    if np.isnan(f_stat):
        row["reason"] = "score is collinear with the covariates (or no residual df)"
        return row
    row.update(estimate=float(coef), estimate_per_sd=float(coef * x.std(ddof=1)),
               statistic=float(f_stat), p=p)
    return row


def compare_groups(
    response: pd.DataFrame,
    groups: Any,
    test: str = "mannwhitney",
    *,
    min_per_group: int = 3,
    join: str = "exact",
) -> pd.DataFrame:
    """Compare each drug's response between sample groups (e.g. ferroptosis low vs high).

    Parameters
    ----------
    response
        Samples x drugs DataFrame.
    groups
        Group label per sample (a Series indexed by sample IDs, e.g. from
        :func:`ferroscore.survival.split`; category order is kept).
    test
        ``"mannwhitney"`` (two groups; Wilcoxon rank-sum, normal approximation with tie and
        continuity correction, as R ``wilcox.test(exact=FALSE, correct=TRUE)``) or
        ``"kruskal"`` (two or more groups).

    Returns
    -------
    DataFrame
        One row per drug: ``drug``, ``n_<group>`` and ``median_<group>`` per group; for two
        groups ``difference`` (median of the second minus the first) and ``rank_biserial``
        (positive = higher response in the second group); ``statistic`` (U or H), ``p``,
        ``q`` (BH across tested drugs), ``reason``.
    """
    if test not in ("mannwhitney", "kruskal"):
        raise ValueError(f"test must be 'mannwhitney' or 'kruskal', got {test!r}")
    response = _check_response(response)
    labels = _group_labels(groups, response.index)
    labels, response, _ = align_samples(labels, response, join=join, left_name="groups",
                                        right_name="response")
    if labels.isna().any():
        missing = labels.index[labels.isna()]
        raise ValueError(f"{len(missing)} samples have missing group labels (e.g. "
                         f"{list(missing[:3])}); label them or leave them out of response")
    levels = list(labels.cat.categories) if isinstance(labels.dtype, pd.CategoricalDtype) \
        else sorted(labels.unique(), key=str)
    levels = [lv for lv in levels if (labels == lv).any()]
    if len(levels) < 2:
        raise ValueError(f"need at least two groups, got {levels}")
    if test == "mannwhitney" and len(levels) != 2:
        raise ValueError(f"mannwhitney compares two groups; got {len(levels)} ({levels}); use "
                         "test='kruskal'")
    rows = []
    for drug in response.columns:
        y = response[drug]
        samples = [y[(labels == lv).to_numpy()].dropna().to_numpy() for lv in levels]
        row: dict[str, Any] = {"drug": drug}
        for lv, s in zip(levels, samples, strict=True):
            row[f"n_{lv}"] = len(s)
            row[f"median_{lv}"] = float(np.median(s)) if len(s) else np.nan
        row.update(statistic=np.nan, p=np.nan, reason="")
        if len(levels) == 2:
            row["difference"] = row[f"median_{levels[1]}"] - row[f"median_{levels[0]}"]
            row["rank_biserial"] = np.nan
        small = [str(lv) for lv, s in zip(levels, samples, strict=True) if len(s) < min_per_group]
        if small:
            row["reason"] = f"fewer than {min_per_group} measured samples in {small}"
        elif np.ptp(np.concatenate(samples)) == 0:
            row["reason"] = "constant response"
        elif test == "mannwhitney":
            first, second = samples
            result = stats.mannwhitneyu(second, first, alternative="two-sided",
                                        use_continuity=True, method="asymptotic")
            row["statistic"], row["p"] = float(result.statistic), float(result.pvalue)
            row["rank_biserial"] = 2 * result.statistic / (len(first) * len(second)) - 1
        else:
            result = stats.kruskal(*samples)
            row["statistic"], row["p"] = float(result.statistic), float(result.pvalue)
        rows.append(row)
    table = _explain_untested(pd.DataFrame(rows))
    table["q"] = benjamini_hochberg(table["p"].to_numpy())
    ordered = ["drug"] + [c for lv in levels for c in (f"n_{lv}", f"median_{lv}")]
    if len(levels) == 2:
        ordered += ["difference", "rank_biserial"]
    return table[ordered + ["statistic", "p", "q", "reason"]]


def _group_labels(groups: Any, samples: pd.Index) -> pd.Series:
    """Group labels as a Series; a plain sequence is matched to the samples by position and
    keeps missing values missing (never the label "nan")."""
    if isinstance(groups, pd.Series):
        return groups
    values = pd.array(list(groups), dtype=object) if not isinstance(
        groups, pd.Categorical) else groups
    if len(values) != len(samples):
        raise ValueError(f"groups has {len(values)} labels for {len(samples)} samples; pass a "
                         "Series indexed by sample ID")
    labels = pd.Series(values, index=samples)
    return labels.where(labels.notna(), None)
