"""Method kernels against hand-computed cases and independent naive implementations.

The naive implementations below follow the published definitions step by step (explicit
running walks, pairwise kernel sums) and share no code with ferroscore's vectorised kernels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import ferroscore as fs
from ferroscore.methods.gsva import NORMAL_TABLE, gsva_sd

from .agreement import tolerance

GENES6 = [f"g{i}" for i in range(6)]


def one(values, genes, sets, method, **kw):
    x = np.asarray(values, dtype=float).reshape(1, -1)
    return fs.score(x, sets, method, genes=genes, min_coverage=0, **kw).scores.iloc[0]


# -- hand-computed cases --------------------------------------------------------------------------


def test_ucell_hand_computed():
    # descending average ranks of [5, 3, 3, 1, 0, 0]: 1, 2.5, 2.5, 4, 5.5, 5.5 -> capped at 4
    values = [5, 3, 3, 1, 0, 0]
    res = one(values, GENES6, {"a": ["g0", "g3"], "b": ["g1", "g4", "absent"]}, "ucell",
              max_rank=4)
    assert res["a"] == pytest.approx(1 - (1 + 4 - 3) / (2 * 4 - 3))  # 0.6
    assert res["b"] == pytest.approx(1 - (2.5 + 4 + 4 - 6) / (3 * 4 - 6))  # missing imputed
    skip = one(values, GENES6, {"b": ["g1", "g4", "absent"]}, "ucell", max_rank=4,
               missing_genes="skip")
    assert skip["b"] == pytest.approx(1 - (2.5 + 4 - 3) / (2 * 4 - 3))
    sig = fs.Signature.from_sets("s", ["g0", "g3"], ["g1", "g2"])
    res = one(values, GENES6, [sig], "ucell", max_rank=4, w_neg=0.5)
    assert res["s_up"] == pytest.approx(0.6) and res["s_down"] == pytest.approx(0.6)
    assert res["s"] == pytest.approx(0.6 - 0.5 * 0.6)
    assert one(values, GENES6, [sig], "ucell", max_rank=4, clip=True)["s"] == 0.0  # clipped


def test_aucell_hand_computed():
    genes = [f"g{i}" for i in range(20)]
    values = np.arange(20, 0, -1)  # gene i has descending rank i + 1
    res = one(values, genes, {"a": ["g0", "g2", "g10"]}, "aucell", max_rank_frac=0.2)
    # threshold ceil(0.2 * 20) = 4; area (4-1) + (4-3) = 4; best area 3 + 2 + 1 = 6
    assert res["a"] == pytest.approx(4 / 6)
    assert one(values, genes, {"a": ["g0", "g1", "g2"]}, "aucell", max_rank_frac=0.2)["a"] == 1


def test_singscore_hand_computed():
    genes = list("ABCDE")
    res = one([10, 20, 30, 40, 50], genes,
              [fs.Signature.from_sets("s", ["D", "E"], ["A", "B"])], "singscore")
    assert res["s_up"] == 0.5 and res["s_down"] == -0.5 and res["s"] == 1.0
    assert res["s_up_dispersion"] == pytest.approx(0.5 * 1.4826)
    # ties take the minimum rank: [1, 1, 3, 4, 5] -> set {A, B} mean rank 1 < lower bound 1.5
    res = one([1, 1, 3, 4, 5], genes, {"t": ["A", "B"]}, "singscore", center=False)
    assert res["t"] == pytest.approx((1 - 1.5) / (4.5 - 1.5))


def test_singscore_unknown_direction_hand_computed():
    genes = [f"g{i}" for i in range(7)]
    # ranks 1..7, median 4: folded ranks |r - 4| = 3 2 1 0 1 2 3
    res = one(np.arange(7), genes, {"a": ["g0", "g6"]}, "singscore", known_direction=False)
    k, p = 2 // 2, int(np.ceil(7 / 2))
    low, up = (k + 1) / 2, (2 * p - k + 1) / 2
    assert res["a"] == pytest.approx((3 - low) / (up - low))


def test_mean_hand_computed():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 10)) + np.arange(10)  # gene means increase with the index
    genes = [f"g{i}" for i in range(10)]
    # n_bins=2: n_items = 10, bin = rank // 10 -> genes 0..8 in bin 0, gene 9 in bin 1;
    # ctrl_size=20 exceeds the bin, so every other bin-0 gene is a control (no sampling)
    res = fs.score(x, {"a": ["g2"]}, "mean", genes=genes, n_bins=2, ctrl_size=20)
    expected = x[:, 2] - x[:, [0, 1, 3, 4, 5, 6, 7, 8]].mean(axis=1)
    np.testing.assert_allclose(res.scores["a"], expected, rtol=0, atol=1e-14)
    assert res.params["fitted"]["control_genes"]["a"] == [f"g{i}" for i in (0, 1, 3, 4, 5, 6,
                                                                            7, 8)]


# -- ssGSEA against the explicit running-sum definition -------------------------------------------


def naive_ssgsea(x: np.ndarray, idx: list[int], alpha: float = 0.25) -> float:
    """GSVA's original random walk: sum over positions of P_hit - P_miss."""
    p = len(x)
    ranks = stats.rankdata(x, method="average").astype(int)  # truncated, as GSVA stores them
    order = sorted(range(p), key=lambda g: (-ranks[g], g))  # decreasing, ties by row
    weights = ranks.astype(float) ** alpha
    in_set = np.zeros(p, bool)
    in_set[idx] = True
    total_w = weights[idx].sum()
    hit = miss = 0.0
    es = 0.0
    for g in order:
        if in_set[g]:
            hit += weights[g] / total_w
        else:
            miss += 1 / (p - len(idx))
        es += hit - miss
    return es


def test_ssgsea_matches_the_running_walk_with_ties():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 6, size=(4, 40)).astype(float)  # many ties
    genes = [f"g{i}" for i in range(40)]
    sets = {"a": [0, 3, 7, 8, 21], "b": [1, 2, 39]}
    res = fs.score(x, {k: [genes[i] for i in v] for k, v in sets.items()}, "ssgsea",
                   genes=genes, normalize=False).scores
    for name, idx in sets.items():
        expected = [naive_ssgsea(row, idx) for row in x]
        np.testing.assert_allclose(res[name], expected, rtol=1e-12, atol=1e-9)


# -- GSVA against pairwise kernel sums and an explicit walk ---------------------------------------


def naive_gsva(x: np.ndarray, idx: list[int], kcdf: str, max_diff: bool = True) -> np.ndarray:
    """x: genes x samples. Returns one score per sample."""
    p, n = x.shape
    stat = np.empty_like(x, dtype=float)
    for g in range(p):
        h = gsva_sd(x[g][:, None])[0] / 4
        for j in range(n):
            if kcdf == "gaussian":
                total = 0.0
                for i in range(n):
                    v = (x[g, j] - x[g, i]) / h
                    c = 0.0 if v < -10 else 1.0 if v > 10 else NORMAL_TABLE[
                        int(abs(v) / 10.0 * 10000.0)]
                    total += (1 - c) if -10 <= v < 0 else c
                f = total / n
                stat[g, j] = -np.log((1 - f) / f)
            else:
                f = stats.poisson.cdf(x[g, j], x[g] + 0.5).mean()
                stat[g, j] = -np.log((1 - f) / f)
    scores = []
    for j in range(n):
        order = sorted(range(p), key=lambda g: (-stat[g, j], g))
        r = {g: abs(p - pos - p / 2) for pos, g in enumerate(order)}  # pos is 0-based
        total = sum(r[g] for g in idx)
        walk, top, bottom = 0.0, 0.0, 0.0
        for g in order:
            walk += r[g] / total if g in idx else -1 / (p - len(idx))
            top, bottom = max(top, walk), min(bottom, walk)
        scores.append(top + bottom if max_diff else (top if top > abs(bottom) else bottom))
    return np.array(scores)


@pytest.mark.parametrize("kcdf", ["gaussian", "poisson"])
@pytest.mark.parametrize("max_diff", [True, False])
def test_gsva_matches_naive_definition(kcdf, max_diff):
    rng = np.random.default_rng(7)
    x = rng.poisson(4, size=(30, 12)).astype(float)  # genes x samples, integer counts
    genes = [f"g{i}" for i in range(30)]
    idx = [0, 4, 5, 17, 29]
    res = fs.score(pd.DataFrame(x, index=genes), {"a": [genes[i] for i in idx]}, "gsva",
                   kcdf=kcdf, max_diff=max_diff).scores["a"]
    np.testing.assert_allclose(res, naive_gsva(x, idx, kcdf, max_diff), rtol=0, atol=1e-12)


def test_gsva_ecdf_and_abs_ranking_run_and_differ():
    rng = np.random.default_rng(8)
    x = pd.DataFrame(rng.normal(size=(50, 20)), index=[f"g{i}" for i in range(50)])
    sets = {"a": [f"g{i}" for i in range(10)]}
    none = fs.score(x, sets, "gsva", kcdf="none").scores["a"]
    gauss = fs.score(x, sets, "gsva").scores["a"]
    absr = fs.score(x, sets, "gsva", abs_ranking=True).scores["a"]
    assert not np.allclose(none, gauss)
    assert (absr >= 0).all()


# -- zscore / plage definitions -----------------------------------------------------------------


def test_zscore_and_plage_definitions():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(8, 25))
    genes = [f"g{i}" for i in range(25)]
    idx = [1, 4, 9]
    res = fs.score(x, {"a": [genes[i] for i in idx]}, "zscore", genes=genes)
    z = (x - x.mean(0)) / x.std(0, ddof=1)
    np.testing.assert_allclose(res.scores["a"], z[:, idx].sum(1) / np.sqrt(3), atol=1e-12)
    plage = fs.score(x, {"a": [genes[i] for i in idx]}, "plage", genes=genes).scores["a"]
    v = np.linalg.svd(z[:, idx].T, full_matrices=False)[2][0]
    np.testing.assert_allclose(np.abs(plage), np.abs(v), atol=1e-12)
    assert np.linalg.norm(plage) == pytest.approx(1.0)


# -- optional comparisons with the Python peers -----------------------------------------------


@pytest.fixture(scope="module")
def peer_data():
    rng = np.random.default_rng(1)
    x = rng.gamma(2, 2, size=(60, 400))  # continuous: no ties
    genes = [f"G{i}" for i in range(400)]
    return x, genes, {"s1": genes[:20], "s2": genes[50:55]}


def test_ucell_matches_pyucell(peer_data):
    pyucell = pytest.importorskip("pyucell")
    ad = pytest.importorskip("anndata")
    x, genes, sets = peer_data
    adata = ad.AnnData(x.copy(), var=pd.DataFrame(index=genes))
    pyucell.compute_ucell_scores(adata, signatures=sets, max_rank=100, n_jobs=1)
    ours = fs.score(x, sets, "ucell", genes=genes, max_rank=100).scores
    for name in sets:  # pyucell works in float32
        np.testing.assert_allclose(ours[name], adata.obs[f"{name}_UCell"], rtol=0,
                                   atol=tolerance("ucell_pyucell"))


def test_signed_ucell_with_clip_matches_pyucell(peer_data):
    pyucell = pytest.importorskip("pyucell")
    ad = pytest.importorskip("anndata")
    x, genes, _ = peer_data
    adata = ad.AnnData(x.copy(), var=pd.DataFrame(index=genes))
    signed = {"sg": [g + "+" for g in genes[:20]] + [g + "-" for g in genes[50:60]]}
    pyucell.compute_ucell_scores(adata, signatures=signed, max_rank=100, n_jobs=1, w_neg=0.7)
    signature = fs.Signature.from_sets("sg", genes[:20], genes[50:60])
    ours = fs.score(x, signature, "ucell", genes=genes, max_rank=100, w_neg=0.7,
                    clip=True).scores["sg"].to_numpy()
    theirs = adata.obs["sg_UCell"].to_numpy()
    assert 0.1 < (theirs == 0).mean() < 0.9  # the clip matters on these data
    assert np.abs(ours - theirs).max() <= tolerance("ucell_pyucell_signed")  # pyUCell: float32


def test_mean_matches_scanpy_score_genes(peer_data):
    sc = pytest.importorskip("scanpy")
    ad = pytest.importorskip("anndata")
    x, genes, sets = peer_data
    adata = ad.AnnData(x.copy(), var=pd.DataFrame(index=genes))
    ours = fs.score(x, sets, "mean", genes=genes, ctrl_size=30, n_bins=10,
                    random_state=3).scores
    for name, members in sets.items():
        sc.tl.score_genes(adata, members, score_name=name, ctrl_size=30, n_bins=10,
                          random_state=3)
        np.testing.assert_allclose(ours[name], adata.obs[name], rtol=0,
                                   atol=tolerance("mean_scanpy"))


def test_aucell_matches_decoupler(peer_data):
    dc = pytest.importorskip("decoupler")
    x, genes, sets = peer_data
    net = pd.DataFrame([(k, g) for k, v in sets.items() for g in v], columns=["source", "target"])
    out = dc.mt.aucell(pd.DataFrame(x, columns=genes), net, tmin=1, empty=False)
    theirs = out[0] if isinstance(out, tuple) else out
    ours = fs.score(x, sets, "aucell", genes=genes).scores
    for name in sets:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=0,
                                   atol=tolerance("aucell_decoupler"))


@pytest.mark.parametrize("n", [1, 2, 63, 64, 65, 150])
def test_gsva_self_kernel_is_bit_identical_to_the_pairwise_loop(n):
    from ferroscore.methods.gsva import _TILE, _gaussian_statistic, _gaussian_statistic_self

    rng = np.random.default_rng(n)
    ref = rng.normal(size=(7, n))
    ref[0, : n // 3] += 40  # differences beyond 10 bandwidths
    ref[1] = np.round(ref[1])  # ties
    ref = np.ascontiguousarray(ref)
    with np.errstate(invalid="ignore"):  # one sample has no SD
        sd = gsva_sd(ref.T)
    bandwidth = np.where(sd > 0, sd, 1.0) / 4
    pairwise = _gaussian_statistic(ref, ref, bandwidth, NORMAL_TABLE)
    tiled = _gaussian_statistic_self(ref, bandwidth, NORMAL_TABLE, _TILE)
    np.testing.assert_array_equal(pairwise.T, tiled)
