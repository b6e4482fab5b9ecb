"""Bulk scoring: every ferroscore method on a 20,000-gene matrix, with the Python peers.

Each measurement runs in a fresh process (see ``worker.py``) so its peak memory is its own.
Peers (optional, extra ``bench``) run on the same matrix and sets: GSEApy ``ssgsea``/``gsva``
(Rust), decoupler ``aucell``/``ulm``, scanpy ``score_genes``, pyUCell. Every row also gives the
floor, one read of the input matrix at the memory bandwidth measured in the same run (a numpy
sum over the same array), and ferroscore's time as a multiple of it.

Then the targets of issue 18: ssGSEA against GSVA 1.46 (R, via ``Rscript``; skipped with a note
when absent) on 20,000 genes x 1,000 samples with 5 sets of 4-40 genes, ferroscore and R each
timed several times (best and spread); and GSVA's O(samples^2) kernel at growing sizes and
thread counts, with the 10,000-sample time extrapolated from the measured sizes.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import ferroscore as fs
from benchmarks.common import (
    bulk_matrix,
    floor_columns,
    fmt,
    load_matrix,
    print_table,
    read_seconds,
    run_isolated,
    save_matrix,
    spread,
)

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
           "peer_peak_mb", "ratio", "floor_s", "x_floor", "note"]
#: Sizes of the five sets of the GSVA-R ssGSEA comparison (issue 18: 4-40 genes).
R_SET_SIZES = (4, 10, 20, 30, 40)


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
    if spec.get("samples_contiguous"):  # each sample's values adjacent, as pd.read_csv gives
        frame = pd.DataFrame(np.asfortranarray(frame.to_numpy()), index=frame.index,
                             columns=frame.columns)
    task = spec["task"]
    if task == "ferroscore":
        sets = json.loads(Path(spec["sets"]).read_text()) if "sets" in spec else SETS
        kwargs = {"n_permutations": spec.get("n_permutations", 0), "progress": False,
                  "n_jobs": spec.get("n_jobs")}
        fs.score(frame.iloc[:2000, :20], sets, spec["method"], **kwargs)  # compile kernels
        return lambda: fs.score(frame, sets, spec["method"], **kwargs)
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
        floor_s = read_seconds(frame.to_numpy())
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
                   "peak_x_input": fmt(ours.get("peak_mb", float("nan")) / input_mb),
                   **floor_columns(ours.get("seconds"), floor_s, int(input_mb * 2**20))}
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


def r_sets(genes: pd.Index, seed: int = 5) -> dict[str, list[str]]:
    """Five sets of :data:`R_SET_SIZES` genes drawn from ``genes``."""
    rng = np.random.default_rng(seed)
    return {f"set{k}": list(rng.choice(genes, k, replace=False)) for k in R_SET_SIZES}


def versus_gsva_r(folder: Path, n_samples: int, repeats: int) -> dict:
    """ssGSEA, ferroscore against ``system.time(gsva(..., method="ssgsea"))`` in GSVA (R)."""
    frame = bulk_matrix(20000, n_samples, seed=3)
    sets = r_sets(frame.index)
    stem = save_matrix(frame, folder, "versus_r")
    sets_path = folder / "versus_r_sets.json"
    sets_path.write_text(json.dumps(sets))
    floor_s = read_seconds(frame.to_numpy())
    spec = {"module": "bench_bulk", "task": "ferroscore", "method": "ssgsea", "data": stem,
            "sets": str(sets_path), "repeats": repeats}
    ours = run_isolated(spec)
    # the same values in the layout pd.read_csv gives (each sample contiguous in memory)
    read_csv_layout = run_isolated({**spec, "samples_contiguous": True})
    row = {"n_samples": n_samples, "method": "ssgsea (5 sets, 4-40 genes)",
           "ferroscore_s": spread(ours), "peer": "GSVA (R) ssgsea",
           **floor_columns(ours.get("seconds"), floor_s, frame.to_numpy().nbytes),
           "read_csv_layout_s": spread(read_csv_layout)}
    if shutil.which("Rscript") is None:
        return {**row, "note": "Rscript not found: R side skipped"}
    frame.to_numpy().T.tofile(f"{stem}.f64")  # column-major for R
    tsv = folder / "versus_r_sets.tsv"
    tsv.write_text("".join(f"{k}\t{g}\n" for k, v in sets.items() for g in v))
    out = folder / "versus_r_scores.csv"
    script = Path(__file__).with_name("gsva_ssgsea.R")
    done = subprocess.run(["Rscript", str(script), stem, str(tsv), str(out), str(repeats)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {**row, "note": f"R failed: {done.stderr.strip()[-100:]}"}
    line = next(x for x in done.stdout.splitlines() if x.startswith("seconds:"))
    r_times = [float(t) for t in line.split()[1:]]
    version = subprocess.run(["Rscript", "-e", 'cat(format(packageVersion("GSVA")))'],
                             capture_output=True, text=True, check=False).stdout.strip()
    theirs = pd.read_csv(out, index_col=0)
    mine = fs.score(frame, sets, "ssgsea", progress=False).scores.T
    difference = np.abs(mine.loc[theirs.index, theirs.columns].to_numpy() - theirs.to_numpy())
    row.update(peer=f"GSVA {version} (R) ssgsea",
               peer_s=spread({"seconds": min(r_times), "all_seconds": r_times}),
               ratio=fmt(min(r_times) / ours["seconds"], 1) if "seconds" in ours else "-",
               read_csv_layout_ratio=(fmt(min(r_times) / read_csv_layout["seconds"], 1)
                                      if "seconds" in read_csv_layout else "-"),
               note=f"max |difference| {difference.max():.1e}; ratio of best times, "
                    f"worst/worst {max(r_times) / max(ours.get('all_seconds', [np.nan])):.0f}")
    return row


def gsva_scaling(folder: Path, sizes: list[int], target: int) -> list[dict]:
    """GSVA time against samples (2 threads) and threads (largest size); the ``target``-sample
    time extrapolated from the two largest sizes with the fitted power of n."""
    rows, times = [], {}
    for n in sizes:
        frame = bulk_matrix(20000, n, seed=4)
        stem = save_matrix(frame, folder, f"gsva_{n}")
        floor_s = read_seconds(frame.to_numpy())
        for n_jobs in ((1, 2) if n == sizes[-1] else (2,)):
            result = run_isolated({"module": "bench_bulk", "task": "ferroscore",
                                   "method": "gsva", "data": stem, "n_jobs": n_jobs})
            times[n, n_jobs] = result.get("seconds", np.nan)
            rows.append({"n_samples": n, "threads": n_jobs, "ferroscore_s": fmt(times[n, n_jobs]),
                         **floor_columns(result.get("seconds"), floor_s, frame.to_numpy().nbytes),
                         "note": result.get("error", "measured")})
            print_table([rows[-1]], list(rows[-1]))
    (small, large) = sizes[-2:]
    power = np.log(times[large, 2] / times[small, 2]) / np.log(large / small)
    estimate = times[large, 2] * (target / large) ** power
    rows.append({"n_samples": target, "threads": 2, "ferroscore_s": fmt(estimate, 0),
                 "note": f"EXTRAPOLATED from {small} and {large} samples (time ~ n^{power:.2f}); "
                         f"2 threads / 1 thread at {large}: "
                         f"{times[large, 1] / times[large, 2]:.2f}x faster"})
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
        versus_r = versus_gsva_r(folder, 1000, repeats=3 if quick else 5)
        print("\n## ssGSEA against GSVA (R), 20,000 genes (best of repeats, spread in brackets)")
        print_table([versus_r], list(versus_r))
        scaling = gsva_scaling(folder, [100, 200] if quick else [250, 500, 1000], 10000)
        print("\n## GSVA (O(genes x samples^2)): samples and threads, 20,000 genes")
        print_table(scaling, ["n_samples", "threads", "ferroscore_s", "floor_s", "x_floor",
                              "note"])
    return {"bulk": rows, "permutations": perm, "versus_gsva_r": versus_r,
            "gsva_scaling": scaling}
