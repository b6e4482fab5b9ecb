"""The documentation site builds with warnings as errors, and lists what it must list.

One Sphinx build (``-D ferroscore_execute_notebooks=0``: the notebooks are executed by
test_notebooks.py, whose executed copies the build renders when they are there), checked for
every public name of every namespace in the API reference, every agreement-registry entry
quoted with its asserted tolerance, every catalogue gene, every notebook and scoring method,
and internal links that resolve. A missing Sphinx is a failure (install the ``docs`` extra),
not a skip. The code on the index and first-analysis pages is executed too.
"""

from __future__ import annotations

import csv
import html
import importlib
import re
import subprocess
import sys
import types
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from ferroscore import _agreement

from .conftest import REPO

DOCS = REPO / "docs"


def build(out: Path) -> Path:
    """Build the site into ``out/html`` with warnings as errors."""
    for module in ("sphinx", "furo", "myst_nb", "numpydoc"):
        try:
            importlib.import_module(module)
        except ImportError:
            pytest.fail(f"{module} is missing: pip install '.[docs]'")
    sphinx = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-D", "ferroscore_execute_notebooks=0", "-d", str(out / "doctrees"),
         str(DOCS), str(out / "html")],
        capture_output=True, text=True, timeout=900, cwd=REPO)
    assert sphinx.returncode == 0, sphinx.stderr[-5000:]
    return out / "html"


def pages(site: Path, pattern: str = "**/*.html") -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in site.glob(pattern)}


def check_every_scoring_method_has_a_page(site):
    from ferroscore.scoring import METHODS

    assert all((site / "methods" / f"{name}.html").exists() for name in METHODS)


def public_namespaces() -> dict[str, list[str]]:
    import ferroscore

    result = {"ferroscore": list(ferroscore.__all__)}
    for name in ferroscore.__all__:
        if isinstance(getattr(ferroscore, name), types.ModuleType):
            result[f"ferroscore.{name}"] = list(getattr(ferroscore, name).__all__)
    return result


def check_every_public_name_is_in_the_reference(site):
    text = "\n".join(pages(site, "generated/api/**/*.html").values())
    anchors = set(re.findall(r'id="([^"]+)"', text))
    missing = []
    for module, names in public_namespaces().items():
        for name in names:
            obj = getattr(importlib.import_module(module), name)
            if isinstance(obj, types.ModuleType):
                found = (site / "generated" / "api" / f"fs.{name}.html").exists()
            else:
                found = f"{module}.{name}" in anchors
            if not found:
                missing.append(f"{module}.{name}")
    assert not missing, f"not in the API reference: {missing}"


def check_the_method_pages_quote_every_agreement_entry(site):
    methods = "\n".join(pages(site, "methods/*.html").values())
    tables = re.findall(r'<table[^>]*\bagreement\b.*?</table>', methods, re.S)
    rows = re.findall(r"<tr.*?</tr>", "\n".join(tables), re.S)
    for key, entry in _agreement.registry().items():
        quoting = [r for r in rows if f">{key}<" in r]
        assert quoting, f"no method page quotes agreement entry {key}"
        bound = f"<= {float(entry['tolerance']):.3g}"
        assert all(bound in html.unescape(r) for r in quoting), \
            f"{key}: the page does not show the registry's {bound}"


def check_the_catalogue_page_lists_every_gene(site):
    text = (site / "generated" / "catalogue.html").read_text(encoding="utf-8")
    with (REPO / "genesets" / "catalogue.tsv").open(encoding="utf-8") as handle:
        genes = list(csv.DictReader(handle, delimiter="\t"))
    body = text[text.index("<table"):]
    assert body.count("<tr") >= len(genes)
    assert all(f"<td><p>{g['symbol']}</p></td>" in body for g in genes)
    assert "pubmed.ncbi.nlm.nih.gov" in body


def check_every_notebook_is_a_tutorial(site):
    for notebook in (REPO / "notebooks").glob("*.ipynb"):
        assert (site / "generated" / "tutorials" / f"{notebook.stem}.html").exists()


def check_internal_links_resolve(site):
    html_pages = pages(site)
    ids = {p: set(re.findall(r'\bid="([^"]+)"', t)) for p, t in html_pages.items()}
    broken = []
    for page, text in html_pages.items():
        for href in re.findall(r'href="([^"]+)"', text):
            parts = urlsplit(html.unescape(href))
            if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not target.exists():
                broken.append(f"{page.relative_to(site)} -> {href}")
            elif parts.fragment and target.suffix == ".html" and target in ids \
                    and parts.fragment not in ids[target]:
                broken.append(f"{page.relative_to(site)} -> {href}")
    assert not broken, broken[:20]


def test_the_site_builds_and_lists_everything(tmp_path):
    """One build (the checks share it, so xdist workers do not build it twice)."""
    site = build(tmp_path)
    check_every_public_name_is_in_the_reference(site)
    check_the_method_pages_quote_every_agreement_entry(site)
    check_every_scoring_method_has_a_page(site)
    check_the_catalogue_page_lists_every_gene(site)
    check_every_notebook_is_a_tutorial(site)
    check_internal_links_resolve(site)


@pytest.mark.parametrize("page", ["index.md", "first_analysis.md"])
def test_the_code_on_the_pages_runs(page, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), re.S)
    assert blocks
    monkeypatch.chdir(tmp_path)  # the guide writes its example files
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, f"docs/{page}", "exec"), namespace)  # noqa: S102 - our own docs
    assert namespace["surv"].table.shape[0] == 1
    if page == "first_analysis.md":
        assert namespace["predicted"].predictions.shape == (124, 1)
        assert namespace["expr"].shape == (15528, 124)
