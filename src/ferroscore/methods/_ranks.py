"""Per-sample rank statistics of selected genes, for dense and CSR blocks.

For a sample (row) with values ``x`` over ``p`` genes and a selected gene ``c`` with value
``v = x[c]``, the kernels return

- ``lo = #{h : x_h < v}`` and ``hi = #{h : x_h <= v}``, from which every rank convention
  follows: ``min`` rank ``lo + 1``, ``max`` rank ``hi``, average rank ``(lo + 1 + hi) / 2``;
- optionally ``t = #{h < c : x_h == v}``, the number of tied genes earlier in row order, which
  gives the position of ``c`` when ties are broken by row order (as R's ``order()`` does).

Each row is sorted once (numpy's vectorised sort) and the selected genes are found by binary
search, so the cost is ``O(p log p)`` per sample whatever the number of sets. CSR rows sort only
their stored values; implicit zeros are counted in closed form, so the sparse path returns
exactly the dense answer. The kernels are serial and release the GIL: callers parallelise over
blocks of samples with threads.
"""

from __future__ import annotations

import numba
import numpy as np
from scipy import sparse

__all__ = ["RankCounts", "rank_counts"]

# A row whose tied selected genes exceed this count gets a stable argsort instead of pairwise
# counting for its tie offsets.
_TIE_ARGSORT_THRESHOLD = 32


@numba.njit(nogil=True, cache=True)
def _dense_counts(block, sorted_block, cols, want_ties):  # pragma: no cover - compiled
    n = block.shape[0]
    m = cols.shape[0]
    lo = np.empty((n, m), dtype=np.int64)
    hi = np.empty((n, m), dtype=np.int64)
    ties = np.zeros((n, m), dtype=np.int64)
    for i in range(n):
        row = block[i]
        srt = sorted_block[i]
        n_tied = 0
        for j in range(m):
            v = row[cols[j]]
            lo[i, j] = np.searchsorted(srt, v, side="left")
            hi[i, j] = np.searchsorted(srt, v, side="right")
            if hi[i, j] - lo[i, j] > 1:
                n_tied += 1
        if not want_ties or n_tied == 0:
            continue
        if n_tied > _TIE_ARGSORT_THRESHOLD:
            order = np.argsort(row, kind="mergesort")
            for j in range(m):
                if hi[i, j] - lo[i, j] > 1:
                    group = order[lo[i, j]:hi[i, j]]
                    ties[i, j] = np.searchsorted(group, cols[j], side="left")
        else:
            for j in range(m):
                if hi[i, j] - lo[i, j] > 1:
                    v = row[cols[j]]
                    count = 0
                    for h in range(cols[j]):
                        if row[h] == v:
                            count += 1
                    ties[i, j] = count
    return lo, hi, ties


@numba.njit(nogil=True, cache=True)
def _sparse_counts(data, indices, indptr, n_genes, cols, want_ties):  # pragma: no cover
    n = indptr.shape[0] - 1
    m = cols.shape[0]
    lo = np.empty((n, m), dtype=np.int64)
    hi = np.empty((n, m), dtype=np.int64)
    ties = np.zeros((n, m), dtype=np.int64)
    for i in range(n):
        a = indptr[i]
        b = indptr[i + 1]
        row_idx = indices[a:b]
        row_val = data[a:b]
        srt = np.sort(row_val)
        n_implicit = n_genes - (b - a)
        for j in range(m):
            c = cols[j]
            k = np.searchsorted(row_idx, c, side="left")
            stored = k < b - a and row_idx[k] == c
            v = row_val[k] if stored else row_val.dtype.type(0)
            lo_ij = np.searchsorted(srt, v, side="left")
            hi_ij = np.searchsorted(srt, v, side="right")
            if v > 0:
                lo_ij += n_implicit
            if v >= 0:
                hi_ij += n_implicit
            lo[i, j] = lo_ij
            hi[i, j] = hi_ij
            if want_ties and hi_ij - lo_ij > 1:
                count = 0
                for h in range(k):
                    if row_val[h] == v:
                        count += 1
                if v == 0:
                    count += c - k  # implicit zeros before column c
                ties[i, j] = count
    return lo, hi, ties


class RankCounts:
    """``lo``, ``hi`` (and ``ties``) for a block of samples x selected genes (int64 arrays)."""

    __slots__ = ("hi", "lo", "n_genes", "ties")

    def __init__(self, lo: np.ndarray, hi: np.ndarray, ties: np.ndarray | None, n_genes: int):
        self.lo, self.hi, self.ties, self.n_genes = lo, hi, ties, n_genes

    def min_rank(self) -> np.ndarray:
        """Ascending ranks with ties at their minimum (R ``ties.method="min"``)."""
        return (self.lo + 1).astype(np.float64)

    def average_rank(self) -> np.ndarray:
        """Ascending ranks with ties averaged."""
        return (self.lo + 1 + self.hi) / 2.0

    def all_tied(self) -> np.ndarray:
        """``(n, 1)`` float: 1.0 for samples whose genes all share one value, else 0.0."""
        tied = (self.lo[:, :1] == 0) & (self.hi[:, :1] == self.n_genes)
        return tied.astype(np.float64)

    def row_order_position(self) -> np.ndarray:
        """Ascending position when tied genes are ordered by row index, as R ``order()``
        places them when sorting decreasingly (the first tied row gets the highest position)."""
        if self.ties is None:
            raise ValueError("tie offsets were not computed")
        return (self.hi - self.ties).astype(np.float64)


def rank_counts(block, cols: np.ndarray, *, ties: bool = False) -> RankCounts:
    """Rank statistics of the genes ``cols`` in every sample (row) of ``block``.

    Parameters
    ----------
    block
        ``(n_samples, n_genes)`` C-contiguous float array, or CSR matrix with sorted indices.
    cols
        Column indices of the genes whose statistics are wanted.
    ties
        Also compute the row-order tie offsets.
    """
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    if sparse.issparse(block):
        csr = sparse.csr_matrix(block)
        if not csr.has_sorted_indices:
            csr = csr.copy()
            csr.sort_indices()
        lo, hi, t = _sparse_counts(csr.data, csr.indices.astype(np.int64, copy=False),
                                   csr.indptr.astype(np.int64, copy=False), csr.shape[1], cols,
                                   ties)
        n_genes = csr.shape[1]
    else:
        block = np.ascontiguousarray(block)
        lo, hi, t = _dense_counts(block, np.sort(block, axis=1), cols, ties)
        n_genes = block.shape[1]
    return RankCounts(lo, hi, t if ties else None, n_genes)
