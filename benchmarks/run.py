"""Run every benchmark with one command and print the tables.

    python benchmarks/run.py            # full sizes (about an hour on 2 cores)
    python benchmarks/run.py --quick    # smaller sizes (a few minutes)
    python benchmarks/run.py --no-peers # ferroscore only
    python benchmarks/run.py --only bulk singlecell  # some of them

Results are also written to benchmarks/results/latest.json.
Absent peers (R, pyUCell, GSEApy, ...) are skipped with a note in their rows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import (  # noqa: E402
    bench_bulk,
    bench_dask,
    bench_drugs,
    bench_kernels,
    bench_singlecell,
    bench_survival,
    bench_workflow,
)
from ferroscore.scoring import versions  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--no-peers", action="store_true", help="skip the peer tools")
    parser.add_argument("--only", nargs="+", choices=["bulk", "singlecell", "drugs", "workflow",
                                                      "survival", "kernels", "dask"],
                        help="run only these benchmarks")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, python "
          f"{platform.python_version()}; {versions()}")
    # a shared machine: the load at the start says how far the timings are from an idle one
    print(f"cores: {os.cpu_count()}, load average (1, 5, 15 min): {os.getloadavg()}")
    results = {}
    if args.only is None or "bulk" in args.only:
        results["bulk"] = bench_bulk.main(quick=args.quick, peers=not args.no_peers)
    if args.only is None or "singlecell" in args.only:
        results["singlecell"] = bench_singlecell.main(quick=args.quick,
                                                      peers=not args.no_peers)
    if args.only is None or "drugs" in args.only:
        results["drugs"] = bench_drugs.main(quick=args.quick)
    if args.only is None or "workflow" in args.only:
        results["workflow"] = bench_workflow.main(quick=args.quick, peers=not args.no_peers)
    if args.only is None or "survival" in args.only:
        results["survival"] = bench_survival.main(quick=args.quick, peers=not args.no_peers)
    if args.only is None or "kernels" in args.only:
        results["kernels"] = bench_kernels.main(quick=args.quick)
    if args.only is None or "dask" in args.only:  # 10M cells on a LocalCluster (1M with --quick)
        results["dask"] = bench_dask.main(quick=args.quick)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten: {out / 'latest.json'}")


if __name__ == "__main__":
    main()
