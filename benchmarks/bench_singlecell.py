"""Single-cell scale: sparse cells x genes, with the Python peers, and a backed h5ad.

1. In memory: ``n_cells`` x 20,000 genes at ~8% density (CSR, float32, log-normal values with
   gene-specific detection rates), scored with ucell and singscore; peers on the same matrix:
   pyUCell, scanpy ``score_genes``, decoupler ``aucell`` and ``ulm``.
2. Backed: a 1,000,000-cell x 20,000-gene h5ad at 2% density (about 4e8 non-zeros) written in
   chunks to a temporary folder, scored with ``fs.tl.score`` on ``read_h5ad(backed="r")``;
   reports time and peak RSS; the file is deleted afterwards. Falls back to 500,000 cells when
   disk space is short.

Every measurement runs in a fresh process; peers run under an address-space limit so a peer
that densifies the matrix fails instead of exhausting the machine. Every row gives the floor:
one read of the input (CSR data, indices and pointers) at the memory bandwidth measured in the
same run, or of the h5ad's matrix from storage for the backed file, and ferroscore's time as a
multiple of it. The UCell target of issue 18 (50,000 cells, one 40-gene set) runs ferroscore
and pyUCell several times each (best and spread).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

import ferroscore as fs
from benchmarks.bench_bulk import SETS, component_sets
from benchmarks.common import (
    floor_columns,
    fmt,
    gene_names,
    print_table,
    read_seconds,
    run_isolated,
    spread,
)

N_GENES = 20_000
PEERS = [("pyucell", "pyucell", "ucell"), ("scanpy.score_genes", "scanpy", "mean"),
         ("decoupler.aucell", "decoupler", "aucell"), ("decoupler.ulm", "decoupler", "ulm")]


def sparse_cells(n_cells: int, n_genes: int, density: float, seed: int = 0,
                 block: int = 2000):
    """Yield CSR blocks of synthetic cells (gene-specific detection, log-normal values)."""
    rng = np.random.default_rng(seed)
    rate = np.clip(rng.gamma(0.6, density / 0.6, n_genes), 0, 0.95).astype(np.float32)
    level = rng.normal(0, 1, n_genes).astype(np.float32)
    for start in range(0, n_cells, block):
        m = min(block, n_cells - start)
        rows, cols = np.nonzero(rng.random((m, n_genes), dtype=np.float32) < rate)
        values = np.log1p(np.exp(level[cols] + rng.standard_normal(len(cols),
                                                                   dtype=np.float32)))
        yield sparse.csr_matrix((values.astype(np.float32), (rows, cols)), shape=(m, n_genes))


def prepare(spec: dict):
    """Worker entry point."""
    if spec["task"] == "backed":
        import anndata as ad

        adata = ad.read_h5ad(spec["data"], backed="r")
        warm = ad.AnnData(sparse.random(50, adata.n_vars, density=0.05, format="csr",
                                        dtype=np.float32), var=adata.var)
        fs.tl.score(warm, SETS, min_coverage=0)  # compile the kernels before timing
        return lambda: fs.tl.score(adata, SETS, spec["method"], chunk_size=spec["chunk"],
                                   progress=False)
    if "memory_gb" in spec:
        import resource

        limit = int(spec["memory_gb"] * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    x = sparse.load_npz(spec["data"])
    genes = Path(spec["genes"]).read_text().split("\n")
    chosen = json.loads(Path(spec["sets"]).read_text()) if "sets" in spec else None
    if spec["task"] == "ferroscore":
        kwargs = {"genes": genes, "genes_axis": "columns", "progress": False}
        fs.score(x[:50], chosen or SETS, spec["method"], **kwargs)
        return lambda: fs.score(x, chosen or SETS, spec["method"], **kwargs)
    import anndata as ad

    adata = ad.AnnData(x, var=pd.DataFrame(index=genes))
    sets = chosen or {k: [g for g in v if g in set(genes)] for k, v in component_sets().items()}
    if spec["task"] == "pyucell":
        import pyucell

        return lambda: pyucell.compute_ucell_scores(adata, signatures=sets, n_jobs=2)
    if spec["task"] == "scanpy":
        import scanpy as sc

        return lambda: [sc.tl.score_genes(adata, v, score_name=k) for k, v in sets.items()]
    import decoupler as dc

    net = pd.DataFrame([(k, g) for k, v in sets.items() for g in v],
                       columns=["source", "target"])
    func = dc.mt.aucell if spec["task"] == "aucell" else dc.mt.ulm
    return lambda: func(adata, net, tmin=1)


def in_memory(n_cells: int, folder: Path, peers: bool, *, methods=("ucell", "singscore",
              "aucell", "mean"), peer_list=PEERS, sets: dict | None = None,
              repeats: int = 1) -> list[dict]:
    """ferroscore ``methods`` and the peers on ``n_cells`` cells at 8%, with the catalogue
    :data:`SETS` or ``sets`` (name -> genes)."""
    x = sparse.vstack(list(sparse_cells(n_cells, N_GENES, 0.08)), format="csr")
    arrays = (x.data, x.indices, x.indptr)
    input_bytes = sum(a.nbytes for a in arrays)
    floor_s = read_seconds(*arrays)
    data = folder / "cells.npz"
    sparse.save_npz(data, x, compressed=False)
    genes = folder / "genes.txt"
    genes.write_text("\n".join(gene_names(N_GENES)))
    density = x.nnz / (x.shape[0] * x.shape[1])
    label = f"{len(sets)} set(s) of {[len(v) for v in sets.values()]} genes" if sets else SETS
    print(f"\n# single cell: {n_cells} cells x {N_GENES} genes, {density:.1%} dense "
          f"({x.nnz:.2e} non-zeros, CSR {input_bytes / 2**20:.0f} MB), sets {label}", flush=True)
    del x, arrays
    base = {"module": "bench_singlecell", "data": str(data), "genes": str(genes),
            "repeats": repeats}
    if sets:
        (folder / "sets.json").write_text(json.dumps(sets))
        base["sets"] = str(folder / "sets.json")
    rows, ours = [], {}
    for method in methods:
        result = run_isolated({**base, "task": "ferroscore", "method": method})
        ours[method] = result
        rows.append({"n_cells": n_cells, "tool": f"ferroscore {method}",
                     "seconds": spread(result), "peak_mb": fmt(result.get("peak_mb"), 0),
                     **floor_columns(result.get("seconds"), floor_s, input_bytes),
                     "note": result.get("error", "")})
        print_table([rows[-1]], list(rows[-1]))
    if peers:
        for label, task, match in peer_list:
            module = "decoupler" if task in ("aucell", "ulm") else task
            if importlib.util.find_spec(module) is None:
                rows.append({"n_cells": n_cells, "tool": label, "note": "not installed"})
                continue
            result = run_isolated({**base, "task": match if module == "decoupler" else task,
                                   "memory_gb": 20}, timeout=1800)
            compared = match if match in ours else "ucell"
            reference = ours.get(compared, {})
            row = {"n_cells": n_cells, "tool": label, "seconds": spread(result),
                   "peak_mb": fmt(result.get("peak_mb"), 0), "note": result.get("error", "")}
            if "seconds" in result and "seconds" in reference:
                row["ratio"] = fmt(result["seconds"] / reference["seconds"], 1)
                row["compared_with"] = f"ferroscore {compared}"
                row.update(floor_columns(reference["seconds"], floor_s, input_bytes))
            rows.append(row)
            print_table([row], list(row))
    return rows


def storage_seconds(path: Path, chunk: int = 2**24) -> tuple[float, int]:
    """The backed floor: seconds to read the h5ad's CSR arrays (data, indices, indptr) from
    storage in ``chunk``-element pieces, and the bytes read."""
    import h5py

    start, n_bytes = time.perf_counter(), 0
    with h5py.File(path, "r") as handle:
        for name in ("data", "indices", "indptr"):
            dataset = handle["X"][name]
            for offset in range(0, dataset.shape[0], chunk):
                n_bytes += dataset[offset:offset + chunk].nbytes
    return time.perf_counter() - start, n_bytes


def write_backed(path: Path, n_cells: int, density: float, block: int = 5_000) -> int:
    """Write a backed-style h5ad chunk by chunk (never the whole matrix in memory)."""
    import anndata as ad
    import h5py
    from anndata.io import sparse_dataset, write_elem

    chunks = sparse_cells(n_cells, N_GENES, density, seed=1, block=block)
    first = next(chunks)
    var = pd.DataFrame(index=gene_names(N_GENES))
    ad.AnnData(first, var=var).write_h5ad(path)
    nnz = first.nnz
    with h5py.File(path, "a") as handle:
        matrix = sparse_dataset(handle["X"])
        for chunk in chunks:
            matrix.append(chunk)
            nnz += chunk.nnz
        del handle["obs"]
        write_elem(handle, "obs", pd.DataFrame(index=[f"cell{i}" for i in range(n_cells)]))
    return nnz


def backed(folder: Path, repeats: int = 1) -> dict:
    free_gb = shutil.disk_usage(folder).free / 2**30
    n_cells, note = 1_000_000, ""
    if free_gb < 12:
        n_cells, note = 500_000, f"only {free_gb:.0f} GB free: 500,000 cells instead of 1,000,000"
    path = folder / "cells_backed.h5ad"
    nnz = write_backed(path, n_cells, 0.02)
    size_gb = path.stat().st_size / 2**30
    print(f"\n# backed h5ad: {n_cells} cells x {N_GENES} genes, {nnz:.2e} non-zeros, "
          f"{size_gb:.1f} GB on disk {note}", flush=True)
    result = run_isolated({"module": "bench_singlecell", "task": "backed", "data": str(path),
                           "method": "ucell", "chunk": 20_000, "repeats": repeats},
                          timeout=3600)
    # read right after the scoring: like it, from the page cache as far as the file fits there
    floor_s, n_bytes = min(storage_seconds(path) for _ in range(2))
    path.unlink()
    row = {"n_cells": n_cells, "tool": "ferroscore ucell (backed, chunk_size=20000)",
           "seconds": spread(result), "peak_rss_mb": fmt(result.get("peak_rss_mb"), 0),
           "file_gb": fmt(size_gb, 1), **floor_columns(result.get("seconds"), floor_s, n_bytes),
           "note": note or result.get("error", "")}
    print_table([row], list(row))
    return row


def main(quick: bool, peers: bool) -> dict:
    columns = ["n_cells", "tool", "seconds", "peak_mb", "compared_with", "ratio", "floor_s",
               "x_floor", "note"]
    with tempfile.TemporaryDirectory(prefix="ferroscore-sc-", dir=None) as tmp:
        folder = Path(tmp)
        catalogue = [g for genes in component_sets().values() for g in genes]
        one_set = {"set40": list(dict.fromkeys(catalogue))[:40]}
        target = in_memory(10_000 if quick else 50_000, folder, peers, methods=("ucell",),
                           peer_list=PEERS[:1], sets=one_set, repeats=3)
        rows = in_memory(20_000 if quick else 100_000, folder, peers)
        back = backed(folder, repeats=2) if not quick else {}
    print("\n## UCell, one 40-gene set (ratio = pyUCell seconds / ferroscore seconds, best of "
          "3 each)")
    print_table(target, columns)
    print("\n## single-cell summary (ratio = peer seconds / ferroscore seconds)")
    print_table(rows, columns)
    if back:
        print_table([back], list(back))
    return {"ucell_one_set": target, "in_memory": rows, "backed": back}
