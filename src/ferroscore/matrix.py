"""Coercion and validation of expression input into one samples x genes representation.

Every scoring path goes through :func:`as_expression`, which accepts pandas DataFrames (either
orientation), numpy arrays with gene names, scipy sparse matrices and AnnData objects, checks
them (empty, non-numeric, non-finite, duplicated names, orientation) and returns an
:class:`Expression` that hands out blocks of samples to the method kernels. Nothing is renamed,
merged or reordered; the only removal is the explicit, reported ``na="drop_genes"``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse

from ferroscore import ids
from ferroscore._interface import hint, warn

__all__ = ["Expression", "as_expression", "gene_labels", "looks_like_counts",
           "power_of_two_scale"]

GenesAxis = Literal["rows", "columns", 0, 1] | None
TARGET_BLOCK_BYTES = 64 * 2**20
NA_RULES = ("error", "drop_genes", "per_sample")
DROP_GENES_API = "na='drop_genes'"
#: Values whose magnitude exceeds this are rescaled (by a power of two, so exactly) before sums
#: of values or of squares, which would otherwise overflow.
LARGE = 2.0**500


def power_of_two_scale(max_abs: np.ndarray) -> np.ndarray:
    """Per-entry scale factors: 1 for magnitudes up to :data:`LARGE`, else the power of two
    that brings the magnitude into [1, 2).

    Dividing by a power of two is exact, so statistics computed on rescaled values and scaled
    back equal the direct computation wherever that does not overflow: scale-equivariant
    methods stay equivariant up to the largest floats.
    """
    max_abs = np.asarray(max_abs, dtype=np.float64)
    return np.where(max_abs > LARGE, np.ldexp(1.0, np.frexp(max_abs)[1] - 1), 1.0)


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
    missing
        With ``na="per_sample"``: the number of NaN/inf values of each sample, ``(n_samples,)``
        (those values are left in ``values`` and each sample is scored on the genes it
        observed); None otherwise.
    reject_negative_sparse
        Set by a method that ranks zeros at the bottom (ucell, aucell): blocks of lazy sparse
        input are checked for negative stored values as they are read.
    """

    values: Any
    genes: pd.Index
    samples: pd.Index
    input_kind: str
    dropped: list[str] = field(default_factory=list)
    lazy: bool = False
    match_names: pd.Index | None = None
    _feature_index: ids.FeatureIndex | None = None
    missing: np.ndarray | None = None
    reject_negative_sparse: str | None = None
    _means: np.ndarray | None = None
    _scale: np.ndarray | None = None
    _constant: np.ndarray | None = None
    _exact_means: np.ndarray | None = None

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
            if self.match_names is None:  # unique strings, checked by as_expression
                self._feature_index = ids.FeatureIndex(self.genes)
            else:
                self._feature_index = ids.FeatureIndex([str(g) for g in self.match_names],
                                                       allow_duplicates=True)
        return self._feature_index

    def _column_totals(self, scale: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Sums of each gene's finite values (divided by ``scale``) and their counts, in one
        pass over the blocks."""
        total = np.zeros(self.n_genes)
        count = np.zeros(self.n_genes)
        for _, block in self.blocks():
            # cast first: scipy sums float32 sparse data in float32 whatever dtype says
            block = block.astype(np.float64)
            if sparse.issparse(block):
                data = block.data
                if self.missing is not None:
                    bad = ~np.isfinite(data)
                    count -= np.bincount(block.indices[bad], minlength=self.n_genes)
                    data[bad] = 0.0
                if scale is not None:
                    data /= scale[block.indices]
                total += np.asarray(block.sum(axis=0)).ravel()
            else:
                if self.missing is not None:
                    bad = ~np.isfinite(block)
                    count -= bad.sum(axis=0)
                    block = np.where(bad, 0.0, block)
                if scale is not None:
                    block = block / scale
                total += block.sum(axis=0)
            count += block.shape[0]
        return total, count

    def symbol_map(self) -> dict[str, str] | None:
        """Gene identifier -> the name used to find set members (an AnnData ``gene_symbols``
        column), or None when the identifiers themselves are used."""
        if self.match_names is None:
            return None
        return dict(zip(map(str, self.genes), map(str, self.match_names), strict=True))

    def gene_means(self) -> np.ndarray:
        """Mean of each gene over samples (of its observed values with ``na="per_sample"``),
        ``(n_genes,)`` float64 (computed once). If a sum overflows, the genes are summed again
        after exact power-of-two rescaling (:func:`power_of_two_scale`), so no mean does.
        Dask input has no sample order to sum in: its means are :meth:`exact_gene_means`."""
        if self._means is None and self.is_dask:
            self._means = self.exact_gene_means()
        if self._means is None:
            with np.errstate(over="ignore", invalid="ignore"):  # overflow: summed again
                total, count = self._column_totals(None)
            with np.errstate(invalid="ignore", divide="ignore"):  # genes without a value
                if np.isfinite(total).all():
                    self._means = total / count
                else:
                    self._scale = power_of_two_scale(self._max_abs())
                    total, count = self._column_totals(self._scale)
                    self._means = total / count * self._scale  # scaled units: no overflow
        return self._means

    def exact_gene_means(self) -> np.ndarray:
        """Correctly rounded mean of each gene's finite values, from exact sums
        (:mod:`ferroscore._exactsum`): the same whatever the order of the samples or the
        chunking, for in-memory, backed and dask input alike (dask: a tree reduction on the
        cluster). ``(n_genes,)`` float64, computed once."""
        if self._exact_means is None:
            if self.is_dask:
                from ferroscore import _lazy

                self._exact_means = _lazy.exact_means(
                    _lazy.LazyData.from_expression(self)).compute()
            else:
                from ferroscore import _exactsum

                total = None
                for _, block in self.blocks():
                    part = _exactsum.accumulate(block)
                    total = part if total is None else _exactsum.merge(total, part)
                self._exact_means = _exactsum.means(total)
        return self._exact_means

    def _max_abs(self) -> np.ndarray:
        """Largest finite magnitude of each gene."""
        out = np.zeros(self.n_genes)
        for _, block in self.blocks():
            dense = block.toarray() if sparse.issparse(block) else np.asarray(block)
            dense = np.abs(dense.astype(np.float64))
            dense[~np.isfinite(dense)] = 0.0
            np.maximum(out, dense.max(axis=0, initial=0.0), out=out)
        return out

    def constant_genes(self, tolerance: float = 1e-10) -> np.ndarray:
        """Boolean mask of genes whose SD over samples is below ``tolerance`` or whose values
        are all equal (computed once).

        GSVA removes these genes before scoring with gsva, zscore and plage. The rounding of a
        floating-point mean leaves a constant gene of large values (1e7, 1e308) an SD above
        any absolute tolerance, so genes whose SD is tiny next to their mean are checked for
        exactly equal values. Dask input: the same rule on moments reduced on the cluster
        (:func:`ferroscore._lazy.constant_genes`).
        """
        if self._constant is None and self.is_dask:
            from ferroscore import _lazy

            self._constant = _lazy.constant_genes(self, tolerance)
        if self._constant is None:
            means = self.gene_means()
            with np.errstate(over="ignore", invalid="ignore"):  # overflow: summed again
                squares = self._squared_deviations(means, self._scale)
            if self._scale is None and not np.isfinite(squares).all():
                self._scale = power_of_two_scale(self._max_abs())
                squares = self._squared_deviations(means, self._scale)
            sd = np.sqrt(squares / max(self.n_samples - 1, 1))
            if self._scale is not None:
                sd *= self._scale
            constant = ~(sd >= tolerance)
            suspects = np.flatnonzero(~constant & (sd <= np.abs(means) * 1e-8))
            if len(suspects):
                values = self.columns(suspects)
                constant[suspects] = (values == values[:1]).all(axis=0)
            self._constant = constant
        return self._constant

    def _squared_deviations(self, means: np.ndarray, scale: np.ndarray | None) -> np.ndarray:
        """Sum over samples of ``((x - mean) / scale) ** 2`` for every gene."""
        squares = np.zeros(self.n_genes)
        for _, block in self.blocks():
            dense = np.asarray(block.toarray() if sparse.issparse(block) else block,
                               dtype=np.float64)
            if scale is None:
                deviation = dense - means
            else:  # huge genes: deviations in exactly rescaled units
                deviation = dense / scale - means / scale
            squares += (deviation ** 2).sum(axis=0)
        return squares

    def block_size(self, chunk_size: int | None = None, *, bytes_per_sample: int | None = None,
                   n_jobs: int = 1) -> int:
        """Samples per block: ``chunk_size``, or at most about 64 MB per block, in a number of
        blocks that is a multiple of ``n_jobs`` (every worker gets the same share)."""
        if chunk_size is not None:
            if int(chunk_size) < 1:
                raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
            return int(chunk_size)
        per_sample = bytes_per_sample or 8 * max(self.n_genes, 1)
        n_jobs = max(n_jobs, 1)
        n_blocks = -(-self.n_samples // max(1, TARGET_BLOCK_BYTES // per_sample))
        n_blocks = -(-n_blocks // n_jobs) * n_jobs
        return max(1, -(-self.n_samples // n_blocks))

    def blocks(self, chunk_size: int | None = None, **kwargs) -> Iterator[tuple[slice, Any]]:
        """Yield ``(rows, block)`` with ``block`` a C-contiguous array or a CSR matrix."""
        for rows in self.block_slices(chunk_size, **kwargs):
            yield rows, self.rows(rows)

    def block_slices(self, chunk_size: int | None = None, **kwargs) -> list[slice]:
        """The row slices :meth:`blocks` iterates over."""
        size = self.block_size(chunk_size, **kwargs)
        return [slice(start, min(start + size, self.n_samples))
                for start in range(0, self.n_samples, size)]

    def rows(self, rows: slice | np.ndarray, *, contiguous: bool = True) -> Any:
        """Values of some samples: dense, C-contiguous (with ``contiguous=False``: as the
        matrix holds them, e.g. rows of an F-ordered matrix, without a copy), or CSR with sorted
        indices (for a slice of an in-memory CSR matrix with sorted indices: a view of its
        arrays, without a copy).

        For lazy input (backed h5ad, dask) the block is read here and validated.
        """
        if self.is_sparse and isinstance(rows, slice) and self.values.has_sorted_indices:
            return _csr_row_view(self.values, rows)
        block = self.values[rows]
        if self.lazy:
            block = block.compute() if is_dask_array(block) else block
            block = _checked_block(block, self.samples[rows], self.genes,
                                   self.reject_negative_sparse)
        if sparse.issparse(block):
            block = sparse.csr_matrix(block)
            block.sort_indices()
            return block
        return np.ascontiguousarray(block) if contiguous else block

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
                          self.lazy, self.match_names, self._feature_index,
                          None if self.missing is None else self.missing[rows])

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
                          None if self.match_names is None else self.match_names[where],
                          missing=self.missing)


def _csr_row_view(matrix: sparse.csr_matrix, rows: slice) -> sparse.csr_matrix:
    """Rows of a CSR matrix with sorted indices, sharing its ``data`` and ``indices``."""
    start, stop, step = rows.indices(matrix.shape[0])
    if step != 1:
        return matrix[rows]
    first, end = matrix.indptr[start], matrix.indptr[stop]
    view = sparse.csr_matrix((matrix.data[first:end], matrix.indices[first:end],
                              matrix.indptr[start:stop + 1] - first),
                             shape=(stop - start, matrix.shape[1]), copy=False)
    view.has_sorted_indices = True
    return view


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


def _checked_block(block: Any, samples: pd.Index, genes: pd.Index,
                   reject_negative_sparse: str | None = None) -> Any:
    """Validate one block read from a lazy source (dtype, NaN/inf, negative sparse values)."""
    block = _as_float(block)
    count, bad_genes, bad_samples = _nonfinite_report(block, genes, samples)
    if count:
        raise ValueError(f"expression has {count} NaN/inf values (found while reading samples "
                         f"{[str(s) for s in bad_samples[:5]]}, genes "
                         f"{gene_labels(bad_genes[:5])}); fix the input first "
                         "(dropping genes or scoring per sample needs an in-memory matrix)")
    if reject_negative_sparse and sparse.issparse(block):
        check_sparse_non_negative(block, reject_negative_sparse, "the input")
    return block


def check_sparse_non_negative(matrix: Any, method: str, where: str) -> None:
    """Reject negative stored values of a sparse matrix for methods that rank implicit zeros
    at the bottom of every sample (ucell, aucell)."""
    data = matrix.data
    if data.size and data.min() < 0:
        raise ValueError(
            f"{where} is sparse with negative stored values (scaled data?); {method} ranks the "
            "implicit zeros of sparse input at the bottom of each cell, which negative values "
            "contradict. Score the log-normalised values instead "
            f"({hint('layer=... or use_raw=True', '--layer NAME or --use-raw')}), pass a dense "
            "matrix if negative values are meaningful, or use a method for centred data such "
            "as zscore")


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
    status = np.asarray(ids.statuses(strings))
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
        fix = (hint(" Collapse them explicitly with fs.ids.collapse(matrix, how='max_mean') or "
                    "how='mean'.", " Collapse them before scoring (e.g. keep the row with the "
                    "highest mean).") if what == "gene" else " Make the sample names unique.")
        raise ValueError(f"duplicated {what} names: {dups}.{fix}")


def _check_numeric_frame(frame: pd.DataFrame, genes_on: str) -> None:
    non_numeric = {dt for dt in set(frame.dtypes)  # each distinct dtype checked once
                   if not pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_bool_dtype(dt)}
    bad = [c for c, dt in frame.dtypes.items() if dt in non_numeric] if non_numeric else []
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
    """Keep float32/float64; cast float16 to float32 (exact), other floats (long double) to
    float64, integers to float64 (exactly, up to 2**53). See :func:`_cast_note`."""
    _check_dtype(values)
    dtype = values.dtype
    if dtype in (np.float32, np.float64):
        return values
    if dtype == np.float16:
        return values.astype(np.float32)
    if np.issubdtype(dtype, np.floating):
        return values.astype(np.float64)
    if dtype.itemsize >= 8:
        data = values.data if sparse.issparse(values) else values
        if data.size and np.abs(data).max() > 2**53:
            _integer_overflow()
    return values.astype(np.float64)


def _integer_overflow() -> None:
    raise ValueError("integer values above 2**53 cannot be represented exactly as floats; "
                     "check the input (overflowed counts?)")


def _cast_note(dtype: np.dtype) -> str | None:
    """What :func:`_as_float` does to a floating dtype the kernels do not take, for the
    result's provenance (integers are converted exactly and not noted)."""
    if dtype == np.float16:
        return "float16 values cast to float32 (exact)"
    if np.issubdtype(dtype, np.floating) and dtype not in (np.float32, np.float64):
        return f"{dtype} values rounded to float64"
    return None


def _all_finite(values: np.ndarray, chunk: int = 2**18, *, threaded: bool = False) -> bool:
    """No NaN/inf in ``values``, checked a chunk at a time (one read of the matrix, without a
    mask as large as the matrix; a chunk's mask stays in cache); with ``threaded``, a large
    matrix in a few threads at once (numpy releases the GIL)."""
    if not (values.flags.c_contiguous or values.flags.f_contiguous):
        return bool(np.isfinite(values).all())
    flat = values.ravel(order="K")

    def finite(start: int, stop: int) -> bool:
        return all(np.isfinite(flat[i:min(i + chunk, stop)]).all()
                   for i in range(start, stop, chunk))

    n_threads = min(os.cpu_count() or 1, 4, -(-flat.size // (16 * chunk))) if threaded else 1
    if n_threads <= 1:
        return finite(0, flat.size)
    bounds = np.linspace(0, flat.size, n_threads + 1).astype(np.int64)
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        return all(pool.map(finite, bounds[:-1], bounds[1:]))


def _nonfinite_report(values: Any, genes: pd.Index, samples: pd.Index, *,
                      threaded: bool = False) -> tuple[int, list, list]:
    """Number of NaN/inf values and the genes and samples holding them (``threaded``: see
    :func:`_all_finite`; blocks read by the scoring threads check in their own thread)."""
    if sparse.issparse(values):
        csr = sparse.csr_matrix(values)
        if _all_finite(csr.data, threaded=threaded):
            return 0, [], []
        bad = ~np.isfinite(csr.data)
        rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))[bad]
        cols = csr.indices[bad]
    else:
        if _all_finite(values, threaded=threaded):
            return 0, [], []
        rows, cols = np.nonzero(~np.isfinite(values))
    gene_list = pd.unique(genes[cols]).tolist()
    sample_list = pd.unique(samples[rows]).tolist()
    return len(rows), gene_list, sample_list


def gene_labels(names: Iterable[str], symbols: dict[str, str] | None = None) -> list[str]:
    """Gene identifiers for messages, with the official symbol when it differs
    (``'ENSG00000167468 (GPX4)'``); ``symbols`` maps identifiers to known names (e.g. an
    AnnData ``gene_symbols`` column), otherwise identifiers are resolved with :mod:`ids`."""
    names = [str(n) for n in names]
    if symbols is None:
        table = ids.resolve(names)
        symbols = {n: s for n, s, status in table[["input", "symbol", "status"]].itertuples(
            index=False) if s is not None and status in ids.RESOLVED}
    return [f"{n} ({symbols[n]})" if symbols.get(n, n) != n else n for n in names]


def _handle_nonfinite(values, genes, samples, na: str, symbols: dict[str, str] | None
                      ) -> tuple[Any, pd.Index, list[str], np.ndarray | None]:
    """Apply the ``na`` rule. Returns values, genes, dropped genes and (``per_sample``) the
    number of NaN/inf values per sample."""
    if na not in NA_RULES:
        raise ValueError(f"na must be one of {NA_RULES}, got {na!r}")
    count, bad_genes, bad_samples = _nonfinite_report(values, genes, samples, threaded=True)
    if count == 0:
        return values, genes, [], None
    if na == "error":
        fix = hint("na='drop_genes' to drop those genes (reported) or, for rank methods, "
                   "na='per_sample' to score each sample on the genes it observed",
                   "--na drop_genes to drop those genes (reported) or, for rank methods, "
                   "--na per_sample to score each sample on the genes it observed")
        raise ValueError(f"expression has {count} NaN/inf values in {len(bad_genes)} genes "
                         f"(e.g. {gene_labels(bad_genes[:5], symbols)}) and "
                         f"{len(bad_samples)} samples (e.g. {[str(s) for s in bad_samples[:5]]})"
                         f". Impute or remove them, or pass {fix}.")
    if na == "per_sample":
        missing = _nonfinite_per_sample(values)
        empty = np.flatnonzero(missing == values.shape[1])
        if len(empty):
            raise ValueError(f"{len(empty)} samples have no finite value at all (e.g. "
                             f"{[str(s) for s in samples[empty[:5]]]}); remove them")
        return values, genes, [], missing
    drop = np.isin(genes, bad_genes)
    keep = np.flatnonzero(~drop)
    warn(f"{hint(DROP_GENES_API, '--na drop_genes')}: dropped {int(drop.sum())} genes "
         "with NaN/inf values: "
         f"{gene_labels(bad_genes[:10], symbols)}"
         f"{' ...' if len(bad_genes) > 10 else ''}")
    values = values[:, keep]
    return values, genes[keep], [str(g) for g in bad_genes], None


def _nonfinite_per_sample(values: Any) -> np.ndarray:
    """Number of NaN/inf values in each sample (row), ``(n_samples,)`` int."""
    if sparse.issparse(values):
        csr = sparse.csr_matrix(values)
        rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
        return np.bincount(rows[~np.isfinite(csr.data)], minlength=csr.shape[0])
    return (~np.isfinite(values)).sum(axis=1)


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
        reports the dropped genes (with their symbols); ``"per_sample"`` keeps them and
        records each sample's count in ``Expression.missing`` (rank methods then score each
        sample on the genes it observed).

    Raises
    ------
    ValueError, TypeError
        For empty, non-numeric or non-finite input, duplicated gene or sample names, and
        unknown or ambiguous orientation; the message says how to fix it. Nullable pandas
        columns are read with ``pd.NA`` as NaN; float16 is cast to float32 and the cast is
        recorded in ``input_kind``.
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
    _check_dtype(values)
    note = _cast_note(values.dtype)
    kind = f"{kind}; {note}" if note else kind
    if is_dask_array(values) or is_backed_dataset(values):
        if na != "error":
            raise ValueError(f"na={na!r} needs an in-memory matrix; backed and dask input is "
                             "checked block by block while it is read")
        return Expression(values, gene_names, sample_names, kind, [], lazy=True,
                          match_names=match_names)
    values = _as_float(values)
    kept = gene_names
    symbols = None if match_names is None else dict(zip(map(str, gene_names),
                                                        map(str, match_names), strict=True))
    values, gene_names, dropped, missing = _handle_nonfinite(values, gene_names, sample_names,
                                                             na, symbols)
    if values.shape[1] == 0:
        raise ValueError("no genes left after dropping genes with NaN/inf values")
    if match_names is not None and dropped:
        match_names = match_names[kept.isin(gene_names)]
    if sparse.issparse(values):
        values = sparse.csr_matrix(values)
    return Expression(values, gene_names, sample_names, kind, dropped, match_names=match_names,
                      missing=missing)


def _is_anndata(data: Any) -> bool:
    return type(data).__name__ == "AnnData" and hasattr(data, "obs_names")


def _from_frame(frame: pd.DataFrame, axis: str | None, members: Iterable[str]):
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"expression DataFrame is empty (shape {frame.shape})")
    axis = axis or detect_genes_axis(frame, members)
    _check_numeric_frame(frame, axis)
    values = _frame_values(frame)
    if axis == "rows":
        values = values.T
        gene_names, sample_names = frame.index, frame.columns
    else:
        gene_names, sample_names = frame.columns, frame.index
    kind = f"DataFrame (genes on {axis})"
    return values, _str_index(gene_names, "gene"), _str_index(sample_names, "sample"), kind


def _frame_values(frame: pd.DataFrame) -> np.ndarray:
    """The values of a numeric DataFrame as a numpy array. Nullable columns (``Float64``,
    ``Int64``, ...) become float64 with ``pd.NA`` as NaN (then handled by the ``na`` rule)."""
    if not any(isinstance(dt, pd.api.extensions.ExtensionDtype) for dt in frame.dtypes):
        return frame.to_numpy()
    for column, dtype in frame.dtypes.items():
        if pd.api.types.is_integer_dtype(dtype) and frame[column].abs().max() > 2**53:
            _integer_overflow()
    return frame.to_numpy(dtype=np.float64, na_value=np.nan)


def _str_index(index: pd.Index, what: str) -> pd.Index:
    if index.hasnans:
        raise ValueError(f"{what} names contain missing values; name every {what}")
    if index.dtype == object and pd.api.types.infer_dtype(index, skipna=False) == "string":
        return index.rename(what)  # already strings: no copy
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
        layers = list(adata.layers.keys())
        fix = hint(f"layer=NAME (layers: {layers})" if layers else "a matrix in adata.X",
                   f"--layer NAME (layers: {layers})" if layers else "a matrix in adata.X")
        if adata.raw is not None:
            fix += hint(" or use_raw=True", " or --use-raw")
        raise ValueError(f"{where} is None: the AnnData holds no expression matrix there; "
                         f"pass {fix}")
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
