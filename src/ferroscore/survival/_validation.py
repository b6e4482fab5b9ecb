"""Input checks shared by the survival modules: survival times and events, one-dimensional
inputs, pairing of pandas inputs by index, and samples x genes matrices.

Pairing rule (every survival function): pandas Series are paired by their index, never by
position. The first Series among a function's inputs sets the sample order; every other Series
must hold the same labels (in any order) and is reordered to match, else a ValueError lists
the labels found on one side only. Plain arrays and lists are taken by position, in that order;
mixing them with Series that list the samples in different orders is an error (ambiguous).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _as_array(values: Any, name: str) -> np.ndarray:
    if isinstance(values, (pd.Series, pd.Index)):
        nullable_number = (isinstance(values.dtype, pd.api.extensions.ExtensionDtype)
                           and pd.api.types.is_numeric_dtype(values.dtype)
                           and not pd.api.types.is_bool_dtype(values.dtype))
        # pandas nullable Int64 / Float64: pd.NA becomes NaN (then reported as missing)
        values = (values.to_numpy(dtype=float, na_value=np.nan) if nullable_number
                  else values.to_numpy())
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def _examples(labels: pd.Index, k: int = 3) -> list:
    return [label.item() if hasattr(label, "item") else label for label in labels[:k]]


def reindex_like(values: pd.Series, index: pd.Index, name: str, reference: str) -> pd.Series:
    """``values`` reordered to ``index``; a ValueError if the labels differ or repeat."""
    if values.index.has_duplicates:
        repeated = values.index[values.index.duplicated()].unique()
        raise ValueError(f"{name} has {len(repeated)} repeated index labels (e.g. "
                         f"{_examples(repeated)}); keep one value per sample")
    if values.index.equals(index):
        return values
    only_here = values.index.difference(index, sort=False)
    only_there = index.difference(values.index, sort=False)
    if len(only_here) or len(only_there):
        raise ValueError(
            f"{name} and {reference} are indexed by different sample IDs: {len(only_here)} only "
            f"in {name} (e.g. {_examples(only_here)}), {len(only_there)} only in {reference} "
            f"(e.g. {_examples(only_there)}); align them by sample ID first (or pass plain "
            "arrays to pair values by position)")
    return values.reindex(index)


def align_series(**inputs: Any) -> tuple[dict[str, Any], pd.Index | None]:
    """Pair the pandas Series among ``inputs`` by index (see the module's pairing rule).

    Returns the inputs (Series reordered to the first Series' index, other values unchanged)
    and that index (None when no input is a Series).
    """
    reference: tuple[str, pd.Index] | None = None
    out = dict(inputs)
    series = {name: v for name, v in inputs.items() if isinstance(v, pd.Series)}
    arrays = [name for name, v in inputs.items()
              if v is not None and not isinstance(v, (pd.Series, pd.DataFrame, str))
              and np.ndim(v) == 1]
    orders = [v.index for v in series.values()]
    if arrays and any(not index.equals(orders[0]) for index in orders[1:]):
        raise ValueError(
            f"{', '.join(arrays)} {'is a plain array' if len(arrays) == 1 else 'are plain arrays'}"
            f" (paired by position) but the Series {', '.join(series)} list the samples in "
            "different orders, so which sample each value belongs to is ambiguous; pass every "
            "input as a Series indexed by sample ID, or every input as a plain array")
    for name, values in inputs.items():
        if not isinstance(values, pd.Series):
            continue
        if reference is None:
            reference = (name, values.index)
            out[name] = reindex_like(values, values.index, name, name)  # repeated labels
        else:
            out[name] = reindex_like(values, reference[1], name, reference[0])
    return out, None if reference is None else reference[1]


def check_survival(time: Any, event: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate survival times and event indicators; returns float times and int events.

    Raises
    ------
    ValueError
        Times missing, non-finite or <= 0; events not 0/1; lengths differ; no events.
    """
    t = _as_array(time, "time")
    e = _as_array(event, "event")
    if len(t) != len(e):
        raise ValueError(f"time and event have different lengths ({len(t)} and {len(e)})")
    if len(t) == 0:
        raise ValueError("no observations")
    try:
        t = t.astype(float)
    except (TypeError, ValueError) as error:
        raise TypeError(f"survival times must be numeric: {error}") from None
    bad = ~np.isfinite(t)
    if bad.any():
        raise ValueError(f"{int(bad.sum())} survival times are missing or infinite (positions "
                         f"{np.flatnonzero(bad)[:5].tolist()}); drop those samples first")
    if (t <= 0).any():
        raise ValueError(f"survival times must be > 0; {int((t <= 0).sum())} are <= 0 (e.g. "
                         f"{t[t <= 0][:5].tolist()})")
    if e.dtype == bool:
        e = e.astype(int)
    try:
        e_float = e.astype(float)
    except (TypeError, ValueError):
        raise ValueError(f"events must be 0/1 or booleans, got values {pd.unique(e)[:5]}") \
            from None
    if not np.isin(e_float, (0.0, 1.0)).all():
        wrong = pd.unique(e[~np.isin(e_float, (0.0, 1.0))])[:5].tolist()
        raise ValueError(f"events must be 0/1 or booleans; found {wrong}")
    e = e_float.astype(int)
    if e.sum() == 0:
        raise ValueError("all observations are censored (no events); survival statistics are "
                         "undefined")
    return t, e



def samples_matrix(X: Any, what: str = "X") -> tuple[np.ndarray, pd.Index, pd.Index]:
    """A finite float (samples, genes) matrix with its sample and gene names.

    ``X`` is a samples x genes DataFrame (names kept) or a 2-D array (genes named ``x0``,
    ``x1``, ...; samples ``0 .. n-1``). Repeated gene or sample names, non-numeric columns and
    missing or infinite values are errors that name the genes concerned.
    """
    if isinstance(X, pd.DataFrame):
        for axis, label in ((X.columns, "gene (column)"), (X.index, "sample (row)")):
            if axis.has_duplicates:
                repeated = axis[axis.duplicated()].unique()
                raise ValueError(f"{what} has {len(repeated)} repeated {label} names (e.g. "
                                 f"{_examples(repeated)}); keep one {label.split()[0]} per "
                                 "name")
        non_numeric = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        if non_numeric:
            raise TypeError(f"{what} must be numeric; non-numeric columns: "
                            f"{non_numeric[:5]}")
        values = X.to_numpy(dtype=float, na_value=np.nan)
        samples, genes = X.index, X.columns
    else:
        values = np.asarray(X, dtype=float)
        if values.ndim != 2:
            raise ValueError(f"{what} must be a samples x genes matrix, got shape "
                             f"{values.shape}")
        samples = pd.RangeIndex(values.shape[0])
        genes = pd.Index([f"x{j}" for j in range(values.shape[1])])
    if values.shape[0] < 2 or values.shape[1] < 1:
        raise ValueError(f"{what} needs at least 2 samples and 1 gene, got shape "
                         f"{values.shape}")
    bad = ~np.isfinite(values)
    if bad.any():
        columns = np.flatnonzero(bad.any(axis=0))
        raise ValueError(
            f"{what} has {int(bad.sum())} missing or infinite values in {len(columns)} genes "
            f"(e.g. {list(genes[columns[:5]])}); impute them or drop those genes or samples "
            "first")
    return values, samples, genes


def survival_for(samples: pd.Index, time: Any, event: Any, what: str = "X"
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Validated time and event for the rows ``samples`` of a matrix: Series are paired by
    index with the rows, arrays by position."""
    n = len(samples)
    paired = {}
    for name, values in (("time", time), ("event", event)):
        if isinstance(values, pd.Series):
            values = reindex_like(values, samples, name, f"the rows of {what}")
        elif len(_as_array(values, name)) != n:
            raise ValueError(f"{name} has {len(_as_array(values, name))} values for the {n} "
                             f"rows of {what}")
        paired[name] = values
    return check_survival(paired["time"], paired["event"])


def check_unique_genes(genes: pd.Index, what: str = "expr") -> None:
    """Repeated gene names are an error pointing to ``ferroscore.ids.collapse``."""
    if genes.has_duplicates:
        repeated = genes[genes.duplicated()].unique()
        raise ValueError(f"{what} has {len(repeated)} repeated gene names (e.g. "
                         f"{list(repeated[:5])}); collapse them first "
                         "(ferroscore.ids.collapse)")
