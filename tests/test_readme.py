"""Every Python block of the README runs as written (from the repository root); every block
that cannot run here (shell set-up, commands on user files) says so with a marker line

    <!-- readme-test: not run here (reason) -->

right above its fence, and the markers are checked: no unmarked non-Python block, no marked
Python block, no stray marker."""

from __future__ import annotations

import re
import warnings

import pytest

from .conftest import REPO

README = (REPO / "README.md").read_text()
MARKER = re.compile(r"<!-- readme-test: not run here \((?P<reason>[^)]+)\) -->")
FENCE = re.compile(r"^```(?P<lang>\w*)\n(?P<code>.*?)^```", flags=re.S | re.M)


def _blocks() -> list[dict]:
    blocks = []
    for match in FENCE.finditer(README):
        before = README[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = MARKER.fullmatch(before.strip())
        line = README.count("\n", 0, match.start()) + 1
        blocks.append({"lang": match["lang"], "code": match["code"], "line": line,
                       "skip": marker["reason"] if marker else None})
    return blocks


BLOCKS = _blocks()
RUNNABLE = [b for b in BLOCKS if b["lang"] == "python"]


def test_every_block_is_run_or_marked():
    assert RUNNABLE, "the README has no Python block"
    for block in BLOCKS:
        where = f"README.md line {block['line']}"
        if block["lang"] == "python":
            assert block["skip"] is None, f"{where}: Python blocks are run, not marked"
        else:
            assert block["skip"], f"{where}: a {block['lang'] or 'plain'} block needs a marker"
    assert len(MARKER.findall(README)) == sum(b["skip"] is not None for b in BLOCKS), (
        "a readme-test marker that is not right above a code block")


def _check(namespace: dict) -> None:
    """What the blocks say they make, checked where a block makes it."""
    import ferroscore as fs

    if "surv" in namespace:
        assert len(namespace["surv"].table) == 2
        assert set(namespace["by_method"].table["method"]) == {"singscore", "ssgsea", "gsva"}
    if "predicted" in namespace:
        assert namespace["predicted"].predictions.shape[0] == 124
    if "subtypes" in namespace:
        assert namespace["pca"].scores.shape == (124, 1)
        assert namespace["merged"].expression.shape[1] == 124
    if "adata" in namespace:
        adata = namespace["adata"]
        assert "ferroptosis" in adata.obs and "fpi" in adata.obs
        assert adata.obs["ferroptosis"].std() > 0  # the unclipped default is not blank
        assert namespace["lazy"].compute().scores.shape[0] == adata.n_obs
    if "atlas" in namespace:  # the Dask block: scores computed lazily and written to the store
        import zarr
        from anndata.io import read_elem

        written = read_elem(zarr.open_group("atlas.zarr", mode="r")["obs"])
        assert written["ferroptosis"].equals(namespace["atlas"].obs["ferroptosis"])
        assert written["ferroptosis"].notna().all() and written["ferroptosis"].std() > 0
    if "cv" in namespace:
        assert len(namespace["signature"]) > 0 and namespace["table"]["converged"].all()
        assert isinstance(namespace["pooled"], fs.survival.MetaAnalysis)


@pytest.mark.parametrize("block", RUNNABLE, ids=[f"line{b['line']}" for b in RUNNABLE])
def test_readme_block_runs(block, tmp_path, monkeypatch):
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    (tmp_path / "tests").symlink_to(REPO / "tests")  # paths as from the repository root
    monkeypatch.chdir(tmp_path)  # files the blocks write land here
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(block["code"], "README.md", "exec"), namespace)  # noqa: S102 - our README
    plt.close("all")
    _check(namespace)


def test_the_readme_points_inside_the_repository_and_is_current():
    assert "DESIGN.md" not in README and "docs/architecture.md" in README
    assert "R is not available" not in README  # R 4.2 installs from Debian
    architecture = (REPO / "docs" / "architecture.md").read_text()
    package = REPO / "src" / "ferroscore"
    for sub in sorted(p.name for p in package.iterdir() if (p / "__init__.py").exists()):
        assert f"`{sub}/`" in architecture, sub  # every subpackage has its place in the note
