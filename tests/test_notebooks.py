"""Execute every example notebook (they use only bundled or test data)."""

from __future__ import annotations

import pytest

from .conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
EXECUTED = REPO / "docs" / "_build" / "executed"


def test_the_notebooks_are_there():
    assert [p.stem for p in NOTEBOOKS] == [
        "01_quickstart",
        "02_single_cell",
        "03_drug_sensitivity",
        "04_prognostic_signature",
        "05_subtypes",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path):
    nbformat = pytest.importorskip("nbformat", reason="install the 'notebooks' extra")
    nbclient = pytest.importorskip("nbclient", reason="install the 'notebooks' extra")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    # the docs build (docs/_ext/ferroscore_docs.py) renders this executed copy, not running it again
    EXECUTED.mkdir(parents=True, exist_ok=True)
    partial = EXECUTED / f"{path.stem}.partial"
    nbformat.write(notebook, partial)
    partial.replace(EXECUTED / path.name)
    errors = [o for cell in notebook.cells if cell.cell_type == "code"
              for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {})
               for cell in notebook.cells for o in cell.get("outputs", []))
