"""``ferroscore demo``: the main job on the bundled GSE1992 breast cancer cohort."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pandas as pd

import ferroscore as fs

SIGNATURES = ["ferroptosis_core", "ferroptosis_extended", "fpi"]
METHODS = ["singscore", "ssgsea"]


def run_demo(output: Path, *, quiet: bool = False) -> dict:
    """Score the bundled cohort and write tables into ``output``; returns the results."""
    output.mkdir(parents=True, exist_ok=True)
    expression, clinical = fs.datasets.breast_cancer(as_frames=True)
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # coverage is written to coverage.tsv instead
        for method in METHODS:
            results[method] = fs.score(expression, SIGNATURES, method, progress=False)
            results[method].save(output / f"scores_{method}.tsv")
    coverage = results["singscore"].coverage
    coverage.to_csv(output / "coverage.tsv", sep="\t")
    summary = pd.DataFrame({
        f"{name} ({method})": results[method].scores[name].describe()[["mean", "std", "min",
                                                                       "max"]]
        for method in METHODS for name in SIGNATURES}).T
    if not quiet:
        print(f"ferroscore {fs.__version__} demo: GSE1992, {expression.shape[1]} tumours x "
              f"{expression.shape[0]} genes", file=sys.stderr)
        print(summary.round(3).to_string())
        print(f"\nwritten to {output.resolve()}", file=sys.stderr)
    return {"scores": results, "clinical": clinical, "coverage": coverage}
