"""Hostile input to the ``ferroscore`` command line, in subprocesses.

All cases run through ``ferroscore.cli.main`` inside one fresh interpreter (the runner below),
each with its own stdin/stdout/stderr, so that twenty invocations cost one launch (and one test,
so that xdist cannot split them over two workers); one case goes through the installed console
script itself. Each case asserts the exit code and the exact one-line message (issues 10 and
12).
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import ferroscore as fs
from ferroscore.cli import build_parser

from .conftest import DATA

SCRIPT = shutil.which("ferroscore", path=str(Path(sys.executable).parent))
RUNNER = r"""
import contextlib, io, json, sys
from ferroscore.cli import main
cases = json.loads(sys.stdin.read())
results = []
for case in cases:
    out, err = io.StringIO(), io.StringIO()
    sys.stdin = io.TextIOWrapper(io.BytesIO(case.get("stdin", "").encode()))
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(case["args"])
    results.append({"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()})
print(json.dumps(results))
"""


def run_cases(folder: Path, cases: dict[str, dict]) -> dict[str, dict]:
    """Run every case through ``cli.main`` in one fresh interpreter; results by case name."""
    done = subprocess.run([sys.executable, "-c", RUNNER], input=json.dumps(list(cases.values())),
                          capture_output=True, text=True, cwd=folder, timeout=600, check=True)
    return dict(zip(cases, json.loads(done.stdout), strict=True))


@pytest.fixture(scope="module")
def files(tmp_path_factory, breast):
    folder = tmp_path_factory.mktemp("hostile_cli")
    expression = breast[0].iloc[:, :20]
    expression.to_csv(folder / "expr.csv")
    expression.to_csv(folder / "tab_named.csv", sep="\t")
    expression.to_csv(folder / "comma_named.tsv")
    expression.iloc[:, :1].to_csv(folder / "one.csv")
    lines = (folder / "expr.csv").read_text().split("\n")
    header = lines[0].split(",")
    header[3] = header[2]  # BR00-0284 twice
    (folder / "dup_sample.csv").write_text("\n".join([",".join(header)] + lines[1:]))
    by_sample = expression.T.copy()
    by_sample.columns = ["GPX4" if c == "A1BG" else c for c in by_sample.columns]
    by_sample.to_csv(folder / "dup_gene.csv")
    packed = gzip.compress((folder / "expr.csv").read_bytes())
    (folder / "corrupt.csv.gz").write_bytes(packed[: len(packed) // 2])
    (folder / "empty.tsv").write_text("")
    (folder / "fake.h5ad").write_text("not an HDF5 file")
    holed = expression.copy()
    holed.loc["GPX4", holed.columns[:2]] = np.nan
    holed.to_csv(folder / "nan.csv")
    cells = ad.read_h5ad(DATA / "hsmm_myoblasts.h5ad")[:60].copy()
    cells.layers["lognorm"] = np.log1p(cells.X)
    cells.raw = cells.copy()
    cells.write_h5ad(folder / "cells.h5ad")
    return folder, expression, holed, cells


CASES = {
    "dup_sample": ["score", "dup_sample.csv"],
    "dup_gene": ["score", "dup_gene.csv"],
    "corrupt_gz": ["score", "corrupt.csv.gz"],
    "empty_file": ["score", "empty.tsv"],
    "empty_stdin": ["score", "-"],
    "unknown_set": ["score", "expr.csv", "--sets", "fpi", "nope"],
    "fake_h5ad": ["score", "fake.h5ad"],
    "nan": ["score", "nan.csv"],
    "per_sample_zscore": ["score", "nan.csv", "--na", "per_sample", "--method", "zscore"],
    "ssgsea_one": ["score", "one.csv", "--method", "ssgsea"],
    "zscore_one": ["score", "one.csv", "--method", "zscore"],
    "layer_on_table": ["score", "expr.csv", "--layer", "x"],
    "comma_in_tsv": ["score", "comma_named.tsv"],
    "tab_in_csv": ["score", "tab_named.csv"],
    "per_sample": ["score", "nan.csv", "--na", "per_sample", "-o", "ps.tsv"],
    "ssgsea_one_raw": ["score", "one.csv", "--method", "ssgsea", "--param", "normalize=false"],
    "ucell": ["score", "expr.csv", "--method", "ucell"],
    "ucell_clip": ["score", "expr.csv", "--method", "ucell", "--param", "clip=true"],
    "h5ad_ids": ["score", "cells.h5ad", "--method", "ucell"],
    "h5ad_options": ["score", "cells.h5ad", "--method", "mean", "--layer", "lognorm",
                     "--gene-symbols", "gene_short_name"],
    "h5ad_raw": ["score", "cells.h5ad", "--method", "mean", "--use-raw"],
}


def one_line(result: dict, code: int) -> str:
    assert result["code"] == code, result
    lines = result["stderr"].strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result["stderr"]
    return lines[0]


def table(result: dict) -> pd.DataFrame:
    assert result["code"] == 0, result
    return pd.read_csv(StringIO(result["stdout"]), sep="\t", index_col=0)


def check_unreadable_inputs_get_one_clear_line(results):
    assert one_line(results["dup_sample"], 1) == (
        "error: dup_sample.csv: repeated column names ['BR00-0284'] in the header; every "
        "column (sample or gene) must be named once")
    assert "repeated column names ['GPX4']" in one_line(results["dup_gene"], 1)
    assert one_line(results["corrupt_gz"], 1).startswith(
        "error: corrupt.csv.gz: cannot decompress it as gzip (")
    assert one_line(results["empty_file"], 1) == "error: empty.tsv is empty"
    assert one_line(results["empty_stdin"], 1) == (
        "error: standard input is empty (nothing was piped in)")
    assert one_line(results["unknown_set"], 1).startswith(
        "error: unknown gene set 'nope'; available: ferroptosis_core, ferroptosis_extended")
    assert one_line(results["fake_h5ad"], 1).startswith(
        "error: fake.h5ad is not a readable .h5ad file (")
    assert one_line(results["layer_on_table"], 2) == (
        "error: ferroscore score: --layer: only for .h5ad files and 10x folders")


def check_error_hints_name_command_line_flags(results):
    nan = one_line(results["nan"], 1)
    assert "e.g. ['GPX4']" in nan and "pass --na drop_genes" in nan
    assert "--na per_sample" in nan and "na='" not in nan
    assert "Use --na drop_genes" in one_line(results["per_sample_zscore"], 1)
    assert "score raw with --param normalize=false" in one_line(results["ssgsea_one"], 1)
    assert "Use a per-sample method (--method singscore" in one_line(results["zscore_one"], 1)
    assert table(results["ssgsea_one_raw"]).shape == (1, 3)


def check_separator_is_read_from_the_content(files, results):
    api = fs.score(files[1], "ferroptosis_core").scores
    for name in ("comma_in_tsv", "tab_in_csv"):
        np.testing.assert_allclose(table(results[name]), api, rtol=1e-9)


def check_per_sample_nan_warns_in_one_line_and_records_counts(files, results):
    folder, holed = files[0], files[2]
    per_sample = results["per_sample"]
    assert per_sample["code"] == 0, per_sample
    lines = per_sample["stderr"].strip().splitlines()
    assert lines[0] == (
        "warning: --na per_sample: 2 of 20 samples have NaN/inf values (up to 1 of 15528 genes "
        "in one sample); each was ranked on the genes it observed (counts per sample: "
        "params.missing in the .json). Set genes missing in some samples: GPX4 (in 2)")
    assert all(line.startswith(("warning: ", "wrote ")) for line in lines)
    sidecar = json.loads((folder / "ps.tsv.json").read_text())
    assert sidecar["params"]["missing"]["samples"] == dict.fromkeys(holed.columns[:2], 1)


def check_ucell_composite_is_unclipped_by_default(results):
    ucell = table(results["ucell"])
    np.testing.assert_allclose(ucell["ferroptosis_core"],
                               ucell["ferroptosis_core_up"] - ucell["ferroptosis_core_down"],
                               atol=2e-10)  # the unclipped difference (stdout: 10 digits)
    clipped = results["ucell_clip"]
    assert clipped["stderr"].startswith(
        "warning: UCell's signed score max(0, up - w_neg * down) is 0 in 100% of samples for "
        "'ferroptosis_core'")
    assert clipped["stderr"].strip().endswith(
        "or drop --param clip=true for the unclipped difference (the default)")
    np.testing.assert_allclose(table(clipped)["ferroptosis_core"],
                               np.maximum(0, ucell["ferroptosis_core"]), atol=2e-10)


def check_h5ad_options_and_missing_signature_members(files, results):
    cells = files[3]
    # a catalogue-signature member missing under Ensembl IDs is never silent
    assert results["h5ad_ids"]["stderr"].startswith(
        "warning: gene set 'ferroptosis_core_up': 1 of 4 genes of this catalogue signature "
        "not found in the data (missing: NCOA4)")
    direct = fs.score(cells, "ferroptosis_core", "mean", layer="lognorm",
                      gene_symbols="gene_short_name").scores
    np.testing.assert_allclose(table(results["h5ad_options"]), direct, rtol=1e-9, atol=1e-12)
    raw = fs.score(cells, "ferroptosis_core", "mean", use_raw=True).scores
    np.testing.assert_allclose(table(results["h5ad_raw"]), raw, rtol=1e-9, atol=1e-12)


def test_command_line_cases(files):
    """Every case of CASES, run once in one fresh interpreter, then checked group by group."""
    results = run_cases(files[0], {name: {"args": args} for name, args in CASES.items()})
    check_unreadable_inputs_get_one_clear_line(results)
    check_error_hints_name_command_line_flags(results)
    check_separator_is_read_from_the_content(files, results)
    check_per_sample_nan_warns_in_one_line_and_records_counts(files, results)
    check_ucell_composite_is_unclipped_by_default(results)
    check_h5ad_options_and_missing_signature_members(files, results)


@pytest.mark.skipif(SCRIPT is None, reason="console script not installed")
def test_console_script_prints_warnings_as_single_lines(files):
    folder = files[0]
    done = subprocess.run([SCRIPT, "score", "nan.csv", "--na", "drop_genes"],
                          capture_output=True, text=True, cwd=folder, timeout=600, check=False)
    assert done.returncode == 0
    assert done.stderr.splitlines() == [
        "warning: --na drop_genes: dropped 1 genes with NaN/inf values: ['GPX4']",
        "warning: gene set 'ferroptosis_core_down': 1 of 5 genes of this catalogue signature "
        "not found in the data (missing: GPX4); it is scored without them (see the coverage "
        "in the .json)"]


def test_every_option_of_every_command_has_help():
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    missing = [f"{name} {'/'.join(action.option_strings) or action.dest}"
               for name, sub in commands.items() for action in sub._actions
               if not action.help and action.dest != "help"]
    assert missing == []
    score = commands["score"]
    flags = {flag for action in score._actions for flag in action.option_strings}
    assert {"--na", "--layer", "--use-raw", "--gene-symbols"} <= flags
    method = next(a for a in score._actions if a.dest == "method")
    assert method.choices == list(fs.scoring.METHODS)
