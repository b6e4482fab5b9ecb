"""The ``ferroscore`` command line.

Exit codes: 0 success, 2 usage error, 1 data error. Errors are one line on stderr; ``--debug``
shows the traceback.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import traceback
from pathlib import Path
from typing import Any

import pandas as pd

from ferroscore._version import __version__

DATA_ERRORS = (ValueError, TypeError, KeyError, FileNotFoundError, OSError, RuntimeError)


class UsageError(Exception):
    """Bad command-line usage (exit code 2)."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would print usage and exit itself
        raise UsageError(f"{self.prog}: {message}")


# ----------------------------------------------------------------------------------------------
# Reading inputs
# ----------------------------------------------------------------------------------------------


def read_table(path: str) -> pd.DataFrame:
    """Read CSV/TSV (optionally gzipped) with row names in the first column; ``-`` = stdin."""
    if path == "-":
        text = sys.stdin.read()
        sep = "\t" if text.split("\n", 1)[0].count("\t") else ","
        return pd.read_csv(io.StringIO(text), sep=sep, index_col=0)
    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(f"no such file: {path}")
    name = file.name.lower().removesuffix(".gz")
    sep = "," if name.endswith(".csv") else "\t"
    return pd.read_csv(file, sep=sep, index_col=0)


def read_expression(path: str) -> Any:
    """Expression from a table (CSV/TSV[.gz]), an ``.h5ad`` file, or ``-`` (stdin)."""
    if path.endswith(".h5ad"):
        import anndata as ad

        if not Path(path).exists():
            raise FileNotFoundError(f"no such file: {path}")
        return ad.read_h5ad(path)
    return read_table(path)


def resolve_sets(spec: list[str] | None) -> Any:
    """Catalogue names and/or GMT files -> what fs.score accepts."""
    from ferroscore import genesets

    if not spec:
        return "ferroptosis_core"
    out: list = []
    for item in spec:
        if item.endswith(".gmt"):
            out.extend(genesets.read_gmt(item, pair_signatures=True).values())
        else:
            out.append(item)
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

    data = read_expression(args.expr)
    params = dict(_parse_params(args.param))
    result = fs.score(data, resolve_sets(args.sets), args.method, genes_axis=args.genes_axis,
                      n_permutations=args.permutations, random_state=args.seed,
                      null=args.null, progress=not args.quiet and sys.stderr.isatty(), **params)
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
    score.add_argument("--method", default="singscore",
                       choices=["singscore", "ssgsea", "gsva", "zscore", "plage", "ucell",
                                "aucell", "mean"])
    score.add_argument("--genes-axis", choices=["rows", "cols", "columns"],
                       help="force the axis holding genes")
    score.add_argument("--permutations", type=int, default=0, metavar="B",
                       help="random gene sets for per-sample p-values")
    score.add_argument("--null", default="uniform", choices=["uniform", "expression_matched"])
    score.add_argument("--seed", type=int, default=0)
    score.add_argument("--param", action="append", metavar="KEY=VALUE",
                       help="method parameter, e.g. --param alpha=0.25 (repeatable)")
    score.add_argument("--quiet", action="store_true", help="no progress bar")
    score.set_defaults(func=cmd_score)

    gsets = sub.add_parser("genesets", help="list, show or export catalogue gene sets")
    gsets.add_argument("action", choices=["list", "show", "export"])
    gsets.add_argument("name", nargs="?")
    gsets.add_argument("--gmt", metavar="OUT", help="GMT file to write (export)")
    gsets.set_defaults(func=cmd_genesets)

    demo = sub.add_parser("demo", help="the main job on the bundled GSE1992 breast cancer cohort")
    demo.add_argument("-o", "--output", default="ferroscore_demo", help="output folder")
    demo.add_argument("--quiet", action="store_true")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ferroscore`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        if not getattr(args, "command", None):
            raise UsageError("ferroscore: a command is required (score, genesets, demo); "
                             "see ferroscore --help")
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
