"""Bulk scoring: every ferroscore method on a 20,000-gene matrix, with the Python peers.

Each measurement runs in a fresh process (see ``worker.py``) so its peak memory is its own.
Peers (optional, extra ``bench``) run on the same matrix and sets: GSEApy ``ssgsea``/``gsva``
(Rust), decoupler ``aucell``/``ulm``, scanpy ``score_genes``, pyUCell. R's GSVA cannot run here;
its timings measured elsewhere are quoted in the README.
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

import pandas as pd

import ferroscore as fs
from benchmarks.common import bulk_matrix, fmt, load_matrix, print_table, run_isolated, save_matrix

SETS = ["ferroptosis_core", "fpi", "kegg_ferroptosis"]
METHODS = ["singscore", "ssgsea", "gsva", "zscore", "plage", "ucell", "aucell", "mean"]
# ferroscore method -> (peer label, peer task, module needed, largest size it is run at)
PEERS = {
    "ssgsea": ("gseapy.ssgsea", "gseapy_ssgsea", "gseapy", 10000),
    "gsva": ("gseapy.gsva", "gseapy_gsva", "gseapy", 1000),
    "aucell": ("decoupler.aucell", "decoupler_aucell", "decoupler", 10000),
    "singscore": ("decoupler.ulm (nearest signed peer)", "decoupler_ulm", "decoupler", 10000),
    "ucell": ("pyucell", "pyucell", "pyucell", 10000),
    "mean": ("scanpy.score_genes", "scanpy_score_genes", "scanpy", 10000),
}
COLUMNS = ["n_samples", "method", "ferroscore_s", "peak_mb", "peak_x_input", "peer", "peer_s",
           "peer_peak_mb", "ratio", "note"]


def component_sets() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in fs.genesets.coerce_sets(SETS):
        if isinstance(item, fs.Signature):
            out[f"{item.name}_up"], out[f"{item.name}_down"] = list(item.up), list(item.down)
        else:
            out[item.name] = list(item.genes)
    return out


def prepare(spec: dict):
    """Worker entry point: load the matrix, warm up, return the call to measure."""
    frame = load_matrix(spec["data"])
    task = spec["task"]
    if task == "ferroscore":
        kwargs = {"n_permutations": spec.get("n_permutations", 0), "progress": False}
        fs.score(frame.iloc[:2000, :20], SETS, spec["method"], **kwargs)  # compile kernels
        return lambda: fs.score(frame, SETS, spec["method"], **kwargs)
    return peer_task(task, frame)


def peer_task(task: str, frame: pd.DataFrame):
    sets = {k: [g for g in v if g in frame.index] for k, v in component_sets().items()}
    if task in ("gseapy_ssgsea", "gseapy_gsva"):
        import gseapy
        func = gseapy.ssgsea if task == "gseapy_ssgsea" else gseapy.gsva
        return lambda: func(data=frame, gene_sets=sets, outdir=None, min_size=1, max_size=5000,
                            threads=2, verbose=False)
    if task in ("decoupler_aucell", "decoupler_ulm"):
        import decoupler as dc
        net = pd.DataFrame([(k, g) for k, v in sets.items() for g in v],
                           columns=["source", "target"])
        func = dc.mt.aucell if task == "decoupler_aucell" else dc.mt.ulm
        samples_by_genes = frame.T
        func(samples_by_genes.iloc[:5], net, tmin=1)
        return lambda: func(samples_by_genes, net, tmin=1)
    import anndata as ad
    adata = ad.AnnData(frame.T.to_numpy(), obs=pd.DataFrame(index=frame.columns),
                       var=pd.DataFrame(index=frame.index))
    if task == "pyucell":
        import pyucell
        from scipy import sparse
        adata.X = sparse.csr_matrix(adata.X)  # pyucell's native input
        return lambda: pyucell.compute_ucell_scores(adata, signatures=sets, n_jobs=2)
    import scanpy as sc

    def score_genes():
        for key, genes in sets.items():
            sc.tl.score_genes(adata, genes, score_name=key)
    return score_genes


def measured(spec: dict) -> tuple[str, str, dict]:
    result = run_isolated(spec)
    if "error" in result:
        return "-", "-", result
    return fmt(result["seconds"]), fmt(result["peak_mb"], 0), result


def bench(sizes: list[int], n_genes: int, *, peers: bool, gsva_max: int,
          folder: Path) -> list[dict]:
    rows = []
    for n in sizes:
        frame = bulk_matrix(n_genes, n)
        input_mb = frame.to_numpy().nbytes / 2**20
        stem = save_matrix(frame, folder, f"bulk_{n}")
        del frame
        print(f"\n# bulk scoring: {n_genes} genes x {n} samples (float64, {input_mb:.0f} MB), "
              f"sets {SETS}", flush=True)
        for method in METHODS:
            if method == "gsva" and n > gsva_max:
                rows.append({"n_samples": n, "method": method,
                             "note": f"not run above {gsva_max} samples (O(n^2) kernel)"})
                continue
            spec = {"module": "bench_bulk", "task": "ferroscore", "method": method, "data": stem}
            seconds, peak, ours = measured(spec)
            row = {"n_samples": n, "method": method, "ferroscore_s": seconds, "peak_mb": peak,
                   "peak_x_input": fmt(ours.get("peak_mb", float("nan")) / input_mb)}
            if "error" in ours:
                row["note"] = ours["error"]
            if peers and method in PEERS and n <= PEERS[method][3]:
                label, task, module, _ = PEERS[method]
                row["peer"] = label
                if importlib.util.find_spec(module) is None:
                    row["note"] = "peer not installed"
                else:
                    peer_s, peer_peak, theirs = measured({**spec, "task": task})
                    row.update(peer_s=peer_s, peer_peak_mb=peer_peak)
                    if "error" in theirs:
                        row["note"] = f"peer failed: {theirs['error']}"
                    elif "error" not in ours:
                        row["ratio"] = fmt(theirs["seconds"] / ours["seconds"], 1)
            rows.append(row)
            print_table([row], [c for c in COLUMNS if c in row])
    return rows


def main(quick: bool, peers: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="ferroscore-bench-") as tmp:
        folder = Path(tmp)
        sizes = [1000] if quick else [1000, 10000]
        rows = bench(sizes, 20000, peers=peers, gsva_max=1000, folder=folder)
        print("\n## bulk scoring summary (ratio = peer seconds / ferroscore seconds)")
        print_table(rows, COLUMNS)
        stem = save_matrix(bulk_matrix(20000, 1000, seed=2), folder, "perm")
        n_perm = 200 if quick else 1000
        seconds, peak, _ = measured({"module": "bench_bulk", "task": "ferroscore",
                                     "method": "singscore", "data": stem,
                                     "n_permutations": n_perm})
        perm = {"n_samples": 1000, "method": "singscore", "n_permutations": n_perm,
                "ferroscore_s": seconds, "peak_mb": peak}
        print("\n## permutation p-values (3 sets, 20,000 genes)")
        print_table([perm], list(perm))
    return {"bulk": rows, "permutations": perm}
