"""Drug-response prediction on the bundled real GDSC2 screen, beside scikit-learn RidgeCV.

1. Whole-screen prediction: every GDSC2 drug with >= 100 lines x 919 lines x 6,163 genes,
   trained and predicting the 124 GSE1992 tumours (ComBat, variance filter, power transform,
   ridge with exact leave-one-out penalty per drug), against the loop a user would write
   instead: the same homogenised features, then ``RidgeCV`` per drug.
2. Five-fold cross-validation of 18 drugs: ``fs.drugs.cross_validate`` without its baselines,
   against the same folds with ``RidgeCV`` per drug per fold.

Each measurement runs in a fresh process (wall time, peak memory above the loaded data).
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

import ferroscore as fs
from benchmarks.common import fmt, print_table, run_isolated

CV_DRUGS = ["Lapatinib", "Cisplatin", "Docetaxel", "Paclitaxel", "Gefitinib", "Sorafenib",
            "Vorinostat", "Dasatinib", "Vinorelbine", "Bortezomib", "Bleomycin", "Erlotinib",
            "Tamoxifen", "Fulvestrant", "Nutlin-3a (-)", "Trametinib", "Olaparib", "Afatinib"]
MIN_LINES = 100


def _screen(quick: bool):
    data = fs.datasets.gdsc("GDSC2")
    counts = data.response.notna().sum()
    drugs = list(counts.index[counts >= MIN_LINES])
    return data, drugs[:40] if quick else drugs


def _ridgecv_loop(train_expr, response, test_expr):
    """What a user would write: homogenise as the pipeline does, then RidgeCV per drug."""
    from sklearn.linear_model import RidgeCV

    from ferroscore.drugs.prediction import prepare_features
    from ferroscore.drugs.validation import RIDGECV_ALPHAS

    features = prepare_features(train_expr, test_expr, homogenize="combat",
                                min_variance_quantile=0.2)
    out = {}
    for drug in response.columns:
        y = response[drug].dropna()
        rows = features.lines.get_indexer(y.index)
        model = RidgeCV(alphas=RIDGECV_ALPHAS).fit(features.x_train[rows], y.to_numpy())
        out[drug] = model.predict(features.x_test)
    return out


def prepare(spec: dict):
    """Worker entry point: load the data, return the call to time (it also writes its CPU
    seconds, user + system of all threads, to ``spec["cpu_file"]``: a load-independent figure
    when the machine is shared)."""
    task = _task(spec)

    def timed():
        start = os.times()
        task()
        end = os.times()
        Path(spec["cpu_file"]).write_text(str(end.user - start.user + end.system - start.system))
    return timed


def _task(spec: dict):
    warnings.filterwarnings("ignore")
    data, drugs = _screen(spec["quick"])
    tumours, _ = fs.datasets.breast_cancer(as_frames=True)
    task = spec["task"]
    if task == "predict_ferroscore":
        return lambda: fs.drugs.predict_response(data.expression, data.response[drugs], tumours)
    if task == "predict_ridgecv":
        return lambda: _ridgecv_loop(data.expression, data.response[drugs], tumours)
    cv_drugs = CV_DRUGS[:6] if spec["quick"] else CV_DRUGS
    if task == "cv_ferroscore":
        return lambda: fs.drugs.cross_validate(data.expression, data.response[cv_drugs],
                                               lines=data.lines, baselines=False)
    folds = np.random.default_rng(0).permutation(data.response.shape[0]) % 5

    def cv_ridgecv():
        lines = data.response.index
        for k in range(5):
            train, test = lines[folds != k], lines[folds == k]
            _ridgecv_loop(data.expression[train], data.response.loc[train, cv_drugs],
                          data.expression[test])
    return cv_ridgecv


def main(quick: bool) -> dict:
    _, drugs = _screen(quick)
    n_cv = 6 if quick else len(CV_DRUGS)
    rows = []
    for job, what in (("predict", f"GDSC2, {len(drugs)} drugs -> 124 tumours"),
                      ("cv", f"5-fold CV, {n_cv} drugs")):
        result = {}
        for tool in ("ferroscore", "ridgecv"):
            with tempfile.TemporaryDirectory() as tmp:
                cpu_file = Path(tmp) / "cpu.txt"
                result[tool] = run_isolated({"module": "bench_drugs", "task": f"{job}_{tool}",
                                             "quick": quick, "cpu_file": str(cpu_file)})
                if cpu_file.exists():
                    result[tool]["cpu_seconds"] = float(cpu_file.read_text())
        ours, peer = result["ferroscore"].get("seconds"), result["ridgecv"].get("seconds")
        rows.append({"task": what, "ferroscore_s": fmt(ours),
                     "ferroscore_cpu_s": fmt(result["ferroscore"].get("cpu_seconds")),
                     "ferroscore_peak_mb": fmt(result["ferroscore"].get("peak_mb"), 0),
                     "ridgecv_s": fmt(peer),
                     "ridgecv_cpu_s": fmt(result["ridgecv"].get("cpu_seconds")),
                     "ridgecv_peak_mb": fmt(result["ridgecv"].get("peak_mb"), 0),
                     "ratio": fmt(peer / ours if ours and peer else None, 1),
                     "note": result["ferroscore"].get("error", "") or result["ridgecv"].get(
                         "error", "")})
    print(f"\n## drug-response prediction (real GDSC2: 919 lines x 6,163 genes; ratio = RidgeCV "
          f"seconds / ferroscore seconds; load average {os.getloadavg()[0]:.1f})")
    print_table(rows, list(rows[0]))
    return {"rows": rows}
