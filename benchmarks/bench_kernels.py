"""Crossovers of the rank-counting kernels (sort, linear, histogram), for the automatic choice.

Times :func:`ferroscore.methods._ranks.rank_counts` with each kernel forced, on one thread, for
dense rows of 20,000 genes (float64, C and F order: the latter is what a genes x samples
DataFrame gives) and for CSR rows with 400 and 1,600 stored values (float32), over a grid of
selected-gene counts ``m``. Every configuration runs in interleaved rounds and keeps its fastest
round (the machine is shared), and is checked to give the same counts as the sort kernel. The
table gives microseconds per sample, the kernel ``choose_kernel`` picks, and the read floor (a
numpy sum over the same rows).
"""

from __future__ import annotations

import time

import numpy as np
from scipy import sparse

from benchmarks.common import print_table
from ferroscore.methods._ranks import choose_kernel, rank_counts

KERNELS = ("sort", "linear", "histogram")


def _inputs(quick: bool) -> list[tuple[str, object, float]]:
    rng = np.random.default_rng(0)
    n_rows = 100 if quick else 300
    dense = rng.normal(4.0, 1.5, size=(n_rows, 20_000))
    out = [("dense C, 20000 genes", dense, 20_000.0),
           ("dense F, 20000 genes", np.asfortranarray(dense), 20_000.0)]
    for stored in (400, 1600):
        cells = sparse.random(n_rows * 10, 20_000, density=stored / 20_000, format="csr",
                              dtype=np.float32, random_state=rng)
        cells.data = np.log1p(rng.gamma(1.0, 3.0, cells.nnz)).astype(np.float32)
        out.append((f"CSR, {stored} stored", cells, cells.nnz / cells.shape[0]))
    return out


def _fastest(func, rounds: int) -> float:
    best = np.inf
    for _ in range(rounds):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def crossovers(quick: bool = False) -> list[dict]:
    sizes = [2, 4, 8, 12, 16, 24, 32, 64, 128, 256, 512] + ([] if quick else [1024, 2048])
    rounds = 3 if quick else 7
    rng = np.random.default_rng(1)
    rows = []
    for label, block, per_row in _inputs(quick):
        n_rows = block.shape[0]
        data = block.data if sparse.issparse(block) else block
        floor = _fastest(lambda data=data: data.sum(), rounds) / n_rows * 1e6
        for m in sizes:
            if m > per_row:
                continue
            cols = np.sort(rng.choice(block.shape[1], m, replace=False))
            if sparse.issparse(block):  # select genes the rows actually store, as sets do
                cols = np.sort(rng.choice(np.unique(block.indices[:50 * m]), m, replace=False))
            reference = rank_counts(block, cols, kernel="sort", ties=True)
            times = dict.fromkeys(KERNELS, np.inf)
            for _ in range(rounds):
                for kernel in KERNELS:
                    if kernel == "linear" and m > 256:
                        continue
                    counts = rank_counts(block, cols, kernel=kernel, ties=True)
                    if not (np.array_equal(counts.lo, reference.lo)
                            and np.array_equal(counts.hi, reference.hi)
                            and np.array_equal(counts.ties, reference.ties)):
                        raise AssertionError(f"{kernel} differs from sort ({label}, m={m})")
                    times[kernel] = min(times[kernel], _fastest(
                        lambda kernel=kernel, block=block, cols=cols: rank_counts(
                            block, cols, kernel=kernel, ties=True), 1))
            row = {"rows": label, "m": m, "floor_us": f"{floor:.1f}"}
            for kernel in KERNELS:
                row[f"{kernel}_us"] = ("-" if not np.isfinite(times[kernel]) else
                                       f"{times[kernel] / n_rows * 1e6:.1f}")
            row["fastest"] = min(times, key=times.get)
            row["chosen"] = choose_kernel(per_row, m)
            rows.append(row)
            print_table([row], list(row))
    return rows


def main(quick: bool = False) -> dict:
    print("\n# rank-counting kernels: microseconds per sample, one thread (ties included)")
    rows = crossovers(quick)
    print("\n## kernel crossovers")
    print_table(rows, list(rows[0]))
    return {"kernels": rows}


if __name__ == "__main__":
    main()
