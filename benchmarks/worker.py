"""Run one benchmark task in a fresh process and print its time and peak memory as JSON.

Invoked by :func:`benchmarks.common.run_isolated`; the task spec is a JSON file naming the
benchmark module, the task and its data file. Loading the data and a small warm-up call (numba
compilation, imports) happen before the measurement starts.
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
    result = measure(task)
    # sampled, not ru_maxrss: Linux carries the parent's high-water mark into the child
    print(json.dumps({"seconds": result.seconds, "peak_mb": result.peak_mb,
                      "peak_rss_mb": result.peak_rss_mb}))


if __name__ == "__main__":
    main(sys.argv[1])
