"""Run one benchmark task in a fresh process and print its time and peak memory as JSON.

Invoked by :func:`benchmarks.common.run_isolated`; the task spec is a JSON file naming the
benchmark module, the task and its data file. Loading the data and a small warm-up call (numba
compilation, imports) happen before the measurement starts; ``spec["repeats"]`` measurements
are made and the fastest is reported.
"""

from __future__ import annotations

import importlib
import json
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import measure  # noqa: E402


def main(spec_path: str) -> None:
    warnings.filterwarnings("ignore")
    spec = json.loads(Path(spec_path).read_text())
    module = importlib.import_module(f"benchmarks.{spec['module']}")
    task = module.prepare(spec)  # loads data, warms up, returns the callable to time
    # the machine is shared: ``repeats`` measurements, the fastest reported (all kept)
    results = [measure(task) for _ in range(int(spec.get("repeats", 1)))]
    best = min(results, key=lambda r: r.seconds)
    # sampled, not ru_maxrss: Linux carries the parent's high-water mark into the child
    print(json.dumps({"seconds": best.seconds, "all_seconds": [r.seconds for r in results],
                      "peak_mb": max(r.peak_mb for r in results),
                      "peak_rss_mb": max(r.peak_rss_mb for r in results)}))


if __name__ == "__main__":
    main(sys.argv[1])
