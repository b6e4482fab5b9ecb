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
- ``histogram``: the row's range (from a first pass), then one pass that puts every value in
  one of ``B`` bins through the map ``b(x) = min(int(x s - o), B - 1)`` with ``s >= 0`` and
  ``o = min(x) s``. Rounded products and differences never decrease when their argument grows,
  so the map is monotone: a value in a lower bin than a threshold's is strictly below it, one
  in a higher bin strictly above. The same pass records which values share a bin with a
  threshold; only those are compared exactly, and prefix sums of the histogram give the rest:
  ``O(n + B + m log m)``.

Missing values. NaN is never below or equal to anything (as after a sort, which places NaN
last); a NaN threshold gets ``lo`` = the number of non-NaN values, ``hi = n`` and ``ties = 0``
in every kernel. Rows holding NaN or inf take the exact ``linear`` comparisons (a histogram
needs a finite range). Such rows only occur with ``na="per_sample"``, where each of them is
scored again on its observed genes.

Layouts. :func:`dense_rows` walks a C-ordered samples x genes block row by row;
:func:`dense_tiles` takes one whose samples are adjacent in memory (an F-ordered matrix, such
as a genes x samples DataFrame seen from the samples, or rows of one), copying :data:`TILE`
samples at a time into a small buffer (and taking their ranges on the way), so the matrix is
read once in memory order and never transposed as a whole; :func:`sparse_rows` counts a CSR row's stored values and adds the
implicit zeros in closed form.
"""

from __future__ import annotations

import numba
import numpy as np

SORT, LINEAR, HISTOGRAM = 0, 1, 2
#: Kernel names, indexed by their codes.
KERNELS = ("sort", "linear", "histogram")
#: Samples copied (transposed) at a time from an F-ordered block.
TILE = 16
#: A row whose tied selected genes exceed this count gets a stable argsort instead of pairwise
#: counting for its tie offsets (sort kernel).
_TIE_ARGSORT_THRESHOLD = 32
#: Histogram sizes: about four values per bin, between these powers of two (the largest keeps
#: the histogram and its flags in the first-level cache).
MIN_BINS, MAX_BINS = 64, 4096

_jit = numba.njit(nogil=True, cache=True, error_model="numpy")


@_jit
def n_bins(n):  # pragma: no cover - compiled
    """Histogram bins for a row of ``n`` values."""
    bins = MIN_BINS
    while bins < MAX_BINS and 4 * bins < n:
        bins *= 2
    return bins


@_jit
def row_range(x, t):  # pragma: no cover - compiled
    """Smallest and largest of ``x`` and ``t``, and whether all of them are finite (four
    independent accumulators, so the loop runs at the speed of a read)."""
    n = x.shape[0]
    first = t[0] if t.shape[0] else x[0]
    low0 = low1 = low2 = low3 = first
    high0 = high1 = high2 = high3 = first
    nan0 = nan1 = nan2 = nan3 = first * 0  # y * 0 is NaN exactly for NaN and inf
    h = 0
    while h + 4 <= n:
        y0, y1, y2, y3 = x[h], x[h + 1], x[h + 2], x[h + 3]
        low0, low1, low2, low3 = min(low0, y0), min(low1, y1), min(low2, y2), min(low3, y3)
        high0, high1 = max(high0, y0), max(high1, y1)
        high2, high3 = max(high2, y2), max(high3, y3)
        nan0, nan1, nan2, nan3 = nan0 + y0 * 0, nan1 + y1 * 0, nan2 + y2 * 0, nan3 + y3 * 0
        h += 4
    low = min(min(low0, low1), min(low2, low3))
    high = max(max(high0, high1), max(high2, high3))
    nan = nan0 + nan1 + nan2 + nan3
    for k in range(h, n):
        low, high, nan = min(low, x[k]), max(high, x[k]), nan + x[k] * 0
    for y in t:
        low, high, nan = min(low, y), max(high, y), nan + y * 0
    return low, high, nan == 0


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
    """Counts from ``srt``, the sorted ``x``."""
    m = t.shape[0]
    n_tied = 0
    for j in range(m):
        lo[j] = np.searchsorted(srt, t[j], side="left")
        hi[j] = np.searchsorted(srt, t[j], side="right")
        ties[j] = 0
        if want_ties and t[j] == t[j] and not _self_only(x, t, pos, j, hi[j] - lo[j]):
            ties[j] = -1  # counted below
            n_tied += 1
    if n_tied > _TIE_ARGSORT_THRESHOLD:
        order = np.argsort(x, kind="mergesort")
        for j in range(m):
            if ties[j] < 0:
                ties[j] = np.searchsorted(order[lo[j]:hi[j]], pos[j], side="left")
    elif n_tied:
        for j in range(m):
            if ties[j] < 0:
                equal = 0
                for h in range(pos[j]):
                    equal += x[h] == t[j]
                ties[j] = equal
    _nan_thresholds(x, t, lo, hi, ties)


@_jit
def _histogram_row(x, t, pos, want_ties, lo, hi, ties, low, high, hist, flags, first, flagged,
                   work, values):  # pragma: no cover - compiled
    """Histogram counts; ``low``, ``high``: the finite range of ``x`` and ``t``.

    Workspace: ``hist`` int32, ``flags`` uint8 (all 0 on entry and on exit) and ``first``
    int32, each of at least :func:`n_bins` entries; ``flagged`` int32 of at least ``n``;
    ``work`` int64 ``(5, >= m)``; ``values`` of ``x``'s dtype, at least ``m``.
    """
    n = x.shape[0]
    m = t.shape[0]
    bins = n_bins(n)
    last = bins - 1
    scale = (bins - 1) / (high * 0.5 - low * 0.5) * 0.5  # halves: no overflow
    if not scale < np.inf:  # constant row, or a subnormal range: one bin, all exact
        scale = 0.0
    offset = low * scale
    # the distinct thresholds in increasing order ("slots"): values[g] in bin slot_bin[g];
    # first[b] is the first slot of a flagged bin b, bin_end[g] the last slot of g's bin
    slot_of, slot_bin, bin_end, gap, equal = work[0], work[1], work[2], work[3], work[4]
    order = np.argsort(t)
    d = 0
    for q in range(m):
        v = t[order[q]]
        if d == 0 or v != values[d - 1]:
            values[d] = v
            slot_bin[d] = min(np.int64(np.float64(v) * scale - offset), last)
            gap[d] = 0
            equal[d] = 0
            d += 1
        slot_of[order[q]] = d - 1
    for g in range(d - 1, -1, -1):
        same = g + 1 < d and slot_bin[g + 1] == slot_bin[g]
        bin_end[g] = bin_end[g + 1] if same else g
        first[slot_bin[g]] = g
        flags[slot_bin[g]] = 1
    hist[:bins] = 0
    n_flagged = 0
    for h in range(n):
        b = min(np.int64(np.float64(x[h]) * scale - offset), last)
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
        g = first[min(np.int64(np.float64(y) * scale - offset), last)]
        end = bin_end[g]
        if end - g > 8:
            g += np.searchsorted(values[g:end + 1], y, side="left")
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


@_jit
def _counting_row(kernel, x, t, pos, want_ties, lo, hi, ties, low, high, finite,
                  space):  # pragma: no cover - compiled
    """The linear or histogram kernel (rows that are not finite take the linear one)."""
    if t.shape[0] == 0:
        return
    if kernel == HISTOGRAM and finite:
        hist, flags, first, flagged, work, values = space
        _histogram_row(x, t, pos, want_ties, lo, hi, ties, low, high, hist, flags, first,
                       flagged, work, values)
    else:
        _linear_row(x, t, pos, want_ties, lo, hi, ties)


@_jit
def _outputs(n, m):  # pragma: no cover - compiled
    return (np.empty((n, m), dtype=np.int64), np.empty((n, m), dtype=np.int64),
            np.zeros((n, m), dtype=np.int64))


@_jit
def _workspace(n, m, like):  # pragma: no cover - compiled
    """Histogram workspace for rows of up to ``n`` values and ``m`` thresholds of ``like``'s
    dtype."""
    bins = n_bins(n)
    return (np.zeros(bins, dtype=np.int32), np.zeros(bins, dtype=np.uint8),
            np.zeros(bins, dtype=np.int32), np.empty(max(n, 1), dtype=np.int32),
            np.empty((5, max(m, 1)), dtype=np.int64), np.empty(max(m, 1), dtype=like.dtype))


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
        low, high, finite = row_range(x, t[:0])  # the thresholds are values of x
        _counting_row(kernel, x, t, cols, want_ties, lo[i], hi[i], ties[i], low, high, finite,
                      space)
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
def _copy_tile(flat, stride, n_genes, start, width, tile, low, high,
               bad):  # pragma: no cover - compiled
    """Samples ``start:start + width`` into the rows of ``tile``, with each sample's smallest
    and largest value and NaN/inf flag (``flat[h * stride + i]`` holds gene ``h`` of sample
    ``i``)."""
    for k in range(width):
        low[k] = flat[start + k]
        high[k] = low[k]
        bad[k] = 0
    for h in range(n_genes):
        src = flat[h * stride + start:h * stride + start + width]
        for k in range(width):
            y = src[k]
            tile[k, h] = y
            low[k] = min(low[k], y)
            high[k] = max(high[k], y)
            bad[k] += y * 0


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
    low = np.empty(TILE, dtype=flat.dtype)
    high = np.empty(TILE, dtype=flat.dtype)
    bad = np.empty(TILE, dtype=flat.dtype)
    for start in range(0, n, TILE):
        width = min(TILE, n - start)
        if width == TILE:  # a constant width lets the copy loop vectorise
            _copy_tile(flat, stride, n_genes, start, TILE, tile, low, high, bad)
        else:
            _copy_tile(flat, stride, n_genes, start, width, tile, low, high, bad)
        for k in range(width):
            x = tile[k]
            for j in range(m):
                t[j] = x[cols[j]]
            i = start + k
            _counting_row(kernel, x, t, cols, want_ties, lo[i], hi[i], ties[i], low[k],
                          high[k], bad[k] == 0, space)
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
        k = 0
        for j in range(m):
            k += np.searchsorted(row_idx[k:], cols[j], side="left")
            pos[j] = k
            t[j] = x[k] if k < stored and row_idx[k] == cols[j] else 0
        if kernel == SORT:
            _sorted_row(x, sorted_rows[i, :stored], t, pos, want_ties, lo[i], hi[i], ties[i])
        else:
            low, high, finite = row_range(x, t)
            _counting_row(kernel, x, t, pos, want_ties, lo[i], hi[i], ties[i], low, high,
                          finite, space)
        n_implicit = n_genes - stored
        for j in range(m):
            if t[j] > 0:
                lo[i, j] += n_implicit
            if t[j] >= 0:
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
