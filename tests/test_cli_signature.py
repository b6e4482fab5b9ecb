"""``ferroscore signature train`` / ``apply`` in subprocesses on the bundled GSE1992 cohort: the
same model and scores as the API, and bad input named by the CLI's flags."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import ferroscore as fs

from .test_cli import SCRIPT, run

pytestmark = pytest.mark.skipif(SCRIPT is None, reason="console script not installed")
TRAIN = ("--time", "rfs_months", "--event", "rfs_event", "--genes", "ferroptosis_extended",
         "--measure", "C", "--folds", "5")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, breast):
    folder = tmp_path_factory.mktemp("signature")
    expression, clinical = breast
    candidates = fs.ids.locate(list(fs.genesets.load("ferroptosis_extended").genes),
                               [str(g) for g in expression.index])
    rows = sorted(set(candidates.indices) | set(range(100)))  # the candidates and others
    expression.iloc[rows].to_csv(folder / "expr.csv")
    clinical.to_csv(folder / "clinical.csv")
    done = run("signature", "train", "expr.csv", "clinical.csv", *TRAIN, "--bootstrap", "2",
               "-o", "model.json", cwd=folder)
    return folder, done


def test_train_writes_the_apis_model_with_corrected_performance(trained, breast):
    folder, done = trained
    assert done.returncode == 0, done.stderr
    expression, clinical = breast
    with pytest.warns(UserWarning, match="candidate genes are not in expr"):
        api = fs.survival.RiskModel(genes="ferroptosis_extended", measure="C", folds=5).fit(
            expression, clinical, time="rfs_months", event="rfs_event")
    saved = fs.survival.RiskModel.from_json(folder / "model.json")
    pd.testing.assert_series_equal(saved.coef_, api.coef_, check_exact=True)
    content = json.loads((folder / "model.json").read_text())
    assert content["training"]["optimism"]["B"] == 2
    assert "apparent" in done.stdout and "corrected" in done.stdout
    assert "optimism-corrected by 2 bootstrap resamples" in done.stdout
    assert f"{len(api.genes_)} genes selected" in done.stderr


def test_apply_writes_the_apis_scores(trained, breast):
    folder, _ = trained
    done = run("signature", "apply", "model.json", "expr.csv", "-o", "risk.tsv", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "weight coverage 100%" in done.stderr and "training median" in done.stderr
    written = pd.read_csv(folder / "risk.tsv", sep="\t", index_col=0)
    model = fs.survival.RiskModel.from_json(folder / "model.json")
    expected = model.apply(breast[0])
    np.testing.assert_allclose(written["risk"], expected.risk[written.index], rtol=0,
                               atol=1e-12)
    assert (written["group"] == expected.group[written.index].astype(str)).all()
    stdout = run("signature", "apply", "model.json", "expr.csv", cwd=folder)
    assert stdout.returncode == 0 and stdout.stdout.startswith("sample\trisk\tgroup")


def test_apply_refuses_low_coverage_naming_the_flag(trained):
    folder, _ = trained
    model = fs.survival.RiskModel.from_json(folder / "model.json")
    heaviest = model.weights_.abs().sort_values(ascending=False).index[:3]
    pd.read_csv(folder / "expr.csv", index_col=0).drop(heaviest).to_csv(folder / "fewer.csv")
    done = run("signature", "apply", "model.json", "fewer.csv", cwd=folder)
    assert done.returncode == 1 and "--min-coverage" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    done = run("signature", "apply", "model.json", "fewer.csv", "--min-coverage", "0.05",
               "-o", "fewer.tsv", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "not found" in done.stderr  # the missing genes are still reported


@pytest.mark.parametrize("args, code, words", [
    (("signature",), 2, "an action is required"),
    (("signature", "train", "expr.csv", "clinical.csv", "--time", "os", "--event", "rfs_event",
      "-o", "m.json"), 1, "'os' (--time) is not a column"),
    (("signature", "train", "expr.csv", "clinical.csv", *TRAIN, "--alpha", "2", "-o",
      "m.json"), 1, "--alpha must be in [0, 1]"),
    (("signature", "train", "expr.csv", "clinical.csv", *TRAIN[:4], "--genes", "no_such_set",
      "-o", "m.json"), 1, "no_such_set"),
    (("signature", "apply", "clinical.csv", "expr.csv"), 1, "not a JSON file"),
])
def test_bad_signature_arguments(trained, args, code, words):
    folder, _ = trained
    done = run(*args, cwd=folder)
    assert done.returncode == code, done.stderr
    assert done.stderr.startswith("error:") and words in done.stderr
    assert "Traceback" not in done.stderr
