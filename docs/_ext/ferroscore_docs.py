"""Sphinx extension that generates the pages which must follow the code, at build time.

- ``generated/api/<namespace>.rst``: one page per public namespace (``ferroscore`` and every
  module in ``ferroscore.__all__``), an autosummary table of every name in its ``__all__``,
  grouped by topic where :data:`TOPICS` says so and by kind otherwise, so a name added to an
  ``__all__`` appears without editing the docs.
- ``generated/catalogue.md`` and ``generated/catalogue_changelog.md``: the gene-set catalogue from
  ``genesets/catalogue.tsv`` and ``sets.tsv`` (every gene, role, axis, evidence link), and its
  changelog.
- ``generated/tutorials/*.ipynb``: the notebooks of ``notebooks/*.ipynb`` with their outputs: the
  copy the test suite executed (``docs/_build/executed/``) when its code cells are the notebook's,
  otherwise executed here, in ``notebooks/`` as the test does, and kept there for the next build
  (``-D ferroscore_execute_notebooks=0`` stages them without outputs instead).
- The ``agreement`` directive: a table of entries of the agreement registry
  (``ferroscore._agreement``, the numbers the conformance tests assert), selected by key or
  ``fnmatch`` pattern; a pattern that matches nothing is an error.
"""

from __future__ import annotations

import csv
import fnmatch
import importlib
import inspect
import re
import types
from pathlib import Path

import nbformat
from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

DOCS = Path(__file__).resolve().parents[1]
REPO = DOCS.parent
GENERATED = DOCS / "generated"
EXECUTED = DOCS / "_build" / "executed"
GENESETS = REPO / "genesets"
NOTEBOOKS = REPO / "notebooks"

#: Topic groups of a namespace's API page, as scanpy groups its API (name -> group title).
#: Names not listed here are grouped by kind ("Functions", "Classes", "Constants").
TOPICS: dict[str, dict[str, list[str]]] = {
    "ferroscore": {
        "Scoring": ["score", "FerroptosisScorer", "ScoreResult"],
        "Gene sets": ["GeneSet", "Signature"],
    },
    "ferroscore.survival": {
        "One-call analysis": ["analyze", "SurvivalAnalysis"],
        "Models and tests": ["cox", "ph_test", "logrank", "LogrankResult"],
        "Curves and cut points": ["km", "KMResult", "cutpoint", "CutpointResult", "split"],
        "Prediction accuracy": ["concordance", "time_auc"],
        "Prognostic signatures": ["screen", "coxnet", "CoxnetPath", "cv_coxnet", "CVCoxnetResult",
                                  "fold_ids", "meta_analysis", "MetaAnalysis"],
    },
    "ferroscore.drugs": {
        "Association with scores": ["associate", "compare_groups", "drug_sensitivity",
                                    "DrugSensitivity", "reported_directions", "STUDY_DRUGS"],
        "Response prediction": ["predict_response", "ResponsePrediction", "cross_validate",
                                "CrossValidation", "resolve_drugs", "homogenize_datasets",
                                "transform_response", "inverse_transform_response", "combat"],
        "Readers": ["read_expression", "read_response", "read_rds"],
    },
    "ferroscore.pl": {
        "Scores": ["score_violin", "axes_heatmap", "embedding", "subtype_scores"],
        "Survival": ["km", "forest", "cutpoint_profile"],
        "Drugs and differential expression": ["volcano", "drug_boxplot", "de_volcano"],
        "Subtypes": ["consensus_cdf", "consensus_delta_area", "consensus_heatmap"],
    },
    "ferroscore.genesets": {
        "Catalogue": ["available", "load", "signature", "catalogue", "catalogue_version",
                      "UnknownGeneSetError"],
        "Gene sets and files": ["GeneSet", "Signature", "coerce_sets", "read_gmt", "write_gmt"],
    },
}


def alias(module: str) -> str:
    """``ferroscore.survival`` -> ``fs.survival`` (the name users type)."""
    return "fs" + module.removeprefix("ferroscore")


def namespaces() -> list[str]:
    """``ferroscore`` and every module named in ``ferroscore.__all__``, in that order."""
    package = importlib.import_module("ferroscore")
    modules = [f"ferroscore.{name}" for name in package.__all__
               if isinstance(getattr(package, name), types.ModuleType)]
    return ["ferroscore", *modules]


def public_names(module: str) -> list[str]:
    """The namespace's ``__all__`` (an error when it has none: the reference lists it)."""
    names = getattr(importlib.import_module(module), "__all__", None)
    if names is None:
        raise ExtensionError(f"{module} has no __all__; the API reference is built from it")
    return list(names)


def kind(obj: object) -> str:
    if isinstance(obj, types.ModuleType):
        return "Namespaces"
    if inspect.isclass(obj):
        return "Classes"
    if callable(obj):
        return "Functions"
    return "Constants"


def first_paragraph(text: str | None) -> str:
    paragraph = inspect.cleandoc(text or "").split("\n\n")[0]
    return " ".join(paragraph.split())


def autosummary(module: str, names: list[str], toctree: bool = True) -> list[str]:
    lines = [f".. currentmodule:: {module}", "", ".. autosummary::"]
    if toctree:
        lines.append("   :toctree: stubs")
    lines.append("")
    lines += [f"   {name}" for name in names]
    return [*lines, ""]


def api_page(module: str) -> str:
    """The reST of one namespace's page."""
    obj = importlib.import_module(module)
    names = public_names(module)
    title = f"``{alias(module)}``"
    lines = [f".. _api-{alias(module)}:", "", title, "=" * len(title), "",
             first_paragraph(obj.__doc__), ""]
    topics = TOPICS.get(module, {})
    groups = {group: [n for n in members if n in names] for group, members in topics.items()}
    listed = {n for members in topics.values() for n in members}
    for name in names:
        if name not in listed and name != "__version__":
            groups.setdefault(kind(getattr(obj, name)), []).append(name)
    for group, members in groups.items():
        if not members:
            continue
        lines += [group, "-" * len(group), ""]
        if group == "Namespaces":       # their own pages, linked
            lines += [f"- :ref:`{alias(f'{module}.{m}')} <api-{alias(f'{module}.{m}')}>`: "
                      f"{first_paragraph(getattr(obj, m).__doc__)}" for m in members]
            lines.append("")
        else:
            lines += autosummary(module, members)
    if "__version__" in names:
        lines += ["Version", "-------", "", f".. currentmodule:: {module}", "",
                  ".. py:data:: __version__", "",
                  "   The installed version (a string such as ``'0.1.0'``).", ""]
    return "\n".join(lines)


def write_if_changed(path: Path, text: str) -> None:
    """Keep the timestamps of unchanged pages so incremental builds stay incremental."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def write_api() -> None:
    pages = [(m, api_page(m)) for m in namespaces()]
    index = ["API reference", "=============", "",
             "Every public name of every namespace (its ``__all__``), generated at build time; "
             "``import ferroscore as fs``.", "", ".. list-table::", "   :widths: 20 80", ""]
    for module, _ in pages:
        summary = first_paragraph(importlib.import_module(module).__doc__)
        index += [f"   * - :doc:`{alias(module)} <{alias(module)}>`", f"     - {summary}"]
    index += ["", ".. toctree::", "   :hidden:", ""]
    index += [f"   {alias(m)}" for m, _ in pages]
    write_if_changed(GENERATED / "api" / "index.rst", "\n".join(index) + "\n")
    for module, text in pages:
        write_if_changed(GENERATED / "api" / f"{alias(module)}.rst", text)


# --- gene-set catalogue -------------------------------------------------------------------------

EVIDENCE_URLS = {
    "PMID": "https://pubmed.ncbi.nlm.nih.gov/{}/",
    "DOI": "https://doi.org/{}",
    "KEGG": "https://www.kegg.jp/pathway/{}",
    "WikiPathways": "https://www.wikipathways.org/pathways/{}",
}


def evidence_links(evidence: str) -> str:
    """``PMID:1;DOI:x`` -> Markdown links; other evidence (FerrDb counts, CITE:) as text."""
    items = []
    for item in filter(None, (e.strip() for e in evidence.split(";"))):
        prefix, _, value = item.partition(":")
        if prefix in EVIDENCE_URLS and value:
            items.append(f"[{item}]({EVIDENCE_URLS[prefix].format(value.strip())})")
        else:
            items.append(cell(item))
    return "; ".join(items)


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def catalogue_page() -> str:
    sets = read_tsv(GENESETS / "sets.tsv")
    genes = read_tsv(GENESETS / "catalogue.tsv")
    version = {s["catalogue_version"] for s in sets}
    lines = ["# Gene-set catalogue", "",
             f"Catalogue version **{', '.join(sorted(version))}**, generated from "
             "`genesets/catalogue.tsv` and `genesets/sets.tsv` when the documentation is built; "
             f"{len(sets)} sets, {len(genes)} gene entries. Changes: "
             "[the catalogue changelog](catalogue_changelog.md). Load a set with "
             "`fs.genesets.load(name)`; list them with `fs.genesets.available()`.", "",
             "| set | kind | genes | description |", "|---|---|---|---|"]
    by_set: dict[str, list[dict[str, str]]] = {}
    for row in genes:
        by_set.setdefault(row["set"], []).append(row)
    for s in sets:
        lines.append(f"| [{s['name']}](#{s['name'].replace('_', '-')}) | {s['kind']} | "
                     f"{len(by_set.get(s['name'], []))} | {cell(s['description'])} |")
    lines.append("")
    for s in sets:
        rows = by_set.get(s["name"], [])
        lines += [f"({s['name'].replace('_', '-')})=", f"## `{s['name']}`", "",
                  f"{cell(s['description'])}", "",
                  f"Kind: {s['kind']}" + (f"; direction: {s['direction']}" if s["direction"]
                                           else "") + f"; source: {cell(s['source'])}; "
                  f"set version {s['version']}.", ""]
        if s.get("provenance"):
            lines += [f"Provenance: {cell(s['provenance'])}", ""]
        lines += ["| gene | Entrez | role | weight | axis | evidence | FerrDb V2 records "
                  "(driver / suppressor) | note |", "|---|---|---|---|---|---|---|---|"]
        for g in rows:
            records = (f"{g['n_driver_records']} / {g['n_suppressor_records']}"
                       if g["n_driver_records"] or g["n_suppressor_records"] else "")
            role = g["role"] + (f" ({g['sign_status']})" if g.get("sign_status") else "")
            lines.append(f"| {g['symbol']} | {g['entrez_id']} | {role} | {g['weight']} | "
                         f"{g['axis']} | {evidence_links(g['evidence'])} | {records} | "
                         f"{cell(g['note'])} |")
        lines.append("")
    return "\n".join(lines)


def changelog_page() -> str:
    """The catalogue changelog; links to files next to it become plain file names."""
    text = (GENESETS / "CHANGELOG.md").read_text(encoding="utf-8")
    return re.sub(r"\[([^\]]+)\]\((?!https?:)([^)#]+)[^)]*\)",
                  lambda m: f"{m.group(1)} (`genesets/{m.group(2)}`)", text)


# --- notebooks -----------------------------------------------------------------------------------

def code_sources(notebook: nbformat.NotebookNode) -> list[str]:
    return [c.source for c in notebook.cells if c.cell_type == "code"]


def execute(path: Path) -> nbformat.NotebookNode:
    """Run a notebook in its own folder (as tests/test_notebooks.py does) and keep the copy."""
    import nbclient

    notebook = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(notebook, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    EXECUTED.mkdir(parents=True, exist_ok=True)
    partial = EXECUTED / f"{path.stem}.partial"
    nbformat.write(notebook, partial)
    partial.replace(EXECUTED / path.name)
    return notebook


def stage_notebooks(run_missing: bool) -> None:
    """Copy each notebook into the source tree with its outputs (mystnb never executes).

    The outputs come from the copy the test suite executed when its code cells are the
    notebook's; otherwise the notebook is executed now (``run_missing``) or staged without
    outputs.
    """
    target = GENERATED / "tutorials"
    target.mkdir(parents=True, exist_ok=True)
    wanted = {p.name for p in NOTEBOOKS.glob("*.ipynb")}
    for stale in target.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        executed = EXECUTED / path.name
        done = nbformat.read(executed, as_version=4) if executed.exists() else None
        if done is not None and code_sources(done) == code_sources(notebook):
            notebook = done
        elif run_missing:
            logger.info("ferroscore_docs: executing %s", path.name)
            notebook = execute(path)
        write_if_changed(target / path.name, nbformat.writes(notebook))


def generate(app: Sphinx, config) -> None:
    write_api()
    write_if_changed(GENERATED / "catalogue.md", catalogue_page())
    write_if_changed(GENERATED / "catalogue_changelog.md", changelog_page())
    stage_notebooks(bool(config.ferroscore_execute_notebooks))


# --- agreement directive --------------------------------------------------------------------------

def registry() -> dict[str, dict]:
    from ferroscore import _agreement

    return _agreement.registry()


def table(header: list[str], rows: list[list[list[nodes.Node]]],
          widths: list[int]) -> nodes.table:
    """A docutils table; each cell is a list of paragraphs (one node each)."""
    tgroup = nodes.tgroup(cols=len(header))
    tgroup += [nodes.colspec(colwidth=w) for w in widths]
    head = nodes.thead()
    head += nodes.row("", *[nodes.entry("", nodes.paragraph(text=h)) for h in header])
    body = nodes.tbody()
    for cells in rows:
        body += nodes.row("", *[nodes.entry("", *[nodes.paragraph("", "", p) for p in c])
                                for c in cells])
    tgroup += [head, body]
    result = nodes.table(classes=["agreement"])
    result += tgroup
    return result


class AgreementDirective(Directive):
    """``agreement`` directive: registry entries by key or pattern (``consensus_*``)."""

    required_arguments = 1
    final_argument_whitespace = True
    has_content = False

    def run(self) -> list[nodes.Node]:
        from ferroscore import _agreement

        # rebuild the page whenever the registry changes (incremental builds included)
        registry_file = Path(_agreement.__file__).parent / "data" / _agreement.REGISTRY_NAME
        self.state.document.settings.env.note_dependency(str(registry_file))
        entries = registry()
        keys: list[str] = []
        for pattern in self.arguments[0].split():
            matched = [k for k in entries if fnmatch.fnmatchcase(k, pattern)]
            if not matched:
                raise self.error(f"agreement: no registry entry matches {pattern!r} "
                                 f"(src/ferroscore/data/agreement.toml)")
            keys += [k for k in matched if k not in keys]
        metric = {"max_abs": "max abs difference", "max_rel": "max relative difference"}
        rows = []
        for key in keys:
            e = entries[key]
            rows.append([[nodes.literal(text=e["procedure"]),
                          nodes.inline("", "registry key ", nodes.literal(text=key),
                                       classes=["agreement-key"])],
                         [nodes.Text(e["reference"])], [nodes.Text(e["quantity"])],
                         [nodes.Text(f"{metric.get(e['metric'], e['metric'])} "
                                     f"<= {float(e['tolerance']):.3g}")]])
        return [table(["ferroscore", "reference", "compared", "asserted agreement"], rows,
                      [28, 28, 30, 14])]


def skip_metadata_routing(app: Sphinx, what: str, name: str, obj: object, skip: bool,
                          options: object) -> bool | None:
    """scikit-learn adds ``set_<method>_request`` (metadata routing) to every estimator, with
    docstrings that link into scikit-learn's own glossary: not ferroscore's API."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app: Sphinx) -> dict[str, object]:
    app.add_config_value("ferroscore_execute_notebooks", True, "env", bool)
    app.connect("config-inited", generate)
    app.connect("autodoc-skip-member", skip_metadata_routing)
    app.add_directive("agreement", AgreementDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
