"""Bootstrap resamples and their fold ids for the R reference of the optimism bootstrap
(make_reference.R). Run from the repository root: python tests/data/risk_gse1992/make_inputs.py

The draws are exactly those of RiskModel.validate_internal(B=10, seed=1992) with folds=10:
numpy.random.default_rng(1992).integers(0, n, (B, n)) for the resamples, then B fold seeds,
each resample's folds from fs.survival.fold_ids(event[resample], 10, fold_seed).
"""

from pathlib import Path

import numpy as np
import pandas as pd

import ferroscore as fs

HERE = Path(__file__).resolve().parent
B, SEED, FOLDS = 10, 1992, 10

_, clinical = fs.datasets.breast_cancer(as_frames=True)
event = clinical["rfs_event"].to_numpy(dtype=int)
n = len(event)
rng = np.random.default_rng(SEED)
picks = rng.integers(0, n, size=(B, n))
fold_seeds = rng.integers(0, 2**31 - 1, size=B)
folds = np.vstack([fs.survival.fold_ids(event[p], FOLDS, int(s)) for p, s in
                   zip(picks, fold_seeds, strict=True)])
columns = [f"r{b + 1:02d}" for b in range(B)]
pd.DataFrame(picks.T + 1, columns=columns).to_csv(HERE / "bootstrap_rows.csv", index=False)
pd.DataFrame(folds.T, columns=columns).to_csv(HERE / "bootstrap_folds.csv", index=False)
