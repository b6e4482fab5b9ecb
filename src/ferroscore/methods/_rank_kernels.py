"""Compiled counting kernels behind :func:`ferroscore.methods._ranks.rank_counts`.

Each kernel takes one row ``x`` of ``n`` values and ``m`` thresholds ``t`` (the row's values
at the selected genes) and returns ``lo_j = #{h : x_h < t_j}``, ``hi_j = #{h : x_h <= t_j}``
and, on request, ``ties_j = #{h < pos_j : x_h == t_j}`` (the number of equal values earlier in
row order; ``pos`` is non-decreasing). Three kernels give the same integers:

- ``sort``: binary search of every threshold in the sorted row (numpy sorts the rows before:
  its vectorised sort is many times faster than a compiled loop): ``O(n log n)`` whatever
  ``m``;
- ``linear``: one vectorised pass over the row per threshold, counting ``x < t`` and
  ``x <= t``: ``O(n m)``, the fastest for a handful of thresholds;
- ``histogram``: one pass that puts every value in one of ``B`` bins spanning the thresholds'
  range (one bin below it, one above) through ``b(x) = clip(int((x - t_min) s + 1), 0, B - 1)``
  with ``s > 0``. Rounded differences and products never decrease when their argument grows,
  so the map is monotone: a value in a lower bin than a threshold's is strictly below it, one
  in a higher bin strictly above. The same pass records which values share a bin with a
  threshold; only those are compared exactly, and prefix sums of the histogram give the rest:
  ``O(n + B + m log m)``, one read of the row.

Missing values. NaN is never below or equal to anything (as after a sort, which places NaN
last); a NaN threshold gets ``lo`` = the number of non-NaN values, ``hi = n`` and ``ties = 0``
in every kernel. The histogram hands rows holding NaN (and rows whose thresholds are not
finite or all equal) to the exact ``linear`` comparisons. Such rows only occur with
``na="per_sample"``, where each of them is scored again on its observed genes.

Layouts. :func:`dense_rows` walks a C-ordered samples x genes block row by row;
:func:`dense_tiles` takes one whose samples are adjacent in memory (an F-ordered matrix, such
as a genes x samples DataFrame seen from the samples, or rows of one), copying :data:`TILE`
samples at a time into a small buffer, so the matrix is read once in memory order and never
transposed as a whole; :func:`sparse_rows` counts a CSR row's stored values and adds the
implicit zeros in closed form.
"""

from __future__ import annotations

import numba
import numpy as np

SORT, LINEAR, HISTOGRAM = 0, 1, 2
#: Kernel names, indexed by their codes.
KERNELS = ("sort", "linear", "histogram")
#: Samples copied (transposed) at a time from an F-ordered block.
TILE = 32
#: A row whose tied selected genes exceed this count gets a stable argsort instead of pairwise
#: counting for its tie offsets (sort kernel).
_TIE_ARGSORT_THRESHOLD = 32
#: Histogram sizes: about four values per bin and four bins per threshold, between these powers
#: of two (bins are stored as uint16; at the largest, the histogram and its flags fit in the
#: second-level cache: measured faster than 4,096 bins from 100 thresholds up).
MIN_BINS, MAX_BINS = 64, 16384

_jit = numba.njit(nogil=True, cache=True, error_model="numpy")


@_jit
def n_bins(n, m):  # pragma: no cover - compiled
    """Histogram bins for a row of ``n`` values and ``m`` thresholds: a power of two, at least
    a quarter of ``n`` and four times ``m`` (within :data:`MIN_BINS`, :data:`MAX_BINS`)."""
    bins = MIN_BINS
    while bins < MAX_BINS and (4 * bins < n or bins < 4 * m):
        bins *= 2
    return bins


@_jit
def count_below(sorted_values, v):  # pragma: no cover - compiled
    """``#{x in sorted_values : x < v}`` by binary search (NaN entries, sorted last, never
    count; NaN ``v`` gives 0)."""
    low, high = 0, sorted_values.shape[0]
    while low < high:
        mid = (low + high) >> 1
        if sorted_values[mid] < v:
            low = mid + 1
        else:
            high = mid
    return low


@_jit
def _self_only(x, t, pos, j, equal):  # pragma: no cover - compiled
    """No value before ``pos[j]`` can equal ``t[j]``: none is equal, or the only one is the
    threshold's own entry."""
    return equal == 0 or (equal == 1 and pos[j] < x.shape[0] and x[pos[j]] == t[j])


@_jit
def _nan_thresholds(x, t, lo, hi, ties):  # pragma: no cover - compiled
    """Statistics of NaN thresholds, as a sort places NaN: after every other value."""
    n_nan = -1
    for j in range(t.shape[0]):
        if t[j] != t[j]:
            if n_nan < 0:
                n_nan = 0
                for y in x:
                    n_nan += y != y
            lo[j], hi[j], ties[j] = x.shape[0] - n_nan, x.shape[0], 0


@_jit
def _linear_row(x, t, pos, want_ties, lo, hi, ties):  # pragma: no cover - compiled
    n = x.shape[0]
    for j in range(t.shape[0]):
        v = t[j]
        below = 0
        through = 0
        for h in range(n):
            y = x[h]
            below += y < v
            through += y <= v
        lo[j], hi[j], ties[j] = below, through, 0
        if want_ties and not _self_only(x, t, pos, j, through - below):
            equal = 0
            for h in range(pos[j]):
                equal += x[h] == v
            ties[j] = equal
    _nan_thresholds(x, t, lo, hi, ties)


@_jit
def _sorted_row(x, srt, t, pos, want_ties, lo, hi, ties):  # pragma: no cover - compiled
    """Counts from ``srt``, the sorted ``x``, in one merge of it with the sorted thresholds."""
    m = t.shape[0]
    n = srt.shape[0]
    below = 0
    through = 0
    for j in np.argsort(t):
        while below < n and srt[below] < t[j]:
            below += 1
        through = max(through, below)
        while through < n and srt[through] <= t[j]:
            through += 1
        lo[j], hi[j] = below, through
    n_tied = 0
    for j in range(m):
        ties[j] = 0
        if want_ties and t[j] == t[j] and not _self_only(x, t, pos, j, hi[j] - lo[j]):
            ties[j] = -1  # counted below
            n_tied += 1
    if n_tied > _TIE_ARGSORT_THRESHOLD:
        order = np.argsort(x, kind="mergesort")
        for j in range(m):
            if ties[j] < 0:
                ties[j] = count_below(order[lo[j]:hi[j]], pos[j])
    elif n_tied:
        for j in range(m):
            if ties[j] < 0:
                equal = 0
                for h in range(pos[j]):
                    equal += x[h] == t[j]
                ties[j] = equal
    _nan_thresholds(x, t, lo, hi, ties)


@_jit
def _bin(y, low, scale, last):  # pragma: no cover - compiled
    """Bin of ``y``: 0 below the thresholds, ``last`` above them; NaN goes to 0 (rows with
    NaN are counted again by the linear kernel). Monotone in ``y``."""
    u = (y - low) * scale + 1.0
    u = u if u > 0.0 else 0.0
    return np.int64(u if u < last else last)


@_jit
def _histogram_row(x, t, pos, want_ties, lo, hi, ties, hist, flags, first, flagged, codes,
                   work, values):  # pragma: no cover - compiled
    """Histogram counts, or False (nothing written) when the linear kernel must count the row:
    NaN in it, non-finite thresholds, or a single distinct threshold (one linear pass is then
    the cheapest).

    The bins span the thresholds' range, with one bin below and one above it. Workspace:
    ``hist`` int32, ``flags`` uint8 (all 0 on entry and on exit) and ``first`` int32, each of
    at least :func:`n_bins` entries; ``flagged`` int32 and ``codes`` uint16 (each value's bin:
    computed in a separate pass, which vectorises) of at least ``n``; ``work`` int64
    ``(5, >= m)``; ``values`` of ``x``'s dtype, at least ``m``.
    """
    n = x.shape[0]
    m = t.shape[0]
    # the distinct thresholds in increasing order ("slots"): values[g], in bin slot_bin[g]
    slot_of, slot_bin, bin_end, gap, equal = work[0], work[1], work[2], work[3], work[4]
    order = np.argsort(t)
    d = 0
    for q in range(m):
        v = t[order[q]]
        if d == 0 or v != values[d - 1]:
            values[d] = v
            d += 1
        slot_of[order[q]] = d - 1
    low = np.float64(values[0])
    high = np.float64(values[d - 1])
    bins = n_bins(n, m)
    last = bins - 1
    scale = (bins - 3) / (high * 0.5 - low * 0.5) * 0.5  # halves: no overflow
    if d < 2 or not (0.0 < scale < np.inf):  # also NaN or infinite thresholds
        return False
    for g in range(d):
        slot_bin[g] = _bin(np.float64(values[g]), low, scale, last)
        gap[g] = 0
        equal[g] = 0
    # first[b]: the first slot of a flagged bin b; bin_end[g]: the last slot of g's bin
    for g in range(d - 1, -1, -1):
        same = g + 1 < d and slot_bin[g + 1] == slot_bin[g]
        bin_end[g] = bin_end[g + 1] if same else g
        first[slot_bin[g]] = g
        flags[slot_bin[g]] = 1
    n_nan = 0
    for h in range(n):  # a separate pass vectorises
        y = x[h]
        codes[h] = _bin(np.float64(y), low, scale, last)
        n_nan += y != y
    if n_nan:
        for g in range(d):
            flags[slot_bin[g]] = 0
        return False
    hist[:bins] = 0
    n_flagged = 0
    for h in range(n):
        b = codes[h]
        hist[b] += 1
        flagged[n_flagged] = h
        n_flagged += flags[b]
    # exact comparisons in the thresholds' bins, in row order (tie offsets on the way)
    following = 0
    for q in range(n_flagged):
        h = flagged[q]
        while want_ties and following < m and pos[following] <= h:
            ties[following] = equal[slot_of[following]]
            following += 1
        y = x[h]
        g = first[codes[h]]
        end = bin_end[g]
        if end == g:  # one threshold in the bin, the usual case: counted without a branch
            equal[g] += y == values[g]
            gap[g] += y < values[g]
            continue
        if end - g > 8:
            g += count_below(values[g:end + 1], y)
        else:
            while g <= end and values[g] < y:
                g += 1
        if g <= end:
            if values[g] == y:
                equal[g] += 1
            else:
                gap[g] += 1
    for j in range(following, m):
        ties[j] = equal[slot_of[j]] if want_ties else 0
    # cumulative counts: values in lower bins, then the lower slots of the same bin
    below = 0
    b = 0
    running = 0
    for g in range(d):
        while b < slot_bin[g]:
            below += hist[b]
            b += 1
        if g == 0 or slot_bin[g - 1] != slot_bin[g]:
            running = below
        running += gap[g]
        gap[g] = running  # now #{x < values[g]}
        running += equal[g]
        equal[g] = running  # now #{x <= values[g]}
    for j in range(m):
        lo[j] = gap[slot_of[j]]
        hi[j] = equal[slot_of[j]]
    for g in range(d):
        flags[slot_bin[g]] = 0
    return True


@_jit
def _counting_row(kernel, x, t, pos, want_ties, lo, hi, ties, space):  # pragma: no cover
    """The linear or the histogram kernel (which hands rows it cannot count to the linear)."""
    if t.shape[0] == 0:
        return
    if kernel == HISTOGRAM:
        hist, flags, first, flagged, codes, work, values = space
        if _histogram_row(x, t, pos, want_ties, lo, hi, ties, hist, flags, first, flagged,
                          codes, work, values):
            return
    _linear_row(x, t, pos, want_ties, lo, hi, ties)


@_jit
def _outputs(n, m):  # pragma: no cover - compiled
    return (np.empty((n, m), dtype=np.int64), np.empty((n, m), dtype=np.int64),
            np.zeros((n, m), dtype=np.int64))


@_jit
def _workspace(n, m, like):  # pragma: no cover - compiled
    """Histogram workspace for rows of up to ``n`` values and ``m`` thresholds of ``like``'s
    dtype."""
    bins = n_bins(n, m)
    return (np.zeros(bins, dtype=np.int32), np.zeros(bins, dtype=np.uint8),
            np.zeros(bins, dtype=np.int32), np.empty(max(n, 1), dtype=np.int32),
            np.empty(max(n, 1), dtype=np.uint16), np.empty((5, max(m, 1)), dtype=np.int64),
            np.empty(max(m, 1), dtype=like.dtype))


@_jit
def dense_rows(block, cols, want_ties, kernel):  # pragma: no cover - compiled
    """Linear or histogram counts of a C-ordered ``(samples, genes)`` block."""
    n, p = block.shape
    m = cols.shape[0]
    lo, hi, ties = _outputs(n, m)
    space = _workspace(p, m, block[:0, 0])
    t = np.empty(m, dtype=block.dtype)
    for i in range(n):
        x = block[i]
        for j in range(m):
            t[j] = x[cols[j]]
        _counting_row(kernel, x, t, cols, want_ties, lo[i], hi[i], ties[i], space)
    return lo, hi, ties


@_jit
def dense_sorted(block, sorted_block, cols, want_ties):  # pragma: no cover - compiled
    """Sort-kernel counts of a C-ordered block, given its rows sorted."""
    n = block.shape[0]
    m = cols.shape[0]
    lo, hi, ties = _outputs(n, m)
    t = np.empty(m, dtype=block.dtype)
    for i in range(n):
        x = block[i]
        for j in range(m):
            t[j] = x[cols[j]]
        _sorted_row(x, sorted_block[i], t, cols, want_ties, lo[i], hi[i], ties[i])
    return lo, hi, ties


@_jit
def _copy_tile(flat, stride, n_genes, start, width, tile):  # pragma: no cover - compiled
    """Samples ``start:start + width`` into the rows of ``tile`` (``flat[h * stride + i]`` holds
    gene ``h`` of sample ``i``)."""
    for h in range(n_genes):
        src = flat[h * stride + start:h * stride + start + width]
        for k in range(width):
            tile[k, h] = src[k]


@_jit
def dense_tiles(flat, stride, n_genes, n, cols, want_ties, kernel):  # pragma: no cover
    """Linear or histogram counts of ``n`` samples whose values lie gene by gene in memory:
    gene ``h`` of sample ``i`` is ``flat[h * stride + i]`` (an F-ordered block, or rows of
    one)."""
    m = cols.shape[0]
    lo, hi, ties = _outputs(n, m)
    space = _workspace(n_genes, m, flat[:0])
    t = np.empty(m, dtype=flat.dtype)
    tile = np.empty((TILE, n_genes), dtype=flat.dtype)
    for start in range(0, n, TILE):
        width = min(TILE, n - start)
        if width == TILE:  # a constant width lets the copy loop vectorise
            _copy_tile(flat, stride, n_genes, start, TILE, tile)
        else:
            _copy_tile(flat, stride, n_genes, start, width, tile)
        for k in range(width):
            x = tile[k]
            for j in range(m):
                t[j] = x[cols[j]]
            i = start + k
            _counting_row(kernel, x, t, cols, want_ties, lo[i], hi[i], ties[i], space)
    return lo, hi, ties


@_jit
def sparse_rows(data, indices, indptr, n_genes, cols, want_ties, kernel,
                sorted_rows):  # pragma: no cover - compiled
    """Counts of CSR rows (sorted indices): their stored values by ``kernel``, then the
    implicit zeros. For the sort kernel ``sorted_rows[i, :nnz_i]`` holds row ``i``'s stored
    values sorted."""
    n = indptr.shape[0] - 1
    m = cols.shape[0]
    lo, hi, ties = _outputs(n, m)
    widest = 0
    for i in range(n):
        widest = max(widest, indptr[i + 1] - indptr[i])
    space = _workspace(widest, m, data[:0])
    t = np.empty(m, dtype=data.dtype)
    pos = np.empty(m, dtype=np.int64)
    for i in range(n):
        a = indptr[i]
        stored = indptr[i + 1] - a
        row_idx = indices[a:a + stored]
        x = data[a:a + stored]
        k = 0  # stored entries before the gene: binary search, or a merge for many genes
        for j in range(m):
            if stored > 16 * m:
                k += count_below(row_idx[k:], cols[j])
            else:
                while k < stored and row_idx[k] < cols[j]:
                    k += 1
            pos[j] = k
            t[j] = x[k] if k < stored and row_idx[k] == cols[j] else 0
        if kernel == SORT:
            _sorted_row(x, sorted_rows[i, :stored], t, pos, want_ties, lo[i], hi[i], ties[i])
        else:
            _counting_row(kernel, x, t, pos, want_ties, lo[i], hi[i], ties[i], space)
        n_implicit = n_genes - stored
        for j in range(m):
            above_zero = t[j] > 0 or t[j] != t[j]  # a NaN threshold sorts after the zeros
            if above_zero:
                lo[i, j] += n_implicit
            if above_zero or t[j] == 0:
                hi[i, j] += n_implicit
            if want_ties and t[j] == 0:
                ties[i, j] += cols[j] - pos[j]  # implicit zeros before the gene
    return lo, hi, ties


@_jit
def pad_rows(data, indptr, out):  # pragma: no cover - compiled
    """Copy CSR row ``i``'s stored values to ``out[i, :nnz_i]`` (the rest is left as is)."""
    for i in range(indptr.shape[0] - 1):
        a = indptr[i]
        out[i, :indptr[i + 1] - a] = data[a:indptr[i + 1]]
