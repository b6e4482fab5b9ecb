"""Survival engines against their peers on the same data, in one run:

- ``fs.survival.screen`` (univariate Cox per gene, Efron ties) on 20,000 genes x 1,000 samples
  (SYNTHETIC expression and survival) against an R ``coxph`` loop and a lifelines
  ``CoxPHFitter`` loop. The loops are timed on the first genes and scaled linearly to 20,000
  (the table says how many were timed).
- ``fs.survival.coxnet`` (LASSO Cox path) and ``cv_coxnet`` (10-fold) against R ``glmnet`` /
  ``cv.glmnet`` at their defaults (``thresh = 1e-7``), on GSE1992's candidate genes (real, 124 x
  208) and on SYNTHETIC cohorts of 1,000 samples.

ferroscore runs in fresh processes (``worker.py``; numba compiled before timing); R times only
its fitting calls (``system.time``). The R part is skipped, with a note, when ``Rscript`` or its
packages are missing.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import ferroscore as fs
from benchmarks.common import bulk_matrix, fmt, load_matrix, print_table, run_isolated, save_matrix

ROOT = Path(__file__).resolve().parents[1]
R_SCRIPT = Path(__file__).with_name("peers_survival.R")
SCREEN_SIZE = (20_000, 1_000)
RENAMES = {"MBOAT5": "LPCAT3", "CARS": "CARS1", "ATP5G3": "ATP5MC3", "TTC35": "EMC2",
           "JMJD1B": "KDM3B"}
COLUMNS = ["task", "data", "ferroscore_s", "peer", "peer_s", "ratio", "agreement", "note"]


def synthetic_survival(expr: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """SYNTHETIC relapse times (months, one decimal: some ties) driven by the first 10 genes,
    with uniform censoring; one row per sample (the columns of ``expr``)."""
    rng = np.random.default_rng(seed)
    genes = expr.to_numpy()[:10]
    z = (genes - genes.mean(axis=1, keepdims=True)) / genes.std(axis=1, keepdims=True)
    risk = np.array([0.5, -0.4, 0.3, -0.3, 0.2, 0.2, -0.2, 0.1, 0.1, -0.1]) @ z
    event_time = rng.exponential(1.0 / (0.02 * np.exp(risk)))
    censor_time = rng.uniform(6.0, 120.0, expr.shape[1])
    time = np.maximum(0.1, np.round(np.minimum(event_time, censor_time), 1))
    return pd.DataFrame({"time": time, "event": (event_time <= censor_time).astype(int)},
                        index=expr.columns)


def write_dataset(folder: Path, expr: pd.DataFrame, clinical: pd.DataFrame) -> str:
    """Save one cohort for both sides: .npy (ferroscore) and raw float64 (R)."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = save_matrix(expr, folder, "expr")
    np.ascontiguousarray(expr.to_numpy(dtype=float)).tofile(folder / "expr.bin")
    clinical.set_axis([f"S{i}" for i in range(len(clinical))]).to_csv(folder / "clinical.csv")
    events = clinical["event"].to_numpy()
    folds = fs.survival.fold_ids(events, 10, seed=1)
    np.savetxt(folder / "folds.txt", folds, fmt="%d")
    (folder / "info.json").write_text(json.dumps({"n_genes": expr.shape[0],
                                                  "n_samples": expr.shape[1]}))
    return stem


def gse1992_candidates() -> tuple[pd.DataFrame, pd.DataFrame]:
    """GSE1992's 208 candidate genes (the conformance fixture's X), genes x samples."""
    expression, clinical = fs.datasets.breast_cancer(as_frames=True)
    names = [RENAMES[g] if g in RENAMES and RENAMES[g] not in expression.index else g
             for g in expression.index]
    expression = expression.set_axis(names)
    wanted = (ROOT / "tests" / "data" / "prognostic_gse1992" / "candidates.txt").read_text()
    expr = expression.loc[[g for g in wanted.split() if g in expression.index]]
    expr = expr.loc[expr.var(axis=1) > 0]
    survival = pd.DataFrame({"time": clinical["rfs_months"].astype(float),
                             "event": clinical["rfs_event"].astype(int)})
    return expr, survival


def prepare(spec: dict):
    """Worker entry point: load the cohort, warm up (compile), return the call to time."""
    warnings.filterwarnings("ignore")
    folder = Path(spec["data"])
    expr = load_matrix(str(folder / "expr"))
    clinical = pd.read_csv(folder / "clinical.csv", index_col=0)
    n_genes = spec.get("n_genes", expr.shape[0])
    task = spec["task"]
    if task == "screen":
        fs.survival.screen(expr.iloc[:20], clinical, time="time", event="event")
        return lambda: fs.survival.screen(expr, clinical, time="time", event="event")
    if task == "lifelines":
        from lifelines import CoxPHFitter

        frame = expr.iloc[:n_genes].T.assign(time=clinical["time"], event=clinical["event"])

        def loop():
            for gene in expr.index[:n_genes]:
                CoxPHFitter().fit(frame[[gene, "time", "event"]], "time", "event")
        return loop
    X = expr.iloc[:n_genes].T
    time, event = clinical["time"], clinical["event"]
    fs.survival.coxnet(X.iloc[:, :5], time, event, n_lambdas=5)
    if task == "coxnet":
        return lambda: fs.survival.coxnet(X, time, event)
    folds = np.loadtxt(folder / "folds.txt", dtype=int)
    fs.survival.cv_coxnet(X.iloc[:, :5], time, event, folds=folds, n_lambdas=5)
    return lambda: fs.survival.cv_coxnet(X, time, event, folds=folds)


def run_r(task: str, folder: Path, n_genes: int, *extra: str) -> dict:
    """One R peer timing (or a note why it did not run)."""
    if shutil.which("Rscript") is None:
        return {"error": "Rscript not found: R peer skipped"}
    try:
        done = subprocess.run(["Rscript", str(R_SCRIPT), task, str(folder), str(n_genes),
                               *extra],
                              capture_output=True, text=True, timeout=7200, check=False)
    except subprocess.TimeoutExpired:
        return {"error": "R timed out"}
    if done.returncode != 0:
        return {"error": "R failed: " + (done.stderr.strip().splitlines() or ["?"])[-1][:80]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ratio(peer: float | None, ours: float | None) -> str:
    return fmt(peer / ours, 1) if peer and ours else ""


def bench_screen(folder: Path, quick: bool, peers: bool) -> list[dict]:
    n_genes, n_samples = SCREEN_SIZE
    data = f"{n_genes:,} genes x {n_samples:,} samples (SYNTHETIC)"
    ours = run_isolated({"module": "bench_survival", "task": "screen", "data": str(folder)})
    seconds = ours.get("seconds")
    rows = [{"task": "screen (univariate Cox, Efron)", "data": data,
             "ferroscore_s": fmt(seconds), "note": ours.get("error", "")}]
    if not peers:
        return rows
    n_lifelines = 100 if quick else 400
    theirs = run_isolated({"module": "bench_survival", "task": "lifelines", "data": str(folder),
                           "n_genes": n_lifelines})
    scaled = theirs["seconds"] * n_genes / n_lifelines if "seconds" in theirs else None
    rows.append({"task": "screen", "data": data, "ferroscore_s": fmt(seconds),
                 "peer": "lifelines CoxPHFitter loop", "peer_s": fmt(scaled, 0),
                 "ratio": _ratio(scaled, seconds),
                 "note": theirs.get("error", f"timed on {n_lifelines} genes, scaled")})
    n_r = 1000 if quick else n_genes
    r = run_r("coxph", folder, n_r)
    scaled = r["seconds"] * n_genes / n_r if "seconds" in r else None
    agreement = ""
    if "coef" in r:
        table = fs.survival.screen(load_matrix(str(folder / "expr")).iloc[:n_r],
                                   pd.read_csv(folder / "clinical.csv", index_col=0),
                                   time="time", event="event")
        rel = np.abs(table["coef"].to_numpy() / np.asarray(r["coef"]) - 1)
        agreement = f"coef max rel {np.max(rel):.1e}"
    rows.append({"task": "screen", "data": data, "ferroscore_s": fmt(seconds),
                 "peer": "R survival coxph loop", "peer_s": fmt(scaled, 0),
                 "ratio": _ratio(scaled, seconds), "agreement": agreement,
                 "note": r.get("error", "" if n_r == n_genes else f"timed on {n_r} genes, "
                                                                  "scaled")})
    return rows


def bench_paths(datasets: list[tuple[str, Path, int]], peers: bool) -> list[dict]:
    rows = []
    peers_of = (("coxnet", ("glmnet", "1e-7"), "R glmnet (default thresh 1e-7)"),
                ("coxnet", ("glmnet", "1e-10"), "R glmnet (thresh 1e-10)"),
                ("cv", ("cv",), "R cv.glmnet, 10 folds"))
    for label, folder, n_genes in datasets:
        timed: dict[str, dict] = {}
        for task, (peer_task, *extra), peer_name in peers_of:
            if task not in timed:
                timed[task] = run_isolated({"module": "bench_survival", "task": task,
                                            "data": str(folder), "n_genes": n_genes},
                                           timeout=7200)
            ours = timed[task]
            row = {"task": "coxnet path" if task == "coxnet" else "cv_coxnet, 10 folds",
                   "data": label, "ferroscore_s": fmt(ours.get("seconds")),
                   "note": ours.get("error", "")}
            if peers:
                r = run_r(peer_task, folder, n_genes, *extra)
                row.update(peer=peer_name, peer_s=fmt(r.get("seconds")),
                           ratio=_ratio(r.get("seconds"), ours.get("seconds")),
                           note=r.get("error", row["note"]))
                if "dev_ratio" in r and n_genes <= 500:  # (refitting the largest costs a minute)
                    row["agreement"] = _path_agreement(folder, n_genes, r)
            rows.append(row)
            print_table([row], COLUMNS)
    return rows


@functools.cache
def _our_path(folder: Path, n_genes: int) -> fs.survival.CoxnetPath:
    expr = load_matrix(str(folder / "expr"))
    clinical = pd.read_csv(folder / "clinical.csv", index_col=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fs.survival.coxnet(expr.iloc[:n_genes].T, clinical["time"], clinical["event"])


def _path_agreement(folder: Path, n_genes: int, r: dict) -> str:
    """Largest dev-ratio difference on the common lambdas (glmnet at its default thresh is
    less converged than ferroscore, so this mostly measures glmnet)."""
    path = _our_path(folder, n_genes)
    common = min(len(path.lambdas), len(r["dev_ratio"]))
    gap = np.max(np.abs(path.dev_ratio[:common] - np.asarray(r["dev_ratio"])[:common]))
    return f"{len(path.lambdas)} vs {len(r['lambda'])} lambdas, dev ratio max diff {gap:.1e}"


def main(quick: bool, peers: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="ferroscore-survival-") as tmp:
        folder = Path(tmp)
        expr = bulk_matrix(*SCREEN_SIZE)
        survival = synthetic_survival(expr)
        write_dataset(folder / "screen", expr, survival)
        print(f"\n# survival screen: {SCREEN_SIZE[0]:,} genes x {SCREEN_SIZE[1]:,} samples "
              f"(SYNTHETIC, {int(survival['event'].sum())} events)", flush=True)
        screen_rows = bench_screen(folder / "screen", quick, peers)
        print_table(screen_rows, COLUMNS)
        gse_expr, gse_survival = gse1992_candidates()
        write_dataset(folder / "gse1992", gse_expr, gse_survival)
        datasets = [("GSE1992 candidates, 124 x 208 (real)", folder / "gse1992",
                     gse_expr.shape[0]),
                    ("1,000 samples x 500 genes (SYNTHETIC)", folder / "screen", 500)]
        if not quick:
            datasets.append(("1,000 samples x 2,000 genes (SYNTHETIC)", folder / "screen",
                             2000))
        print("\n# LASSO Cox path and 10-fold cross-validation", flush=True)
        path_rows = bench_paths(datasets, peers)
    rows = screen_rows + path_rows
    print("\n## survival summary (ratio = peer seconds / ferroscore seconds)")
    print_table(rows, COLUMNS)
    return {"survival": rows}
