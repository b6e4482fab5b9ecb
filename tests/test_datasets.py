"""The bundled GSE1992 cohort."""

from __future__ import annotations

import numpy as np
import pandas as pd

import ferroscore as fs


def test_breast_cancer_anndata():
    adata = fs.datasets.breast_cancer()
    assert adata.shape == (124, 15528)
    assert adata.X.dtype == np.float64
    assert list(adata.obs.columns) == ["rfs_months", "rfs_event", "er_positive", "node_positive",
                                       "grade", "size_class", "age"]
    assert all(str(dt) == "Int64" for dt in adata.obs.dtypes)
    # the file's "missing" strings become real missing values
    assert adata.obs.isna().sum().to_dict() == {
        "rfs_months": 0, "rfs_event": 0, "er_positive": 2, "node_positive": 1, "grade": 4,
        "size_class": 1, "age": 0}
    assert set(adata.obs["rfs_event"].unique()) == {0, 1}
    # outdated symbols are kept as given
    assert {"MBOAT5", "CARS", "ATP5G3", "TTC35"} <= set(adata.var_names)
    assert "GSE1992" in adata.uns["dataset"]["citation"]


def test_breast_cancer_frames_match_anndata(breast):
    expression, clinical = breast
    adata = fs.datasets.breast_cancer()
    assert expression.shape == (15528, 124)
    np.testing.assert_array_equal(expression.to_numpy().T, adata.X)
    pd.testing.assert_frame_equal(clinical, adata.obs)
    assert expression.loc["A1BG", "BR00-0504"] == 0.87
