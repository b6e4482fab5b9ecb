"""Simulated cohorts with a known truth for the risk-model tests.

Genes are independent standard normals (then put on a cohort's own platform scale); survival
follows a Cox model with an exponential baseline hazard: ``T ~ Exp(BASELINE * exp(x' beta))``,
censored uniformly over (CENSOR_MIN, CENSOR_MAX) months, so ``x' beta`` has log hazard ratio
``|beta|`` per SD.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BASELINE = 0.02  # events per month at x' beta = 0
CENSOR_MIN, CENSOR_MAX = 6.0, 120.0


def cohort(n: int, beta: dict[str, float], n_noise: int, seed: int, *, scale: float = 1.0,
           shift: float = 0.0, prefix: str = "s") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(expr genes x samples, clinical with ``time`` in months and ``event``). Signal genes are
    named in ``beta``, noise genes ``N1..``; every gene is observed as ``scale * x + shift``
    (another platform), which changes no ranking."""
    rng = np.random.default_rng(seed)
    genes = list(beta) + [f"N{j + 1}" for j in range(n_noise)]
    x = rng.standard_normal((n, len(genes)))
    lp = x[:, :len(beta)] @ np.array(list(beta.values()), dtype=float)
    event_time = rng.exponential(1.0 / (BASELINE * np.exp(lp)))
    censor = rng.uniform(CENSOR_MIN, CENSOR_MAX, n)
    time = np.ceil(np.minimum(event_time, censor) * 10) / 10  # tenths of months: some ties
    samples = [f"{prefix}{i:04d}" for i in range(n)]
    expr = pd.DataFrame((scale * x + shift).T, index=genes, columns=samples)
    clinical = pd.DataFrame({"time": time, "event": (event_time <= censor).astype(int)},
                            index=samples)
    return expr, clinical
