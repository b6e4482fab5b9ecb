"""Study-workflow steps against their R peers on the same GSE1992 data, in one run.

- limma: moderated t test of ER status on the whole transcriptome (15,528 genes x 122
  tumours), plain and ``trend=True``; R: ``topTable(eBayes(lmFit(y, design)), coef=2,
  number=Inf, sort.by="none")`` (limma 3.54.1).
- consensus clustering: 208 genes x 124 tumours, k = 2..6, 2,000 resamples (500 with
  ``--quick``), hc / Pearson / average linkage, p_item 0.8; R: ``ConsensusClusterPlus`` 1.62.0
  with the same settings (its run includes the figures it always draws).

ferroscore runs in a fresh process per task (data loaded and numba compiled before timing,
best of three); R runs in ``Rscript`` (package loading and data reading excluded by timing the
call with ``system.time``). R is skipped when ``Rscript`` is absent.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import ferroscore as fs
from benchmarks.common import fmt, print_table, run_isolated

REPEATS = 3
GENES_CLUSTERED = (Path(__file__).resolve().parents[1] / "tests" / "data" / "workflow_gse1992"
                   / "genes_clustered.txt")

R_LIMMA = """
suppressPackageStartupMessages(library(limma))
y <- as.matrix(read.csv("{folder}/expression.csv", row.names = 1, check.names = FALSE))
group <- factor(readLines("{folder}/groups.txt"))
design <- model.matrix(~ group)
trend <- {trend}
best <- Inf
for (i in 1:{repeats}) best <- min(best, system.time(
  topTable(eBayes(lmFit(y, design), trend = trend), coef = 2, number = Inf,
           sort.by = "none"))[["elapsed"]])
cat(best, "\\n")
"""

R_CONSENSUS = """
suppressPackageStartupMessages(library(ConsensusClusterPlus))
m <- as.matrix(read.csv("{folder}/clustered.csv", row.names = 1, check.names = FALSE))
pdf(NULL)
elapsed <- system.time(ConsensusClusterPlus(m, maxK = 6, reps = {reps}, pItem = 0.8,
  pFeature = 1, clusterAlg = "hc", distance = "pearson", innerLinkage = "average",
  finalLinkage = "average", seed = 1992, plot = NULL, verbose = FALSE))[["elapsed"]]
cat(elapsed, "\\n")
"""


def _inputs():
    expr, clinical = fs.datasets.breast_cancer(as_frames=True)
    known = clinical["er_positive"].dropna().index
    genes = GENES_CLUSTERED.read_text().split()
    clustered = expr.loc[genes]
    clustered = clustered.sub(clustered.median(axis=1), axis=0)
    return expr[known], clinical.loc[known, "er_positive"].astype(int), clustered


def prepare(spec: dict):
    """Worker entry point: load the task's data, warm up, return the call to time."""
    warnings.filterwarnings("ignore")
    folder = Path(spec["data"])
    if spec["task"].startswith("limma"):
        expr = pd.read_pickle(folder / "expression.pkl")
        groups = pd.read_pickle(folder / "groups.pkl")
        trend = spec["task"] == "limma_trend"
        fs.de.limma(expr.iloc[:200], groups, trend=trend)
        return lambda: fs.de.limma(expr, groups, trend=trend)
    clustered = pd.read_pickle(folder / "clustered.pkl")
    fs.subtypes.consensus(clustered, reps=20, seed=1)  # loads the compiled kernels
    return lambda: fs.subtypes.consensus(clustered, reps=spec["reps"], seed=1992)


def _ferroscore(task: str, folder: str, reps: int) -> dict:
    runs = [run_isolated({"module": "bench_workflow", "task": task, "data": folder,
                          "reps": reps}) for _ in range(REPEATS)]
    good = [r for r in runs if "error" not in r]
    if not good:
        return runs[0]
    return min(good, key=lambda r: r["seconds"])


def _rscript(code: str, timeout: float = 3600) -> float | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as handle:
        handle.write(code)
    try:
        done = subprocess.run(["Rscript", handle.name], capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None
    finally:
        Path(handle.name).unlink()
    if done.returncode != 0:
        return None
    return float(done.stdout.strip().split()[-1])


def main(quick: bool = False, peers: bool = True) -> list[dict]:
    reps = 500 if quick else 2000
    expr, groups, clustered = _inputs()
    rows = []
    with tempfile.TemporaryDirectory(prefix="ferroscore-workflow-") as tmp:
        folder = Path(tmp)
        expr.to_pickle(folder / "expression.pkl")
        groups.to_pickle(folder / "groups.pkl")
        clustered.to_pickle(folder / "clustered.pkl")
        if peers:
            expr.to_csv(folder / "expression.csv", float_format="%.17g")
            (folder / "groups.txt").write_text("\n".join(map(str, groups)) + "\n")
            clustered.to_csv(folder / "clustered.csv", float_format="%.17g")
        cases = [("limma", f"limma moderated t, {expr.shape[0]:,} genes x {expr.shape[1]}",
                  R_LIMMA.format(folder=tmp, trend="FALSE", repeats=REPEATS)),
                 ("limma_trend", "limma trend=True, same data",
                  R_LIMMA.format(folder=tmp, trend="TRUE", repeats=REPEATS)),
                 ("consensus", f"consensus clustering, {clustered.shape[0]} genes x "
                               f"{clustered.shape[1]}, {reps} resamples, k 2..6",
                  R_CONSENSUS.format(folder=tmp, reps=reps))]
        for task, label, r_code in cases:
            ours = _ferroscore(task, tmp, reps)
            theirs = _rscript(r_code) if peers else None
            seconds = ours.get("seconds")
            ratio = theirs / seconds if theirs and seconds else np.nan
            rows.append({"task": label, "ferroscore_s": fmt(seconds, 3),
                         "peak_mb": fmt(ours.get("peak_mb"), 0),
                         "R_s": fmt(theirs, 3) if theirs is not None else "-",
                         "R_over_ferroscore": fmt(ratio, 1), "note": ours.get("error", "")})
    peer = "limma 3.54.1 / ConsensusClusterPlus 1.62.0 (R)"
    print(f"\n## study workflow on GSE1992 (peer: {peer}; ratio > 1: ferroscore faster)")
    print_table(rows, list(rows[0]))
    return rows
