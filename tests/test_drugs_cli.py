"""The drug commands of the console script on real data: ``predict-response --training gdsc2``
and ``drug-sensitivity``, run in subprocesses and compared with the API."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ferroscore as fs

SCRIPT = shutil.which("ferroscore", path=str(Path(sys.executable).parent))
pytestmark = pytest.mark.skipif(SCRIPT is None, reason="console script not installed")


def run(*args, cwd=None):
    return subprocess.run([SCRIPT, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=600, check=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory, breast):
    folder = tmp_path_factory.mktemp("drugs_cli")
    expression, _ = breast
    expression.to_csv(folder / "expr.tsv", sep="\t")
    expression.T.to_csv(folder / "expr_samples_by_genes.tsv", sep="\t")
    fs.score(expression, "ferroptosis_core").save(folder / "scores.tsv")  # as `ferroscore score`
    return folder, expression


def in_process(*args, cwd):
    """The console script's entry point in this process (for usage errors and help)."""
    import contextlib
    import io
    import os

    from ferroscore.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in args])
            except SystemExit as exit_:  # --help
                code = exit_.code
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue()


def test_help_lists_the_drug_commands(tmp_path):
    for command in ("predict-response", "drug-sensitivity"):
        code, out, _ = in_process(command, "--help", cwd=tmp_path)
        assert code == 0 and "--training" in out, command


def test_predict_response_with_the_bundled_screen(files):
    folder, expression = files
    done = run("predict-response", "--training", "GDSC2", "expr.tsv", "--drugs", "lapatinib",
               "-o", "pred.tsv", cwd=folder)
    assert done.returncode == 0, done.stderr
    cli = pd.read_csv(folder / "pred.tsv", sep="\t", index_col=0)
    data = fs.datasets.gdsc("GDSC2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        api = fs.drugs.predict_response(data.expression, data.response[["Lapatinib"]],
                                        expression).predictions
    np.testing.assert_allclose(cli["Lapatinib"], api.loc[cli.index, "Lapatinib"], rtol=1e-9)
    assert (folder / "pred.diagnostics.tsv").exists()


def test_predict_response_errors_name_the_flags(files):
    folder, _ = files
    done = run("predict-response", "--training", "gdsc2", "expr.tsv", "--drugs", "lapatinib",
               "--min-shared-genes", "9000", "-o", "x.tsv", cwd=folder)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: train_expr (6163 genes) and test_expr (15528 genes) share only 5300 gene "
        "names; at least --min-shared-genes 9000 are needed. Use the same identifiers in both "
        "(e.g. map both to symbols with fs.ids.resolve)"]


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--training", "gdsc2", "expr.tsv", "--drugs", "lapatinb"], 1,
     "'lapatinb' (close: Lapatinib"),
    (["--training", "gdsc2", "expr.tsv", "expr.tsv"], 2, "takes one input"),
    (["expr.tsv"], 2, "takes TRAIN_EXPR TRAIN_RESPONSE TEST_EXPR, or --training gdsc2"),
])
def test_predict_response_usage_errors(files, args, code, message):
    folder, _ = files
    returned, _, err = in_process("predict-response", *args, "-o", "x.tsv", cwd=folder)
    assert returned == code and message in err, err
    assert len(err.strip().splitlines()) == 1


def test_drug_sensitivity_command_equals_the_api(files):
    folder, expression = files
    done = run("drug-sensitivity", "scores.tsv", "expr_samples_by_genes.tsv", "--drugs",
               "lapatinib", "etoposide", "--null-sets", "30", "-o", "out", cwd=folder)
    assert done.returncode == 0, done.stderr
    for name in ("drug_sensitivity.tsv", "predicted_ln_ic50.tsv", "null_random_sets_rho.tsv",
                 "predicted_ln_ic50_without_signature_genes.tsv", "summary.txt", "params.json"):
        assert (folder / "out" / name).exists(), name
    cli = pd.read_csv(folder / "out" / "drug_sensitivity.tsv", sep="\t")
    score = fs.score(expression, "ferroptosis_core").scores["ferroptosis_core"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        api = fs.drugs.drug_sensitivity(score, expression, drugs=["lapatinib", "etoposide"],
                                        n_null=30).table
    assert cli["drug"].tolist() == ["Lapatinib", "Etoposide"]
    assert cli["screen"].tolist() == ["GDSC2", "GDSC1"]
    for column in ("q_mannwhitney", "rho", "rho_without_signature_genes", "p_empirical"):
        np.testing.assert_allclose(cli[column], api[column], rtol=1e-6)
    params = json.loads((folder / "out" / "params.json").read_text())
    assert params["null_method"] == "singscore" and params["n_null"] == 30
    assert "Lapatinib" in done.stdout and "Score 'ferroptosis_core'" in done.stdout


def test_drug_sensitivity_without_a_known_signature_says_which_flag(files):
    folder, _ = files
    scores = pd.read_csv(folder / "scores.tsv", sep="\t", index_col=0)
    scores[["ferroptosis_core"]].rename(columns={"ferroptosis_core": "custom"}).to_csv(
        folder / "custom.tsv", sep="\t")
    done = run("drug-sensitivity", "custom.tsv", "expr.tsv", "--drugs", "lapatinib",
               "--null-sets", "0", "-o", "out_custom", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "pass --signature NAME|GMT" in done.stderr
    code, _, err = in_process("drug-sensitivity", "scores.tsv", "expr.tsv", "--drugs", "nope",
                              "-o", "o", cwd=folder)
    assert code == 1 and "'nope' (close:" in err
