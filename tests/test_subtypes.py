"""fs.subtypes.consensus against ConsensusClusterPlus 1.62.0 (R), its kernels against R's
hclust/cutree and cluster::pam, its definitions, and fs.subtypes.compare.

Subsampling uses numpy's generator, not R's, so the consensus matrices agree statistically:
the tolerances in src/ferroscore/data/agreement.toml were measured across seeds (see the README).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

import ferroscore as fs
from ferroscore.subtypes import _kernels
from ferroscore.subtypes.consensus import _cdf, sample_distances

from .agreement import tolerance
from .conftest import DATA

WORKFLOW = DATA / "workflow_gse1992"
CLUSTERING = DATA / "clustering"


@pytest.fixture(scope="module")
def clustered_genes(breast):
    """The fixture's 208 genes x 124 tumours (names as in the bundled matrix)."""
    genes = (WORKFLOW / "genes_clustered.txt").read_text().split()
    return breast[0].loc[genes]


@pytest.fixture(scope="module")
def consensus_2000(clustered_genes):
    return fs.subtypes.consensus(clustered_genes, reps=2000, seed=1992)


def test_consensus_agrees_with_consensusclusterplus(consensus_2000):
    res = consensus_2000
    classes = pd.read_csv(WORKFLOW / "consensus_classes.csv", index_col=0)
    curves = pd.read_csv(WORKFLOW / "consensus_cdf.csv", index_col="k")
    for k in range(2, 7):
        ref = pd.read_csv(WORKFLOW / f"consensus_k{k}.csv.gz", index_col=0)
        difference = np.abs(res.consensus[k].loc[ref.index, ref.columns].to_numpy()
                            - ref.to_numpy())
        assert difference.max() <= tolerance("consensus_hc_max_entry"), k
        assert difference.mean() <= tolerance("consensus_hc_mean_entry"), k
        ari = adjusted_rand_score(classes[f"k{k}"], res.classes[k].loc[classes.index])
        assert 1 - ari <= tolerance("consensus_hc_classes"), k
        assert abs(res.cdf_area[k] - curves.loc[k, "area"]) <= tolerance("consensus_hc_cdf_area")
        assert abs(res.pac[k] - curves.loc[k, "pac"]) <= tolerance("consensus_hc_pac")


@pytest.mark.parametrize("algorithm", ["pam", "km"])
def test_pam_and_kmeans_agree_with_consensusclusterplus(clustered_genes, algorithm):
    distance = "euclidean" if algorithm == "km" else "pearson"
    res = fs.subtypes.consensus(clustered_genes, k=range(2, 5), reps=1000, seed=3,
                                algorithm=algorithm, distance=distance)
    for k in (2, 3, 4):
        ref = pd.read_csv(CLUSTERING / f"ccp_{algorithm}_k{k}.csv.gz", index_col=0)
        got = res.consensus[k].loc[ref.index, ref.index].to_numpy()
        difference = np.abs(got - ref.to_numpy())
        lower = ref.to_numpy()[np.tril_indices(len(ref), -1)]
        pac = np.mean((lower > 0.1) & (lower < 0.9))
        assert difference.max() <= tolerance("consensus_pam_km_max_entry"), k
        assert difference.mean() <= tolerance("consensus_pam_km_mean_entry"), k
        assert abs(res.pac[k] - pac) <= tolerance("consensus_pam_km_pac"), k


def test_kernels_reproduce_hclust_cutree_and_pam(breast):
    genes = (DATA / "pca" / "genes_kegg.txt").read_text().split()
    data = breast[0].loc[genes].iloc[:, :70].T.to_numpy()
    distance = sample_distances(data, "pearson")
    ref = pd.read_csv(CLUSTERING / "labels.csv", index_col=0)
    for method in ("average", "complete", "single"):
        labels = _kernels.hierarchical_labels(distance.copy(), np.arange(2, 9),
                                              _kernels.LINKAGES[method])
        for position, k in enumerate(range(2, 9)):
            # cutree numbers clusters by first appearance, as the kernel does (0-based)
            np.testing.assert_array_equal(labels[position] + 1, ref[f"hc_{method}_k{k}"])
    for k in range(2, 7):
        got = _kernels.pam(distance.copy(), k)
        assert adjusted_rand_score(got, ref[f"pam_k{k}"]) == 1.0


def test_cdf_bins_are_closed_on_the_right_like_r_hist():
    matrix = np.array([[1.0, 0.3, 0.31], [0.3, 1.0, 0.0], [0.31, 0.0, 1.0]])
    cdf = _cdf(matrix)  # lower triangle: 0.3, 0.31, 0.0
    assert cdf[0] == pytest.approx(1 / 3)  # 0 falls in the first bin [0, 0.01]
    assert cdf[29] == pytest.approx(2 / 3)  # 0.3 counts at the edge 0.30, not 0.31
    assert cdf[30] == pytest.approx(1.0)
    assert cdf[-1] == 1.0


def test_definitions_delta_area_pac_and_recommendation(consensus_2000):
    res = consensus_2000
    ks = res.ks
    assert res.delta_area[2] == res.cdf_area[2]  # ConsensusClusterPlus: the k=2 area itself
    for previous, k in zip(ks[:-1], ks[1:], strict=True):
        assert res.delta_area[k] == pytest.approx(
            (res.cdf_area[k] - res.cdf_area[previous]) / res.cdf_area[previous])
    for k in ks:
        matrix = res.consensus[k].to_numpy()
        np.testing.assert_allclose(matrix, matrix.T)
        assert (np.diag(matrix) == 1).all()
        lower = matrix[np.tril_indices_from(matrix, -1)]
        assert res.pac[k] == pytest.approx(np.mean((lower > 0.1) & (lower < 0.9)))
        assert res.classes[k].iloc[0] == 1 and set(res.classes[k]) == set(range(1, k + 1))
        assert res.cdf_area[k] == pytest.approx(0.01 * res.cdf[k].sum())
    pick = res.recommend_k()
    assert pick.k == min(ks, key=lambda k: (res.pac[k], k))
    assert pick.table["chosen"].sum() == 1 and list(pick.table.index) == ks
    elbow = res.recommend_k("delta_area", threshold=0.1)
    assert elbow.table.loc[elbow.k + 1, "delta_area"] < 0.1 if elbow.k < max(ks) else True
    assert "PAC" in pick.rule and "area" in elbow.rule


def test_same_seed_same_result_and_threads_do_not_matter(clustered_genes):
    a = fs.subtypes.consensus(clustered_genes, k=[2, 3], reps=60, seed=11, n_jobs=1)
    b = fs.subtypes.consensus(clustered_genes, k=[2, 3], reps=60, seed=11, n_jobs=2)
    for k in (2, 3):
        pd.testing.assert_frame_equal(a.consensus[k], b.consensus[k])
        pd.testing.assert_series_equal(a.classes[k], b.classes[k])
    c = fs.subtypes.consensus(clustered_genes, k=[2, 3], reps=60, seed=12)
    assert not np.allclose(a.consensus[3], c.consensus[3])


def test_gene_order_and_orientation_do_not_matter(clustered_genes):
    base = fs.subtypes.consensus(clustered_genes, k=[2, 4], reps=50, seed=2)
    rng = np.random.default_rng(0)
    moved = fs.subtypes.consensus(clustered_genes.iloc[rng.permutation(len(clustered_genes))].T,
                                  k=[2, 4], reps=50, seed=2)
    for k in (2, 4):
        np.testing.assert_allclose(moved.consensus[k], base.consensus[k], atol=1e-12)
        pd.testing.assert_series_equal(moved.classes[k], base.classes[k])


@pytest.mark.parametrize("options", [{"distance": "spearman"}, {"distance": "euclidean"},
                                     {"p_feature": 0.7}, {"linkage": "complete"},
                                     {"algorithm": "pam", "p_feature": 0.8}])
def test_options_run(clustered_genes, options):
    res = fs.subtypes.consensus(clustered_genes, k=[2, 3], reps=30, **options)
    assert res.params[next(iter(options))] == next(iter(options.values()))
    assert res.summary().shape == (2, 4)


def test_genes_are_located_and_losses_reported(breast):
    expr = breast[0]
    with pytest.warns(UserWarning, match="1 of 5 genes are not in the data"):
        res = fs.subtypes.consensus(expr, ["GPX4", "LPCAT3", "ACSL4", "TFRC", "NOTAGENE"],
                                    k=[2], reps=20)
    assert "MBOAT5" in res.genes and res.params["genes_missing"] == ["NOTAGENE"]


def test_consensus_plots(tmp_path, consensus_2000):
    pytest.importorskip("matplotlib")
    for name, draw in (("heat", lambda p: fs.pl.consensus_heatmap(consensus_2000, 3, save=p)),
                       ("cdf", lambda p: fs.pl.consensus_cdf(consensus_2000, save=p)),
                       ("delta", lambda p: fs.pl.consensus_delta_area(consensus_2000, save=p))):
        draw(tmp_path / f"{name}.png")
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000


def test_compare_subtypes(breast, consensus_2000, tmp_path):
    expr, clinical = breast
    scores = fs.score(expr, ["ferroptosis_core", "fpi"], "pca")
    cmp = fs.subtypes.compare(consensus_2000, k=2, expr=expr, clinical=clinical,
                              time="rfs_months", event="rfs_event", scores=scores)
    assert cmp.survival.logrank.df == 1
    assert list(cmp.survival.medians.index) == ["1", "2"]
    assert set(cmp.score_tests["test"]) == {"wilcoxon rank-sum"}
    assert cmp.score_tests.loc["fpi", "q"] >= cmp.score_tests.loc["fpi", "p"]
    assert cmp.de.coefficients == ["subtype[2]"]
    assert cmp.de_genes == cmp.de.top(None).query("`adj.P.Val` < 0.05").index.tolist()
    three = fs.subtypes.compare(consensus_2000.classes[3], expr=expr, scores=scores)
    assert "F" in three.de.table and three.survival is None
    assert set(three.score_tests["test"]) == {"kruskal-wallis"}
    fig = fs.pl.subtype_scores(cmp, scores, ["ferroptosis_core", "fpi"],
                               save=tmp_path / "box.png")
    assert len(fig.axes) == 2 and (tmp_path / "box.png").exists()
