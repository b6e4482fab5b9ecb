"""Drug-response prediction: 200 drugs x 800 training lines x 15,000 genes (SYNTHETIC screen,
see ``fs.datasets.synthetic_drug_screen``), 200 test samples, with ComBat homogenisation."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import pandas as pd

import ferroscore as fs
from benchmarks.common import fmt, print_table, run_isolated

SIZES = {"n_genes": 15_000, "n_lines": 800, "n_test": 200, "n_drugs": 200, "n_programs": 20}


def prepare(spec: dict):
    """Worker entry point: load the synthetic screen, return the prediction call."""
    folder = Path(spec["data"])
    train = pd.read_pickle(folder / "train.pkl")
    response = pd.read_pickle(folder / "response.pkl")
    test = pd.read_pickle(folder / "test.pkl")
    warnings.filterwarnings("ignore")
    return lambda: fs.drugs.predict_response(train, response, test)


def main(quick: bool) -> dict:
    sizes = {**SIZES, "n_drugs": 20} if quick else SIZES
    screen = fs.datasets.synthetic_drug_screen(**sizes)
    with tempfile.TemporaryDirectory(prefix="ferroscore-drugs-") as tmp:
        folder = Path(tmp)
        screen.train_expr.to_pickle(folder / "train.pkl")
        screen.train_response.to_pickle(folder / "response.pkl")
        screen.test_expr.to_pickle(folder / "test.pkl")
        result = run_isolated({"module": "bench_drugs", "data": str(folder)})
    row = {"drugs": sizes["n_drugs"], "lines": sizes["n_lines"], "genes": sizes["n_genes"],
           "test_samples": sizes["n_test"], "seconds": fmt(result.get("seconds")),
           "peak_mb": fmt(result.get("peak_mb"), 0), "note": result.get("error", "")}
    print("\n## drug-response prediction (SYNTHETIC screen, ComBat + ridge, LOO penalty)")
    print_table([row], list(row))
    return row
