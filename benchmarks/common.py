"""Shared helpers for the benchmarks: synthetic data, timing and peak memory."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import ferroscore as fs

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """Current resident set size of this process (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * PAGE
    except OSError:  # pragma: no cover - not Linux
        return 0


@dataclass
class Measurement:
    seconds: float
    peak_mb: float  # peak RSS above the RSS before the call
    peak_rss_mb: float  # peak RSS of the process during the call
    value: Any = None


def measure(func: Callable[[], Any], interval: float = 0.005) -> Measurement:
    """Run ``func`` once; wall time and peak RSS growth sampled every ``interval`` s."""
    gc.collect()
    base = rss_bytes()
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_bytes())
            time.sleep(interval)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    start = time.perf_counter()
    try:
        value = func()
    finally:
        elapsed = time.perf_counter() - start
        done.set()
        watcher.join()
    peak[0] = max(peak[0], rss_bytes())
    return Measurement(elapsed, (peak[0] - base) / 2**20, peak[0] / 2**20, value)


def read_seconds(*arrays: np.ndarray, rounds: int = 5) -> float:
    """The floor: seconds for one read of ``arrays`` at the machine's memory bandwidth, measured
    now as the fastest of ``rounds`` numpy sums over them (the machine is shared)."""
    best = np.inf
    for _ in range(rounds):
        start = time.perf_counter()
        for array in arrays:
            array.sum()
        best = min(best, time.perf_counter() - start)
    return best


def floor_columns(seconds: float | None, floor_s: float, n_bytes: int) -> dict[str, str]:
    """``floor_s`` (with the bandwidth it implies) and ``x_floor`` = seconds / floor."""
    out = {"floor_s": f"{floor_s:.3f} ({n_bytes / floor_s / 1e9:.1f} GB/s)"}
    if seconds is not None:
        out["x_floor"] = fmt(seconds / floor_s, 1)
    return out


def spread(result: dict) -> str:
    """``best (min-max, n runs)`` of a worker result measured more than once."""
    times = result.get("all_seconds", [])
    if len(times) < 2:
        return fmt(result.get("seconds"))
    return f"{min(times):.3f} ({min(times):.3f}-{max(times):.3f}, {len(times)} runs)"


def run_isolated(spec: dict, timeout: float = 3600) -> dict:
    """Run ``benchmarks/worker.py`` on ``spec`` in a new process; returns its JSON result or
    ``{"error": ...}``."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(spec, handle)
    worker = Path(__file__).with_name("worker.py")
    try:
        done = subprocess.run([sys.executable, str(worker), handle.name], capture_output=True,
                              text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    finally:
        os.unlink(handle.name)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        return {"error": last[:100]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def save_matrix(frame: pd.DataFrame, folder: Path, name: str) -> str:
    """Save a genes x samples frame as .npy values + names; returns the path stem."""
    stem = folder / name
    np.save(f"{stem}.npy", frame.to_numpy())
    Path(f"{stem}.genes.txt").write_text("\n".join(frame.index))
    return str(stem)


def load_matrix(stem: str) -> pd.DataFrame:
    values = np.load(f"{stem}.npy")
    genes = Path(f"{stem}.genes.txt").read_text().split("\n")
    return pd.DataFrame(values, index=genes, columns=[f"S{i}" for i in range(values.shape[1])])


def gene_names(n_genes: int) -> list[str]:
    """Real symbols: every catalogue gene first, then protein-coding genes."""
    table = fs.ids.gene_table()
    catalogue = fs.genesets.catalogue()["symbol"].drop_duplicates().tolist()
    coding = table.loc[table["gene_type"] == "protein-coding", "symbol"].drop_duplicates()
    names = list(dict.fromkeys(catalogue + coding.tolist() + table["symbol"].tolist()))
    return names[:n_genes]


def bulk_matrix(n_genes: int, n_samples: int, seed: int = 0) -> pd.DataFrame:
    """Log-scale expression, genes x samples (float64), with gene-specific means."""
    rng = np.random.default_rng(seed)
    means = rng.uniform(2, 10, n_genes).astype(np.float32)[:, None]
    values = np.empty((n_genes, n_samples))
    for start in range(0, n_samples, 1000):
        stop = min(start + 1000, n_samples)
        values[:, start:stop] = rng.standard_normal((n_genes, stop - start),
                                                    dtype=np.float32) * 1.5 + means
    return pd.DataFrame(values, index=gene_names(n_genes),
                        columns=[f"S{i}" for i in range(n_samples)])


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None or (isinstance(value, float) and np.isnan(value)) else \
        f"{value:.{digits}f}"


def print_table(rows: list[dict], columns: list[str]) -> None:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(str(row.get(c, "")).ljust(widths[c]) for c in columns))
