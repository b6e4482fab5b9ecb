"""Per-sample rank statistics of selected genes, for dense and CSR blocks.

For a sample (row) with values ``x`` over ``p`` genes and a selected gene ``c`` with value
``v = x[c]``, the kernels return

- ``lo = #{h : x_h < v}`` and ``hi = #{h : x_h <= v}``, from which every rank convention
  follows: ``min`` rank ``lo + 1``, ``max`` rank ``hi``, average rank ``(lo + 1 + hi) / 2``;
- optionally ``t = #{h < c : x_h == v}``, the number of tied genes earlier in row order, which
  gives the position of ``c`` when ties are broken by row order (as R's ``order()`` does).

The counts come from one of three compiled kernels (a full sort of the row, one vectorised
counting pass per selected gene, or a histogram pass with exact comparisons only near the
selected values; see :mod:`ferroscore.methods._rank_kernels`), chosen from the number of
selected genes and of values per row; all give the same integers. Dense blocks are read in
their own memory order (an F-ordered block is never transposed as a whole). CSR rows count their
stored values only; implicit zeros are counted in closed form, so the sparse path returns
exactly the dense answer. The kernels are serial and release the GIL: callers parallelise over
blocks of samples with threads.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ferroscore.methods import _rank_kernels as kernels

__all__ = ["RankCounts", "choose_kernel", "rank_counts"]

# Crossovers measured with benchmarks/bench_kernels.py (one thread, 20,000-gene float64 rows
# and CSR rows of 400 and 1,600 stored values, best of 7 rounds, idle 2-core machine,
# 2026-12-02, after the histogram's bin pass became a separate, vectorised loop): on 20,000-value
# rows the linear kernel costs about 1.9 us per selected gene and the histogram 19 us + 0.12 us
# per gene, equal near m = 10, for C- and F-ordered rows alike; on CSR rows the linear kernel
# stays ahead up to m = 24. The histogram beats the sort up to about one selected gene per 12
# values of a row (20,000 values: ahead at m = 1,024, behind at 2,048; CSR rows of 400 values:
# behind from m = 64). Every kernel gives the same integers: only speed depends on these numbers.
#: Up to this many selected genes, one counting pass per gene is fastest.
LINEAR_MAX = 10
#: ... and up to this many on rows of at most :data:`SHORT_ROW` values (typically CSR rows).
LINEAR_MAX_SHORT, SHORT_ROW = 24, 2000
#: The histogram kernel is used up to one selected gene per this many values of a row; the sort
#: beyond.
SORT_RATIO = 12


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


def choose_kernel(n_values: float, n_selected: int) -> str:
    """The fastest kernel for rows of ``n_values`` values (stored values for CSR) and
    ``n_selected`` selected genes, from the crossovers measured by
    ``benchmarks/bench_kernels.py``."""
    if n_selected <= (LINEAR_MAX_SHORT if n_values <= SHORT_ROW else LINEAR_MAX):
        return "linear"
    if n_selected <= n_values / SORT_RATIO:
        return "histogram"
    return "sort"


def rank_counts(block, cols: np.ndarray, *, ties: bool = False,
                kernel: str = "auto") -> RankCounts:
    """Rank statistics of the genes ``cols`` in every sample (row) of ``block``.

    Parameters
    ----------
    block
        ``(n_samples, n_genes)`` float array in C or F order (any other layout is copied), or a
        CSR matrix with sorted indices.
    cols
        Column indices of the genes whose statistics are wanted.
    ties
        Also compute the row-order tie offsets.
    kernel
        ``"auto"`` (:func:`choose_kernel`), or ``"sort"``, ``"linear"``, ``"histogram"`` (for
        tests and benchmarks: every kernel gives the same counts).
    """
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    n_samples, n_genes = block.shape
    if sparse.issparse(block):
        block = sparse.csr_matrix(block)
        if not block.has_sorted_indices:
            block = block.copy()
            block.sort_indices()
    else:
        block = np.asarray(block)
    if kernel == "auto":
        per_row = block.nnz / max(n_samples, 1) if sparse.issparse(block) else n_genes
        kernel = choose_kernel(per_row, len(cols))
    code = kernels.KERNELS.index(kernel)
    if len(cols) == 0 or n_samples == 0:
        empty = np.zeros((n_samples, len(cols)), dtype=np.int64)
        lo, hi, t = empty, empty.copy(), empty.copy()
    elif sparse.issparse(block):
        lo, hi, t = kernels.sparse_rows(block.data, block.indices, block.indptr, n_genes, cols,
                                        ties, code, _sorted_stored(block, kernel))
    elif kernel == "sort":
        block = np.ascontiguousarray(block)
        lo, hi, t = kernels.dense_sorted(block, np.sort(block, axis=1), cols, ties)
    elif _samples_adjacent(block):
        lo, hi, t = kernels.dense_tiles(*_gene_major(block), cols, ties, code)
    else:
        lo, hi, t = kernels.dense_rows(np.ascontiguousarray(block), cols, ties, code)
    return RankCounts(lo, hi, t if ties else None, n_genes)


def _samples_adjacent(block: np.ndarray) -> bool:
    """Consecutive samples of a gene are adjacent in memory (but not consecutive genes of a
    sample): blocks of an F-ordered matrix."""
    item = block.itemsize
    return (block.shape[0] > 1 and block.shape[1] > 1 and block.strides[0] == item
            and block.strides[1] >= block.shape[0] * item and block.strides[1] % item == 0)


def _gene_major(block: np.ndarray) -> tuple[np.ndarray, int, int, int]:
    """``(flat, stride, n_genes, n_samples)`` with gene ``h`` of sample ``i`` at
    ``flat[h * stride + i]``: ``flat`` is the contiguous stretch of memory from the block's first
    value to its last (inside the array the block views), so the kernel sees it as one
    contiguous vector whatever rows of the matrix the block holds."""
    n_samples, n_genes = block.shape
    stride = block.strides[1] // block.itemsize
    span = (n_genes - 1) * stride + n_samples
    flat = np.lib.stride_tricks.as_strided(block, shape=(span,), strides=(block.itemsize,),
                                           writeable=False)
    return flat, stride, n_genes, n_samples


def _sorted_stored(csr: sparse.csr_matrix, kernel: str) -> np.ndarray:
    """Each row's stored values sorted, padded with NaN (which sorts last), for the sort
    kernel; an empty array for the others."""
    if kernel != "sort":
        return np.empty((0, 0), dtype=csr.data.dtype)
    width = int(np.diff(csr.indptr).max(initial=0))
    padded = np.full((csr.shape[0], width), np.nan, dtype=csr.data.dtype)
    kernels.pad_rows(csr.data, csr.indptr, padded)
    padded.sort(axis=1)
    return padded
