"""Calibration of a risk model at one horizon: predicted against observed survival by risk
group.

The samples of a cohort are cut into ``groups`` groups of equal size by their risk score
(quantiles). Per group: the mean predicted survival at the horizon
(:meth:`RiskModel.predict_survival`, the training cohort's baseline hazard) and the
Kaplan-Meier survival observed at the horizon with its 95% confidence interval (lifelines'
Greenwood interval on the log(-log) scale; R ``survfit``'s default is the log scale, so the
bounds differ slightly: a guide, not a test). A well-calibrated
model has the points on the diagonal; on an external cohort, a shift off it says the baseline
risk differs, a slope away from 1 that the risk score's spread does.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ferroscore.survival._validation import check_survival
from ferroscore.survival.km import km
from ferroscore.survival.metrics import horizon_times
from ferroscore.tables import align_samples

__all__ = ["calibration"]


def _observed_at(table: pd.DataFrame, at: float) -> tuple[float, float, float]:
    """Kaplan-Meier survival and its interval at time ``at`` from a KM table (step function,
    right-continuous); NaN when the group's follow-up ends before ``at``."""
    if table.index.max() < at:
        return np.nan, np.nan, np.nan
    row = table.loc[table.index <= at]
    if row.empty:
        return 1.0, 1.0, 1.0
    last = row.iloc[-1]
    return float(last["survival"]), float(last["lower"]), float(last["upper"])


def calibration(model: Any, expr: pd.DataFrame, clinical: pd.DataFrame, *, time: str,
                event: str, horizon: float = 3, time_unit: str | None = None,
                groups: int = 3, join: str = "exact") -> pd.DataFrame:
    """Predicted vs Kaplan-Meier observed survival at ``horizon`` years by risk group.

    Parameters
    ----------
    model
        A fitted :class:`~ferroscore.survival.RiskModel`.
    expr, clinical, time, event
        The cohort (as :meth:`RiskModel.fit`); samples without survival data are left out.
    horizon
        Years.
    time_unit
        Unit of the cohort's times (default: the training cohort's). The model's baseline is
        converted to it.
    groups
        Number of risk groups (quantiles of the risk score).

    Returns
    -------
    DataFrame
        One row per group, lowest risk first: ``group``, ``n``, ``n_events``, ``risk_mean``,
        ``predicted``, ``observed``, ``observed_lower``, ``observed_upper``. ``attrs``:
        ``horizon``, ``time`` (in the cohort's unit), ``time_unit``.

    Warns
    -----
    UserWarning
        Samples without survival data (left out, counted).
    """
    from ferroscore.scoring import _check_integer

    _check_integer("groups", groups, 2)
    model._check_fitted()
    unit = time_unit or model.training_["time_unit"]
    at = float(horizon_times([horizon], unit)[0])
    in_training_unit = float(horizon_times([horizon], model.training_["time_unit"])[0])
    if not isinstance(clinical, pd.DataFrame):
        raise TypeError(f"clinical must be a DataFrame indexed by sample ID, got "
                        f"{type(clinical).__name__}")
    absent = [c for c in (time, event) if c not in clinical.columns]
    if absent:
        raise KeyError(f"{absent} not columns of the clinical data; available: "
                       f"{list(clinical.columns)}")
    risk = model.predict(expr)
    frame, data, _ = align_samples(risk.to_frame("risk"), clinical, join=join,
                                   left_name="risk scores", right_name="clinical data")
    complete = data[[time, event]].notna().all(axis=1)
    if not complete.all():
        warnings.warn(f"{int((~complete).sum())} samples without {time} or {event} were left "
                      "out of the calibration", UserWarning, stacklevel=2)
    data = data.loc[complete, [time, event]]
    frame = frame.loc[data.index]
    t, e = check_survival(data[time], data[event])
    predicted = model._survival_at(frame["risk"], np.array([in_training_unit])).iloc[:, 0]
    ranks = frame["risk"].rank(method="first")
    labels = pd.qcut(ranks, groups, labels=[f"G{k}" for k in range(1, groups + 1)])
    observed = km(t, e, labels.astype(str).to_numpy())
    rows = []
    for label in labels.cat.categories:
        members = (labels == label).to_numpy()
        survival, lower, upper = _observed_at(observed.tables[label], at)
        rows.append({"group": label, "n": int(members.sum()), "n_events": int(e[members].sum()),
                     "risk_mean": float(frame["risk"][members].mean()),
                     "predicted": float(predicted[members].mean()), "observed": survival,
                     "observed_lower": lower, "observed_upper": upper})
    table = pd.DataFrame(rows)
    table.attrs.update({"horizon": horizon, "time": at, "time_unit": unit, "groups": groups})
    return table
