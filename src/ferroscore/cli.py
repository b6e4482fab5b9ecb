"""The ``ferroscore`` command line.

Exit codes: 0 success, 2 usage error, 1 data error. Errors are one line on stderr; ``--debug``
shows the traceback. Warnings are one line each (``warning: ...``). Messages name command-line
flags, not Python keywords (see :mod:`ferroscore._interface`).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import traceback
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from ferroscore._interface import command_line
from ferroscore._version import __version__
from ferroscore.methods import METHODS
from ferroscore.result import set_names
from ferroscore.tables import read_table

METHOD_CHOICES = list(METHODS)

DATA_ERRORS = (ValueError, TypeError, KeyError, FileNotFoundError, OSError, RuntimeError)


class UsageError(Exception):
    """Bad command-line usage (exit code 2)."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would print usage and exit itself
        raise UsageError(f"{self.prog}: {message}")


# ----------------------------------------------------------------------------------------------
# Reading inputs
# ----------------------------------------------------------------------------------------------


def read_10x(folder: Path) -> Any:
    """A 10x Genomics matrix folder (matrix.mtx, features.tsv or genes.tsv, barcodes.tsv;
    optionally gzipped) as an AnnData of cells x genes, genes named by their symbols' column."""
    import anndata as ad
    from scipy import io, sparse

    def find(*names: str) -> Path:
        for name in names:
            for suffix in ("", ".gz"):
                candidate = folder / f"{name}{suffix}"
                if candidate.exists():
                    return candidate
        raise FileNotFoundError(f"{folder} has none of {names} (10x matrix folder expected)")

    matrix = sparse.csr_matrix(io.mmread(find("matrix.mtx")).T, dtype="float32")
    features = pd.read_csv(find("features.tsv", "genes.tsv"), sep="\t", header=None)
    barcodes = pd.read_csv(find("barcodes.tsv"), sep="\t", header=None)[0].astype(str)
    var = pd.DataFrame({"gene_ids": features[0].astype(str).to_numpy(),
                        "gene_symbols": features[1 if features.shape[1] > 1 else 0].astype(
                            str).to_numpy()}, index=features[0].astype(str).to_numpy())
    return ad.AnnData(matrix, obs=pd.DataFrame(index=barcodes.to_numpy()), var=var)


def read_expression(path: str) -> Any:
    """Expression from a table (CSV/TSV[.gz]), an ``.h5ad`` file, a 10x matrix folder, or
    ``-`` (stdin)."""
    if path.endswith(".h5ad"):
        import anndata as ad

        if not Path(path).exists():
            raise FileNotFoundError(f"no such file: {path}")
        try:
            return ad.read_h5ad(path)
        except (OSError, KeyError, ValueError, TypeError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
            reason = reason or type(error).__name__
            raise ValueError(f"{path} is not a readable .h5ad file ({reason})") from error
    if path != "-" and Path(path).is_dir():
        return read_10x(Path(path))
    return read_table(path)


def resolve_sets(spec: list[str] | None) -> Any:
    """Catalogue names and/or GMT files -> what fs.score accepts. An unknown name is an error
    listing the catalogue."""
    from ferroscore import genesets

    if not spec:
        return "ferroptosis_core"
    out: list = []
    for item in spec:
        if item.endswith(".gmt") or Path(item).is_file():
            if not Path(item).is_file():
                raise FileNotFoundError(f"no such GMT file: {item}")
            out.extend(genesets.read_gmt(item, pair_signatures=True).values())
        else:
            out.append(genesets.load(item))  # raises for unknown names, listing the catalogue
    return out


def write_table(frame: pd.DataFrame, path: str | None) -> None:
    if path in (None, "-"):
        frame.to_csv(sys.stdout, sep="\t", float_format="%.10g")
    else:
        frame.to_csv(path, sep="\t", float_format="%.17g")


# ----------------------------------------------------------------------------------------------
# Commands
# ----------------------------------------------------------------------------------------------


def cmd_score(args: argparse.Namespace) -> int:
    import ferroscore as fs

    params = dict(_parse_params(args.param))  # usage errors before reading any data
    sets = resolve_sets(args.sets)
    data = read_expression(args.expr)
    anndata_options = {"layer": args.layer, "use_raw": args.use_raw or None,
                       "gene_symbols": args.gene_symbols}
    anndata_options = {k: v for k, v in anndata_options.items() if v is not None}
    if anndata_options and type(data).__name__ != "AnnData":
        flags = ", ".join("--" + k.replace("_", "-") for k in anndata_options)
        raise UsageError(f"ferroscore score: {flags}: only for .h5ad files and 10x folders")
    result = fs.score(data, sets, args.method, genes_axis=args.genes_axis, na=args.na,
                      n_permutations=args.permutations, random_state=args.seed,
                      null=args.null, progress=not args.quiet and sys.stderr.isatty(),
                      **anndata_options, **params)
    if args.output in (None, "-"):
        write_table(result.scores.rename_axis("sample"), "-")
    else:
        result.save(args.output)
        print(f"wrote {args.output} and {args.output}.json "
              f"({result.scores.shape[0]} samples x {result.scores.shape[1]} columns)",
              file=sys.stderr)
    return 0


def _parse_params(pairs: list[str] | None) -> list[tuple[str, Any]]:
    out = []
    for pair in pairs or []:
        if "=" not in pair:
            raise UsageError(f"--param expects key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        try:
            out.append((key, json.loads(value)))  # numbers, true/false, null
        except json.JSONDecodeError:
            out.append((key, value))  # plain strings such as gaussian
    return out


def cmd_genesets(args: argparse.Namespace) -> int:
    from ferroscore import genesets

    if args.action == "list":
        table = genesets.available()[["name", "kind", "n_genes", "n_up", "n_down", "source"]]
        print(table.to_string(index=False))
        return 0
    if not args.name:
        raise UsageError(f"ferroscore genesets {args.action}: a set name is required")
    if args.action == "show":
        rows = genesets.catalogue()
        rows = rows[rows["set"] == args.name]
        if rows.empty:
            genesets.load(args.name)  # raises the error listing available sets
        cols = ["symbol", "role", "weight", "axis", "entrez_id", "hgnc_id", "evidence"]
        print(rows[cols].to_string(index=False))
        return 0
    if not args.gmt:
        raise UsageError("ferroscore genesets export: --gmt OUT is required")
    path = genesets.write_gmt(args.name, args.gmt)
    print(f"wrote {path}", file=sys.stderr)
    return 0


def read_scores(path: str) -> pd.DataFrame:
    """A scores TSV written by ``ferroscore score`` (sample IDs in the first column)."""
    frame = read_table(path)
    frame.index = frame.index.astype(str)
    return frame


def score_columns(scores: pd.DataFrame, path: str, wanted: list[str] | None) -> pd.DataFrame:
    """The main score columns: as listed in the JSON sidecar, or all numeric columns that are
    not p-values, dispersions or signature sides."""
    if wanted:
        missing = [c for c in wanted if c not in scores]
        if missing:
            raise KeyError(f"columns not in {path}: {missing}; available: {list(scores)}")
        return scores[wanted]
    sidecar = Path(f"{path}.json")
    if sidecar.exists():
        names = set_names(json.loads(sidecar.read_text())["params"])
        return scores[[n for n in names if n in scores]]
    skip = ("_up", "_down", "_pvalue", "_qvalue", "_dispersion")
    return scores[[c for c in scores.select_dtypes("number") if not c.endswith(skip)]]


def cmd_survival(args: argparse.Namespace) -> int:
    from ferroscore import pl, survival

    scores = score_columns(read_scores(args.scores), args.scores, args.columns)
    clinical = read_table(args.clinical)
    clinical.index = clinical.index.astype(str)
    result = survival.analyze(scores, clinical, time=args.time, event=args.event,
                              covariates=args.covariates, minprop=args.minprop,
                              p_method=args.p_method, join=args.join)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    result.table.to_csv(out / "survival_summary.tsv", sep="\t", index=False)
    pd.concat(result.cox_univariate.values()).to_csv(out / "cox_univariate.tsv", sep="\t",
                                                     index=False)
    if result.cox_multivariable:
        pd.concat([t.assign(score=k) for k, t in result.cox_multivariable.items()]).to_csv(
            out / "cox_multivariable.tsv", sep="\t", index=False)
    import matplotlib.pyplot as plt

    for column in scores.columns:
        cut = result.cutpoints[column]
        pl.km(result.km[column], title=f"{column}: median split", xlabel=args.time,
              save=out / f"km_median_{column}.png")
        plt.close("all")
        data = clinical.join(scores[column]).dropna(subset=[column, args.time, args.event])
        pl.km(data[args.time], data[args.event], cut.groups(data[column]), cut=cut,
              title=f"{column}: optimal cut", xlabel=args.time,
              save=out / f"km_cut_{column}.png")
        plt.close("all")
    pl.forest(pd.concat(result.cox_univariate.values()), title="HR per SD (univariate)",
              save=out / "forest_univariate.png")
    plt.close("all")
    print(result.table.round(4).to_string(index=False))
    print(f"wrote tables and figures to {out}", file=sys.stderr)
    return 0


def cmd_drugs(args: argparse.Namespace) -> int:
    from ferroscore import drugs, pl, survival

    scores = score_columns(read_scores(args.scores), args.scores,
                           [args.column] if args.column else None)
    column = scores.columns[0]
    response = read_table(args.response)
    response.index = response.index.astype(str)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    table = drugs.associate(scores[column], response, args.method, min_samples=args.min_samples,
                            join=args.join)
    table.to_csv(out / f"association_{args.method}.tsv", sep="\t", index=False)
    common = scores.index.intersection(response.index)
    groups = survival.split(scores.loc[common, column], "median")
    compare = drugs.compare_groups(response.loc[common], groups)
    compare.to_csv(out / "median_split_mannwhitney.tsv", sep="\t", index=False)
    import matplotlib.pyplot as plt

    pl.volcano(table, save=out / f"volcano_{args.method}.png")
    plt.close("all")
    print(table.sort_values("p").head(10).round(4).to_string(index=False))
    print(f"wrote tables and figures to {out}", file=sys.stderr)
    return 0


def _with_flags(call, *flags: str):
    """Run ``call``; in a ValueError's message, name the command-line flags instead of the
    Python keywords (``min_shared_genes=100`` -> ``--min-shared-genes 100``)."""
    try:
        return call()
    except ValueError as error:
        message = str(error)
        for flag in flags:
            keyword = flag.removeprefix("--").replace("-", "_")
            message = re.sub(rf"\b{keyword}=", f"{flag} ", message)
        raise ValueError(message) from error


PREDICT_FLAGS = ("--homogenize", "--min-variance-quantile", "--min-train-samples",
                 "--min-shared-genes", "--signature", "--tissue")


def _training_screen(name: str) -> str:
    return {"gdsc1": "GDSC1", "gdsc2": "GDSC2"}[name.lower()]


def cmd_predict(args: argparse.Namespace) -> int:
    from ferroscore import datasets, drugs

    if args.training:
        if len(args.inputs) != 1:
            raise UsageError("ferroscore predict-response --training gdsc2 takes one input, the "
                             f"expression to predict (got {len(args.inputs)})")
        data = datasets.gdsc(_training_screen(args.training))
        if args.tissue:
            data = data.for_tissue(args.tissue)
        train_expr, train_response = data.expression, data.response
        if args.drugs:
            names = drugs.resolve_drugs(args.drugs, {data.screen: data.response.columns})
            train_response = train_response[list(names["drug"])]
        test_expr = drugs.read_expression(args.inputs[0])
    else:
        if len(args.inputs) != 3:
            raise UsageError("ferroscore predict-response takes TRAIN_EXPR TRAIN_RESPONSE "
                             "TEST_EXPR, or --training gdsc2 TEST_EXPR "
                             f"(got {len(args.inputs)} inputs)")
        if args.drugs or args.tissue:
            raise UsageError("--drugs and --tissue select from the bundled screens; use them "
                             "with --training gdsc2 (or gdsc1)")
        train_expr = drugs.read_expression(args.inputs[0])
        train_response = drugs.read_response(args.inputs[1])
        test_expr = drugs.read_expression(args.inputs[2])
    result = _with_flags(lambda: drugs.predict_response(
        train_expr, train_response, test_expr, homogenize=args.homogenize,
        min_variance_quantile=args.min_variance_quantile,
        power_transform=not args.no_power_transform, min_train_samples=args.min_train_samples,
        min_shared_genes=args.min_shared_genes), *PREDICT_FLAGS)
    result.predictions.to_csv(args.output, sep="\t")
    diagnostics = Path(args.output).with_suffix(".diagnostics.tsv")
    result.diagnostics.to_csv(diagnostics, sep="\t")
    skipped = result.diagnostics.index[result.diagnostics["reason"] != ""]
    if len(skipped):
        print(f"skipped {len(skipped)} drugs (see 'reason' in {diagnostics}): "
              f"{', '.join(map(str, skipped[:5]))}", file=sys.stderr)
    print(f"wrote {args.output} ({result.predictions.shape[0]} samples x "
          f"{result.predictions.shape[1]} drugs) and {diagnostics}", file=sys.stderr)
    return 0


def _tumour_matrix(path: str, samples: pd.Index) -> pd.DataFrame:
    """Genes x samples expression whose samples are the scores' (either orientation)."""
    data = read_expression(path)
    if not isinstance(data, pd.DataFrame):  # AnnData: cells/samples x genes
        data = data.to_df()
    data.index, data.columns = data.index.astype(str), data.columns.astype(str)
    if len(samples.intersection(data.columns)) >= len(samples.intersection(data.index)):
        return data
    return data.T


def _scores_signature(args: argparse.Namespace, column: str) -> tuple[Any, str | None]:
    """The signature behind a score column (--signature, else the catalogue set of that name)
    and the method recorded in the scores' JSON sidecar."""
    from ferroscore import genesets

    sidecar = Path(f"{args.scores}.json")
    method = json.loads(sidecar.read_text())["params"]["method"] if sidecar.exists() else None
    if args.signature and args.signature.endswith(".gmt"):
        sets = genesets.read_gmt(args.signature, pair_signatures=True)
        if column not in sets:
            raise KeyError(f"{args.signature} has no set {column!r}; sets: {list(sets)[:10]}")
        return sets[column], method
    return args.signature, method


def cmd_drug_sensitivity(args: argparse.Namespace) -> int:
    from ferroscore import drugs

    scores = score_columns(read_scores(args.scores), args.scores,
                           [args.column] if args.column else None)
    column = scores.columns[0]
    tumour = _tumour_matrix(args.expr, scores.index)
    signature, method = _scores_signature(args, column)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _with_flags(lambda: drugs.drug_sensitivity(
            scores[column], tumour, training=_training_screen(args.training), drugs=args.drugs,
            groups=args.groups, signature=signature, method=args.method or method,
            n_null=args.null_sets, homogenize=args.homogenize, tissue=args.tissue,
            min_train_samples=args.min_train_samples, seed=args.seed), *PREDICT_FLAGS)
    for warning in (w for w in caught if issubclass(w.category, UserWarning)):
        text = str(warning.message).replace("pass signature=", "pass --signature NAME|GMT")
        print(f"warning: {text}", file=sys.stderr)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    result.table.to_csv(out / "drug_sensitivity.tsv", sep="\t", index=False)
    result.predictions.to_csv(out / "predicted_ln_ic50.tsv", sep="\t")
    if not result.predictions_without_signature.empty:
        result.predictions_without_signature.to_csv(
            out / "predicted_ln_ic50_without_signature_genes.tsv", sep="\t")
    if not result.null.empty:
        result.null.to_csv(out / "null_random_sets_rho.tsv", sep="\t")
    (out / "summary.txt").write_text(result.summary + "\n")
    from ferroscore.result import to_jsonable

    (out / "params.json").write_text(json.dumps(to_jsonable(result.params), indent=1) + "\n")
    shown = result.table[["drug", "screen", "reported_direction", "found_direction",
                          "q_mannwhitney", "rho", "p_empirical"]]
    print(shown.round(3).to_string(index=False))
    print(result.summary)
    print(f"wrote tables to {out}", file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ferroscore.demo import run_demo

    run_demo(Path(args.output), quiet=args.quiet)
    return 0


# ----------------------------------------------------------------------------------------------
# Parser
# ----------------------------------------------------------------------------------------------


def build_parser() -> Parser:
    parser = Parser(prog="ferroscore", description="Ferroptosis scores from transcriptomes.")
    parser.add_argument("--version", action="version", version=f"ferroscore {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", parser_class=Parser)

    score = sub.add_parser("score", help="score samples for gene sets")
    score.add_argument("expr", help="expression: CSV/TSV(.gz) with genes or samples as rows, "
                                    ".h5ad, or - for stdin")
    score.add_argument("-o", "--output", help="scores TSV (a .json sidecar is written next to "
                                              "it); default: stdout")
    score.add_argument("--sets", nargs="+", metavar="NAME|GMT",
                       help="catalogue names or GMT files (default: ferroptosis_core)")
    score.add_argument("--method", default="singscore", choices=METHOD_CHOICES,
                       help="scoring method (default: singscore; ucell for single cells; "
                            "wsum: weighted sum of values)")
    score.add_argument("--genes-axis", choices=["rows", "cols", "columns"],
                       help="force the axis holding genes (default: detected from the names)")
    score.add_argument("--na", default="error", choices=["error", "drop_genes", "per_sample"],
                       help="NaN/inf values: error (default), drop_genes (drop those genes, "
                            "reported), per_sample (rank methods: score each sample on the "
                            "genes it observed)")
    score.add_argument("--layer", metavar="NAME",
                       help=".h5ad input: score adata.layers[NAME] instead of adata.X")
    score.add_argument("--use-raw", action="store_true",
                       help=".h5ad input: score adata.raw")
    score.add_argument("--gene-symbols", metavar="COLUMN",
                       help=".h5ad / 10x input: find set members by this var column of gene "
                            "names (e.g. gene_symbols for 10x folders)")
    score.add_argument("--permutations", type=int, default=0, metavar="B",
                       help="random gene sets for per-sample p-values (default: 0, none)")
    score.add_argument("--null", default="uniform", choices=["uniform", "expression_matched"],
                       help="how random sets are drawn: uniform over genes (default) or "
                            "matched to the set genes' mean expression")
    score.add_argument("--seed", type=int, default=0,
                       help="seed of the random sets and of mean's control genes (default: 0)")
    score.add_argument("--param", action="append", metavar="KEY=VALUE",
                       help="method parameter, e.g. --param alpha=0.25 (repeatable)")
    score.add_argument("--quiet", action="store_true", help="no progress bar")
    score.set_defaults(func=cmd_score)

    gsets = sub.add_parser("genesets", help="list, show or export catalogue gene sets")
    gsets.add_argument("action", choices=["list", "show", "export"],
                       help="list the sets, show one set's genes, or export one to GMT")
    gsets.add_argument("name", nargs="?", help="set name (show, export)")
    gsets.add_argument("--gmt", metavar="OUT", help="GMT file to write (export)")
    gsets.set_defaults(func=cmd_genesets)

    surv = sub.add_parser("survival", help="relate scores to survival (Cox, KM, cut points)")
    surv.add_argument("scores", help="scores TSV from 'ferroscore score'")
    surv.add_argument("clinical", help="clinical CSV/TSV, sample IDs in the first column")
    surv.add_argument("--time", required=True, help="survival time column (> 0)")
    surv.add_argument("--event", required=True, help="event column (1 = event, 0 = censored)")
    surv.add_argument("--covariates", nargs="*", default=[], help="columns for the "
                                                                  "multivariable Cox model")
    surv.add_argument("--columns", nargs="*", help="score columns (default: the sets)")
    surv.add_argument("--minprop", type=float, default=0.1,
                      help="smallest share of samples on each side of an optimal cut "
                           "(default: 0.1)")
    surv.add_argument("--p-method", default="lau94",
                      choices=["lau94", "lau92", "exact_gauss", "permutation", "none"],
                      help="p-value of the optimal cut, adjusted for the search (default: "
                           "lau94)")
    surv.add_argument("--join", default="exact", choices=["exact", "inner"],
                      help="exact: scores and clinical data must hold the same samples "
                           "(default); inner: use the common samples (reported)")
    surv.add_argument("-o", "--output", default="ferroscore_survival", help="output folder")
    surv.set_defaults(func=cmd_survival)

    drug = sub.add_parser("drugs", help="associate a score with drug response")
    drug.add_argument("scores", help="scores TSV from 'ferroscore score'")
    drug.add_argument("response", help="samples x drugs CSV/TSV (sample IDs first)")
    drug.add_argument("--column", help="score column (default: the first set)")
    drug.add_argument("--method", default="spearman", choices=["spearman", "pearson", "lm"],
                      help="association test per drug (default: spearman)")
    drug.add_argument("--min-samples", type=int, default=10,
                      help="fewest samples with a response for a drug to be tested "
                           "(default: 10)")
    drug.add_argument("--join", default="exact", choices=["exact", "inner"],
                      help="exact: scores and responses must hold the same samples "
                           "(default); inner: use the common samples (reported)")
    drug.add_argument("-o", "--output", default="ferroscore_drugs", help="output folder")
    drug.set_defaults(func=cmd_drugs)

    pred = sub.add_parser("predict-response",
                          help="predict drug response from expression (oncoPredict-style)",
                          description="Either TRAIN_EXPR TRAIN_RESPONSE TEST_EXPR, or "
                                      "--training gdsc2 TEST_EXPR (bundled GDSC screen).")
    pred.add_argument("inputs", nargs="+", metavar="FILE",
                      help="TRAIN_EXPR (genes x lines) TRAIN_RESPONSE (lines x drugs, or a "
                           "long GDSC/CTRP table) TEST_EXPR (genes x samples); with --training "
                           "only TEST_EXPR")
    pred.add_argument("--training", choices=["gdsc2", "gdsc1"], type=str.lower,
                      help="train on a bundled GDSC screen")
    pred.add_argument("--drugs", nargs="+", metavar="NAME",
                      help="drugs of the bundled screen (case-insensitive; default: all)")
    pred.add_argument("--tissue", help="train on the lines of one tissue (e.g. breast)")
    pred.add_argument("-o", "--output", required=True, help="predictions TSV")
    pred.add_argument("--homogenize", default="combat",
                      choices=["combat", "quantile", "standardize", "rank", "none"],
                      help="how training and test expression are put on one scale (default: "
                           "combat)")
    pred.add_argument("--min-variance-quantile", type=float, default=0.2,
                      help="drop genes below this quantile of variance (default: 0.2)")
    pred.add_argument("--min-train-samples", type=int, default=10,
                      help="fewest screened cell lines for a drug to be modelled (default: 10)")
    pred.add_argument("--min-shared-genes", type=int, default=100,
                      help="fewest genes shared by training and test expression (default: 100)")
    pred.add_argument("--no-power-transform", action="store_true",
                      help="do not Box-Cox transform the responses before fitting")
    pred.set_defaults(func=cmd_predict)

    sens = sub.add_parser("drug-sensitivity",
                          help="predicted drug response of ferroptosis-high vs -low tumours, "
                               "against the BCBM / neoadjuvant studies")
    sens.add_argument("scores", help="scores TSV from 'ferroscore score'")
    sens.add_argument("expr", help="the tumours' expression (CSV/TSV, either orientation, or "
                                   ".h5ad)")
    sens.add_argument("--column", help="score column (default: the first set)")
    sens.add_argument("--training", default="gdsc2", choices=["gdsc2", "gdsc1"],
                      type=str.lower, help="preferred GDSC screen (the other is the fallback)")
    sens.add_argument("--drugs", nargs="+", metavar="NAME",
                      help="drugs (case-insensitive; default: the studies' drugs)")
    sens.add_argument("--groups", default="median", choices=["median", "tertiles"],
                      help="how tumours are split into ferroptosis-low / -high (default: median)")
    sens.add_argument("--signature", metavar="NAME|GMT",
                      help="genes behind the score, for the guards (default: the catalogue "
                           "set named like the column)")
    sens.add_argument("--method", help="scoring method for the random gene sets (default: "
                                       "from the scores' JSON sidecar, else singscore)")
    sens.add_argument("--null-sets", type=int, default=200, metavar="B",
                      help="random gene sets for the empirical null (0: skip)")
    sens.add_argument("--homogenize", default="combat",
                      choices=["combat", "quantile", "standardize", "rank", "none"],
                      help="how training and tumour expression are put on one scale (default: "
                           "combat)")
    sens.add_argument("--tissue", help="train on the lines of one tissue (e.g. breast)")
    sens.add_argument("--min-train-samples", type=int, default=10,
                      help="fewest screened cell lines for a drug to be modelled (default: 10)")
    sens.add_argument("--seed", type=int, default=0,
                      help="seed of the random gene sets (default: 0)")
    sens.add_argument("-o", "--output", default="ferroscore_drug_sensitivity",
                      help="output folder")
    sens.set_defaults(func=cmd_drug_sensitivity)

    demo = sub.add_parser("demo", help="the main job on the bundled GSE1992 breast cancer cohort")
    demo.add_argument("-o", "--output", default="ferroscore_demo", help="output folder")
    demo.add_argument("--quiet", action="store_true", help="no summary on the terminal")
    demo.set_defaults(func=cmd_demo)
    return parser


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print a warning as ``warning: ...`` on one line (no Python file:line)."""
    print(f"warning: {' '.join(str(message).split())}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ferroscore`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    try:
        with command_line(), warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            args = build_parser().parse_args(argv)
            if not getattr(args, "command", None):
                raise UsageError("ferroscore: a command is required (score, survival, drugs, "
                                 "predict-response, drug-sensitivity, genesets, demo); see "
                                 "ferroscore --help")
            return args.func(args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except DATA_ERRORS as error:
        if debug:
            traceback.print_exc()
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
