"""Gene sets, signed signatures, the curated ferroptosis catalogue and GMT input/output.

A :class:`GeneSet` is a named list of genes (optionally weighted). A :class:`Signature` is a
named pair of gene sets: ``up`` (ferroptosis drivers, weight +1) and ``down`` (suppressors,
weight -1). The catalogue shipped with the package (``genesets/catalogue.tsv``) holds one row per
gene per set with identifiers, role, weight, pathway axis and evidence; :func:`available` lists
its sets and :func:`load` returns one.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd

__all__ = [
    "GeneSet",
    "Signature",
    "UnknownGeneSetError",
    "available",
    "catalogue",
    "catalogue_version",
    "coerce_sets",
    "direction_of",
    "load",
    "read_gmt",
    "signature",
    "write_gmt",
]


class UnknownGeneSetError(KeyError):
    """A gene-set name that is not in the catalogue."""

    def __str__(self) -> str:  # KeyError would print the message with quotes
        return str(self.args[0])


def _check_name(name: object, what: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{what} name must be a non-empty string, got {name!r}")
    if any(ch in name for ch in "\t\n\r"):
        raise ValueError(f"{what} name {name!r} must not contain tabs or newlines")
    return name


def _preview(genes: Sequence[str], n: int = 6) -> str:
    return ", ".join(genes[:n]) + (", ..." if len(genes) > n else "")


@dataclass(frozen=True)
class GeneSet:
    """A named set of genes.

    Parameters
    ----------
    name
        Set name (used as the score column).
    genes
        Gene identifiers (symbols, aliases, Ensembl or Entrez IDs as strings). Must be unique.
    weights
        Optional per-gene weights in gene order. A set whose weights have both signs is scored
        as a :class:`Signature` (positive = up, negative = down; see :meth:`to_signature`).
        Only the weighted method (``"wsum"``) uses their magnitudes; the other methods take
        per-gene weights from no reference and reject weights of unequal magnitude.
    description, source
        Free text kept with the set (written to GMT files).

    Raises
    ------
    ValueError
        Empty set, non-string or empty gene identifiers, duplicated genes, weights of the
        wrong length or non-finite weights.
    """

    name: str
    genes: tuple[str, ...]
    weights: tuple[float, ...] | None = None
    description: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        _check_name(self.name, "gene set")
        genes = self.genes
        if isinstance(genes, str):
            raise TypeError(f"genes of set {self.name!r} must be a list of identifiers, "
                            "not a single string")
        genes = tuple(genes)
        if not genes:
            raise ValueError(f"gene set {self.name!r} is empty")
        bad = [g for g in genes if not isinstance(g, str) or not g.strip()]
        if bad:
            raise TypeError(f"gene set {self.name!r} has non-string or empty identifiers: "
                            f"{bad[:5]!r}. Convert Entrez IDs to str first.")
        seen: set[str] = set()
        dups = [g for g in genes if g in seen or seen.add(g)]
        if dups:
            raise ValueError(f"gene set {self.name!r} lists genes more than once: "
                             f"{sorted(set(dups))[:10]}")
        object.__setattr__(self, "genes", genes)
        if self.weights is not None:
            weights = tuple(float(w) for w in self.weights)
            if len(weights) != len(genes):
                raise ValueError(f"gene set {self.name!r} has {len(genes)} genes but "
                                 f"{len(weights)} weights")
            if not all(math.isfinite(w) for w in weights):
                raise ValueError(f"gene set {self.name!r} has non-finite weights")
            object.__setattr__(self, "weights", weights)

    def __len__(self) -> int:
        return len(self.genes)

    def __repr__(self) -> str:
        return f"GeneSet({self.name!r}, {len(self)} genes: {_preview(self.genes)})"

    def __iter__(self):
        return iter(self.genes)

    def __contains__(self, gene: object) -> bool:
        return gene in self.genes

    @property
    def is_signed(self) -> bool:
        """True if the weights have both positive and negative values."""
        return (self.weights is not None and any(w > 0 for w in self.weights)
                and any(w < 0 for w in self.weights))

    @property
    def has_uniform_weights(self) -> bool:
        """True without weights or when every weight has the same magnitude (signs aside)."""
        return self.weights is None or len({abs(w) for w in self.weights}) <= 1

    def to_signature(self) -> Signature:
        """Split a weighted set into a :class:`Signature` by the sign of the weights; each
        side keeps the weights' magnitudes."""
        if self.weights is None:
            raise ValueError(f"gene set {self.name!r} has no weights to split by sign")
        pairs = list(zip(self.genes, self.weights, strict=True))
        zero = [g for g, w in pairs if w == 0]
        if zero:
            raise ValueError(f"gene set {self.name!r}: genes with weight 0 have no direction: "
                             f"{zero[:10]}")
        up = GeneSet(f"{self.name}_up", tuple(g for g, w in pairs if w > 0),
                     tuple(w for _, w in pairs if w > 0))
        down = GeneSet(f"{self.name}_down", tuple(g for g, w in pairs if w < 0),
                       tuple(-w for _, w in pairs if w < 0))
        return Signature(self.name, up, down, description=self.description, source=self.source)


@dataclass(frozen=True)
class Signature:
    """A signed signature: genes expected up (drivers) versus down (suppressors).

    Parameters
    ----------
    name
        Signature name; scores get columns ``name``, ``name_up`` and ``name_down``.
    up, down
        The two sides as :class:`GeneSet` (see :meth:`from_sets` to build from lists).

    Raises
    ------
    ValueError
        If a gene is on both sides.
    """

    name: str
    up: GeneSet
    down: GeneSet
    description: str = ""
    source: str = ""
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        _check_name(self.name, "signature")
        for side, value in (("up", self.up), ("down", self.down)):
            if not isinstance(value, GeneSet):
                raise TypeError(f"signature {self.name!r}: {side} must be a GeneSet; use "
                                "Signature.from_sets() to build one from lists")
        both = sorted(set(self.up.genes) & set(self.down.genes))
        if both:
            raise ValueError(f"signature {self.name!r} has genes on both sides: {both}")

    @classmethod
    def from_sets(
        cls,
        name: str,
        up: GeneSet | Iterable[str],
        down: GeneSet | Iterable[str],
        *,
        description: str = "",
        source: str = "",
    ) -> Signature:
        """Build a signature from two gene sets or two lists of genes."""
        up_set = up if isinstance(up, GeneSet) else GeneSet(f"{name}_up", tuple(up))
        down_set = down if isinstance(down, GeneSet) else GeneSet(f"{name}_down", tuple(down))
        return cls(name, up_set, down_set, description=description, source=source)

    @property
    def genes(self) -> tuple[str, ...]:
        """All genes, up side first."""
        return self.up.genes + self.down.genes

    def __len__(self) -> int:
        return len(self.up) + len(self.down)

    def __repr__(self) -> str:
        return (f"Signature({self.name!r}, up={len(self.up)} genes: {_preview(self.up.genes)}; "
                f"down={len(self.down)} genes: {_preview(self.down.genes)})")


def signature(
    name: str, up: GeneSet | Iterable[str], down: GeneSet | Iterable[str]
) -> Signature:
    """Derive a :class:`Signature` from two sets (drivers up, suppressors down)."""
    return Signature.from_sets(name, up, down)


SetLike = str | GeneSet | Signature | Sequence[str]

#: What a score's direction means, for each value :func:`direction_of` returns.
DIRECTIONS = {
    "signed": "drivers minus suppressors: a higher score is more pro-ferroptotic",
    "signed, signs unverified": "drivers minus suppressors as published, but the published signs "
                                "could not be verified",
    "pro-ferroptotic axis": "one pathway arm of drivers: a higher score is more of that "
                            "pro-ferroptotic arm",
    "anti-ferroptotic axis": "one pathway arm of suppressors: a higher score is more of that "
                             "anti-ferroptotic arm",
    "unsigned": "drivers and suppressors mixed (a pathway or a plain gene list): the score has "
                "no ferroptosis direction",
    "unknown": "not a set ferroscore scored (a plain score column): direction not known",
}

# ----------------------------------------------------------------------------------------------
# The shipped catalogue
# ----------------------------------------------------------------------------------------------


def catalogue_dir() -> Path:
    """Folder holding ``catalogue.tsv`` and ``sets.tsv``.

    Installed packages carry it as ``ferroscore/_genesets``; a source checkout uses the
    repository's top-level ``genesets/`` folder.
    """
    packaged = resources.files("ferroscore") / "_genesets"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "genesets"
    if (checkout / "catalogue.tsv").is_file():
        return checkout
    raise FileNotFoundError("the gene-set catalogue is missing from this installation "
                            f"(looked in {packaged} and {checkout})")


@lru_cache(maxsize=1)
def _catalogue_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = catalogue_dir()
    genes = pd.read_csv(folder / "catalogue.tsv", sep="\t", dtype=str, keep_default_na=False)
    genes["weight"] = genes["weight"].astype(float)
    sets = pd.read_csv(folder / "sets.tsv", sep="\t", dtype=str, keep_default_na=False)
    return genes, sets


def catalogue() -> pd.DataFrame:
    """The whole catalogue as a long table (one row per gene per set).

    Columns: ``set``, ``kind``, ``symbol``, ``entrez_id``, ``ensembl_ids``, ``hgnc_id``,
    ``role`` (driver / suppressor / context-dependent / member), ``weight`` (+1 / -1 / 0),
    ``axis``, ``evidence``, ``source``, ``note``, ``n_driver_records`` and
    ``n_suppressor_records`` (FerrDb V2 record counts, empty if FerrDb V2 does not list the
    gene) and ``sign_status`` (``verified`` / ``unverified`` for published signs, else empty).
    """
    return _catalogue_tables()[0].copy()


def catalogue_version() -> str:
    """Version string of the shipped catalogue."""
    versions = _catalogue_tables()[1]["catalogue_version"].unique()
    return str(versions[0])


def available() -> pd.DataFrame:
    """List the catalogue's gene sets.

    Returns
    -------
    DataFrame
        One row per set: ``name``, ``kind`` (signature, context, pathway, axis),
        ``n_genes``, ``n_up`` (drivers), ``n_down`` (suppressors), ``direction`` (for axes:
        pro- or anti-ferroptotic), ``source``, ``version``, ``description`` and
        ``provenance`` (caveats on the set, e.g. unverified signs; empty if none).
    """
    genes, sets = _catalogue_tables()
    counts = genes.groupby("set").agg(
        n_genes=("symbol", "size"),
        n_up=("weight", lambda w: int((w > 0).sum())),
        n_down=("weight", lambda w: int((w < 0).sum())),
    )
    table = sets.set_index("name").join(counts)
    table = table.reset_index()[["name", "kind", "n_genes", "n_up", "n_down", "direction",
                                 "source", "version", "description", "provenance"]]
    return table


def _unknown(name: str, names: Iterable[str]) -> UnknownGeneSetError:
    return UnknownGeneSetError(f"unknown gene set {name!r}; available: {', '.join(names)}")


def load(name: str) -> GeneSet | Signature:
    """Load a catalogue set by name.

    Signatures (kind ``signature``) come back as :class:`Signature` with drivers ``up`` and
    suppressors ``down`` (and the set's ``provenance`` in ``meta``); pathways, axes and the
    context set as :class:`GeneSet` carrying the catalogue weights.

    Raises
    ------
    UnknownGeneSetError
        If the name is not in the catalogue; the message lists the available sets.
    """
    genes, sets = _catalogue_tables()
    if not isinstance(name, str) or name not in set(sets["name"]):
        raise _unknown(str(name), sets["name"])
    meta = sets.set_index("name").loc[name]
    rows = genes[genes["set"] == name]
    if meta["kind"] == "signature":
        up = GeneSet(f"{name}_up", tuple(rows.loc[rows["weight"] > 0, "symbol"]),
                     description="drivers", source=meta["source"])
        down = GeneSet(f"{name}_down", tuple(rows.loc[rows["weight"] < 0, "symbol"]),
                       description="suppressors", source=meta["source"])
        return Signature(name, up, down, description=meta["description"], source=meta["source"],
                         meta={"kind": meta["kind"], "version": meta["version"],
                               "provenance": meta["provenance"]})
    return GeneSet(name, tuple(rows["symbol"]), tuple(rows["weight"]),
                   description=meta["description"], source=meta["source"])


def direction_of(gene_set: str | GeneSet | Signature) -> str:
    """What a higher score of this set means for ferroptosis (a key of :data:`DIRECTIONS`).

    A :class:`Signature` is ``"signed"`` (``"signed, signs unverified"`` when its provenance
    says so, as for ``fpi``); a catalogue pathway axis with its catalogue genes is
    ``"pro-ferroptotic axis"`` or ``"anti-ferroptotic axis"`` (one-directional: its score
    follows one arm of the pathway, so its sign is read against that arm); any other
    :class:`GeneSet` (KEGG, WikiPathways, a user's list) is ``"unsigned"``: it mixes drivers
    and suppressors, and an association of its score has no ferroptosis direction. A string
    is looked up in the catalogue (``"unknown"`` if it is not a catalogue name).

    Examples
    --------
    >>> from ferroscore import genesets
    >>> [genesets.direction_of(n) for n in ("ferroptosis_core", "kegg_ferroptosis", "gsh_gpx4")]
    ['signed', 'unsigned', 'anti-ferroptotic axis']
    """
    if isinstance(gene_set, str):
        names = set(_catalogue_tables()[1]["name"])
        return direction_of(load(gene_set)) if gene_set in names else "unknown"
    if isinstance(gene_set, Signature):
        unverified = "signs unverified" in gene_set.meta.get("provenance", "")
        return "signed, signs unverified" if unverified else "signed"
    genes, sets = _catalogue_tables()
    kinds = sets.set_index("name")
    if gene_set.name in kinds.index and kinds.at[gene_set.name, "kind"] == "axis":
        members = tuple(genes.loc[genes["set"] == gene_set.name, "symbol"])
        if members == gene_set.genes:
            return f"{kinds.at[gene_set.name, 'direction']} axis"
    return "unsigned"


def coerce_sets(
    sets: SetLike | Iterable[SetLike] | Mapping[str, SetLike],
) -> list[GeneSet | Signature]:
    """Turn the forms accepted by the scoring functions into a list of sets.

    Accepted: a catalogue name, a :class:`GeneSet` or :class:`Signature`, a list of those, or a
    dict mapping a name to a list of genes / a GeneSet / a Signature. A GeneSet with weights of
    both signs becomes a Signature.

    Raises
    ------
    UnknownGeneSetError, TypeError, ValueError
        Unknown catalogue names, unsupported objects, duplicated set names.
    """
    if isinstance(sets, (str, GeneSet, Signature)):
        items: list = [sets]
    elif isinstance(sets, Mapping):
        items = []
        for key, value in sets.items():
            if isinstance(value, Signature):
                items.append(value if value.name == key else Signature(
                    key, value.up, value.down, value.description, value.source))
            elif isinstance(value, GeneSet):
                items.append(GeneSet(key, value.genes, value.weights, value.description,
                                     value.source))
            elif isinstance(value, str):
                raise TypeError(f"set {key!r}: expected a list of genes, got the string "
                                f"{value!r}")
            else:
                items.append(GeneSet(key, tuple(value)))
    elif isinstance(sets, Iterable):
        items = list(sets)
        names = list(_catalogue_tables()[1]["name"])
        if items and all(isinstance(x, str) for x in items) and not any(
            x in names for x in items
        ):
            raise TypeError(f"a plain list of strings is ambiguous: {items[:5]} are not "
                            f"catalogue gene sets (available: {', '.join(names)}); pass "
                            "catalogue names, or a dict {'my_set': [genes...]} for a custom set")
    else:
        raise TypeError(f"cannot use {type(sets).__name__} as gene sets")
    out: list[GeneSet | Signature] = []
    for item in items:
        if isinstance(item, str):
            item = load(item)
        if isinstance(item, GeneSet) and item.is_signed:
            item = item.to_signature()
        if not isinstance(item, (GeneSet, Signature)):
            raise TypeError(f"cannot use {type(item).__name__} as a gene set")
        out.append(item)
    if not out:
        raise ValueError("no gene sets given")
    names = [s.name for s in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"gene set names must be unique; repeated: {dup}")
    return out


# ----------------------------------------------------------------------------------------------
# GMT input/output
# ----------------------------------------------------------------------------------------------


def read_gmt(
    path: str | Path,
    *,
    duplicates: str = "drop",
    pair_signatures: bool = False,
    suffixes: tuple[str, str] = ("_up", "_down"),
) -> dict[str, GeneSet | Signature]:
    """Read gene sets from a GMT file.

    Each line is ``name<TAB>description<TAB>gene1<TAB>gene2...``. Empty trailing fields are
    ignored; blank lines are skipped.

    Parameters
    ----------
    path
        GMT file.
    duplicates
        What to do with a gene listed twice in one set: ``"drop"`` keeps the first and warns
        (naming the set and genes), ``"error"`` raises.
    pair_signatures
        Combine sets named ``<X><up suffix>`` and ``<X><down suffix>`` into a Signature ``X``.
    suffixes
        The up and down suffixes used by ``pair_signatures`` (and by :func:`write_gmt`).

    Returns
    -------
    dict
        Set name -> GeneSet (or Signature), in file order.

    Raises
    ------
    ValueError
        Text that is not UTF-8 (naming the byte offset and line); malformed lines (fewer than
        three fields, empty name, no genes) with the line number; repeated set names;
        duplicated genes when ``duplicates="error"``; with ``pair_signatures``, a plain set
        named like a paired signature. A UTF-8 byte-order mark is ignored.
    """
    if duplicates not in ("drop", "error"):
        raise ValueError(f"duplicates must be 'drop' or 'error', got {duplicates!r}")
    sets: dict[str, GeneSet | Signature] = {}
    text = _read_utf8(Path(path))
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        fields = raw.rstrip("\r").split("\t")
        name = fields[0].strip()
        genes = [g.strip() for g in fields[2:] if g.strip()]
        if len(fields) < 3 or not name or not genes:
            raise ValueError(f"{path}:{lineno}: malformed GMT line (need a name, a description "
                             f"and at least one gene, tab-separated): {raw[:80]!r}")
        if name in sets:
            raise ValueError(f"{path}:{lineno}: gene set {name!r} appears more than once")
        unique = list(dict.fromkeys(genes))
        if len(unique) != len(genes):
            repeated = sorted({g for g in genes if genes.count(g) > 1})
            if duplicates == "error":
                raise ValueError(f"{path}:{lineno}: set {name!r} lists genes more than once: "
                                 f"{repeated}")
            warnings.warn(f"{path}:{lineno}: set {name!r} lists genes more than once; kept the "
                          f"first occurrence of {repeated}", UserWarning, stacklevel=2)
        sets[name] = GeneSet(name, tuple(unique), description=fields[1].strip())
    return _pair(sets, suffixes) if pair_signatures else sets


def _read_utf8(path: Path) -> str:
    """A text file's content as UTF-8 (a byte-order mark is dropped); other encodings are an
    error naming the file, the byte offset and the line."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise ValueError(f"{path}: not UTF-8 text (byte 0x{raw[error.start]:02x} at byte offset "
                         f"{error.start}, line {line}); save the file as UTF-8") from None


def _pair(sets: dict[str, GeneSet | Signature], suffixes: tuple[str, str]) -> dict:
    up_suffix, down_suffix = suffixes
    out: dict[str, GeneSet | Signature] = {}
    for name, gs in sets.items():
        if name.endswith(up_suffix) and name[: -len(up_suffix)] + down_suffix in sets:
            base = name[: -len(up_suffix)]
            if base in sets:
                raise ValueError(f"gene set {base!r} is both a plain set and the signature "
                                 f"paired from {name!r} and {base + down_suffix!r}; rename one "
                                 "of them or read with pair_signatures=False")
            out[base] = Signature(base, gs, sets[base + down_suffix])
        elif name.endswith(down_suffix) and name[: -len(down_suffix)] + up_suffix in sets:
            continue
        else:
            out[name] = gs
    return out


def write_gmt(
    sets: SetLike | Iterable[SetLike] | Mapping[str, SetLike],
    path: str | Path,
    *,
    suffixes: tuple[str, str] = ("_up", "_down"),
) -> Path:
    """Write gene sets to a GMT file.

    A Signature ``X`` is written as two lines, ``X_up`` and ``X_down`` (see ``suffixes``), so
    ``read_gmt(path, pair_signatures=True)`` restores it. Accepts everything
    :func:`coerce_sets` accepts.
    """
    lines = []
    for item in coerce_sets(sets):
        parts = ([(item.name + suffixes[0], item.up), (item.name + suffixes[1], item.down)]
                 if isinstance(item, Signature) else [(item.name, item)])
        for name, gs in parts:
            desc = " ".join((gs.description or gs.source or "na").split())
            lines.append("\t".join([name, desc, *gs.genes]))
    out = Path(path)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
