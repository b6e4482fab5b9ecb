"""Write the example notebooks in ``notebooks/`` (without outputs) from the cells below.

    python scripts/make_notebooks.py

The test suite executes every notebook (tests/test_notebooks.py).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parents[1] / "notebooks"

QUICKSTART = [
    ("md", """# ferroscore quickstart: ferroptosis scores and survival in breast cancer

The bundled cohort is real: GEO GSE1992 (Hu et al., BMC Genomics 2006), 124 primary breast
tumours on two-colour arrays (log ratios) with relapse-free survival."""),
    ("code", """import matplotlib.pyplot as plt
import ferroscore as fs

expr, clinical = fs.datasets.breast_cancer(as_frames=True)   # genes x samples, clinical
print(expr.shape)
clinical.head()"""),
    ("md", "## The gene-set catalogue"),
    ("code", """fs.genesets.available()[["name", "kind", "n_up", "n_down", "source"]]"""),
    ("code", """fs.genesets.load("ferroptosis_core")"""),
    ("md", """## Scoring

singscore is rank-based and per sample; each signature's score is drivers minus suppressors.
1,000 random gene sets of the same sizes give a per-sample empirical p-value."""),
    ("code", """res = fs.score(expr, ["ferroptosis_core", "ferroptosis_extended", "fpi"],
               method="singscore", n_permutations=1000, random_state=0)
res.scores.filter(regex="^(ferroptosis_core|fpi)($|_pvalue)").head()"""),
    ("md", """Coverage: the matrix uses outdated symbols (MBOAT5 for LPCAT3, CARS for CARS1, ...);
they are found through the identifier table without renaming any row."""),
    ("code", """res.coverage[["n_requested", "n_found", "missing", "mapped_aliases"]]"""),
    ("code", """fig, axes = plt.subplots(1, 3, figsize=(11, 3))
for ax, name in zip(axes, ["ferroptosis_core", "ferroptosis_extended", "fpi"]):
    ax.hist(res.scores[name], bins=20, color="tab:red", alpha=0.7)
    ax.set_title(name)
plt.show()"""),
    ("md", """## Survival

The primary analysis is on the continuous score (HR per SD). A dichotomy at the 'optimal' cut
needs a p-value adjusted for the search over cuts: the naive log-rank p is shown only for
comparison."""),
    ("code", """analysis = fs.survival.analyze(res, clinical, time="rfs_months", event="rfs_event",
                               covariates=["age", "er_positive", "node_positive", "grade"])
analysis.table[["score", "n", "hr_per_sd", "hr_lower", "hr_upper", "p_cox", "n_multi",
                "p_cox_multi", "p_logrank_median", "p_cut", "p_cut_raw"]]"""),
    ("code", """fs.pl.forest(analysis.cox_multivariable["ferroptosis_core"],
             title="ferroptosis_core, multivariable (HR per SD)")
plt.show()"""),
    ("code", """cut = analysis.cutpoints["ferroptosis_core"]
data = clinical.assign(score=res.scores["ferroptosis_core"])
fs.pl.km(data["rfs_months"], data["rfs_event"], cut.groups(data["score"]), cut=cut,
         xlabel="months")
plt.show()"""),
    ("code", """fs.survival.ph_test(data, "rfs_months", "rfs_event",
                    ["score", "age", "er_positive", "node_positive", "grade"])"""),
]

SINGLE_CELL = [
    ("md", """# Single cells: ferroptosis scores inside a scanpy pipeline

Real data: 271 human skeletal-muscle myoblasts (Trapnell et al. 2014, Bioconductor
HSMMSingleCell, FPKM), a compact subset kept in `tests/data/` (all cells; detected genes plus
every catalogue gene). Genes are named by (partly outdated) Ensembl IDs, with symbols in
`var["gene_short_name"]`."""),
    ("code", """import anndata as ad
import matplotlib.pyplot as plt
import scanpy as sc
import ferroscore as fs

adata = ad.read_h5ad("../tests/data/hsmm_myoblasts.h5ad")
adata"""),
    ("code", """sc.pp.normalize_total(adata)
sc.pp.log1p(adata)
sc.pp.pca(adata, n_comps=20)
sc.pp.neighbors(adata, n_neighbors=15)
sc.tl.umap(adata, random_state=0)"""),
    ("md", """`fs.tl.score` defaults to UCell (robust to dropout) and writes `adata.obs` / `adata.uns`
like `sc.tl.score_genes`. UCell's signed score `max(0, up - down)` is 0 in most myoblasts
because broadly expressed suppressors (FTH1, GPX4) outrank the drivers; ferroscore warns, and
`clip=False` keeps the difference."""),
    ("code", """fs.tl.score(adata, gene_symbols="gene_short_name")
fs.tl.score(adata, gene_symbols="gene_short_name", clip=False, key_added="ferroptosis_diff")
adata.obs[["ferroptosis", "ferroptosis_up", "ferroptosis_down", "ferroptosis_diff"]].describe()"""),
    ("code", """adata.uns["ferroptosis"]["coverage"][["n_requested", "n_found", "missing"]]"""),
    ("code", """fs.pl.embedding(adata, "ferroptosis_diff")
plt.show()"""),
    ("code", """fs.pl.score_violin(adata, "ferroptosis_diff", groupby="Hours")
plt.show()"""),
    ("md", """Which arm of the pathway moves during differentiation? One score per pathway axis goes to
`adata.obsm["ferroptosis_axes"]`."""),
    ("code", """fs.tl.score_axes(adata, gene_symbols="gene_short_name")
fs.pl.axes_heatmap(adata, groupby="Hours")
plt.show()"""),
    ("md", """Large data: a file opened with `backed="r"` is streamed block by block (`chunk_size`)
and never written; dask arrays run the kernels chunk by chunk (`fs.score(..., compute=False)`)."""),
    ("code", """import tempfile, os
path = os.path.join(tempfile.mkdtemp(), "cells.h5ad")
adata.write_h5ad(path)
backed = ad.read_h5ad(path, backed="r")
fs.tl.score(backed, gene_symbols="gene_short_name", clip=False, chunk_size=50)
(backed.obs["ferroptosis"] == adata.obs["ferroptosis_diff"]).all()"""),
]

DRUGS = [
    ("md", """# Drug sensitivity and ferroptosis scores: the BCBM workflow on real data

The drug step of the breast-cancer ferroptosis studies (Zhu et al. 2022, brain metastasis; Xu et
al., neoadjuvant chemotherapy): predict each tumour's drug response from cell-line screens
(oncoPredict-style ridge models trained on GDSC), compare it between ferroptosis-high and -low
tumours, and check the result against what the studies reported, with guards against circular
findings. Everything here is real: the 124 GSE1992 breast tumours and the bundled GDSC screens."""),
    ("code", """import matplotlib.pyplot as plt
import pandas as pd
from scipy import stats
import ferroscore as fs

expr, clinical = fs.datasets.breast_cancer(as_frames=True)
core = fs.score(expr, "ferroptosis_core")          # singscore, drivers minus suppressors
core.scores["ferroptosis_core"].describe()"""),
    ("md", """## The training data: GDSC2, bundled

Cell-line names are matched by one rule (upper case, letters and digits only); names that collide
under it within a table are different lines and are excluded; drugs screened under two IDs are
averaged per line. The report lists both."""),
    ("code", """gdsc2 = fs.datasets.gdsc("GDSC2")
print(gdsc2.expression.shape, gdsc2.response.shape)
print("excluded:", gdsc2.report["excluded_ambiguous_lines"])
pd.DataFrame(gdsc2.report["duplicated_drugs"])"""),
    ("md", """## How good is the predictor on cell lines?

Five-fold cross-validation of the full pipeline, beside RidgeCV on the same features and the
training-tissue mean. Pan-tissue correlations are inflated by tissue of origin; the within-tissue
values measure skill beyond it."""),
    ("code", """cv = fs.drugs.cross_validate(gdsc2.expression, gdsc2.response[["Lapatinib", "Bortezomib"]],
                             lines=gdsc2.lines)
cv.table[["drug", "n", "spearman", "spearman_within_tissue", "spearman_breast",
          "ridgecv_spearman", "tissue_mean_spearman", "verdict"]].round(3)"""),
    ("code", """print(cv.summary)"""),
    ("md", """## The studies' drugs, ferroptosis-high vs -low

One call: the union of the two studies' drugs, each trained on GDSC2 (GDSC1 for drugs GDSC2
lacks), Mann-Whitney between the median-split groups with BH q, Spearman with the continuous
score, the reported directions beside the found ones, and two guards: models without the
signature's genes, and random gene sets of matched size and expression."""),
    ("code", """result = fs.drugs.drug_sensitivity(core, expr, training="GDSC2")
result.table[["drug", "screen", "reported_direction", "found_direction", "q_mannwhitney", "rho",
              "rho_without_signature_genes", "p_empirical"]].round(3)"""),
    ("code", """print(result.summary)"""),
    ("code", """order = result.table.sort_values("q_mannwhitney")["drug"][:4].tolist()
fs.pl.drug_boxplot(result.predictions, result.groups, order, ylabel="predicted ln IC50")
plt.show()"""),
    ("code", """drug = order[0]
observed = result.table.set_index("drug").loc[drug, "rho"]
plt.hist(result.null[drug], bins=30, color="0.7")
plt.axvline(observed, color="tab:red", label="ferroptosis_core")
plt.xlabel(f"Spearman with predicted {drug} ln IC50"); plt.ylabel("random gene sets")
plt.legend()
plt.show()"""),
    ("code", """for row in result.table.itertuples():
    print(f"{row.drug}: {row.conclusion}")"""),
    ("md", """## Known biology on tumours

A check of the predictor itself, independent of ferroptosis: lapatinib targets HER2, so its
predicted IC50 should be lowest in ERBB2-high tumours."""),
    ("code", """lapatinib = result.predictions["Lapatinib"]
rho = stats.spearmanr(lapatinib, expr.loc["ERBB2"]).statistic
plt.scatter(expr.loc["ERBB2"], lapatinib, s=10)
plt.xlabel("ERBB2 (log ratio)"); plt.ylabel("predicted lapatinib ln IC50")
plt.title(f"Spearman {rho:.2f}")
plt.show()"""),
]


def subtypes_notebook() -> list[tuple[str, str]]:
    """Notebook 05: ferroptosis subtypes -> differential expression -> PCA score -> survival."""
    return [
        ("md", """# Ferroptosis subtypes, their genes, a PCA score and survival (GSE1992)

The template of many ferroptosis papers (the m6A-score design of Zhang et al. 2020, used for
breast-cancer brain metastasis by Zhu et al. 2022): consensus clustering of tumours on
ferroptosis-related genes, differential expression between the subtypes (limma), a score
built by PCA on the subtype genes (PC1 + PC2), and survival. Real data: 124 primary breast
tumours (GEO GSE1992) with relapse-free survival. Every step here is fitted and evaluated on
the same cohort, so any association of the final score with subtypes is partly built in and
survival estimates are optimistic; the end of the notebook shows how to freeze the score on
one cohort and apply it to another."""),
        ("code", """import matplotlib.pyplot as plt
import ferroscore as fs

expr, clinical = fs.datasets.breast_cancer(as_frames=True)
frgs = list(fs.genesets.load("ferroptosis_extended").genes)   # 69 drivers and suppressors
len(frgs)"""),
        ("md", """## 1. Consensus clustering (ConsensusClusterPlus's definitions)

Hierarchical clustering (average linkage, 1 - Pearson) of 80% subsamples, 500 resamples
(the conformance tests use 2,000). The CDF, delta-area and PAC curves are the evidence for
k; the recommendation rule is stated and shown next to them."""),
        ("code", """subtypes = fs.subtypes.consensus(expr, frgs, k=range(2, 7), reps=500, seed=1)
subtypes.summary()"""),
        ("code", """fig, axes = plt.subplots(1, 2, figsize=(11, 4))
fs.pl.consensus_cdf(subtypes, ax=axes[0])
fs.pl.consensus_delta_area(subtypes, ax=axes[1])
fig.tight_layout()
plt.show()"""),
        ("code", """pick = subtypes.recommend_k("pac")
elbow = subtypes.recommend_k("delta_area")
print(f"lowest PAC: k = {pick.k}; delta-area elbow: k = {elbow.k}")
pick.table"""),
        ("md", """Two subtypes give the two-group comparison of the template; the table above says how much
cleaner other k would be (lower PAC is cleaner)."""),
        ("code", """k = 2
print(f"k = {k}: PAC {subtypes.pac[k]:.3f}, sizes {subtypes.classes[k].value_counts().to_dict()}")
fs.pl.consensus_heatmap(subtypes, k)
plt.show()"""),
        ("md", """## 2. Subtypes compared in one call: survival, genes (limma)"""),
        ("code", """comparison = fs.subtypes.compare(subtypes, k=k, expr=expr, clinical=clinical,
                                 time="rfs_months", event="rfs_event")
test = comparison.survival.logrank
print(f"log-rank across subtypes: chi2 = {test.statistic:.2f}, p = {test.p_value:.3g}; "
      f"{len(comparison.de_genes)} genes with BH q < 0.05")
comparison.de.top(10)[["logFC", "AveExpr", "t", "P.Value", "adj.P.Val", "B"]]"""),
        ("code", """fs.pl.de_volcano(comparison.de, label_top=12)
plt.show()"""),
        ("code", """fs.pl.km(comparison.survival, xlabel="months")
plt.show()"""),
        ("md", """Are the subtypes just ER status? The clinical table answers it."""),
        ("code", """import pandas as pd
table = pd.crosstab(comparison.classes, clinical.loc[comparison.classes.index, "er_positive"])
share = table[1] / table.sum(axis=1)
print("ER-positive share by subtype: " + ", ".join(f"{s}: {v:.0%}" for s, v in share.items()))
table"""),
        ("md", """## 3. The PCA score on the subtype genes

`method="pca"`: genes standardised, PCA, score = PC1 + PC2, each component oriented so that
its loadings sum to a positive number (an unsigned gene list). Here: the 100 genes that differ
most between the subtypes."""),
        ("code", """top_genes = comparison.de.top(100).index.tolist()
pca = fs.score(expr, {"subtype_pca": top_genes}, method="pca")
print(pca.params["fitted"])
scores = pca.scores.join(fs.score(expr, ["ferroptosis_core", "fpi"]).scores[["ferroptosis_core", "fpi"]])
by_subtype = fs.subtypes.compare(comparison.classes, scores=scores)
by_subtype.score_tests"""),
        ("code", """fs.pl.subtype_scores(by_subtype, scores, ["subtype_pca", "ferroptosis_core", "fpi"])
plt.show()"""),
        ("md", """## 4. Survival of the scores (HR per SD, with the clinical covariates)"""),
        ("code", """analysis = fs.survival.analyze(scores, clinical, time="rfs_months", event="rfs_event",
                               covariates=["age", "er_positive", "node_positive", "grade"])
row = analysis.table.set_index("score").loc["subtype_pca"]
print(f"subtype_pca: HR per SD {row.hr_per_sd:.2f} (p = {row.p_cox:.2g}) alone, "
      f"{row.hr_per_sd_multi:.2f} (p = {row.p_cox_multi:.2g}) adjusted for age, ER, node and grade")
analysis.table[["score", "n", "hr_per_sd", "hr_lower", "hr_upper", "p_cox", "q_cox",
                "n_multi", "hr_per_sd_multi", "p_cox_multi"]]"""),
        ("md", """## 5. Freezing the score on a reference cohort

`FerroptosisScorer` learns the genes' means, SDs and loadings on a reference and projects new
samples on them (R `predict(prcomp(...), newdata)`). Here the first 80 tumours play the
reference and the other 44 an external cohort."""),
        ("code", """scorer = fs.FerroptosisScorer({"subtype_pca": top_genes}, "pca").fit(expr.iloc[:, :80])
external = scorer.transform(expr.iloc[:, 80:])
own = fs.score(expr.iloc[:, 80:], {"subtype_pca": top_genes}, method="pca").scores
print(f"frozen vs refitted on the 44: r = {external['subtype_pca'].corr(own['subtype_pca']):.3f}")"""),
    ]


def build(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    notebook = new_notebook(cells=[new_markdown_cell(src) if kind == "md" else
                                   new_code_cell(src) for kind, src in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    return notebook


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, cells in (("01_quickstart", QUICKSTART), ("02_single_cell", SINGLE_CELL),
                        ("03_drug_sensitivity", DRUGS), ("05_subtypes", subtypes_notebook())):
        nbformat.write(build(cells), OUT / f"{name}.ipynb")
        print(f"wrote {OUT / name}.ipynb")


if __name__ == "__main__":
    main()
