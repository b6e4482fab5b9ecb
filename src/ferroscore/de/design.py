"""Inputs of the differential-expression fit: the expression matrix oriented genes x samples,
the design matrix (from group labels or covariates), its rank, contrasts and the tested
coefficients.

Everything is aligned by sample ID, never by position. Samples with a missing group label or
covariate are left out and reported (R's ``model.matrix`` drops them silently).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ferroscore.matrix import anndata_matrix
from ferroscore.tables import design_matrix

INTERCEPT = "(Intercept)"
#: R's ``lm.fit`` (LINPACK dqrdc2) treats a column as aliased when its norm after removing the
#: earlier columns is below this fraction of its own norm.
ALIAS_TOLERANCE = 1e-7


@dataclass
class Design:
    """A design matrix with the samples it applies to.

    Attributes
    ----------
    matrix
        Samples x columns (float), in the order of ``samples``.
    groups
        The group labels when the design came from groups (for contrasts by level), else None.
    group_name
        Name of the grouping variable (the design's dummy columns are ``"name[level]"``).
    dropped
        Samples left out because their group or a covariate was missing.
    """

    matrix: pd.DataFrame
    groups: pd.Series | None
    group_name: str | None
    dropped: list[str]

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.matrix.columns]


def expression_frame(expr: Any, samples: pd.Index) -> pd.DataFrame:
    """The expression as a genes x samples float DataFrame, oriented by the design's samples.

    A DataFrame is genes x samples when the design's sample IDs are among its columns and
    samples x genes when they are among its rows; AnnData is cells/samples x genes.
    """
    if type(expr).__name__ == "AnnData":
        values, _, var_names, _ = anndata_matrix(expr, None, None)
        values = values.toarray() if hasattr(values, "toarray") else np.asarray(values)
        expr = pd.DataFrame(values, index=pd.Index(expr.obs_names.astype(str)),
                            columns=pd.Index(var_names.astype(str)))
    if not isinstance(expr, pd.DataFrame):
        raise TypeError(f"expression must be a pandas DataFrame (genes x samples, as limma "
                        f"takes it) or an AnnData, got {type(expr).__name__}")
    wanted = set(samples)
    in_columns = wanted <= set(expr.columns.astype(str))
    in_rows = wanted <= set(expr.index.astype(str))
    if in_columns and in_rows:
        raise ValueError("the design's sample IDs occur both as row and as column labels of "
                         "the expression; give the expression genes x samples with unique labels")
    if not (in_columns or in_rows):
        columns = set(expr.columns.astype(str))
        rows = set(expr.index.astype(str))
        best = columns if len(wanted & columns) >= len(wanted & rows) else rows
        missing = sorted(wanted - best, key=str)
        raise ValueError(f"{len(missing)} samples of the groups/design are not in the "
                         f"expression (e.g. {missing[:5]}); index the groups or design by the "
                         "expression's sample IDs")
    frame = expr if in_columns else expr.T
    frame = frame.set_axis(frame.columns.astype(str), axis=1)
    frame = frame.set_axis(frame.index.astype(str), axis=0)
    for names, what in ((frame.index, "gene"), (frame.columns, "sample")):
        if names.has_duplicates:
            raise ValueError(f"duplicated {what} names in the expression: "
                             f"{names[names.duplicated()].unique()[:5].tolist()}; make them unique")
    extra = frame.columns.difference(pd.Index(samples))
    if len(extra):
        raise ValueError(f"{len(extra)} expression samples have no group or design row (e.g. "
                         f"{extra[:5].tolist()}); give every sample a row (use NA for samples "
                         "to leave out) or subset the expression first")
    bad = [c for c, dt in frame.dtypes.items()
           if not pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_bool_dtype(dt)]
    if bad:
        raise TypeError(f"expression values must be numeric; non-numeric samples: {bad[:5]}")
    values = frame.to_numpy(dtype=np.float64)
    if np.isinf(values).any():
        genes = frame.index[np.isinf(values).any(axis=1)]
        raise ValueError(f"expression has infinite values (genes {genes[:5].tolist()}); "
                         "replace them by NaN (treated as missing) or fix the input")
    empty = np.isnan(values).all(axis=1)
    if empty.any():
        raise ValueError(f"{int(empty.sum())} genes have no observed value (e.g. "
                         f"{frame.index[empty][:5].tolist()}); drop them before testing")
    return pd.DataFrame(values, index=frame.index, columns=frame.columns)


def _report_dropped(dropped: list[str], what: str) -> None:
    if dropped:
        warnings.warn(f"{len(dropped)} samples with a missing {what} were left out: "
                      f"{dropped[:10]}{' ...' if len(dropped) > 10 else ''}",
                      UserWarning, stacklevel=4)


def _check_index(index: pd.Index, what: str) -> pd.Index:
    ids = pd.Index(index.astype(str))
    if ids.has_duplicates:
        raise ValueError(f"duplicated sample IDs in the {what}: "
                         f"{ids[ids.duplicated()].unique()[:5].tolist()}")
    return ids


def _spans_constant(matrix: np.ndarray) -> bool:
    if matrix.shape[1] == 0:
        return False
    ones = np.ones(matrix.shape[0])
    coef, *_ = np.linalg.lstsq(matrix, ones, rcond=None)
    return bool(np.max(np.abs(matrix @ coef - ones)) < 1e-9)


def make_design(groups_or_design: Any, expr: Any, intercept: bool | None) -> Design:
    """Design matrix from a Series of group labels or a DataFrame of covariates.

    Groups give R's ``model.matrix(~ group)``: an intercept and one indicator per level but
    the reference (the first category of a categorical, else the smallest level: numbers in
    numeric order, anything else as text). A DataFrame
    is encoded column by column (numeric as is, others one-hot against their reference level)
    and gets an intercept unless ``intercept=False`` or its columns already span a constant
    (e.g. a cell-means design ``~ 0 + group``).
    """
    if isinstance(groups_or_design, str):
        if type(expr).__name__ != "AnnData":
            raise TypeError(f"groups {groups_or_design!r} given by name: that works for AnnData "
                            "(an obs column); otherwise pass a Series indexed by sample")
        if groups_or_design not in expr.obs:
            raise KeyError(f"{groups_or_design!r} is not an obs column (columns: "
                           f"{list(expr.obs.columns)})")
        groups_or_design = expr.obs[groups_or_design]
    if isinstance(groups_or_design, pd.Series):
        return _group_design(groups_or_design, intercept)
    if isinstance(groups_or_design, pd.DataFrame):
        return _covariate_design(groups_or_design, intercept)
    raise TypeError(f"groups_or_design must be a pandas Series of group labels or a DataFrame "
                    f"of covariates indexed by sample, got {type(groups_or_design).__name__}; "
                    "arrays are not accepted because they cannot be aligned by sample ID")


def _group_design(groups: pd.Series, intercept: bool | None) -> Design:
    labels = groups.set_axis(_check_index(groups.index, "groups"))
    name = str(groups.name) if groups.name is not None else "group"
    missing = labels.isna().to_numpy()
    dropped = labels.index[missing].tolist()
    _report_dropped(dropped, "group")
    labels = labels[~missing]
    if not isinstance(labels.dtype, pd.CategoricalDtype):
        levels = list(pd.unique(labels))
        numeric = all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                      for v in levels)
        levels = sorted(levels) if numeric else sorted(levels, key=str)  # as R's factor()
        labels = labels.astype(pd.CategoricalDtype(levels))
    labels = labels.cat.remove_unused_categories()
    counts = labels.value_counts(sort=False)
    if len(counts) < 2:
        raise ValueError(f"{name} has {len(counts)} level(s) among samples with a label "
                         f"({list(counts.index)}); a comparison needs at least two groups")
    small = counts[counts < 2]
    if len(small):
        raise ValueError(f"groups with fewer than 2 samples cannot be tested: "
                         f"{ {str(k): int(v) for k, v in small.items()} }; merge or drop them")
    dummies, _ = design_matrix(labels.rename(name).to_frame())
    if intercept is False:
        first = (labels == labels.cat.categories[0]).astype(float).rename(
            f"{name}[{labels.cat.categories[0]}]")
        matrix = pd.concat([first, dummies], axis=1)
    else:
        matrix = pd.concat([pd.Series(1.0, index=labels.index, name=INTERCEPT), dummies], axis=1)
    return Design(matrix, labels, name, dropped)


def _covariate_design(frame: pd.DataFrame, intercept: bool | None) -> Design:
    frame = frame.set_axis(_check_index(frame.index, "design"))
    missing = frame.isna().any(axis=1).to_numpy()
    dropped = frame.index[missing].tolist()
    _report_dropped(dropped, "covariate")
    encoded, _ = design_matrix(frame[~missing])
    add = intercept if intercept is not None else not _spans_constant(encoded.to_numpy())
    if add:
        encoded.insert(0, INTERCEPT, 1.0)
    if encoded.shape[1] == 0:
        raise ValueError("the design has no columns")
    return Design(encoded.astype(float), None, None, dropped)


def aliased_columns(matrix: np.ndarray, names: Sequence[str]) -> list[str]:
    """Columns that are linear combinations of earlier ones (R ``lm.fit``'s pivoting rule)."""
    return [names[j] for j in np.flatnonzero(~estimable(matrix))]


def estimable(matrix: np.ndarray) -> np.ndarray:
    """Boolean mask of the columns kept by R's limited pivoting (earlier columns win)."""
    basis = np.empty((matrix.shape[0], 0))
    keep = np.zeros(matrix.shape[1], dtype=bool)
    for j in range(matrix.shape[1]):
        column = matrix[:, j]
        norm = np.linalg.norm(column)
        residual = column - basis @ (basis.T @ column)
        residual = residual - basis @ (basis.T @ residual)  # second pass for stability
        size = np.linalg.norm(residual)
        if norm > 0 and size > ALIAS_TOLERANCE * norm:
            keep[j] = True
            basis = np.column_stack([basis, residual / size])
    return keep


def check_full_rank(design: Design) -> None:
    """Raise a ValueError naming the aliased columns of a design that is not of full rank."""
    values = design.matrix.to_numpy()
    aliased = aliased_columns(values, design.columns)
    if aliased:
        raise ValueError(f"the design is not of full rank: column(s) {aliased} are linear "
                         "combinations of earlier columns (confounded covariates or an empty "
                         "level); drop them or merge the confounded variables")
    if values.shape[0] <= values.shape[1]:
        raise ValueError(f"{values.shape[0]} samples for {values.shape[1]} design columns leave "
                         "no residual degrees of freedom; limma needs more samples than "
                         "coefficients")


def contrast_matrix(contrast: Any, design: Design) -> pd.DataFrame | None:
    """Design columns x contrasts weight matrix (None without contrasts).

    Accepted: a mapping or Series ``{design column: weight}`` (one contrast), a DataFrame with
    one column per contrast indexed by design columns, or a pair ``(level_a, level_b)`` of
    group levels (``level_a - level_b``; groups only).
    """
    if contrast is None:
        return None
    columns = design.columns
    if isinstance(contrast, tuple) and len(contrast) == 2 and not isinstance(contrast, Mapping):
        return _level_contrast(contrast, design)
    if isinstance(contrast, (Mapping, pd.Series)):
        weights = pd.Series(dict(contrast), dtype=float)
        name = getattr(contrast, "name", None) or " + ".join(
            f"{w:g}*{c}" for c, w in weights.items())
        contrast = weights.rename(str(name)).to_frame()
    if not isinstance(contrast, pd.DataFrame):
        raise TypeError("contrast must be a mapping {design column: weight}, a DataFrame of "
                        "weights (design columns x contrasts) or a pair of group levels")
    unknown = [str(c) for c in contrast.index if str(c) not in columns]
    if unknown:
        raise ValueError(f"contrast names unknown design columns {unknown}; the design's "
                         f"columns are {columns}")
    matrix = contrast.set_axis(contrast.index.astype(str)).reindex(columns).fillna(0.0)
    values = matrix.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise ValueError("contrast weights must be finite numbers")
    if (np.abs(values).sum(axis=0) == 0).any():
        raise ValueError("a contrast has all weights zero")
    return matrix.astype(float)


def _level_contrast(pair: tuple, design: Design) -> pd.DataFrame:
    if design.groups is None:
        raise ValueError("a contrast given as two group levels needs groups (a Series), not a "
                         "covariate design; pass {design column: weight} instead")
    levels = [str(c) for c in design.groups.cat.categories]
    weights = pd.Series(0.0, index=design.columns)
    for level, sign in zip(pair, (1.0, -1.0), strict=True):
        if str(level) not in levels:
            raise ValueError(f"{level!r} is not a level of {design.group_name} (levels: "
                             f"{levels})")
        column = f"{design.group_name}[{level}]"
        if column in weights.index:
            weights[column] += sign
        elif INTERCEPT not in weights.index:
            raise ValueError(f"cannot express level {level!r} without an intercept column")
        # the reference level is the intercept: its contrast weight on the dummies is zero
    if (weights == 0).all():
        raise ValueError(f"contrast {pair[0]!r} - {pair[1]!r} compares a level with itself")
    return weights.rename(f"{pair[0]} - {pair[1]}").to_frame()


def tested_columns(coef: Any, names: list[str], has_contrasts: bool) -> list[int]:
    """Positions of the tested coefficients (or contrasts).

    ``coef=None`` tests every contrast, or every design column except the intercept (as
    limma's ``topTable``); names or 0-based positions select explicitly.
    """
    if coef is None:
        chosen = list(range(len(names))) if has_contrasts else [
            i for i, n in enumerate(names) if n != INTERCEPT]
        if not chosen:
            raise ValueError("the design has only an intercept; name the coefficient to test "
                             "(coef='(Intercept)') or give groups")
        return chosen
    items = [coef] if isinstance(coef, (str, int, np.integer)) else list(coef)
    if not items:
        raise ValueError("coef is empty")
    out = []
    for item in items:
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            if not 0 <= int(item) < len(names):
                raise ValueError(f"coef position {item} out of range 0..{len(names) - 1} "
                                 f"({names})")
            out.append(int(item))
        elif str(item) in names:
            out.append(names.index(str(item)))
        else:
            raise ValueError(f"unknown coefficient {item!r}; available: {names}")
    if len(set(out)) != len(out):
        raise ValueError(f"coef names a coefficient twice: {items}")
    return out
