"""Coercion and validation of expression input into one samples x genes representation.

Every scoring path goes through :func:`as_expression`, which accepts pandas DataFrames (either
orientation), numpy arrays with gene names, scipy sparse matrices and AnnData objects, checks
them (empty, non-numeric, non-finite, duplicated names, orientation) and returns an
:class:`Expression` that hands out blocks of samples to the method kernels. Nothing is renamed,
merged or reordered; the only removal is the explicit, reported ``na="drop_genes"``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse

from ferroscore import ids

__all__ = ["Expression", "as_expression", "looks_like_counts"]

GenesAxis = Literal["rows", "columns", 0, 1] | None
TARGET_BLOCK_BYTES = 64 * 2**20


@dataclass
class Expression:
    """Samples x genes expression values with their names.

    Attributes
    ----------
    values
        ``(n_samples, n_genes)`` numpy array (C or F order) or CSR matrix.
    genes, samples
        Feature and sample names (unique).
    input_kind
        Short description of what the user passed (for provenance).
    dropped
        Genes removed by an explicit ``na="drop_genes"`` (empty otherwise).
    """

    values: Any
    genes: pd.Index
    samples: pd.Index
    input_kind: str
    dropped: list[str] = field(default_factory=list)
    lazy: bool = False
    match_names: pd.Index | None = None
    _feature_index: ids.FeatureIndex | None = None
    _means: np.ndarray | None = None
    _constant: np.ndarray | None = None

    @property
    def n_samples(self) -> int:
        return self.values.shape[0]

    @property
    def n_genes(self) -> int:
        return self.values.shape[1]

    @property
    def is_sparse(self) -> bool:
        return sparse.issparse(self.values)

    @property
    def is_dask(self) -> bool:
        return is_dask_array(self.values)

    @property
    def feature_index(self) -> ids.FeatureIndex:
        """Names used to find set members: the genes, or ``match_names`` (e.g. an AnnData
        symbol column, duplicates allowed) when given."""
        if self._feature_index is None:
            names = self.genes if self.match_names is None else self.match_names
            self._feature_index = ids.FeatureIndex(
                [str(g) for g in names], allow_duplicates=self.match_names is not None)
        return self._feature_index

    def gene_means(self) -> np.ndarray:
        """Mean of each gene over samples, ``(n_genes,)`` float64 (computed once)."""
        if self._means is None:
            total = np.zeros(self.n_genes)
            for _, block in self.blocks():
                # cast first: scipy sums float32 sparse data in float32 whatever dtype says
                total += np.asarray(block.astype(np.float64).sum(axis=0)).ravel()
            self._means = total / self.n_samples
        return self._means

    def constant_genes(self, tolerance: float = 1e-10) -> np.ndarray:
        """Boolean mask of genes whose SD over samples is below ``tolerance`` (computed once).

        GSVA removes these genes before scoring with gsva, zscore and plage.
        """
        if self._constant is None:
            means = self.gene_means()
            squares = np.zeros(self.n_genes)
            for _, block in self.blocks():
                dense = block.toarray() if sparse.issparse(block) else block
                squares += ((np.asarray(dense, dtype=np.float64) - means) ** 2).sum(axis=0)
            sd = np.sqrt(squares / max(self.n_samples - 1, 1))
            self._constant = ~(sd >= tolerance) if self.n_samples > 1 else np.ones(
                self.n_genes, dtype=bool)
        return self._constant

    def block_size(self, chunk_size: int | None = None, *, bytes_per_sample: int | None = None,
                   n_jobs: int = 1) -> int:
        """Samples per block: ``chunk_size``, or enough to hold about 64 MB per block while
        giving every one of ``n_jobs`` workers at least one block."""
        if chunk_size is not None:
            if int(chunk_size) < 1:
                raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
            return int(chunk_size)
        per_sample = bytes_per_sample or 8 * max(self.n_genes, 1)
        size = max(1, TARGET_BLOCK_BYTES // per_sample)
        return max(1, min(size, -(-self.n_samples // max(n_jobs, 1))))

    def blocks(self, chunk_size: int | None = None, **kwargs) -> Iterator[tuple[slice, Any]]:
        """Yield ``(rows, block)`` with ``block`` a C-contiguous array or a CSR matrix."""
        for rows in self.block_slices(chunk_size, **kwargs):
            yield rows, self.rows(rows)

    def block_slices(self, chunk_size: int | None = None, **kwargs) -> list[slice]:
        """The row slices :meth:`blocks` iterates over."""
        size = self.block_size(chunk_size, **kwargs)
        return [slice(start, min(start + size, self.n_samples))
                for start in range(0, self.n_samples, size)]

    def rows(self, rows: slice | np.ndarray) -> Any:
        """Values of some samples, dense C-contiguous or CSR with sorted indices.

        For lazy input (backed h5ad, dask) the block is read here and validated.
        """
        block = self.values[rows]
        if self.lazy:
            block = block.compute() if is_dask_array(block) else block
            block = _checked_block(block, self.samples[rows], self.genes)
        if sparse.issparse(block):
            block = sparse.csr_matrix(block)
            block.sort_indices()
            return block
        return np.ascontiguousarray(block)

    def columns(self, cols: np.ndarray) -> np.ndarray:
        """Dense ``(n_samples, len(cols))`` float64 values of some genes."""
        if self.lazy:
            parts = [block[:, cols] for _, block in self.blocks()]
            return np.vstack([p.toarray() if sparse.issparse(p) else p for p in parts]).astype(
                np.float64, copy=False)
        sub = self.values[:, cols]
        if sparse.issparse(sub):
            sub = sub.toarray()
        return np.asarray(sub, dtype=np.float64)

    def dense(self) -> np.ndarray:
        """All values as a dense float64 array (used where a method needs the whole matrix)."""
        if self.lazy:
            return self.columns(np.arange(self.n_genes))
        if self.is_sparse:
            return self.values.toarray().astype(np.float64, copy=False)
        return np.asarray(self.values, dtype=np.float64)

    def subset_samples(self, rows: np.ndarray) -> Expression:
        """A new Expression holding only some samples (same genes)."""
        values = self.values[rows]
        return Expression(values, self.genes, self.samples[rows], self.input_kind, self.dropped,
                          self.lazy, self.match_names, self._feature_index)

    def reorder_genes(self, genes: pd.Index) -> Expression:
        """The same samples with genes reordered to ``genes`` (which must be the same set)."""
        where = self.genes.get_indexer(genes)
        missing = genes[where < 0]
        extra = self.genes.difference(genes)
        if len(missing) or len(extra):
            raise ValueError(
                f"the data's genes differ from the reference's: {len(missing)} missing "
                f"(e.g. {list(missing[:5])}) and {len(extra)} extra (e.g. {list(extra[:5])}). "
                "Score data with exactly the reference's genes.")
        if np.array_equal(where, np.arange(len(genes))):
            return self
        return Expression(self.values[:, where], genes, self.samples, self.input_kind,
                          self.dropped, self.lazy,
                          None if self.match_names is None else self.match_names[where])


# ----------------------------------------------------------------------------------------------
# Lazy inputs: backed h5ad datasets and dask arrays
# ----------------------------------------------------------------------------------------------


def is_dask_array(values: Any) -> bool:
    return type(values).__module__.split(".")[0] == "dask" and hasattr(values, "chunks")


def is_backed_dataset(values: Any) -> bool:
    """An h5py dataset or anndata's backed sparse dataset (read block by block from disk)."""
    module = type(values).__module__
    return module.startswith("h5py") or (module.startswith("anndata") and
                                         hasattr(values, "format") and
                                         hasattr(values, "group"))


def _checked_block(block: Any, samples: pd.Index, genes: pd.Index) -> Any:
    """Validate one block read from a lazy source (dtype, NaN/inf)."""
    block = _as_float(block)
    count, bad_genes, bad_samples = _nonfinite_report(block, genes, samples)
    if count:
        raise ValueError(f"expression has {count} NaN/inf values (found while reading samples "
                         f"{[str(s) for s in bad_samples[:5]]}, genes "
                         f"{[str(g) for g in bad_genes[:5]]}); fix the input first "
                         "(na='drop_genes' needs an in-memory matrix)")
    return block


# ----------------------------------------------------------------------------------------------
# Orientation
# ----------------------------------------------------------------------------------------------


def _normalise_axis(genes_axis: GenesAxis) -> str | None:
    if genes_axis is None:
        return None
    mapping = {"rows": "rows", 0: "rows", "columns": "columns", "cols": "columns", 1: "columns"}
    if genes_axis not in mapping:
        raise ValueError(f"genes_axis must be 'rows', 'columns', 0, 1 or None, got {genes_axis!r}")
    return mapping[genes_axis]


def _gene_fraction(labels: pd.Index, members: set[str], limit: int = 2000) -> float:
    labels = labels[:limit] if len(labels) > limit else labels
    strings = [str(x) for x in labels]
    if not strings:
        return 0.0
    # aliases are left out: short ones such as S1 or T9 are common sample names
    status = ids.resolve(strings)["status"].to_numpy()
    recognised = np.isin(status, ["official", "ensembl"])
    recognised |= np.array([s in members for s in strings])
    return float(recognised.mean())


def detect_genes_axis(frame: pd.DataFrame, members: Iterable[str] = ()) -> str:
    """Decide whether a DataFrame has genes on its rows or its columns.

    An axis counts as genes when its labels are official gene symbols, Ensembl gene IDs or set
    members and the other axis's labels are not (none of them, or at most a fifth as many while
    at least 20% of the gene axis's). Anything else is an error, never a guess.
    """
    members = set(members)
    f_rows = _gene_fraction(frame.index, members)
    f_cols = _gene_fraction(frame.columns, members)
    if f_rows > 0 and (f_cols == 0 or (f_rows >= 0.2 and f_rows > 5 * f_cols)):
        return "rows"
    if f_cols > 0 and (f_rows == 0 or (f_cols >= 0.2 and f_cols > 5 * f_rows)):
        return "columns"
    if f_rows == 0 and f_cols == 0:
        raise ValueError("no gene identifiers recognised on either axis of the DataFrame; name "
                         "the genes (symbols, Ensembl or set members) or pass genes_axis='rows' "
                         "or 'columns'")
    raise ValueError(f"cannot tell which axis holds the genes ({f_rows:.0%} of row labels and "
                     f"{f_cols:.0%} of column labels look like genes); pass genes_axis='rows' "
                     "or 'columns'")


# ----------------------------------------------------------------------------------------------
# Validation helpers
# ----------------------------------------------------------------------------------------------


def _check_unique(names: pd.Index, what: str) -> None:
    if names.has_duplicates:
        dups = names[names.duplicated()].unique()[:5].tolist()
        hint = (" Collapse them explicitly with fs.ids.collapse(matrix, how='max_mean') or "
                "how='mean'." if what == "gene" else " Make the sample names unique.")
        raise ValueError(f"duplicated {what} names: {dups}.{hint}")


def _check_numeric_frame(frame: pd.DataFrame, genes_on: str) -> None:
    bad = [c for c, dt in frame.dtypes.items()
           if not (pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_bool_dtype(dt))]
    if bad:
        what = "samples" if genes_on == "rows" else "genes"
        raise TypeError(f"expression values must be numeric; non-numeric columns ({what}): "
                        f"{[str(b) for b in bad[:5]]}. Put gene names in the index, not in a "
                        "column (e.g. pd.read_csv(..., index_col=0)).")


def _check_dtype(values: Any) -> None:
    dtype = values.dtype
    if dtype == np.bool_ or not (np.issubdtype(dtype, np.floating)
                                 or np.issubdtype(dtype, np.integer)):
        raise TypeError(f"expression values must be real numbers, got dtype {dtype}")


def _as_float(values: Any) -> Any:
    """Keep float32/float64; convert integers to float64 (exactly, up to 2**53)."""
    _check_dtype(values)
    if np.issubdtype(values.dtype, np.floating):
        return values
    if values.dtype.itemsize >= 8:
        data = values.data if sparse.issparse(values) else values
        if data.size and np.abs(data).max() > 2**53:
            raise ValueError("integer values above 2**53 cannot be represented exactly as "
                             "floats; check the input (overflowed counts?)")
    return values.astype(np.float64)


def _nonfinite_report(values: Any, genes: pd.Index, samples: pd.Index) -> tuple[int, list, list]:
    if sparse.issparse(values):
        csr = sparse.csr_matrix(values)
        bad = ~np.isfinite(csr.data)
        if not bad.any():
            return 0, [], []
        rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))[bad]
        cols = csr.indices[bad]
    else:
        finite = np.isfinite(values)
        if finite.all():
            return 0, [], []
        rows, cols = np.nonzero(~finite)
    gene_list = pd.unique(genes[cols]).tolist()
    sample_list = pd.unique(samples[rows]).tolist()
    return len(rows), gene_list, sample_list


def _handle_nonfinite(values, genes, samples, na: str) -> tuple[Any, pd.Index, list[str]]:
    if na not in ("error", "drop_genes"):
        raise ValueError(f"na must be 'error' or 'drop_genes', got {na!r}")
    count, bad_genes, bad_samples = _nonfinite_report(values, genes, samples)
    if count == 0:
        return values, genes, []
    if na == "error":
        raise ValueError(f"expression has {count} NaN/inf values in {len(bad_genes)} genes "
                         f"(e.g. {[str(g) for g in bad_genes[:5]]}) and {len(bad_samples)} "
                         f"samples (e.g. {[str(s) for s in bad_samples[:5]]}). Impute or remove "
                         "them, or pass na='drop_genes' to drop those genes (reported).")
    drop = np.isin(genes, bad_genes)
    keep = np.flatnonzero(~drop)
    warnings.warn(f"na='drop_genes': dropped {int(drop.sum())} genes with NaN/inf values: "
                  f"{[str(g) for g in bad_genes[:10]]}{' ...' if len(bad_genes) > 10 else ''}",
                  UserWarning, stacklevel=4)
    values = values[:, keep]
    return values, genes[keep], [str(g) for g in bad_genes]


def looks_like_counts(values: Any, sample_size: int = 100_000) -> tuple[bool, float]:
    """Heuristic: are these raw counts (non-negative integers reaching large values)?

    Returns ``(is_counts, max_value_seen)`` from a deterministic grid of at most
    ``sample_size`` values (never a copy of the whole matrix).
    """
    if is_dask_array(values) or is_backed_dataset(values):
        first = values[: min(values.shape[0], 200)]
        first = first.compute() if is_dask_array(first) else first
        return looks_like_counts(first, sample_size)
    if sparse.issparse(values):
        data = values.data
        sample = np.asarray(data[:: max(1, data.size // sample_size)], dtype=np.float64)
    else:
        n_rows, n_cols = values.shape
        side = max(1, int(np.sqrt(sample_size)))
        rows = np.unique(np.linspace(0, n_rows - 1, min(n_rows, side)).astype(int))
        cols = np.unique(np.linspace(0, n_cols - 1, min(n_cols, side)).astype(int))
        sample = np.asarray(values[np.ix_(rows, cols)], dtype=np.float64).ravel()
    if sample.size == 0:
        return False, 0.0
    top = float(sample.max(initial=0.0))
    is_counts = bool((sample >= 0).all() and np.all(sample == np.round(sample)) and top > 100)
    return is_counts, top


# ----------------------------------------------------------------------------------------------
# Entry point
# ----------------------------------------------------------------------------------------------


def as_expression(
    data: Any,
    *,
    genes: Iterable[str] | None = None,
    samples: Iterable[str] | None = None,
    genes_axis: GenesAxis = None,
    layer: str | None = None,
    use_raw: bool | None = None,
    gene_symbols: str | None = None,
    members: Iterable[str] = (),
    na: str = "error",
) -> Expression:
    """Validate expression input and return it as samples x genes.

    Parameters
    ----------
    data
        DataFrame (genes x samples or samples x genes), numpy array (with ``genes``), scipy
        sparse matrix (with ``genes``) or AnnData (cells/samples x genes).
    genes, samples
        Names for array input (``samples`` optional).
    genes_axis
        Force the axis holding genes for DataFrames and arrays: ``"rows"``/0 or
        ``"columns"``/1. Without it a DataFrame's orientation is detected from its labels and
        an array's from the length of ``genes``; ambiguity is an error.
    layer, use_raw, gene_symbols
        AnnData only: read ``adata.layers[layer]`` or ``adata.raw``; find set members by the
        names in the ``var`` column ``gene_symbols`` (duplicates allowed) instead of
        ``var_names``, which stay the features' identity.
    members
        Gene-set members, used to recognise genes when detecting orientation.
    na
        ``"error"`` (default) rejects NaN/inf; ``"drop_genes"`` drops genes carrying them and
        reports the dropped genes.

    Raises
    ------
    ValueError, TypeError
        For empty, non-numeric or non-finite input, duplicated gene or sample names, and
        unknown or ambiguous orientation; the message says how to fix it.
    """
    axis = _normalise_axis(genes_axis)
    match_names = None
    if _is_anndata(data):
        values, gene_names, sample_names, kind, match_names = _from_anndata(
            data, layer, use_raw, gene_symbols)
    elif layer is not None or use_raw is not None or gene_symbols is not None:
        raise TypeError("layer, use_raw and gene_symbols apply to AnnData input only")
    elif isinstance(data, pd.DataFrame):
        values, gene_names, sample_names, kind = _from_frame(data, axis, members)
    elif isinstance(data, np.ndarray) or sparse.issparse(data) or is_dask_array(data):
        values, gene_names, sample_names, kind = _from_array(data, genes, samples, axis)
    elif isinstance(data, pd.Series):
        raise TypeError("a Series holds one profile; pass a DataFrame (use series.to_frame())")
    else:
        raise TypeError(f"unsupported expression input of type {type(data).__name__}; pass a "
                        "DataFrame, a numpy array or scipy sparse matrix with genes=, or AnnData")
    if values.shape[0] == 0 or values.shape[1] == 0:
        raise ValueError(f"expression matrix is empty ({values.shape[0]} samples x "
                         f"{values.shape[1]} genes)")
    _check_unique(gene_names, "gene")
    _check_unique(sample_names, "sample")
    if is_dask_array(values) or is_backed_dataset(values):
        if na != "error":
            raise ValueError("na='drop_genes' needs an in-memory matrix; backed and dask input "
                             "is checked block by block while it is read")
        _check_dtype(values)
        return Expression(values, gene_names, sample_names, kind, [], lazy=True,
                          match_names=match_names)
    values = _as_float(values)
    kept = gene_names
    values, gene_names, dropped = _handle_nonfinite(values, gene_names, sample_names, na)
    if values.shape[1] == 0:
        raise ValueError("no genes left after dropping genes with NaN/inf values")
    if match_names is not None and dropped:
        match_names = match_names[kept.isin(gene_names)]
    if sparse.issparse(values):
        values = sparse.csr_matrix(values)
    return Expression(values, gene_names, sample_names, kind, dropped, match_names=match_names)


def _is_anndata(data: Any) -> bool:
    return type(data).__name__ == "AnnData" and hasattr(data, "obs_names")


def _from_frame(frame: pd.DataFrame, axis: str | None, members: Iterable[str]):
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"expression DataFrame is empty (shape {frame.shape})")
    axis = axis or detect_genes_axis(frame, members)
    if axis == "rows":
        _check_numeric_frame(frame, "rows")
        values = frame.to_numpy().T
        gene_names, sample_names = frame.index, frame.columns
    else:
        _check_numeric_frame(frame, "columns")
        values = frame.to_numpy()
        gene_names, sample_names = frame.columns, frame.index
    kind = f"DataFrame (genes on {axis})"
    return values, _str_index(gene_names, "gene"), _str_index(sample_names, "sample"), kind


def _str_index(index: pd.Index, what: str) -> pd.Index:
    if index.hasnans:
        raise ValueError(f"{what} names contain missing values; name every {what}")
    return pd.Index([str(x) for x in index], name=what)


def _from_array(array, genes, samples, axis):
    if array.ndim != 2:
        raise ValueError(f"expression array must be 2-D, got shape {array.shape}")
    if genes is None:
        raise TypeError("array input needs gene names: pass genes=[...] (one per gene)")
    gene_names = _str_index(pd.Index(list(genes)), "gene")
    n_genes = len(gene_names)
    if axis is None:
        rows_match, cols_match = array.shape[0] == n_genes, array.shape[1] == n_genes
        if rows_match and cols_match:
            raise ValueError(f"square {array.shape} array: pass genes_axis='rows' or 'columns'")
        if not (rows_match or cols_match):
            raise ValueError(f"{n_genes} gene names do not match either axis of the "
                             f"{array.shape} array")
        axis = "rows" if rows_match else "columns"
    if axis == "rows":
        array = array.T
    if array.shape[1] != n_genes:
        raise ValueError(f"{n_genes} gene names but {array.shape[1]} genes on the given axis")
    n_samples = array.shape[0]
    if samples is None:
        sample_names = pd.Index([f"sample_{i}" for i in range(n_samples)], name="sample")
    else:
        sample_names = _str_index(pd.Index(list(samples)), "sample")
        if len(sample_names) != n_samples:
            raise ValueError(f"{len(sample_names)} sample names for {n_samples} samples")
    kind = ("dask array" if is_dask_array(array) else
            "sparse matrix" if sparse.issparse(array) else "numpy array")
    return array, gene_names, sample_names, f"{kind} (genes on {axis})"


def anndata_matrix(adata, layer: str | None, use_raw: bool | None
                   ) -> tuple[Any, pd.DataFrame, pd.Index, str]:
    """The matrix that ``layer`` / ``use_raw`` select, as in scanpy.

    Returns
    -------
    values, var, var_names, where
        The cells x genes matrix (``adata.raw.X``, ``adata.layers[layer]`` or ``adata.X``),
        the matching ``var`` table and gene names, and a description for messages.
    """
    if layer is not None and use_raw:
        raise ValueError("pass only one of layer= and use_raw=True (as in scanpy)")
    if use_raw:
        if adata.raw is None:
            raise ValueError("use_raw=True but adata.raw is None")
        return adata.raw.X, adata.raw.var, adata.raw.var_names, "adata.raw.X"
    if layer is not None:
        if layer not in adata.layers:
            raise KeyError(f"layer {layer!r} not in adata.layers (available: "
                           f"{list(adata.layers.keys())})")
        return adata.layers[layer], adata.var, adata.var_names, f"adata.layers[{layer!r}]"
    return adata.X, adata.var, adata.var_names, "adata.X"


def var_gene_names(var: pd.DataFrame, gene_symbols: str) -> pd.Index:
    """Gene names from the ``var`` column ``gene_symbols`` (scanpy's ``gene_symbols=``)."""
    if gene_symbols not in var.columns:
        raise KeyError(f"gene_symbols={gene_symbols!r} is not a column of var "
                       f"(columns: {list(var.columns)})")
    return pd.Index(var[gene_symbols].astype(str))


def _from_anndata(adata, layer, use_raw, gene_symbols):
    values, var, var_names, where = anndata_matrix(adata, layer, use_raw)
    if values is None:
        raise ValueError(f"{where} is empty (None)")
    gene_names = _str_index(pd.Index(var_names), "gene")
    match_names = None if gene_symbols is None else var_gene_names(var, gene_symbols)
    if adata.isbacked and where == "adata.X":
        mode = getattr(adata.file, "_filemode", "r")
        if mode != "r":
            raise ValueError(f"the AnnData is backed by a file opened for writing "
                             f"(mode {mode!r}); open it read-only with "
                             "anndata.read_h5ad(path, backed='r') so its file cannot change")
        where = f"backed {adata.filename}"
    elif not (isinstance(values, np.ndarray) or sparse.issparse(values)
              or is_dask_array(values)):
        values = np.asarray(values)
    samples = _str_index(pd.Index(adata.obs_names), "sample")
    return values, gene_names, samples, f"AnnData {where}", match_names
