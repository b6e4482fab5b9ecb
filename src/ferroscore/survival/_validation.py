"""Input checks shared by the survival modules: survival times and events, one-dimensional
inputs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _as_array(values: Any, name: str) -> np.ndarray:
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.to_numpy()
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


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

