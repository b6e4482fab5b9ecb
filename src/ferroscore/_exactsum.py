"""Exact per-gene sums of floating-point values, mergeable in any order.

Every finite float64 is an integer multiple of ``2**-1074`` (a 53-bit integer mantissa times a
power of two), so a sum of them is one too. :func:`accumulate` adds each value of a
block into per-gene integer digits (base ``2**32``, :data:`N_DIGITS` of them, int64 storage
with room for carries); :func:`merge` adds two such accumulators; :func:`means` turns the exact
integer sums into the correctly rounded means. Because no rounding happens before the end, the
result is the same whatever the order of the samples, the blocks or the merges: a distributed
tree reduction equals a serial pass bit for bit.
"""

from __future__ import annotations

import numba
import numpy as np
from scipy import sparse

__all__ = ["N_DIGITS", "accumulate", "means", "merge"]

#: The least significant bit of the smallest subnormal is 2**-1074.
_BIAS = 1074
#: Base-2**32 digits per gene: 2**-1074 .. 2**1024 and room for the carries of any sum.
N_DIGITS = 70
#: Values added per gene between carry propagations (each digit stays below 2**62).
_CARRY_EVERY = 512
_LOW = (1 << 32) - 1


@numba.njit(nogil=True, cache=True)
def _add(acc, gene, bits):  # pragma: no cover - compiled
    """Add the float64 whose IEEE bits are ``bits`` (finite) to ``acc[gene]``."""
    field = (bits >> 52) & 0x7FF
    whole = bits & 0xFFFFFFFFFFFFF
    if field == 0:  # subnormal or zero: whole * 2**-1074
        if whole == 0:
            return
        shift = 0
    else:
        whole |= np.int64(1) << 52
        shift = field - 1
    digit = shift >> 5
    offset = shift & 31
    low = (whole & ((np.int64(1) << (32 - offset)) - 1)) << offset
    high = whole >> (32 - offset)
    if bits < 0:
        low, high = -low, -high
    acc[gene, digit] += low
    acc[gene, digit + 1] += high


@numba.njit(nogil=True, cache=True)
def _carry_gene(acc, gene):  # pragma: no cover - compiled
    for d in range(acc.shape[1] - 1):
        carry = acc[gene, d] >> 32
        acc[gene, d] -= carry << 32
        acc[gene, d + 1] += carry


@numba.njit(nogil=True, cache=True)
def _carry(acc):  # pragma: no cover - compiled
    for gene in range(acc.shape[0]):
        _carry_gene(acc, gene)


@numba.njit(nogil=True, cache=True)
def _dense(bits, acc, count):  # pragma: no cover - compiled
    for i in range(bits.shape[0]):
        for j in range(bits.shape[1]):
            if (bits[i, j] >> 52) & 0x7FF != 0x7FF:  # finite
                _add(acc, j, bits[i, j])
                count[j] += 1
        if (i + 1) % _CARRY_EVERY == 0:  # every gene got at most one value per row
            _carry(acc)
    _carry(acc)


@numba.njit(nogil=True, cache=True)
def _csc(bits, indptr, n_rows, acc, count):  # pragma: no cover - compiled
    """Column by column, so each gene's digits stay in cache."""
    for j in range(indptr.shape[0] - 1):
        count[j] = n_rows
        pending = 0
        for k in range(indptr[j], indptr[j + 1]):
            if (bits[k] >> 52) & 0x7FF != 0x7FF:
                _add(acc, j, bits[k])
                pending += 1
                if pending == _CARRY_EVERY:
                    _carry_gene(acc, j)
                    pending = 0
            else:
                count[j] -= 1
        _carry_gene(acc, j)


def _bits(values: np.ndarray) -> np.ndarray:
    """IEEE bits of the values as float64 (float32 and integers convert exactly)."""
    return np.ascontiguousarray(values, dtype=np.float64).view(np.int64)


def accumulate(block) -> tuple[np.ndarray, np.ndarray]:
    """Exact sums of the finite values of each column of ``block`` (dense or sparse).

    Returns
    -------
    digits, count
        ``(n_genes, N_DIGITS)`` int64 carry-normalised digits and ``(n_genes,)`` int64 counts
        of finite values.
    """
    n_genes = block.shape[1]
    acc = np.zeros((n_genes, N_DIGITS), dtype=np.int64)
    count = np.zeros(n_genes, dtype=np.int64)
    if sparse.issparse(block):
        csc = sparse.csc_matrix(block)
        _csc(_bits(csc.data), csc.indptr.astype(np.int64), block.shape[0], acc, count)
    else:
        _dense(_bits(np.asarray(block)), acc, count)
    return acc, count


def merge(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]
          ) -> tuple[np.ndarray, np.ndarray]:
    """Exact sum of two :func:`accumulate` results."""
    acc = a[0] + b[0]
    _carry(acc)
    return acc, a[1] + b[1]


def means(partial: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Correctly rounded mean of each gene (NaN for a gene without finite values)."""
    acc, count = partial
    out = np.full(acc.shape[0], np.nan)
    low = acc[:, :-1].astype("<u4")  # carry-normalised: every digit but the last is 0..2**32-1
    for gene in np.flatnonzero(count > 0):
        total = int.from_bytes(low[gene].tobytes(), "little") + (
            int(acc[gene, -1]) << (32 * (N_DIGITS - 1)))
        out[gene] = total / (int(count[gene]) << _BIAS)  # Python rounds int / int correctly
    return out
