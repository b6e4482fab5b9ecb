"""Harrell's bootstrap estimate of the optimism of a risk model's training performance
(Harrell, Lee & Mark 1996; Steyerberg, Clinical Prediction Models, ch. 17), with the whole
pipeline refitted in every resample.

For ``b = 1..B``: draw ``n`` samples with replacement; refit the pipeline (screen, new
event-stratified folds, cross-validation, coefficients at the chosen lambda) on the resample;
``optimism_b = perf(model_b, resample) - perf(model_b, original cohort)``. Then
``corrected = apparent - mean_b(optimism_b)``, with ``apparent = perf(final model, original
cohort)``. Performance is Harrell's C and the cumulative/dynamic AUC at each horizon with
censoring weights from the data it is computed on; risk scores are ``X beta`` on the training
scale (both data sets come from the training platform). A resample whose model selects no
gene scores every sample alike (C = AUC = 0.5 on both sides: optimism 0); one where the
pipeline cannot run (e.g. fewer events than folds) is counted as failed and left out.
Resamples are fitted in parallel threads; their indices and fold seeds are drawn up front from
``seed``, so the result does not depend on the number of threads.
"""

from __future__ import annotations

import time as clock
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ferroscore.survival.metrics import horizon_times
from ferroscore.survival.risk_model import fit_pipeline, metric_names, performance

if TYPE_CHECKING:
    from ferroscore.survival.risk_model import RiskModel, TrainingData

__all__ = ["bootstrap_optimism"]


def bootstrap_optimism(model: RiskModel, data: TrainingData, *, B: int, seed: int | None,
                       horizons: Any, n_jobs: int | None) -> pd.DataFrame:
    """The table of :meth:`RiskModel.validate_internal` (see the module notes)."""
    from ferroscore.scoring import _check_integer, _n_jobs

    _check_integer("B", B, 1)
    grid = horizon_times(horizons, model.training_["time_unit"])
    names = metric_names(horizons)
    x, t, e = data.x, data.time, data.event
    columns = [data.genes.index(g) for g in model.genes_]
    apparent = performance(x[:, columns] @ model.coef_.to_numpy(), t, e, grid)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(t), size=(B, len(t)))
    fold_seeds = rng.integers(0, 2**31 - 1, size=B)
    options = model._pipeline_options()

    def one(b: int) -> tuple[np.ndarray, np.ndarray, float] | None:
        pick = picks[b]
        if not e[pick].any():
            return None
        try:
            fit = fit_pipeline(x[pick], t[pick], e[pick], data.genes, folds=model.folds,
                               seed=int(fold_seeds[b]), n_jobs=1, **options)
        except ValueError:
            return None
        on_resample = performance(x[pick] @ fit.coef, t[pick], e[pick], grid)
        on_original = performance(x @ fit.coef, t, e, grid)
        chosen = np.nan if fit.cv is None else (fit.cv.lambda_min if options["lambda_rule"]
                                                == "min" else fit.cv.lambda_1se)
        return np.r_[on_resample, on_original], fit.coef != 0, chosen

    start = clock.perf_counter()
    with threadpool_limits(1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # per-resample notes (e.g. genes without a screen fit)
        with ThreadPoolExecutor(max_workers=_n_jobs(n_jobs if n_jobs is not None
                                                    else model.n_jobs)) as pool:
            results = list(pool.map(one, range(B)))
    seconds = clock.perf_counter() - start
    done = [(b, r) for b, r in enumerate(results) if r is not None]
    n_failed = B - len(done)
    if n_failed:
        warnings.warn(f"{n_failed} of {B} bootstrap resamples could not be fitted (e.g. fewer "
                      "events than folds) and were left out of the optimism", UserWarning,
                      stacklevel=3)
    if not done:
        raise ValueError("no bootstrap resample could be fitted")
    values = np.vstack([r[0] for _, r in done])
    on_resample, on_original = values[:, :len(names)], values[:, len(names):]
    optimism = on_resample - on_original
    selected = np.vstack([r[1] for _, r in done])
    resamples = pd.DataFrame(np.column_stack([on_resample, on_original]),
                             columns=[f"{m}_{side}" for side in ("resample", "original")
                                      for m in names],
                             index=pd.Index([b + 1 for b, _ in done], name="resample"))
    resamples["n_genes"] = selected.sum(axis=1)
    resamples["lambda"] = [r[2] for _, r in done]
    defined = np.isfinite(optimism)
    with np.errstate(invalid="ignore"):
        mean = np.where(defined.any(axis=0),
                        np.nansum(optimism, axis=0) / np.maximum(defined.sum(axis=0), 1),
                        np.nan)
    table = pd.DataFrame({"apparent": apparent, "optimism": mean, "corrected": apparent - mean,
                          "n_resamples": defined.sum(axis=0)},
                         index=pd.Index(names, name="metric"))
    frequency = pd.Series(selected.mean(axis=0), index=data.genes, name="selected")
    table.attrs.update({"B": B, "seed": seed, "seconds": seconds, "n_failed": n_failed,
                        "n_null_models": int((~selected.any(axis=1)).sum()),
                        "horizons": list(np.atleast_1d(horizons)),
                        "time_unit": model.training_["time_unit"],
                        "selection_frequency": frequency.sort_values(ascending=False),
                        "resamples": resamples})
    return table
