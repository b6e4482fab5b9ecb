"""Human gene identifier resolution against the shipped NCBI Gene table.

The table is NCBI Gene as packaged by Bioconductor ``org.Hs.eg.db`` 3.16 (NCBI Gene
2022-09-12): Entrez ID, official symbol, aliases (which include previous symbols), Ensembl gene
IDs and gene type. Resolution follows fixed rules so that nothing is guessed:

1. an official symbol always wins (``PRG3`` is proteoglycan 3, never AIFM2);
2. Ensembl gene IDs (``ENSG...``, version suffix allowed) and Entrez IDs resolve through the table;
3. an alias (or previous symbol) maps only if it names exactly one gene; otherwise it is
   ``ambiguous`` and its candidates are listed (``FSP1`` -> AIFM2, ATL1, S100A4);
4. case-insensitive matching happens only when asked for (``case_insensitive=True`` or
   ``species="mouse"``) and is reported in the ``via`` column.

Matching set members to the features of a matrix (:func:`locate`) uses the same rules but never
drops, merges or reorders the matrix's features.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Literal

import numpy as np
import pandas as pd

from ferroscore.tables import numeric_frame

__all__ = [
    "STATUSES",
    "GeneIndex",
    "Located",
    "FeatureIndex",
    "collapse",
    "gene_index",
    "gene_table",
    "locate",
    "resolve",
    "statuses",
]

STATUSES = ("official", "alias", "ensembl", "entrez", "ambiguous", "unknown")
RESOLVED = frozenset({"official", "alias", "ensembl", "entrez"})
GENE_TABLE_SOURCE = "NCBI Gene via Bioconductor org.Hs.eg.db 3.16 (NCBI Gene 2022-09-12)"

_ENSEMBL = re.compile(r"^(ENSG\d{11})(\.\d+)?$")
_ENTREZ = re.compile(r"^\d+$")
# Mouse symbols whose human orthologue is not simply the upper-cased symbol.
MOUSE_EXCEPTIONS = {"Trp53": "TP53", "Ftl1": "FTL"}


def gene_table() -> pd.DataFrame:
    """Return the shipped human gene table.

    Returns
    -------
    DataFrame
        One row per NCBI gene with columns ``entrez_id``, ``symbol``, ``gene_type``,
        ``aliases`` (``|``-separated, includes previous symbols) and ``ensembl_ids``
        (``|``-separated, may be empty). Source: :data:`GENE_TABLE_SOURCE`.
    """
    return _load_table().copy()


@lru_cache(maxsize=1)
def _load_table() -> pd.DataFrame:
    path = resources.files("ferroscore") / "data" / "human_gene_ids.tsv.gz"
    with resources.as_file(path) as local:
        return pd.read_csv(local, sep="\t", dtype=str, keep_default_na=False)


@dataclass(frozen=True)
class GeneIndex:
    """Lookup tables built from :func:`gene_table` (see :func:`gene_index`)."""

    symbols: frozenset[str]
    aliases: dict[str, tuple[str, ...]]
    ensembl: dict[str, tuple[str, ...]]
    entrez: dict[str, str]
    upper_symbols: dict[str, tuple[str, ...]]
    upper_aliases: dict[str, tuple[str, ...]]
    symbol_info: pd.DataFrame

    def lookup_symbol(self, symbol: str) -> pd.Series:
        """Entrez ID, Ensembl IDs and gene type of an official symbol (first row if repeated)."""
        return self.symbol_info.loc[symbol]


def _multimap(keys: pd.Series, values: pd.Series) -> dict[str, tuple[str, ...]]:
    """key -> sorted distinct values, keys in order of first appearance (empty keys left out).
    A plain loop: a pandas groupby with a Python aggregation took seconds for 250,000 keys."""
    grouped: dict[str, set[str]] = {}
    for key, value in zip(keys.to_numpy(), values.to_numpy(), strict=True):
        if key != "":
            grouped.setdefault(key, set()).add(value)
    return {key: tuple(sorted(group)) for key, group in grouped.items()}


@lru_cache(maxsize=1)
def gene_index() -> GeneIndex:
    """Build (once) and return the identifier lookup tables."""
    table = _load_table()
    symbols = table["symbol"]
    alias_long = table[["symbol", "aliases"]].assign(alias=table["aliases"].str.split("|"))
    alias_long = alias_long.explode("alias")
    alias_long = alias_long[alias_long["alias"] != alias_long["symbol"]]
    ens_long = table[["symbol", "ensembl_ids"]].assign(ens=table["ensembl_ids"].str.split("|"))
    ens_long = ens_long.explode("ens")
    info = table.drop_duplicates("symbol").set_index("symbol")[
        ["entrez_id", "ensembl_ids", "gene_type"]
    ]
    return GeneIndex(
        symbols=frozenset(symbols),
        aliases=_multimap(alias_long["alias"], alias_long["symbol"]),
        ensembl=_multimap(ens_long["ens"], ens_long["symbol"]),
        entrez=dict(zip(table["entrez_id"], symbols, strict=True)),
        upper_symbols=_multimap(symbols.str.upper(), symbols),
        upper_aliases=_multimap(alias_long["alias"].str.upper(), alias_long["symbol"]),
        symbol_info=info,
    )


@dataclass(frozen=True)
class _Resolution:
    symbol: str | None
    status: str
    candidates: tuple[str, ...] = ()
    via: str = ""


def _from_candidates(cands: tuple[str, ...], status: str, via: str) -> _Resolution:
    if len(cands) == 1:
        return _Resolution(cands[0], status, cands, via)
    return _Resolution(None, "ambiguous", cands, via)


def _resolve_exact(name: str, index: GeneIndex) -> _Resolution | None:
    if name in index.symbols:
        return _Resolution(name, "official")
    ens = _ENSEMBL.match(name)
    if ens:
        cands = index.ensembl.get(ens.group(1), ())
        return _from_candidates(cands, "ensembl", "") if cands else None
    if _ENTREZ.match(name):
        symbol = index.entrez.get(name)
        return _Resolution(symbol, "entrez") if symbol else None
    cands = index.aliases.get(name, ())
    return _from_candidates(cands, "alias", "") if cands else None


def _resolve_upper(name: str, index: GeneIndex, via: str) -> _Resolution | None:
    upper = name.upper()
    cands = index.upper_symbols.get(upper, ())
    if cands:
        return _from_candidates(cands, "official", via)
    cands = index.upper_aliases.get(upper, ())
    if cands:
        return _from_candidates(cands, "alias", via)
    return None


def _resolve_one(name: str, index: GeneIndex, case_insensitive: bool, species: str) -> _Resolution:
    stripped = name.strip()
    via = "stripped whitespace" if stripped != name else ""
    found = _resolve_exact(stripped, index)
    if found is not None:
        return _Resolution(found.symbol, found.status, found.candidates, via)
    if species == "mouse" and stripped in MOUSE_EXCEPTIONS:
        return _Resolution(MOUSE_EXCEPTIONS[stripped], "official", (), "mouse orthologue exception")
    if case_insensitive or species == "mouse":
        label = "mouse symbol, case-insensitive" if species == "mouse" else "case-insensitive"
        found = _resolve_upper(stripped, index, label)
        if found is not None:
            return found
    return _Resolution(None, "unknown", (), via)


def _as_identifier(value: object, position: int) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"identifier at position {position} is a boolean ({value!r}); expected a "
                        "gene symbol, Ensembl ID (str) or Entrez ID (int or str)")
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    raise TypeError(
        f"identifier at position {position} is {value!r} of type {type(value).__name__}; "
        "expected a gene symbol, Ensembl ID (str) or Entrez ID (int or str). Remove missing "
        "values first."
    )


def resolve(
    names: Iterable[str | int] | str,
    *,
    species: Literal["human", "mouse"] = "human",
    case_insensitive: bool = False,
) -> pd.DataFrame:
    """Resolve gene identifiers to official human symbols.

    Parameters
    ----------
    names
        Gene symbols, previous symbols, aliases, Ensembl gene IDs (version suffix allowed) or
        Entrez IDs (int or str). A single string is treated as one name.
    species
        ``"mouse"`` additionally maps mouse symbols (``Gpx4``) by case-insensitive matching,
        with the documented exceptions ``Trp53 -> TP53`` and ``Ftl1 -> FTL``.
    case_insensitive
        Allow case-insensitive matching for human names (reported in ``via``).

    Returns
    -------
    DataFrame
        One row per input, in input order, with columns ``input``, ``symbol`` (official symbol
        or missing), ``status`` (one of :data:`STATUSES`), ``candidates`` (``|``-separated
        symbols for ambiguous aliases) and ``via`` (any non-exact matching that was applied).

    Raises
    ------
    TypeError
        If an identifier is missing (None/NaN), a float or a boolean.
    ValueError
        If ``species`` is not ``"human"`` or ``"mouse"``.
    """
    if species not in ("human", "mouse"):
        raise ValueError(f"species must be 'human' or 'mouse', got {species!r}")
    if isinstance(names, str):
        names = [names]
    inputs = [_as_identifier(v, i) for i, v in enumerate(names)]
    index = gene_index()
    cache: dict[str, _Resolution] = {}
    rows = []
    for name in inputs:
        res = cache.get(name)
        if res is None:
            res = cache[name] = _resolve_one(name, index, case_insensitive, species)
        rows.append((name, res.symbol, res.status, "|".join(res.candidates) if
                     res.status == "ambiguous" else "", res.via))
    frame = pd.DataFrame(rows, columns=["input", "symbol", "status", "candidates", "via"])
    frame["symbol"] = frame["symbol"].astype(object).where(frame["symbol"].notna(), None)
    return frame


def statuses(names: Iterable[str]) -> list[str]:
    """The ``status`` :func:`resolve` gives each of ``names`` (strings; human, exact matching),
    without building its table: official symbols are recognised by a set lookup.

    Examples
    --------
    >>> statuses(["GPX4", "ENSG00000167468", "sample_1"])
    ['official', 'ensembl', 'unknown']
    """
    symbols = gene_index().symbols
    return ["official" if name in symbols else _status(name) for name in names]


@lru_cache(maxsize=2**17)
def _status(name: str) -> str:
    """:func:`statuses` of a name that is not an official symbol (remembered: the tables are
    fixed for the process, and the same labels are looked up on every call)."""
    return _resolve_one(name, gene_index(), False, "human").status


# ----------------------------------------------------------------------------------------------
# Locating gene-set members among the features of a matrix
# ----------------------------------------------------------------------------------------------


class FeatureIndex:
    """The features (gene names) of a matrix, with each feature resolved once.

    The features are never changed: resolution only tells which features can stand for a
    requested gene.

    Parameters
    ----------
    features
        Feature names in matrix order; must be unique unless ``allow_duplicates``.
    species, case_insensitive
        Passed to :func:`resolve` for the features.
    allow_duplicates
        Accept repeated names (e.g. an AnnData ``var`` column of gene symbols used only to
        find set members); a member matching several features is resolved by the rule of
        :func:`locate` and reported.
    """

    def __init__(
        self,
        features: Sequence[str],
        *,
        species: Literal["human", "mouse"] = "human",
        case_insensitive: bool = False,
        allow_duplicates: bool = False,
    ) -> None:
        # an Index is kept as it is (immutable; its hash table, built once, serves lookups)
        self.features = features if isinstance(features, pd.Index) else pd.Index(features)
        if self.features.has_duplicates and not allow_duplicates:
            dups = self.features[self.features.duplicated()].unique()[:5].tolist()
            raise ValueError(f"feature names must be unique; duplicated: {dups}. "
                             "Use fs.ids.collapse(matrix, how='max_mean') to collapse them.")
        self.species = species
        self.case_insensitive = case_insensitive
        # every position of the names that repeat; unique names are found by the Index
        self._repeated: dict[str, list[int]] = {}
        if self.features.has_duplicates:
            names = self.features.tolist()
            for i in np.flatnonzero(self.features.duplicated(keep=False)):
                self._repeated.setdefault(names[i], []).append(int(i))
        self._by_symbol: dict[str, list[int]] | None = None

    def positions(self, name: str) -> list[int]:
        """Positions of the features named exactly ``name`` (empty if none)."""
        if name in self._repeated:
            return self._repeated[name]
        try:
            return [int(self.features.get_loc(name))]
        except (KeyError, TypeError):
            return []

    @property
    def by_symbol(self) -> dict[str, list[int]]:
        """Map official symbol -> positions of the features that resolve to it."""
        if self._by_symbol is None:
            strings = [str(f) for f in self.features]
            table = resolve(strings, species=self.species, case_insensitive=self.case_insensitive)
            ok = table["status"].isin(RESOLVED).to_numpy()
            mapping: dict[str, list[int]] = {}
            for pos in np.flatnonzero(ok):
                mapping.setdefault(table["symbol"].iat[pos], []).append(int(pos))
            self._by_symbol = mapping
        return self._by_symbol


@dataclass
class Located:
    """Where the members of one gene set were found among a matrix's features."""

    requested: list[str]
    indices: np.ndarray
    found: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    mapped: dict[str, str] = field(default_factory=dict)
    ambiguous: dict[str, str] = field(default_factory=dict)
    choices: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)

    @property
    def n_requested(self) -> int:
        return len(self.requested)

    @property
    def n_found(self) -> int:
        return len(self.indices)

    def coverage(self) -> dict:
        """Plain-dict coverage report (JSON-serialisable)."""
        return {
            "n_requested": self.n_requested,
            "n_found": self.n_found,
            "fraction": self.n_found / self.n_requested if self.n_requested else 0.0,
            "found": list(self.found),
            "missing": list(self.missing),
            "mapped_aliases": dict(self.mapped),
            "ambiguous": dict(self.ambiguous),
            "choices": list(self.choices),
            "duplicates": list(self.duplicates),
        }


def locate(
    genes: Sequence[str],
    features: FeatureIndex | Sequence[str],
    *,
    feature_means: Callable[[], np.ndarray] | np.ndarray | None = None,
) -> Located:
    """Find the members of a gene set among a matrix's features.

    A member matches a feature with exactly the same name first. Otherwise the member is
    resolved (:func:`resolve`) and matched to the features that resolve to the same official
    symbol, so a set asking for LPCAT3 finds a matrix row named MBOAT5. When several features
    resolve to the member, the feature named by the official symbol is used, else the one with
    the highest mean; the choice is reported. Ambiguous or unknown members are reported, never
    guessed.

    Parameters
    ----------
    genes
        The set's members.
    features
        The matrix's feature names, or a prepared :class:`FeatureIndex`.
    feature_means
        Per-feature means (or a function computing them) used only to break a tie between
        several features that resolve to one member.

    Returns
    -------
    Located
        Matched feature positions (deduplicated, in member order) and the coverage details.
    """
    fidx = features if isinstance(features, FeatureIndex) else FeatureIndex(features)
    located = Located(requested=list(genes), indices=np.empty(0, dtype=np.intp))
    chosen: dict[int, str] = {}
    # only members without a feature of exactly their name need resolving
    unmatched = [i for i, gene in enumerate(genes) if not fidx.positions(gene)]
    resolved = {}
    if unmatched:
        member_res = resolve([str(genes[i]) for i in unmatched], species=fidx.species,
                             case_insensitive=fidx.case_insensitive)
        resolved = dict(zip(unmatched, member_res.itertuples(index=False), strict=True))
    means_cache: list[np.ndarray] = []

    def means() -> np.ndarray | None:
        if feature_means is None:
            return None
        if not means_cache:
            means_cache.append(np.asarray(feature_means() if callable(feature_means)
                                          else feature_means))
        return means_cache[0]

    picked: list[int] = []
    for i, gene in enumerate(genes):
        exact = fidx.positions(gene)
        if len(exact) == 1:
            pos = exact[0]
        elif exact:
            pos = _choose(gene, gene, exact, fidx, means, located, official_first=False)
        else:
            pos = _match_resolved(gene, resolved[i], fidx, means, located)
        if pos is None:
            located.missing.append(gene)
            continue
        if pos in chosen:
            located.duplicates.append(f"{gene} matches feature {fidx.features[pos]!s}, "
                                      f"already used for {chosen[pos]}")
            continue
        chosen[pos] = gene
        picked.append(pos)
        located.found.append(gene)
        located.features.append(str(fidx.features[pos]))
        if str(fidx.features[pos]) != gene:
            located.mapped[gene] = str(fidx.features[pos])
    located.indices = np.asarray(picked, dtype=np.intp)
    return located


def _match_resolved(gene: str, row, fidx: FeatureIndex, means, located: Located) -> int | None:
    if row.status == "ambiguous":
        located.ambiguous[gene] = row.candidates
        return None
    if row.status not in RESOLVED:
        return None
    positions = fidx.by_symbol.get(row.symbol, [])
    if not positions:
        return None
    if len(positions) == 1:
        return positions[0]
    return _choose(gene, row.symbol, positions, fidx, means, located, official_first=True)


def _choose(gene: str, symbol: str, positions: list[int], fidx: FeatureIndex, means,
            located: Located, *, official_first: bool) -> int:
    """Pick one of several features standing for a member: the one named by the official
    symbol, else the highest mean, else the first; the choice is reported."""
    exact = [p for p in positions if fidx.features[p] == symbol] if official_first else []
    if exact:
        pos, rule = exact[0], "official-symbol match"
    elif (m := means()) is not None:
        pos, rule = max(positions, key=lambda p: (m[p], -p)), "highest mean"
    else:
        pos, rule = positions[0], "first in matrix order"
    located.choices.append(f"{gene}: {len(positions)} features stand for {symbol} (positions "
                           f"{positions[:5]}); used position {pos} ({rule})")
    return pos


# ----------------------------------------------------------------------------------------------
# Explicit collapsing of duplicated feature names
# ----------------------------------------------------------------------------------------------


def _highest_mean(values: np.ndarray, rows: np.ndarray) -> tuple[int, str]:
    """The row with the highest mean among those with the fewest missing values (NaN and inf
    never count as a maximum), and a note for the report when missing values decided."""
    sub = np.where(np.isfinite(values[rows]), values[rows], np.nan)  # inf is not a maximum
    n_missing = np.isnan(sub).sum(axis=1)
    fewest = np.flatnonzero(n_missing == n_missing.min())
    with np.errstate(invalid="ignore"):
        means = np.nanmean(sub[fewest], axis=1) if n_missing.min() else sub[fewest].mean(axis=1)
    best = rows[fewest[int(np.argmax(means))]]
    if n_missing.max() == 0:
        return int(best), ""
    n_skipped = int((n_missing > n_missing.min()).sum())
    return int(best), f" ({n_skipped} rows with more NaN or inf skipped)"


def collapse(
    matrix: pd.DataFrame,
    how: Literal["max_mean", "mean"] = "max_mean",
    *,
    genes_axis: Literal["rows", "columns"] = "rows",
) -> pd.DataFrame:
    """Collapse exactly duplicated feature names of an expression matrix.

    This is the explicit, reported step that turns a matrix with repeated gene names into one
    that :func:`ferroscore.score` accepts. Features that occur once are left untouched.

    Parameters
    ----------
    matrix
        Expression matrix with gene names on ``genes_axis``.
    how
        ``"max_mean"`` keeps, for each duplicated name, the feature with the highest mean over
        samples (first one on ties); a feature with missing values is kept only when every
        duplicate has some, then the one with the fewest (reported). ``"mean"`` averages the
        duplicated features.
    genes_axis
        Whether the genes are the rows (default) or the columns.

    Returns
    -------
    DataFrame
        The collapsed matrix, same orientation, features in order of first occurrence. The
        report (one row per collapsed name: ``feature``, ``n_rows``, ``how``, ``kept``) is in
        ``result.attrs["collapsed"]`` and summarised in a warning.
    """
    if how not in ("max_mean", "mean"):
        raise ValueError(f"how must be 'max_mean' or 'mean', got {how!r}")
    if genes_axis not in ("rows", "columns"):
        raise ValueError(f"genes_axis must be 'rows' or 'columns', got {genes_axis!r}")
    frame = matrix if genes_axis == "rows" else matrix.T
    names = frame.index
    unnamed = np.flatnonzero(pd.isna(names) | (names.astype(str).str.strip() == ""))
    if len(unnamed):
        raise ValueError(f"{len(unnamed)} features have no name (positions "
                         f"{unnamed[:5].tolist()}{' ...' if len(unnamed) > 5 else ''} along the "
                         f"genes axis); name or drop them before collapsing")
    dup_mask = names.duplicated(keep=False)
    report_rows = []
    if not dup_mask.any():
        out = matrix.copy()
        out.attrs["collapsed"] = pd.DataFrame(columns=["feature", "n_rows", "how", "kept"])
        return out
    values = numeric_frame(frame, "the matrix", "gene", "sample").to_numpy(dtype=float)
    positions = pd.Series(np.arange(len(names)), index=names)
    keep_rows: list[np.ndarray] = []
    out_names: list = []
    for name, pos in positions.groupby(level=0, sort=False):
        idx = pos.to_numpy()
        if len(idx) == 1:
            keep_rows.append(values[idx[0]])
        elif how == "mean":
            keep_rows.append(values[idx].mean(axis=0))
            report_rows.append((name, len(idx), how, "mean of all"))
        else:
            best, note = _highest_mean(values, idx)
            keep_rows.append(values[best])
            report_rows.append((name, len(idx), how, f"row {best}{note}"))
        out_names.append(name)
    result = pd.DataFrame(np.vstack(keep_rows), index=pd.Index(out_names, name=names.name),
                          columns=frame.columns)
    if genes_axis == "columns":
        result = result.T
    report = pd.DataFrame(report_rows, columns=["feature", "n_rows", "how", "kept"])
    result.attrs["collapsed"] = report
    warnings.warn(
        f"collapsed {len(report)} duplicated feature names ({int(dup_mask.sum())} rows) with "
        f"how={how!r}: {report['feature'].head(5).tolist()}{' ...' if len(report) > 5 else ''}",
        UserWarning,
        stacklevel=2,
    )
    return result
