"""The ferroscore console script, run in subprocesses on small real data."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ferroscore as fs

SCRIPT = shutil.which("ferroscore", path=str(Path(sys.executable).parent))
pytestmark = pytest.mark.skipif(SCRIPT is None, reason="console script not installed")


def run(*args, cwd=None, stdin=None):
    return subprocess.run([SCRIPT, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          input=stdin, timeout=600, check=False)


@pytest.fixture(scope="module")
def small(tmp_path_factory, breast):
    folder = tmp_path_factory.mktemp("cli")
    expression, clinical = breast
    subset = expression.iloc[:, :40]
    subset.to_csv(folder / "expr.csv")
    clinical.iloc[:40].to_csv(folder / "clinical.csv")
    return folder, subset, clinical.iloc[:40]


def test_version_and_help():
    done = run("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"ferroscore {fs.__version__}"
    for command in ("score", "survival", "drugs", "predict-response", "genesets", "demo"):
        done = run(command, "--help")
        assert done.returncode == 0 and "usage: ferroscore" in done.stdout, command


def test_score_writes_tsv_and_sidecar_equal_to_the_api(small):
    folder, subset, _ = small
    done = run("score", "expr.csv", "-o", "scores.tsv", "--sets", "ferroptosis_core", "fpi",
               "--method", "ssgsea", "--param", "alpha=0.5", cwd=folder)
    assert done.returncode == 0, done.stderr
    cli = pd.read_csv(folder / "scores.tsv", sep="\t", index_col=0,
                      float_precision="round_trip")
    api = fs.score(pd.read_csv(folder / "expr.csv", index_col=0, float_precision="round_trip"),
                   ["ferroptosis_core", "fpi"], "ssgsea", alpha=0.5).scores
    pd.testing.assert_frame_equal(cli, api, check_names=False, rtol=0, atol=0)
    sidecar = json.loads((folder / "scores.tsv.json").read_text())
    assert sidecar["params"]["parameters"]["alpha"] == 0.5
    assert {row["component"] for row in sidecar["coverage"]} >= {"ferroptosis_core_up"}


def test_score_gmt_permutations_and_stdin(small, tmp_path):
    folder, subset, _ = small
    fs.genesets.write_gmt({"mine": ["GPX4", "ACSL4", "TFRC", "FTH1"]}, tmp_path / "mine.gmt")
    args = ("score", "expr.csv", "-o", tmp_path / "p.tsv", "--sets", tmp_path / "mine.gmt",
            "--permutations", "30", "--seed", "5")
    assert run(*args, cwd=folder).returncode == 0
    first = pd.read_csv(tmp_path / "p.tsv", sep="\t", index_col=0)
    assert run(*args, cwd=folder).returncode == 0
    pd.testing.assert_frame_equal(first, pd.read_csv(tmp_path / "p.tsv", sep="\t", index_col=0))
    assert {"mine", "mine_pvalue", "mine_qvalue"} <= set(first.columns)
    piped = run("score", "-", cwd=folder, stdin=(folder / "expr.csv").read_text())
    assert piped.returncode == 0, piped.stderr
    table = pd.read_csv(pd.io.common.StringIO(piped.stdout), sep="\t", index_col=0)
    assert table.shape == (40, 6) and "ferroptosis_core" in table


def test_score_h5ad_and_10x_folder(tmp_path):
    import anndata as ad
    from scipy import io, sparse

    adata = ad.read_h5ad(Path(__file__).parent / "data" / "hsmm_myoblasts.h5ad")
    adata.write_h5ad(tmp_path / "cells.h5ad")
    done = run("score", tmp_path / "cells.h5ad", "--method", "ucell", "--sets", "fpi")
    assert done.returncode == 0, done.stderr
    tenx = tmp_path / "tenx"
    tenx.mkdir()
    io.mmwrite(tenx / "matrix.mtx", sparse.csr_matrix(adata.X[:30]).T)
    pd.DataFrame({0: adata.var_names, 1: adata.var["gene_short_name"]}).to_csv(
        tenx / "features.tsv", sep="\t", header=False, index=False)
    pd.Series(adata.obs_names[:30]).to_csv(tenx / "barcodes.tsv", sep="\t", header=False,
                                           index=False)
    done = run("score", tenx, "--method", "ucell", "--sets", "fpi")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip().splitlines()) == 31


def test_genesets_commands(tmp_path):
    listing = run("genesets", "list")
    assert listing.returncode == 0 and "ferrdb_v2_validated" in listing.stdout
    show = run("genesets", "show", "ferroptosis_core")
    assert show.returncode == 0 and "GPX4" in show.stdout and "PMID:" in show.stdout
    assert run("genesets", "export", "fpi", "--gmt", tmp_path / "fpi.gmt").returncode == 0
    assert fs.genesets.read_gmt(tmp_path / "fpi.gmt", pair_signatures=True)["fpi"].down


def test_survival_command_equals_the_api(small, tmp_path):
    folder, _, clinical = small
    assert run("score", "expr.csv", "-o", tmp_path / "s.tsv", cwd=folder).returncode == 0
    done = run("survival", tmp_path / "s.tsv", folder / "clinical.csv", "--time", "rfs_months",
               "--event", "rfs_event", "--covariates", "age", "grade", "-o", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    summary = pd.read_csv(tmp_path / "out" / "survival_summary.tsv", sep="\t")
    scores = pd.read_csv(tmp_path / "s.tsv", sep="\t", index_col=0)[["ferroptosis_core"]]
    scores.index = scores.index.astype(str)
    api = fs.survival.analyze(scores, clinical, time="rfs_months", event="rfs_event",
                              covariates=["age", "grade"]).table
    np.testing.assert_allclose(summary["hr_per_sd"], api["hr_per_sd"], rtol=1e-10)
    np.testing.assert_allclose(summary["p_cut"], api["p_cut"], rtol=1e-10)
    for name in ("km_median_ferroptosis_core.png", "km_cut_ferroptosis_core.png",
                 "forest_univariate.png"):
        assert (tmp_path / "out" / name).stat().st_size > 1000, name
    assert not pd.read_csv(tmp_path / "out" / "cox_univariate.tsv", sep="\t").empty


def test_drugs_and_predict_response_commands(small, tmp_path):
    folder, subset, _ = small
    assert run("score", "expr.csv", "-o", tmp_path / "s.tsv", cwd=folder).returncode == 0
    response = pd.DataFrame(np.random.default_rng(0).normal(size=(40, 4)),
                            index=subset.columns, columns=list("ABCD"))
    response.to_csv(tmp_path / "response.csv")
    done = run("drugs", tmp_path / "s.tsv", tmp_path / "response.csv", "-o", tmp_path / "d")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(tmp_path / "d" / "association_spearman.tsv", sep="\t")
    scores = pd.read_csv(tmp_path / "s.tsv", sep="\t", index_col=0)["ferroptosis_core"]
    scores.index = scores.index.astype(str)
    response.index = response.index.astype(str)
    api = fs.drugs.associate(scores, response)
    np.testing.assert_allclose(table["p"], api["p"], rtol=1e-12)
    screen = fs.datasets.synthetic_drug_screen(n_genes=300, n_lines=60, n_test=10, n_drugs=3,
                                               n_programs=3, program_size=30, effect_genes=5)
    screen.train_expr.to_csv(tmp_path / "train.csv")
    screen.train_response.to_csv(tmp_path / "train_response.csv")
    screen.test_expr.to_csv(tmp_path / "test.csv")
    done = run("predict-response", tmp_path / "train.csv", tmp_path / "train_response.csv",
               tmp_path / "test.csv", "-o", tmp_path / "pred.tsv")
    assert done.returncode == 0, done.stderr
    predicted = pd.read_csv(tmp_path / "pred.tsv", sep="\t", index_col=0)
    assert predicted.shape == (10, 3)
    assert (tmp_path / "pred.diagnostics.tsv").exists()


@pytest.mark.parametrize("args", [
    ("score",), ("score", "x.csv", "--method", "gsea"), ("bogus",), (),
    ("genesets", "show"), ("score", "x.csv", "--param", "alpha"),
])
def test_bad_arguments_exit_2_with_one_line(args, tmp_path):
    done = run(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("error:")


@pytest.mark.parametrize("args", [
    ("score", "missing.csv"), ("genesets", "show", "no_such_set"),
    ("survival", "missing.tsv", "clinical.csv", "--time", "t", "--event", "e"),
])
def test_data_errors_exit_1_with_one_line(args, tmp_path):
    done = run(*args, cwd=tmp_path)
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("error:")
    assert "Traceback" not in done.stderr


def test_debug_shows_the_traceback(tmp_path):
    done = run("--debug", "score", "missing.csv", cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" in done.stderr


def test_python_dash_m(tmp_path):
    done = subprocess.run([sys.executable, "-m", "ferroscore", "--version"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and fs.__version__ in done.stdout


def test_demo_report(tmp_path):
    done = run("demo", "-o", tmp_path / "demo")
    assert done.returncode == 0, done.stderr
    assert "HR/SD (95% CI)" in done.stdout and "report:" in done.stdout
    html = (tmp_path / "demo" / "report.html").read_text()
    for anchor in ("data", "coverage", "scores", "survival", "axes", "drugs", "provenance"):
        assert f'id="{anchor}"' in html, anchor
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == 9
    import matplotlib.image as mpimg

    for encoded in images:
        raw = base64.b64decode(encoded)
        assert raw.startswith(b"\x89PNG") and len(raw) > 5000
    for png in (tmp_path / "demo").glob("*.png"):
        image = mpimg.imread(png)
        assert image[..., :3].std() > 0.05, png.name
    assert "adjusted p (lau94)" in html or "adjusted p" in html
    for table in ("scores.tsv", "survival_summary.tsv", "axes_summary.tsv", "coverage.tsv",
                  "drug_sensitivity.tsv"):
        assert not pd.read_csv(tmp_path / "demo" / table, sep="\t").empty
