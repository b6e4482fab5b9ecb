"""Every docstring example of the package runs as written (doctest over each module).

The examples may use the module's own names and ``fs`` (ferroscore), ``np`` and ``pd`` without
importing them, as in the API reference; an example that cannot run quickly is marked
``# doctest: +SKIP``.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pandas as pd
import pytest

import ferroscore

MODULES = ["ferroscore"] + sorted(
    info.name for info in pkgutil.walk_packages(ferroscore.__path__, "ferroscore.")
    if not info.name.endswith("__main__"))
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def examples(module_name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    extra = {"fs": ferroscore, "np": np, "pd": pd}  # beside the module's own names, as doctest
    return [t for t in finder.find(module, module_name, extraglobs=extra) if t.examples]


def test_the_package_has_docstring_examples():
    assert sum(len(t.examples) for m in MODULES for t in examples(m)) >= 50


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples_run(module_name):
    import matplotlib

    matplotlib.use("Agg")
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    for test in examples(module_name):
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
