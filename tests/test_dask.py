"""Dask input as one graph on a real distributed LocalCluster (2 worker processes).

The cluster is started once per module (per pytest-xdist worker that runs tests of this file;
``--dist loadgroup``, set in pyproject.toml, keeps them on one). Each cluster picks free ports,
has no dashboard, scratch space in the test's temporary directory and a small memory limit per
worker, so two of them at once still fit on a 2-core CI machine.
"""

from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import ferroscore as fs

from .conftest import DATA

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.xdist_group("dask_cluster")

#: Worker memory limit (each worker process idles at about 260 MiB).
MEMORY_LIMIT = 768 * 2**20
SETS = ["ferroptosis_core", "fpi"]
EXACT = ["singscore", "ssgsea", "ucell", "aucell", "wsum", "gsva", "mean"]
SUMMATION_ORDER = ["zscore", "plage", "pca"]  # moments and SVDs merged over chunks: 1e-12


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  scheduler_port=0, dashboard_address=None,
                                  memory_limit=MEMORY_LIMIT,
                                  local_directory=tmp_path_factory.mktemp("dask")) as cluster, \
            distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def bulk():
    """GSE1992 as samples x genes (dense), in chunks of samples and genes."""
    expression, _ = fs.datasets.breast_cancer(as_frames=True)
    values = expression.T.to_numpy()
    kw = {"genes": list(expression.index), "samples": list(expression.columns)}
    return values, da.from_array(values, chunks=(31, 4000)), kw


@pytest.fixture(scope="module")
def cells():
    """HSMM myoblasts, log1p, CSR float32."""
    adata = ad.read_h5ad(DATA / "hsmm_myoblasts.h5ad")
    adata.X = sparse.csr_matrix(np.log1p(adata.X.toarray()).astype(np.float32))
    return adata


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def assert_same(a: fs.ScoreResult, b: fs.ScoreResult, method: str) -> None:
    if method in SUMMATION_ORDER:
        pd.testing.assert_frame_equal(a.scores, b.scores, rtol=1e-12, atol=1e-12, obj=method)
    else:
        pd.testing.assert_frame_equal(a.scores, b.scores, check_exact=True, obj=method)
    fitted_a, fitted_b = dict(a.params["fitted"]), dict(b.params["fitted"])
    if method == "pca":  # flips of LAPACK's arbitrary singular-vector signs: not comparable
        fitted_a.pop("component_signs"), fitted_b.pop("component_signs")
        for name, explained in fitted_a.pop("variance_explained").items():
            np.testing.assert_allclose(explained, fitted_b["variance_explained"][name],
                                       rtol=1e-12)
        fitted_b.pop("variance_explained")
    assert fitted_a == fitted_b, method  # e.g. mean's control genes


def params_for(method: str) -> dict:
    # dask input bins mean's genes by the exactly rounded means, i.e. order_free=True
    return {"order_free": True} if method == "mean" else {}


@pytest.mark.parametrize("method", EXACT + SUMMATION_ORDER)
def test_every_method_equals_in_memory(client, bulk, method):
    values, lazy_values, kw = bulk
    n_perm = 20 if method in ("singscore", "zscore", "plage", "mean") else 0
    null = "expression_matched" if method in ("zscore", "mean") else "uniform"
    options = {"n_permutations": n_perm, "null": null, **kw}
    lazy = quiet(fs.score, lazy_values, SETS, method, compute=False, **options)
    assert isinstance(lazy, fs.scoring.LazyScoreResult)
    got = quiet(lazy.compute)
    expected = quiet(fs.score, values, SETS, method, **options, **params_for(method))
    assert_same(got, expected, method)
    if method == "mean":  # the default request runs order-free on dask, and says so
        assert got.params["parameters"]["order_free"] is True


@pytest.mark.parametrize("method", ["ucell", "singscore", "aucell", "mean", "ssgsea"])
def test_sparse_chunks_equal_in_memory(client, cells, method):
    lazy_x = da.from_array(cells.X, chunks=(64, -1), asarray=False)
    kw = {"genes": cells.var_names, "samples": cells.obs_names, "min_coverage": 0}
    got = quiet(fs.score, lazy_x, SETS, method, **kw)
    expected = quiet(fs.score, cells.X, SETS, method, **kw, **params_for(method))
    assert_same(got, expected, method)


STATISTICS = {
    "zscore": ["ferroscore-moments", "ferroscore-standardiser"],
    "plage": ["ferroscore-moments", "ferroscore-plage-tsqr", "ferroscore-plage-loadings"],
    "pca": ["ferroscore-moments", "ferroscore-pca-tsqr", "ferroscore-pca-loadings"],
    "mean": ["ferroscore-exact-sums", "ferroscore-exact-means", "ferroscore-control-genes"],
    "ssgsea": ["ferroscore-ssgsea-range"],
    "gsva": ["ferroscore-gsva-kcdf", "rechunk"],
}


#: Methods whose sets drop constant genes: that one reduction runs when the graph is built.
CONSTANT_GENES = {"zscore", "plage", "pca", "gsva"}


class CountingScheduler:
    """Dask's synchronous scheduler, counting the graphs it is asked to compute."""

    def __init__(self) -> None:
        self.graphs: list[list[str]] = []

    def __call__(self, graph, keys, **kwargs):
        graph = graph.__dask_graph__() if hasattr(graph, "__dask_graph__") else graph
        self.graphs.append(sorted({str(key[0] if isinstance(key, tuple) else key)
                                   for key in graph}))
        return dask.get(graph, keys, **kwargs)


@pytest.mark.parametrize("method", [*STATISTICS, "ucell"])
def test_lazy_graph_holds_the_statistics(bulk, method):
    _, lazy_values, kw = bulk
    counting = CountingScheduler()
    null = "uniform" if method == "ucell" else "expression_matched"
    with dask.config.set(scheduler=counting):
        lazy = quiet(fs.score, lazy_values, SETS, method, compute=False, n_permutations=5,
                     null=null, **kw)
    # nothing of the statistics is computed while the graph is built, except the constant
    # genes (one reduction of gene moments: they decide which genes the sets keep, which the
    # coverage table reports); the only other read is the raw-counts check of <= 200 samples
    statistics = [[k for k in keys if k.startswith("ferroscore-")] for keys in counting.graphs]
    statistics = [keys for keys in statistics if keys]
    if method in CONSTANT_GENES:
        assert len(statistics) == 1, method
        assert all(k.startswith(("ferroscore-moments", "ferroscore-checked"))
                   for k in statistics[0]), statistics
    else:
        assert statistics == [], method
    assert len(counting.graphs) - len(statistics) <= 1
    layers = list(lazy.graph.layers)
    expected = [*STATISTICS.get(method, []), "ferroscore-columns", "ferroscore-bh"]
    if null == "expression_matched":
        expected.append("ferroscore-null-draws")
    for prefix in expected:
        assert any(name.startswith(prefix) for name in layers), (method, prefix)
    if method == "ucell":  # a per-sample method adds no statistic of the data
        assert not any(name.startswith(("ferroscore-moments", "ferroscore-exact-sums",
                                         "ferroscore-null-draws")) for name in layers)
    assert repr(lazy).startswith(f"LazyScoreResult(method={method!r}")


@pytest.mark.parametrize("method", ["gsva", "zscore", "plage", "pca", "ssgsea", "mean"])
def test_scorer_fit_and_transform_on_dask(client, bulk, method):
    values, lazy_values, kw = bulk
    genes, samples = kw["genes"], kw["samples"]
    ref, new = slice(0, 80), slice(80, None)
    frame = pd.DataFrame(values, index=samples, columns=genes)
    params = params_for(method)
    expected = quiet(lambda: fs.FerroptosisScorer(SETS, method, **params).fit(
        frame.iloc[ref]).score_result(frame.iloc[new]))
    scorer = quiet(lambda: fs.FerroptosisScorer(SETS, method).fit(
        lazy_values[ref], genes=genes, samples=samples[ref]))
    lazy = scorer.score_result(lazy_values[new], genes=genes, samples=samples[new],
                               compute=False)
    layers = list(lazy.graph.layers)  # one graph: the reference statistics and the new scores
    assert any(name.startswith(("ferroscore-moments", "ferroscore-exact-sums",
                                "ferroscore-ssgsea-range", "ferroscore-gsva-reference"))
               for name in layers)
    assert_same(quiet(lazy.compute), expected, method)
    # a lazily fitted reference also scores in-memory data (its statistics computed first)
    assert_same(quiet(scorer.score_result, frame.iloc[new]), expected, method)
    # and an in-memory reference scores dask data
    in_memory = quiet(lambda: fs.FerroptosisScorer(SETS, method, **params).fit(frame.iloc[ref]))
    got = quiet(in_memory.score_result, lazy_values[new], genes=genes, samples=samples[new])
    assert_same(got, expected, method)


def test_lazy_anndata_from_zarr_and_h5ad(client, cells, tmp_path):
    import h5py
    import zarr
    from anndata.experimental import read_elem_lazy
    from anndata.io import read_elem, write_elem

    expected = cells.copy()
    quiet(fs.tl.score, expected, SETS, min_coverage=0)
    cells.write_zarr(tmp_path / "cells.zarr")
    cells.write_h5ad(tmp_path / "cells.h5ad")
    store = zarr.open_group(tmp_path / "cells.zarr", mode="r+", use_consolidated=False)
    with h5py.File(tmp_path / "cells.h5ad", "r") as handle:
        for group in (store, handle):
            lazy = ad.AnnData(read_elem_lazy(group["X"], chunks=(100, -1)),
                              obs=read_elem(group["obs"]), var=read_elem(group["var"]))
            assert sparse.issparse(lazy.X._meta)
            quiet(fs.tl.score, lazy, SETS, min_coverage=0)
            pd.testing.assert_frame_equal(lazy.obs, expected.obs, check_exact=True)
            assert lazy.uns["ferroptosis"]["params"]["scored"]["input"].startswith(
                "AnnData adata.X")
    # obs written back into the store (metadata consolidated again), X untouched
    write_elem(store, "obs", lazy.obs)
    zarr.consolidate_metadata(tmp_path / "cells.zarr")
    back = ad.read_zarr(tmp_path / "cells.zarr")
    pd.testing.assert_frame_equal(back.obs, expected.obs)
    assert (back.X != cells.X).nnz == 0


def test_csr_chunks_stay_sparse_on_the_workers(client, cells):
    from ferroscore._lazy import LazyData
    from ferroscore.matrix import as_expression

    lazy_x = da.from_array(cells.X, chunks=(100, -1), asarray=False)
    data = LazyData.from_expression(as_expression(lazy_x, genes=cells.var_names))
    kinds = data.values.map_blocks(
        lambda block: np.array([[sparse.isspmatrix_csr(block) and block.has_sorted_indices]]),
        dtype=bool, chunks=(1, 1)).compute()
    assert kinds.all() and kinds.size == 3


def test_bad_dask_input_errors_at_compute(client, bulk):
    values, _, kw = bulk
    bad = values.copy()
    bad[100, 5] = np.nan
    lazy = fs.score(da.from_array(bad, chunks=(31, -1)), SETS, "ucell", compute=False, **kw)
    with pytest.raises(ValueError, match=r"NaN/inf values \(found while reading samples"):
        quiet(lazy.compute)
    negative = sparse.csr_matrix(np.where(values > 0, values, 0))
    negative.data[::50] *= -1
    with pytest.raises(ValueError, match="sparse with negative stored values"):
        quiet(fs.score, da.from_array(negative, chunks=(31, -1), asarray=False), SETS,
              "ucell", **kw)
    with pytest.raises(ValueError, match="kcdf='poisson' needs non-negative counts"):
        quiet(fs.score, da.from_array(values, chunks=(31, -1)), SETS, "gsva", kcdf="poisson",
              **kw)
    with pytest.raises(ValueError, match="needs an in-memory matrix"):
        fs.score(da.from_array(values, chunks=(31, -1)), SETS, na="drop_genes", **kw)
