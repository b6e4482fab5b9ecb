"""Merging cohorts on their common genes (with a report of what each cohort lost) and
per-cohort standardisation."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ferroscore import ids
from ferroscore.matrix import as_expression

__all__ = ["MergedCohorts", "merge_cohorts", "scale"]

MATCHES = ("symbol", "exact")


@dataclass
class MergedCohorts:
    """Cohorts merged on their common genes.

    Attributes
    ----------
    expression
        Genes x samples (common genes, in the first cohort's order; samples cohort by cohort).
    batch
        Categorical Series: the cohort of every sample (ready for :func:`combat` or
        :func:`scale`).
    report
        One row per cohort: ``n_samples``, ``n_genes`` (before), ``n_kept``, ``n_lost``,
        ``lost`` (the features left out, by their names in the cohort), ``renamed`` (feature ->
        official symbol under ``match="symbol"``) and ``duplicates`` (features left out because
        another feature of the cohort stands for the same symbol).
    """

    expression: pd.DataFrame
    batch: pd.Series
    report: pd.DataFrame


def _symbols(genes: pd.Index, means: np.ndarray) -> tuple[np.ndarray, list[str], list[str]]:
    """Official symbol of every feature where it resolves (else its own name). When several
    features resolve to one symbol, the one named by the symbol wins, else the highest mean;
    the others are dropped. Returns the kept mask, the new names of the kept features and the
    dropped duplicates (described)."""
    table = ids.resolve([str(g) for g in genes])
    resolved = table["status"].isin(ids.RESOLVED).to_numpy()
    names = [table["symbol"].iat[i] if resolved[i] else str(genes[i]) for i in range(len(genes))]
    by_name: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        by_name.setdefault(name, []).append(i)
    keep = np.ones(len(genes), dtype=bool)
    duplicates = []
    for name, positions in by_name.items():
        if len(positions) > 1:
            exact = [p for p in positions if str(genes[p]) == name]
            best = exact[0] if exact else positions[int(np.argmax(means[positions]))]
            for p in positions:
                if p != best:
                    keep[p] = False
                    duplicates.append(f"{genes[p]} (also {name}; kept {genes[best]})")
    return keep, [n for n, k in zip(names, keep, strict=True) if k], duplicates


def merge_cohorts(
    cohorts: Mapping[str, Any],
    *,
    match: str = "symbol",
    genes_axis: Any = None,
    prefix_samples: bool = False,
) -> MergedCohorts:
    """Merge expression cohorts on the genes they all measure, reporting what each lost.

    Parameters
    ----------
    cohorts
        Cohort name -> expression (DataFrame genes x samples or samples x genes, array with
        names or AnnData; anything :func:`ferroscore.score` accepts), at least two.
    match
        ``"symbol"`` (default): features are matched by official symbol through
        :mod:`ferroscore.ids` (previous symbols, aliases naming one gene, Ensembl and Entrez
        IDs), so ``MBOAT5`` on one platform meets ``LPCAT3`` on another; the merged rows carry
        the official symbol (renames reported). ``"exact"``: names must be identical.
    genes_axis
        Force the genes axis of DataFrames (``"rows"`` or ``"columns"``).
    prefix_samples
        Prefix sample IDs with ``"<cohort>:"``; otherwise an ID found in two cohorts is an
        error.

    Returns
    -------
    MergedCohorts
        ``.expression`` (genes x samples), ``.batch``, ``.report``; a warning summarises the
        genes each cohort lost.

    Examples
    --------
    >>> import ferroscore as fs
    >>> expr, _ = fs.datasets.breast_cancer(as_frames=True)
    >>> cohorts = {"a": expr.iloc[:, :60], "b": expr.iloc[:-5, 60:]}
    >>> merged = fs.pp.merge_cohorts(cohorts)  # doctest: +SKIP
    >>> merged.report[["n_genes", "n_kept", "n_lost"]]  # doctest: +SKIP
    """
    if match not in MATCHES:
        raise ValueError(f"match must be one of {MATCHES}, got {match!r}")
    if not isinstance(cohorts, Mapping) or len(cohorts) < 2:
        raise ValueError("give at least two cohorts as a dict {name: expression}")
    frames, rows = {}, {}
    for name, data in cohorts.items():
        expression = as_expression(data, genes_axis=genes_axis)
        values = expression.dense()
        original = pd.Index(expression.genes.astype(str))
        genes, duplicates = original, []
        if match == "symbol":
            keep, names, duplicates = _symbols(original, values.mean(axis=0))
            values, original, genes = values[:, keep], original[keep], pd.Index(names)
        samples = [f"{name}:{s}" if prefix_samples else str(s) for s in expression.samples]
        frames[name] = pd.DataFrame(values.T, index=genes, columns=samples)
        rows[name] = {"n_samples": len(samples), "n_genes": expression.n_genes,
                      "renamed": {o: g for o, g in zip(original, genes, strict=True) if o != g},
                      "duplicates": duplicates, "original": original}
    all_samples = pd.Index([s for f in frames.values() for s in f.columns])
    if all_samples.has_duplicates:
        repeated = all_samples[all_samples.duplicated()].unique()[:5].tolist()
        raise ValueError(f"sample IDs occur in more than one cohort (e.g. {repeated}); rename "
                         "them or pass prefix_samples=True")
    first = next(iter(frames.values())).index
    common = first
    for frame in frames.values():
        common = common.intersection(frame.index, sort=False)
    if len(common) == 0:
        raise ValueError("the cohorts have no gene in common"
                         + ("" if match == "symbol" else "; try match='symbol'"))
    lines = []
    for name, frame in frames.items():
        absent = ~frame.index.isin(common)
        lost = rows[name].pop("original")[absent].tolist()
        lost += [d.split(" ")[0] for d in rows[name]["duplicates"]]
        rows[name].update({"n_kept": len(common), "n_lost": len(lost), "lost": lost})
        lines.append(f"{name}: {rows[name]['n_lost']} of {rows[name]['n_genes']}")
    if any(rows[n]["n_lost"] for n in rows):
        warnings.warn(f"merged on {len(common)} common genes; genes left out per cohort: "
                      f"{'; '.join(lines)} (see .report)", UserWarning, stacklevel=2)
    merged = pd.concat([frame.loc[common] for frame in frames.values()], axis=1)
    merged.index.name = "gene"
    batch = pd.Series(pd.Categorical([n for n, f in frames.items() for _ in f.columns],
                                     categories=list(frames)), index=merged.columns, name="cohort")
    report = pd.DataFrame.from_dict(rows, orient="index")[
        ["n_samples", "n_genes", "n_kept", "n_lost", "lost", "renamed", "duplicates"]]
    report.index.name = "cohort"
    return MergedCohorts(merged, batch, report)


def scale(
    expr: pd.DataFrame,
    batch: pd.Series | None = None,
    *,
    zero_center: bool = True,
    max_value: float | None = None,
) -> pd.DataFrame:
    """Standardise every gene to unit variance (and zero mean), within each cohort.

    Parameters
    ----------
    expr
        Genes x samples DataFrame (as :func:`merge_cohorts` returns).
    batch
        Cohort of every sample (Series indexed by sample ID, aligned by ID); None treats all
        samples as one cohort.
    zero_center
        Subtract each cohort's gene means (default); otherwise only divide by the SDs.
    max_value
        Clip the standardised values to ``[-max_value, max_value]`` (as scanpy's
        ``pp.scale``).

    Returns
    -------
    DataFrame
        Same labels; a gene constant within a cohort becomes 0 there (reported in a warning).

    Raises
    ------
    ValueError
        NaN/inf values, samples without a cohort, a cohort with a single sample.
    """
    if not isinstance(expr, pd.DataFrame):
        raise TypeError("expr must be a genes x samples DataFrame")
    values = expr.to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise ValueError("expression has NaN/inf values; standardisation needs complete data")
    if batch is None:
        labels = pd.Series("all", index=expr.columns)
    else:
        if not isinstance(batch, pd.Series):
            raise TypeError("batch must be a Series indexed by sample ID")
        missing = expr.columns.difference(batch.index)
        if len(missing):
            raise ValueError(f"{len(missing)} samples have no cohort in batch (e.g. "
                             f"{missing[:5].tolist()})")
        labels = batch.loc[expr.columns]
        if labels.isna().any():
            raise ValueError(f"{int(labels.isna().sum())} samples have a missing cohort label")
    out = np.empty_like(values)
    constant: dict[str, list[str]] = {}
    for level in pd.unique(labels):
        cols = (labels == level).to_numpy()
        if cols.sum() < 2:
            raise ValueError(f"cohort {level!r} has a single sample; it cannot be standardised")
        block = values[:, cols]
        mean = block.mean(axis=1, keepdims=True)
        sd = block.std(axis=1, ddof=1, keepdims=True)
        flat = sd[:, 0] <= 1e-12 * np.maximum(1.0, np.abs(mean[:, 0]))
        centred = block - mean if zero_center else block
        divisor = np.where(flat, 1.0, sd[:, 0])[:, None]
        out[:, cols] = np.where(flat[:, None], 0.0, centred / divisor)
        if flat.any():
            constant[str(level)] = expr.index[flat].tolist()
    if constant:
        warnings.warn("genes constant within a cohort were set to 0 there: "
                      + "; ".join(f"{k}: {v[:5]}{' ...' if len(v) > 5 else ''}"
                                  for k, v in constant.items()), UserWarning, stacklevel=2)
    if max_value is not None:
        out = np.clip(out, -max_value, max_value)
    return pd.DataFrame(out, index=expr.index, columns=expr.columns)
