"""scanpy-style API on the real HSMM myoblast data: AnnData in/out, sparse, backed, Dask."""

from __future__ import annotations

import hashlib
import warnings

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import ferroscore as fs

from .conftest import DATA

MYOBLASTS = DATA / "hsmm_myoblasts.h5ad"
METHODS = ["singscore", "ssgsea", "gsva", "zscore", "plage", "ucell", "aucell", "mean"]


@pytest.fixture
def cells():
    """Log-normalised myoblasts (sparse float32), FPKM kept in a layer."""
    adata = ad.read_h5ad(MYOBLASTS)
    adata.layers["fpkm"] = adata.X.copy()
    adata.X = sparse.csr_matrix(np.log1p(adata.X.toarray()).astype(np.float32))
    return adata


def test_core_genes_are_found_through_ensembl_ids_and_symbols(cells):
    fs.tl.score(cells, min_coverage=0)
    coverage = cells.uns["ferroptosis"]["coverage"]
    # NCOA4 carries a retired Ensembl ID (ENSG00000138293) unknown to NCBI 2022: reported
    assert coverage["n_found"].tolist() == [3, 5]
    assert coverage.loc["ferroptosis_core_up", "missing"] == "NCOA4"
    assert coverage.loc["ferroptosis_core_up", "mapped_aliases"].startswith("ACSL4->ENSG")
    fs.tl.score(cells, gene_symbols="gene_short_name", key_added="by_symbol")
    assert cells.uns["by_symbol"]["coverage"]["n_found"].tolist() == [4, 5]


def test_ucell_default_is_the_difference_and_clip_true_warns(cells):
    fs.tl.score(cells, gene_symbols="gene_short_name", key_added="diff")
    expected = cells.obs["diff_up"] - cells.obs["diff_down"]
    np.testing.assert_allclose(cells.obs["diff"], expected, rtol=0, atol=1e-15)
    assert (cells.obs["diff"] <= 0).mean() > 0.9  # suppressors outrank drivers: mostly <= 0
    assert cells.obs["diff"].std() > 0  # not a blank embedding
    with pytest.warns(UserWarning, match=r"is 0 in 94% of samples for 'ferroptosis_core'"):
        fs.tl.score(cells, gene_symbols="gene_short_name", clip=True, key_added="clipped")
    np.testing.assert_array_equal(cells.obs["clipped"], np.maximum(0.0, expected))


def test_in_place_writes_columns_dtypes_and_uns(cells):
    assert fs.tl.score(cells, n_permutations=20, gene_symbols="gene_short_name") is None
    for column in ("ferroptosis", "ferroptosis_up", "ferroptosis_down", "ferroptosis_pvalue",
                   "ferroptosis_qvalue"):
        assert cells.obs[column].dtype == np.float64, column
    assert cells.obs["ferroptosis"].between(-1, 1).all()  # UCell(up) - UCell(down)
    params = cells.uns["ferroptosis"]["params"]
    assert params["method"] == "ucell" and params["use_raw"] is False
    assert params["parameters"]["max_rank"] == 1500
    assert list(params["obs_columns"])[0] == "ferroptosis"
    direct = fs.score(cells, "ferroptosis_core", "ucell", n_permutations=20,
                      gene_symbols="gene_short_name").scores
    np.testing.assert_array_equal(cells.obs["ferroptosis"], direct["ferroptosis_core"])


def test_copy_returns_a_new_object_and_leaves_the_input(cells):
    out = fs.tl.score(cells, ["ferroptosis_core", "fpi"], key_added="fx", copy=True, min_coverage=0)
    assert out is not cells and "fx_ferroptosis_core" in out.obs and "fx_fpi_up" in out.obs
    assert "fx_ferroptosis_core" not in cells.obs and "fx" not in cells.uns


def test_result_survives_h5ad_round_trip(cells, tmp_path):
    fs.tl.score(cells, ["ferroptosis_core", "fpi"], method="singscore", key_added="fx")
    fs.tl.score_axes(cells)
    cells.write_h5ad(tmp_path / "scored.h5ad")
    back = ad.read_h5ad(tmp_path / "scored.h5ad")
    pd.testing.assert_frame_equal(back.obs, cells.obs)
    assert back.uns["fx"]["params"]["method"] == "singscore"
    assert "kegg_ferroptosis" not in back.uns["fx"]["coverage"].index
    pd.testing.assert_frame_equal(back.obsm["ferroptosis_axes"], cells.obsm["ferroptosis_axes"])


def test_layer_and_raw_semantics(cells):
    # a value-based method tells FPKM from log1p(FPKM); rank methods would not (scale-free)
    kw = {"method": "mean", "sets": "fpi", "gene_symbols": "gene_short_name"}
    fs.tl.score(cells, layer="fpkm", key_added="from_layer", **kw)
    direct = fs.score(cells, "fpi", "mean", layer="fpkm", gene_symbols="gene_short_name")
    np.testing.assert_array_equal(cells.obs["from_layer"], direct.scores["fpi"])
    cells.raw = ad.AnnData(cells.layers["fpkm"], var=cells.var)
    fs.tl.score(cells, key_added="default", **kw)  # use_raw defaults to True with .raw
    np.testing.assert_array_equal(cells.obs["default"], cells.obs["from_layer"])
    assert cells.uns["default"]["params"]["use_raw"] is True
    fs.tl.score(cells, key_added="x", use_raw=False, **kw)
    assert not np.allclose(cells.obs["x"], cells.obs["default"])
    ranks = fs.score(cells, "fpi", "ucell", use_raw=True).scores
    assert np.array_equal(ranks, fs.score(cells, "fpi", "ucell").scores)  # scale-free
    with pytest.raises(ValueError, match="only one of layer"):
        fs.tl.score(cells, layer="fpkm", use_raw=True)
    with pytest.raises(KeyError, match="layer 'missing' not in adata.layers"):
        fs.tl.score(cells, layer="missing", use_raw=False)
    del cells.raw
    with pytest.raises(ValueError, match="adata.raw is None"):
        fs.tl.score(cells, use_raw=True)


def test_bad_single_cell_input(cells):
    scaled = cells.copy()
    scaled.X = sparse.csr_matrix(scaled.X.toarray() - 1.0)
    with pytest.raises(ValueError, match="sparse with negative stored values .* ucell ranks"):
        fs.tl.score(scaled)
    with_nan = cells.copy()
    with_nan.layers["bad"] = cells.X.toarray()
    with_nan.layers["bad"][0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN/inf"):
        fs.tl.score(with_nan, layer="bad")
    renamed = cells.copy()
    renamed.var_names = [f"feature{i}" for i in range(renamed.n_vars)]
    renamed.var["gene_short_name"] = "x"
    with pytest.raises(ValueError, match="0 of 4 genes found"):
        fs.tl.score(renamed, gene_symbols="gene_short_name")


@pytest.mark.parametrize("method", METHODS)
def test_sparse_equals_dense(cells, method):
    dense = cells.copy()
    dense.X = cells.X.toarray()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = fs.score(cells, ["ferroptosis_core", "fpi"], method).scores
        b = fs.score(dense, ["ferroptosis_core", "fpi"], method).scores
    if method in ("singscore", "ssgsea", "ucell", "aucell"):
        pd.testing.assert_frame_equal(a, b, check_exact=True)  # the sparse path is exact
    else:
        pd.testing.assert_frame_equal(a, b, rtol=1e-12, atol=1e-12)


def test_backed_streaming_equals_in_memory_and_leaves_the_file(cells, tmp_path):
    path = tmp_path / "cells.h5ad"
    cells.write_h5ad(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    backed = ad.read_h5ad(path, backed="r")
    fs.tl.score(backed, ["ferroptosis_core", "fpi"], chunk_size=40, key_added="fx")
    fs.tl.score(cells, ["ferroptosis_core", "fpi"], key_added="fx")
    pd.testing.assert_frame_equal(backed.obs, cells.obs)
    for method in ("singscore", "zscore", "mean"):
        a = fs.score(backed, "fpi", method, chunk_size=25).scores
        b = fs.score(cells, "fpi", method).scores
        pd.testing.assert_frame_equal(a, b, rtol=1e-12, atol=1e-12)
    backed.file.close()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    writable = ad.read_h5ad(path, backed="r+")
    with pytest.raises(ValueError, match="opened for writing"):
        fs.tl.score(writable)
    writable.file.close()
    with pytest.raises(ValueError, match="in-memory AnnData"):
        fs.tl.score(ad.read_h5ad(path, backed="r"), copy=True)


def test_dask_on_a_local_cluster_equals_in_memory(cells):
    da = pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")
    dense = cells.X.toarray()
    lazy_x = da.from_array(dense, chunks=(60, dense.shape[1]))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        for method in ("ucell", "singscore", "zscore", "plage"):
            lazy = fs.score(lazy_x, ["ferroptosis_core", "fpi"], method,
                            genes=cells.var_names, samples=cells.obs_names, compute=False)
            assert isinstance(lazy, fs.scoring.LazyScoreResult)
            got = lazy.compute().scores
            expected = fs.score(dense, ["ferroptosis_core", "fpi"], method,
                                genes=cells.var_names, samples=cells.obs_names).scores
            pd.testing.assert_frame_equal(got, expected, rtol=1e-12, atol=1e-12)
        in_anndata = ad.AnnData(lazy_x, obs=cells.obs[[]], var=cells.var)
        fs.tl.score(in_anndata)
        fs.tl.score(cells)
        np.testing.assert_array_equal(in_anndata.obs["ferroptosis"], cells.obs["ferroptosis"])


def test_score_axes(cells):
    fs.tl.score_axes(cells)
    axes = cells.obsm["ferroptosis_axes"]
    assert axes.shape[0] == cells.n_obs and "gsh_gpx4" in axes and "iron_import" in axes
    assert set(cells.uns["ferroptosis_axes"]["direction"]) == set(axes.columns)
    assert (axes.dtypes == np.float64).all()
    with pytest.raises(KeyError, match="unknown axes"):
        fs.tl.score_axes(cells, axes=["iron"])
    fs.tl.score_axes(cells, gene_symbols="gene_short_name", key_added="by_symbol")
    assert cells.obsm["by_symbol"].shape == axes.shape
    with pytest.raises(KeyError, match="gene_symbols='symbol' is not a column of var"):
        fs.tl.score_axes(cells, gene_symbols="symbol")
    with pytest.raises(ValueError, match="only one of layer"):
        fs.tl.score_axes(cells, layer="counts", use_raw=True)


def test_scanpy_pipeline_and_plots(cells, tmp_path):
    sc = pytest.importorskip("scanpy")
    import matplotlib
    import matplotlib.image as mpimg

    matplotlib.use("Agg")
    adata = ad.read_h5ad(MYOBLASTS)
    sc.pp.normalize_total(adata)
    sc.pp.log1p(adata)
    sc.pp.pca(adata, n_comps=20)
    sc.pp.neighbors(adata, n_neighbors=15)
    sc.tl.umap(adata, random_state=0)
    fs.tl.score(adata)
    fs.tl.score_axes(adata)
    assert adata.obs["ferroptosis"].notna().all()
    fs.pl.embedding(adata, "ferroptosis", save=tmp_path / "umap.png")
    fs.pl.score_violin(adata, "ferroptosis", groupby="Media", save=tmp_path / "violin.png")
    fs.pl.axes_heatmap(adata, groupby="Hours", save=tmp_path / "axes.png")
    for name in ("umap.png", "violin.png", "axes.png"):
        image = mpimg.imread(tmp_path / name)
        assert image.shape[0] > 100 and image[..., :3].std() > 0.05, name
    with pytest.raises(KeyError, match="no embedding 'X_tsne'"):
        fs.pl.embedding(adata, "ferroptosis", basis="tsne")
