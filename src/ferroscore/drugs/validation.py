"""Cross-validated accuracy of drug-response prediction on cell lines, beside plain baselines.

:func:`cross_validate` splits the lines into folds; each fold is predicted by the full
:func:`~ferroscore.drugs.predict_response` pipeline (homogenisation of the training folds
against the held-out fold, variance filter, power transform, ridge with leave-one-out penalty)
trained on the other folds, so every line gets one held-out prediction per drug. In the same
folds two baselines are fitted:

- ``ridgecv``: scikit-learn ``RidgeCV`` per drug on the same features (the pipeline's
  homogenised, filtered, standardised genes) and the raw response, penalty chosen by its
  efficient leave-one-out error over ``RIDGECV_ALPHAS``; what a user would write by hand;
- ``tissue_mean``: the mean response of the training lines of the same tissue (of all training
  lines when the tissue has none).

Pan-tissue correlations are inflated by tissue of origin (tissues differ in both expression and
drug response), which the tissue-mean baseline measures. Skill beyond tissue is measured inside
tissues: ``spearman_within_tissue`` is the median over tissues with at least
``min_tissue_lines`` measured lines of the Spearman correlation inside each tissue, and
``within_tissue_pooled`` a fixed-effect combination of the same correlations (Fisher z, weights
``n - 3``, variance ``1.06 / (n - 3)`` for Spearman's rho, Fieller et al. 1957) with its
two-sided p-value and BH q across drugs. Differences in pan-tissue Spearman between the pipeline
and each baseline get a 95% paired bootstrap interval over lines (``n_boot`` resamples of the
rank correlation, ranks of the full held-out sample).

The ``verdict`` column is generated from these numbers: "skill within tissues" when the pooled
within-tissue correlation is positive with q < 0.05; "above/below/like the tissue mean" and
"better than/worse than/like RidgeCV" by whether the bootstrap interval of the difference
excludes 0. ``adds_skill`` is True for drugs with skill within tissues and above the tissue mean.
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

from ferroscore.drugs.prediction import (
    DEFAULT_PENALTIES,
    check_expression,
    check_training_response,
    fit_drugs,
    prepare_features,
)
from ferroscore.scoring import _n_jobs
from ferroscore.significance import benjamini_hochberg

__all__ = ["CrossValidation", "cross_validate"]

RIDGECV_ALPHAS = np.logspace(-2, 6, 33)
METHODS = ("pipeline", "ridgecv", "tissue_mean")
SPEARMAN_Z_VARIANCE = 1.06  # Var(atanh(rho_s)) ~ 1.06 / (n - 3), Fieller, Hartley and Pearson


@dataclass
class CrossValidation:
    """Result of :func:`cross_validate`.

    Attributes
    ----------
    table
        One row per drug (see :func:`cross_validate`).
    predictions
        Method (``"pipeline"``, ``"ridgecv"``, ``"tissue_mean"``) -> lines x drugs held-out
        predictions (NaN where a line was not screened).
    folds
        Fold number of each line.
    summary
        Sentences generated from the table: where the pipeline adds skill and where not.
    params
        Arguments, line counts and versions of the baselines.
    """

    table: pd.DataFrame
    predictions: dict[str, pd.DataFrame] = field(repr=False)
    folds: pd.Series = field(repr=False)
    summary: str = ""
    params: dict = field(default_factory=dict)


def _tissue_column(lines: pd.DataFrame | None, index: pd.Index) -> pd.Series | None:
    if lines is None:
        return None
    if not isinstance(lines, pd.DataFrame) or "tissue" not in lines:
        raise ValueError("lines must be a DataFrame indexed by line with a 'tissue' column "
                         "(e.g. fs.datasets.gdsc().lines)")
    if lines.index.has_duplicates:
        raise ValueError("lines has duplicated line names")
    missing = index.difference(lines.index)
    if len(missing):
        raise ValueError(f"lines has no row for {len(missing)} lines (e.g. {list(missing[:3])})")
    return lines.loc[index, "tissue"]


def _fold_ids(n: int, folds: int, seed: int) -> np.ndarray:
    order = np.random.default_rng(seed).permutation(n)
    ids = np.empty(n, dtype=np.int64)
    ids[order] = np.arange(n) % folds
    return ids


def _ridgecv(x_train: np.ndarray, y: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import RidgeCV

    model = RidgeCV(alphas=RIDGECV_ALPHAS).fit(x_train, y)
    return model.predict(x_test), float(model.alpha_)


def _tissue_mean(y: pd.Series, tissue: pd.Series, test: pd.Index) -> np.ndarray:
    means = y.groupby(tissue.loc[y.index]).mean()
    return tissue.loc[test].map(means).fillna(y.mean()).to_numpy(dtype=float)


def _fold(expr, response, tissue, train, test, options, n_jobs):
    """Held-out predictions of one fold: {method: test lines x drugs}, RidgeCV alphas."""
    features = prepare_features(expr[train], expr[test], homogenize=options["homogenize"],
                                min_variance_quantile=options["min_variance_quantile"])
    pipeline, _, _ = fit_drugs(features, response.loc[train], power_transform=options[
        "power_transform"], min_train_samples=options["min_train_samples"],
        penalties=DEFAULT_PENALTIES, n_jobs=n_jobs)
    out = {"pipeline": pipeline.set_axis(test)}
    alphas: dict[Any, float] = {}
    if options["baselines"]:
        ridge = pd.DataFrame(np.nan, index=test, columns=response.columns)
        means = ridge.copy()
        values = response.loc[train]

        def fit(drug):
            y = values[drug].dropna()
            if len(y) < options["min_train_samples"] or y.nunique() < 2:
                return drug, None, np.nan
            rows = train.get_indexer(y.index)
            return drug, *_ridgecv(features.x_train[rows], y.to_numpy(), features.x_test)

        with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(
                _n_jobs(n_jobs)) as pool:
            for drug, prediction, alpha in pool.map(fit, response.columns):
                if prediction is not None:
                    ridge[drug], alphas[drug] = prediction, alpha
                    if tissue is not None:
                        means[drug] = _tissue_mean(values[drug].dropna(), tissue, test)
        out["ridgecv"] = ridge
        if tissue is not None:
            out["tissue_mean"] = means
    return out, alphas


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return np.nan
    return float(stats.spearmanr(x, y).statistic)


def _within_tissue(pred: np.ndarray, obs: np.ndarray, tissue: np.ndarray | None,
                   min_lines: int) -> dict:
    """Median and fixed-effect pooled within-tissue Spearman, and the breast value."""
    out = {"spearman_within_tissue": np.nan, "n_tissues": 0, "within_tissue_pooled": np.nan,
           "p_within_tissue": np.nan, "spearman_breast": np.nan}
    if tissue is None:
        return out
    rhos, weights = [], []
    for name in pd.unique(tissue[pd.notna(tissue)]):
        inside = tissue == name
        rho = _spearman(pred[inside], obs[inside])
        if name == "breast" and inside.sum() >= min_lines:
            out["spearman_breast"] = rho
        if inside.sum() >= min_lines and np.isfinite(rho):
            rhos.append(rho)
            weights.append(inside.sum() - 3)
    if not rhos:
        return out
    rhos, weights = np.asarray(rhos), np.asarray(weights, dtype=float)
    z = (weights * np.arctanh(np.clip(rhos, -0.999999, 0.999999))).sum() / weights.sum()
    z_stat = z / np.sqrt(SPEARMAN_Z_VARIANCE / weights.sum())
    out.update(spearman_within_tissue=float(np.median(rhos)), n_tissues=len(rhos),
               within_tissue_pooled=float(np.tanh(z)),
               p_within_tissue=float(2 * stats.norm.sf(abs(z_stat))))
    return out


def _bootstrap_difference(obs: np.ndarray, first: np.ndarray, second: np.ndarray,
                          counts: np.ndarray) -> tuple[float, float]:
    """95% interval of rank-correlation(first, obs) - rank-correlation(second, obs) over
    bootstrap resamples given as multiplicity ``counts`` (B x n)."""
    ranks = [stats.rankdata(v) for v in (obs, first, second)]

    def weighted_corr(a, b):
        n = counts.sum(axis=1)
        ma, mb = counts @ a / n, counts @ b / n
        cov = counts @ (a * b) / n - ma * mb
        va, vb = counts @ (a * a) / n - ma**2, counts @ (b * b) / n - mb**2
        with np.errstate(invalid="ignore", divide="ignore"):
            return cov / np.sqrt(va * vb)

    diff = weighted_corr(ranks[1], ranks[0]) - weighted_corr(ranks[2], ranks[0])
    low, high = np.nanpercentile(diff, [2.5, 97.5])
    return float(low), float(high)


def _compare(low: float, high: float, better: str, worse: str, same: str) -> str:
    if not np.isfinite(low):
        return "not compared"
    return better if low > 0 else worse if high < 0 else same


def _drug_row(drug, preds: dict[str, pd.DataFrame], response: pd.DataFrame,
              tissue: pd.Series | None, min_lines: int, counts_for, ) -> dict:
    measured = response[drug].notna() & preds["pipeline"][drug].notna()
    obs = response.loc[measured, drug].to_numpy()
    tissues = None if tissue is None else tissue[measured].to_numpy(dtype=object)
    row: dict[str, Any] = {"drug": drug, "n": int(measured.sum())}
    for method, frame in preds.items():
        pred = frame.loc[measured, drug].to_numpy()
        prefix = "" if method == "pipeline" else f"{method}_"
        ok = np.isfinite(pred)
        row[f"{prefix}spearman"] = _spearman(pred[ok], obs[ok])
        row[f"{prefix}pearson"] = (float(stats.pearsonr(pred[ok], obs[ok]).statistic)
                                   if ok.sum() > 2 and np.ptp(pred[ok]) > 0 else np.nan)
        within = _within_tissue(pred, obs, tissues, min_lines)
        if method == "pipeline":
            row.update(within)
        else:
            row[f"{prefix}spearman_within_tissue"] = within["spearman_within_tissue"]
            row[f"{prefix}within_tissue_pooled"] = within["within_tissue_pooled"]
            row[f"{prefix}spearman_breast"] = within["spearman_breast"]
    counts = counts_for(len(obs))
    for method in ("ridgecv", "tissue_mean"):
        if method in preds:
            pred = preds[method].loc[measured, drug].to_numpy()
            low, high = (_bootstrap_difference(obs, preds["pipeline"].loc[measured, drug]
                                               .to_numpy(), pred, counts)
                         if np.isfinite(pred).all() and row["n"] > 3 else (np.nan, np.nan))
            row[f"difference_vs_{method}_low"], row[f"difference_vs_{method}_high"] = low, high
    return row


def _verdicts(table: pd.DataFrame) -> pd.DataFrame:
    table["q_within_tissue"] = benjamini_hochberg(table["p_within_tissue"].to_numpy())
    within = (table["q_within_tissue"] < 0.05) & (table["within_tissue_pooled"] > 0)
    parts = [np.where(within, "skill within tissues", np.where(
        table["n_tissues"] > 0, "no within-tissue skill shown", "within-tissue skill not "
        "measured (no tissue annotation)"))]
    labels = {"tissue_mean": ("above the tissue mean", "below the tissue mean",
                              "like the tissue mean"),
              "ridgecv": ("better than RidgeCV", "worse than RidgeCV", "like RidgeCV")}
    for method, words in labels.items():
        if f"difference_vs_{method}_low" in table:
            parts.append([_compare(lo, hi, *words) for lo, hi in zip(
                table[f"difference_vs_{method}_low"], table[f"difference_vs_{method}_high"],
                strict=True)])
    table["verdict"] = ["; ".join(p) for p in zip(*parts, strict=True)]
    above = table.get("difference_vs_tissue_mean_low", pd.Series(np.nan, index=table.index))
    table["adds_skill"] = within & (above > 0)
    return table


def _summary(table: pd.DataFrame) -> str:
    n = len(table)
    tested = table["n_tissues"] > 0
    sentences = [f"{n} drugs, held-out Spearman {table['spearman'].min():.2f} to "
                 f"{table['spearman'].max():.2f} (median {table['spearman'].median():.2f})."]
    if tested.any():
        within = table["verdict"].str.contains("skill within tissues")
        sentences.append(
            f"Inside tissues the median Spearman is {table['spearman_within_tissue'].median():.2f}"
            f" (drug medians {table['spearman_within_tissue'].min():.2f} to "
            f"{table['spearman_within_tissue'].max():.2f}); {int(within.sum())} of {n} drugs "
            "show skill within tissues (pooled, q < 0.05)"
            + (f": {', '.join(map(str, table.loc[within, 'drug']))}." if 0 < within.sum() <= 10
               else "."))
    if "tissue_mean_spearman" in table:
        above = table["verdict"].str.contains("above the tissue mean")
        sentences.append(f"The training-tissue mean alone reaches a median Spearman of "
                         f"{table['tissue_mean_spearman'].median():.2f}; the pipeline is above "
                         f"it for {int(above.sum())} of {n} drugs.")
        without = table.loc[~table["adds_skill"], "drug"]
        sentences.append(f"The pipeline adds skill (within tissues and above the tissue mean) "
                         f"for {int(table['adds_skill'].sum())} of {n} drugs"
                         + (f" and not for {', '.join(map(str, without))}."
                            if 0 < len(without) <= 10 else "."))
    if "ridgecv_spearman" in table:
        counts = {w: int(table["verdict"].str.contains(w).sum()) for w in
                  ("better than RidgeCV", "like RidgeCV", "worse than RidgeCV")}
        sentences.append(f"Against RidgeCV on the same features (median Spearman "
                         f"{table['ridgecv_spearman'].median():.2f}): better for "
                         f"{counts['better than RidgeCV']}, indistinguishable for "
                         f"{counts['like RidgeCV']}, worse for {counts['worse than RidgeCV']}.")
    return " ".join(sentences)


def cross_validate(
    expr: pd.DataFrame,
    response: pd.DataFrame,
    folds: int = 5,
    seed: int = 0,
    lines: pd.DataFrame | None = None,
    *,
    tissue: str | None = None,
    homogenize: str = "combat",
    min_variance_quantile: float = 0.2,
    power_transform: bool = True,
    min_train_samples: int = 10,
    min_tissue_lines: int = 15,
    baselines: bool = True,
    n_boot: int = 1000,
    n_jobs: int | None = None,
) -> CrossValidation:
    """K-fold cross-validation of :func:`~ferroscore.drugs.predict_response` on cell lines,
    with RidgeCV and training-tissue-mean baselines in the same folds.

    Parameters
    ----------
    expr
        Genes x lines expression (e.g. ``fs.datasets.gdsc().expression``).
    response
        Lines x drugs response (e.g. ln IC50; NaN = not screened).
    folds, seed
        Number of folds and the seed of the random assignment of lines to folds.
    lines
        Line annotations with a ``tissue`` column (``fs.datasets.gdsc().lines``); needed for
        the within-tissue and breast values, the tissue-mean baseline and ``tissue=``.
    tissue
        Train and test on the lines of this tissue only (pRRophetic's ``tissueType``); the
        line count is in ``params["n_lines"]``.
    homogenize, min_variance_quantile, power_transform, min_train_samples
        As :func:`~ferroscore.drugs.predict_response`.
    min_tissue_lines
        Tissues with fewer measured lines of a drug are left out of its within-tissue values.
    baselines
        Fit the RidgeCV and tissue-mean baselines.
    n_boot
        Bootstrap resamples for the intervals of the differences from the baselines.
    n_jobs
        Threads (default: the usable cores).

    Returns
    -------
    CrossValidation
        ``table`` has one row per drug: ``n`` (lines with a held-out prediction),
        ``spearman``, ``pearson``, ``spearman_within_tissue``, ``n_tissues``,
        ``within_tissue_pooled``, ``p_within_tissue``, ``q_within_tissue``,
        ``spearman_breast``; the same correlations prefixed ``ridgecv_`` and ``tissue_mean_``;
        ``difference_vs_<baseline>_low/high`` (95% bootstrap interval of the Spearman
        difference); ``verdict`` and ``adds_skill``. ``summary`` states the conclusions.

    Examples
    --------
    >>> data = fs.datasets.gdsc("GDSC2")
    >>> cv = fs.drugs.cross_validate(data.expression, data.response[["Lapatinib"]],
    ...                              lines=data.lines)  # doctest: +SKIP
    >>> cv.table[["drug", "n", "spearman", "spearman_within_tissue", "verdict"]]  # doctest: +SKIP
    """
    expr = check_expression(expr, "expr")
    response = check_training_response(response)
    if int(folds) != folds or folds < 2:
        raise ValueError(f"folds must be an integer >= 2, got {folds!r}")
    used = expr.columns.intersection(response.index, sort=False)
    tissue_of = _tissue_column(lines, used)
    if tissue is not None:
        if tissue_of is None:
            raise ValueError("tissue= needs lines= (annotations with a 'tissue' column)")
        if not tissue_of.eq(tissue).any():
            raise ValueError(f"no line has tissue {tissue!r}; tissues: "
                             f"{sorted(tissue_of.dropna().unique())}")
        used = used[tissue_of.eq(tissue).to_numpy()]
        tissue_of = tissue_of.loc[used]
    if len(used) < folds * 2:
        raise ValueError(f"{len(used)} lines are in both expr and response; {folds}-fold "
                         "cross-validation needs at least two per fold")
    left_out = response.index.difference(expr.columns)
    if len(left_out):
        warnings.warn(f"{len(left_out)} response lines have no expression and were left out "
                      f"(e.g. {list(left_out[:3])})", UserWarning, stacklevel=2)
    response = response.loc[used]
    fold_of = _fold_ids(len(used), int(folds), seed)
    options = {"homogenize": homogenize, "min_variance_quantile": min_variance_quantile,
               "power_transform": power_transform, "min_train_samples": min_train_samples,
               "baselines": baselines}
    collected: dict[str, list[pd.DataFrame]] = {}
    alphas: list[float] = []
    for k in range(int(folds)):
        test, train = used[fold_of == k], used[fold_of != k]
        out, fold_alphas = _fold(expr, response, tissue_of, train, test, options, n_jobs)
        alphas += list(fold_alphas.values())
        for method, frame in out.items():
            collected.setdefault(method, []).append(frame)
    predictions = {m: pd.concat(f).reindex(used) for m, f in collected.items()}
    rng = np.random.default_rng(seed)
    cache: dict[int, np.ndarray] = {}

    def counts_for(n: int) -> np.ndarray:
        if n not in cache:
            cache[n] = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)
        return cache[n]

    rows = [_drug_row(d, predictions, response, tissue_of, min_tissue_lines, counts_for)
            for d in response.columns if predictions["pipeline"][d].notna().any()]
    skipped = [d for d in response.columns if not predictions["pipeline"][d].notna().any()]
    if not rows:
        raise ValueError(f"no drug could be cross-validated (fewer than min_train_samples="
                         f"{min_train_samples} lines or constant response): {skipped[:5]}")
    table = _verdicts(pd.DataFrame(rows))
    if skipped:
        warnings.warn(f"{len(skipped)} drugs were not cross-validated (fewer than "
                      f"min_train_samples={min_train_samples} lines or constant response): "
                      f"{skipped[:5]}", UserWarning, stacklevel=2)
    edge = np.isin(alphas, RIDGECV_ALPHAS[[0, -1]]).mean() if alphas else np.nan
    params = {**options, "folds": int(folds), "seed": seed, "tissue": tissue,
              "n_lines": len(used), "min_tissue_lines": min_tissue_lines, "n_boot": n_boot,
              "skipped_drugs": skipped, "ridgecv_alphas": RIDGECV_ALPHAS.tolist(),
              "ridgecv_fraction_at_grid_edge": float(edge)}
    return CrossValidation(table, predictions, pd.Series(fold_of, index=used, name="fold"),
                           _summary(table), params)
