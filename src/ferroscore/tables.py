"""Shared handling of tabular inputs: reading CSV/TSV files, aligning two tables by sample ID,
and turning covariates into a numeric design matrix.

Survival analysis, the drug association tests, ComBat, the drug readers and the command line
all take tables from users; they share these helpers so that every entry point reads, aligns and
encodes in the same way and reports problems with the same messages.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
import warnings
import zlib
from collections import Counter
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

__all__ = ["align_samples", "check_finite", "design_matrix", "numeric_frame", "read_table"]

Table = TypeVar("Table", pd.Series, pd.DataFrame)
JOINS = ("exact", "inner")
SINGLE_LEVEL = ("error", "drop")
GZIP_MAGIC = b"\x1f\x8b"


def read_table(path: str | Path, *, index_col: int | None = 0,
               float_precision: str | None = "round_trip") -> pd.DataFrame:
    """Read a tab- or comma-separated table (optionally gzipped); ``"-"`` reads standard input.

    The separator is read from the header line, not from the file name: tab if the header
    holds a tab, else comma (so a tab-separated file named ``.csv`` reads correctly). The
    header is checked before pandas sees it: a repeated column name is an error naming it
    (pandas would silently rename the second ``X`` to ``X.1``).

    Parameters
    ----------
    path
        File path or ``"-"``. Gzip is recognised by its content (and expected for ``.gz``).
    index_col
        Column holding the row names (``None``: keep all columns as data).
    float_precision
        pandas' float parser. The default ``"round_trip"`` reads values written with 17
        significant digits back bit-equal; ``None`` (pandas' fast parser, within one unit in
        the last place) is about 3x faster on large matrices.

    Raises
    ------
    FileNotFoundError, ValueError
        A missing, empty, damaged (gzip) or non-UTF-8 file, a header without tab or comma
        (when row names are expected), or repeated column names; each message names the
        file.
    """
    name, raw, header = _read_raw(path)
    sep = "\t" if "\t" in header else ","
    if sep not in header and index_col is not None:
        other = next((f" (it looks separated by {c!r})" for c in ";| " if c in header), "")
        raise ValueError(f"{name}: the header line has no tab or comma{other}, so the table "
                         "has no data column; ferroscore reads tab- or comma-separated tables")
    fields = next(csv.reader([header], delimiter=sep))
    repeated = sorted(f for f, n in Counter(fields).items() if f and n > 1)
    if repeated:
        raise ValueError(f"{name}: repeated column names {repeated[:5]}"
                         f"{' ...' if len(repeated) > 5 else ''} in the header; every column "
                         "(sample or gene) must be named once")
    try:
        return pd.read_csv(io.BytesIO(raw), sep=sep, index_col=index_col, encoding="utf-8-sig",
                           float_precision=float_precision)
    except pd.errors.ParserError as error:
        message = str(error).strip().splitlines()[-1]
        raise ValueError(f"{name}: not a {'tab' if sep == chr(9) else 'comma'}-separated "
                         f"table ({message})") from None


def _read_raw(path: str | Path) -> tuple[str, bytes, str]:
    """A table's display name, its (decompressed, UTF-8-checked) bytes and its header line."""
    if str(path) == "-":
        stream = getattr(sys.stdin, "buffer", None)  # a text stream when replaced in tests
        raw = stream.read() if stream is not None else sys.stdin.read().encode("utf-8")
        name = "standard input"
    else:
        file = Path(path)
        if not file.exists():
            raise FileNotFoundError(f"no such file: {path}")
        if file.is_dir():
            raise ValueError(f"{path} is a folder, not a table")
        name, raw = str(path), file.read_bytes()
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise ValueError(f"{name}: cannot decompress it as gzip ({error}); the file is "
                             "damaged or incomplete") from None
    elif name.endswith(".gz"):
        raise ValueError(f"{name}: named .gz but not gzip-compressed")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise ValueError(f"{name}: not UTF-8 text (byte 0x{raw[error.start]:02x} at byte offset "
                         f"{error.start}, line {line}); save it as UTF-8") from None
    if not text.strip():
        raise ValueError(f"{name} is empty" + (" (nothing was piped in)"
                                               if name == "standard input" else ""))
    header = text.lstrip("\r\n").split("\n", 1)[0].rstrip("\r")
    return name, raw, header


def align_samples(left: Table, right: pd.DataFrame, *, join: str, left_name: str,
                  right_name: str, stacklevel: int = 3) -> tuple[Table, pd.DataFrame, int]:
    """Put two tables on the same sample IDs (row index, compared as strings).

    Parameters
    ----------
    left, right
        Tables indexed by sample ID.
    join
        ``"exact"``: the two must hold the same IDs (any order), else a ValueError lists the
        differences; ``"inner"``: keep the common IDs and warn how many were dropped.
        Duplicated IDs in either table are an error in both modes.
    left_name, right_name
        What the tables are, for the messages (e.g. ``"scores"``, ``"clinical data"``).
    stacklevel
        Passed to the warning so that it points at the user's call.

    Returns
    -------
    left, right, n_dropped
        Both tables restricted to the common IDs in ``left``'s order, string-indexed, and the
        number of IDs present in only one of them.
    """
    if join not in JOINS:
        raise ValueError(f"join must be one of {JOINS}, got {join!r}")
    left_ids = pd.Index(left.index.astype(str))
    right_ids = pd.Index(right.index.astype(str))
    for ids, name in ((left_ids, left_name), (right_ids, right_name)):
        if ids.has_duplicates:
            repeated = ids[ids.duplicated()].unique()
            raise ValueError(f"{len(repeated)} sample IDs occur more than once in {name} "
                             f"(e.g. {list(repeated[:3])}); keep one row per sample")
    only_left, only_right = left_ids.difference(right_ids), right_ids.difference(left_ids)
    if join == "exact" and (len(only_left) or len(only_right)):
        raise ValueError(
            f"sample IDs differ between {left_name} and {right_name}: {len(only_left)} only in "
            f"{left_name} (e.g. {list(only_left[:3])}), {len(only_right)} only in {right_name} "
            f"(e.g. {list(only_right[:3])}); fix the IDs or pass join='inner' to use the "
            "common samples")
    common = left_ids.intersection(right_ids, sort=False)
    if len(common) == 0:
        raise ValueError(f"no sample IDs in common between {left_name} and {right_name}")
    dropped = len(only_left) + len(only_right)
    if dropped:
        warnings.warn(f"join='inner': {dropped} samples not in both {left_name} and "
                      f"{right_name} were dropped", UserWarning, stacklevel=stacklevel)
    return left.set_axis(left_ids).loc[common], right.set_axis(right_ids).loc[common], dropped


def design_matrix(frame: pd.DataFrame, *, single_level: str = "error"
                  ) -> tuple[pd.DataFrame, dict[str, object]]:
    """Numeric design columns, as R's ``model.matrix(~ ...)`` without the intercept.

    Numeric columns are kept as floats; booleans become 0/1 columns; other columns are
    one-hot encoded against a reference level: the first category of a categorical, else the
    smallest level (sorted as strings). Dummy columns are named ``"column[level]"``.

    Parameters
    ----------
    frame
        Samples x covariates, without missing values.
    single_level
        What to do with a non-numeric (or boolean) column holding a single level: ``"error"``
        raises, ``"drop"`` leaves it out (it carries no information, e.g. one tissue left
        among a drug's complete cases).

    Returns
    -------
    design, references
        The samples x design-columns DataFrame and the reference level of every one-hot
        encoded column.
    """
    if single_level not in SINGLE_LEVEL:
        raise ValueError(f"single_level must be one of {SINGLE_LEVEL}, got {single_level!r}")
    parts, references = [], {}
    for col in frame.columns:
        values = frame[col]
        is_bool = pd.api.types.is_bool_dtype(values)
        if pd.api.types.is_numeric_dtype(values) and not is_bool:
            parts.append(values.astype(float).rename(col))
            continue
        if is_bool and values.nunique() == 2:
            parts.append(values.astype(float).rename(col))
            continue
        cat = values.astype("category")
        if not isinstance(values.dtype, pd.CategoricalDtype):
            cat = cat.cat.reorder_categories(sorted(cat.cat.categories, key=str))
        levels = list(cat.cat.categories)
        if len(levels) < 2:
            if single_level == "error":
                raise ValueError(f"covariate {col!r} has a single level ({levels}); drop it")
            continue
        references[col] = levels[0]
        parts.extend((cat == level).astype(float).rename(f"{col}[{level}]")
                     for level in levels[1:])
    if not parts:
        return pd.DataFrame(index=frame.index), references
    return pd.concat(parts, axis=1), references


def numeric_frame(frame: pd.DataFrame, what: str, rows: str, columns: str,
                  hint: str = "") -> pd.DataFrame:
    """``frame`` as float64: text columns holding only numbers are converted and pandas
    nullable columns get ``pd.NA`` as NaN; any other cell is a ValueError naming one (in the
    user's words for rows and columns)."""
    if all(t == np.float64 for t in frame.dtypes):
        return frame
    out, n_bad, example = {}, 0, None
    for name in frame.columns:
        raw = frame[name]
        if pd.api.types.is_bool_dtype(raw):
            converted = pd.Series(np.nan, index=raw.index)
        elif pd.api.types.is_numeric_dtype(raw):
            converted = pd.Series(raw.to_numpy(dtype=float, na_value=np.nan), index=raw.index)
        else:
            converted = pd.to_numeric(raw, errors="coerce").astype(float)
        bad = converted.isna().to_numpy() & raw.notna().to_numpy()
        if bad.any():
            n_bad += int(bad.sum())
            example = example or (raw.index[bad][0], name, raw[bad].iloc[0])
        out[name] = converted.to_numpy()
    if example is not None:
        label, name, value = example
        raise ValueError(f"{what} must be numeric{hint}; {n_bad} cells are not (e.g. {value!r} "
                         f"for {rows} {label!r}, {columns} {name!r})")
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)


def check_finite(frame: pd.DataFrame | pd.Series, what: str) -> None:
    """Infinite values are an error naming the columns (NaN means "not measured")."""
    values = frame.to_numpy(dtype=float)
    infinite = np.isinf(values)
    if not infinite.any():
        return
    if infinite.ndim == 1:
        where = f"samples {list(frame.index[infinite][:3])}"
    else:
        counts = pd.Series(infinite.sum(axis=0), index=frame.columns)
        where = ", ".join(f"{c!r}: {n}" for c, n in counts[counts > 0].head(5).items())
    raise ValueError(f"{what} has {int(infinite.sum())} infinite values ({where}); replace them "
                     "with NaN (not measured) or a finite value")
