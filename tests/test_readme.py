"""The README's runnable code (quickstart, drugs and study workflows) runs as written."""

from __future__ import annotations

import re
import warnings

import pytest

from .conftest import REPO

BLOCKS = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)
RUNNABLE = [b for b in BLOCKS if "fs.datasets.breast_cancer" in b]


def test_the_readme_has_the_workflows():
    assert len(RUNNABLE) == 3
    assert any("fs.survival.analyze" in b for b in RUNNABLE)
    assert any("fs.drugs.compare_groups" in b for b in RUNNABLE)
    assert any("fs.subtypes.consensus" in b for b in RUNNABLE)


@pytest.mark.parametrize("code", RUNNABLE, ids=["quickstart", "drugs", "workflow"])
def test_readme_code_runs(code):
    import matplotlib

    matplotlib.use("Agg")
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    if "surv" in namespace:
        assert len(namespace["surv"].table) == 2
    if "predicted" in namespace:
        assert namespace["predicted"].predictions.shape[0] == 124
    if "subtypes" in namespace:
        assert namespace["pca"].scores.shape == (124, 1)
        assert namespace["merged"].expression.shape[1] == 124
