"""The rank-counting kernels (sort, linear, histogram) give exactly the same integers.

Every score of the rank methods is built from ``lo``, ``hi`` and the row-order tie offsets of
:func:`ferroscore.methods._ranks.rank_counts`, so equal counts mean bit-identical scores
whichever kernel the automatic choice picks. Hypothesis draws rows on both sides of the
crossovers (a handful of selected genes, up to one per few values of a row, and many), with
heavy ties, clusters of values much closer than the histogram's bins, zeros, NaN and inf, in
every layout the kernels read (C and F order, row blocks of an F-ordered matrix, CSR with and
without stored zeros); the sort kernel is checked against direct comparisons.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from ferroscore.methods import _rank_kernels as kernels
from ferroscore.methods._ranks import (
    LINEAR_MAX,
    LINEAR_MAX_SHORT,
    SORT_RATIO,
    choose_kernel,
    rank_counts,
)

KERNELS = ("sort", "linear", "histogram", "auto")
KINDS = ("ties", "continuous", "clustered", "zeros")
SETTINGS = settings(max_examples=50, deadline=None)


def direct_counts(x: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, ...]:
    """``lo``, ``hi`` and tie offsets by direct comparison; a NaN threshold sorts after every
    value (``lo`` = the non-NaN values, ``hi`` = all, no tie offset)."""
    v = x[:, cols][:, :, None]
    lo = (x[:, None, :] < v).sum(axis=2)
    hi = (x[:, None, :] <= v).sum(axis=2)
    earlier = np.arange(x.shape[1])[None, :] < cols[:, None]
    ties = ((x[:, None, :] == v) & earlier[None]).sum(axis=2)
    nan = np.isnan(v[:, :, 0])
    lo = np.where(nan, (~np.isnan(x)).sum(axis=1)[:, None], lo)
    hi = np.where(nan, x.shape[1], hi)
    return lo, hi, np.where(nan, 0, ties)


def matrix(seed: int, kind: str, n_rows: int, n_genes: int, dtype, special: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "ties":
        x = rng.integers(0, rng.integers(2, 12), size=(n_rows, n_genes)).astype(float)
    elif kind == "continuous":
        x = rng.normal(4.0, 2.0, size=(n_rows, n_genes))
    elif kind == "clustered":  # most values within 1e-9 of each other, a few far away
        x = 1.0 + 1e-9 * rng.integers(0, 50, size=(n_rows, n_genes))
        far = rng.random((n_rows, n_genes)) < 0.01
        x[far] = rng.choice([-1e6, 1e6, 1e30], size=far.sum())
    else:  # mostly zeros, some negative: counts of implicit values matter
        x = np.where(rng.random((n_rows, n_genes)) < 0.7, 0.0,
                     rng.integers(-3, 8, size=(n_rows, n_genes)).astype(float))
    if special:
        cells = rng.random((n_rows, n_genes)) < 0.02
        x[cells] = rng.choice([np.nan, np.inf, -np.inf], size=cells.sum())
    return x.astype(dtype)


def layouts(x: np.ndarray, seed: int) -> dict[str, object]:
    """The same matrix as every block the kernels read."""
    padded = np.asfortranarray(np.vstack([x[:1], x, x[:2]]))  # a row block of an F matrix
    rng = np.random.default_rng(seed)
    kept = (x != 0) | ((x == 0) & (rng.random(x.shape) < 0.3))  # some zeros stored
    rows, cols = np.nonzero(kept)
    with_zeros = sparse.csr_matrix((x[rows, cols], (rows, cols)), shape=x.shape)
    return {"C": np.ascontiguousarray(x), "F": np.asfortranarray(x),
            "F rows": padded[1:1 + x.shape[0]], "CSR": sparse.csr_matrix(x),
            "CSR stored zeros": with_zeros}


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), kind=st.sampled_from(KINDS),
       n_genes=st.sampled_from([12, 60, 400, 1500]),
       m=st.sampled_from([1, 2, LINEAR_MAX, LINEAR_MAX + 1, 12, 37, 150]),
       dtype=st.sampled_from([np.float64, np.float32]), special=st.booleans(),
       ties=st.booleans())
def test_every_kernel_and_layout_gives_the_sort_counts(seed, kind, n_genes, m, dtype, special,
                                                        ties):
    x = matrix(seed, kind, 5, n_genes, dtype, special)
    cols = np.sort(np.random.default_rng(seed + 1).choice(n_genes, min(m, n_genes),
                                                          replace=False))
    lo, hi, offsets = direct_counts(x, cols)
    for layout, block in layouts(x, seed).items():
        for kernel in KERNELS:
            counts = rank_counts(block, cols, ties=ties, kernel=kernel)
            where = f"{kernel} kernel, {layout}"
            np.testing.assert_array_equal(counts.lo, lo, err_msg=where)
            np.testing.assert_array_equal(counts.hi, hi, err_msg=where)
            if ties:
                np.testing.assert_array_equal(counts.ties, offsets, err_msg=where)


@pytest.mark.parametrize(("n_values", "n_selected", "kernel"), [
    (20_000, 1, "linear"), (20_000, LINEAR_MAX, "linear"), (20_000, LINEAR_MAX + 1, "histogram"),
    (20_000, 20_000 // SORT_RATIO, "histogram"), (20_000, 20_000 // SORT_RATIO + 1, "sort"),
    (1_600, LINEAR_MAX_SHORT, "linear"), (1_600, LINEAR_MAX_SHORT + 1, "histogram"),
    (1_600, 1_600 // SORT_RATIO + 1, "sort")])
def test_choice_follows_the_measured_crossovers(n_values, n_selected, kernel):
    assert choose_kernel(n_values, n_selected) == kernel


@pytest.mark.parametrize("m", [104, 1500, 5000])
def test_long_rows_with_the_largest_histograms_give_the_sort_counts(m):
    """Rows of 20,000 values take the biggest histograms (up to MAX_BINS bins, uint16 bin
    codes), which the small matrices of the property test never reach; float32-valued data
    give ties."""
    rng = np.random.default_rng(m)
    x = (rng.standard_normal((6, 20_000), dtype=np.float32) * 1.5 + 5).astype(np.float64)
    x[1, ::7] = 5.0  # a heavily tied value
    x[2] = np.round(x[2], 1)  # few distinct values: thresholds share bins
    cols = np.sort(rng.choice(20_000, m, replace=False))
    assert kernels.n_bins(20_000, m) > 4096
    lo, hi, offsets = direct_counts(x, cols)
    for block in (x, np.asfortranarray(x)):
        counts = rank_counts(block, cols, ties=True, kernel="histogram")
        np.testing.assert_array_equal(counts.lo, lo)
        np.testing.assert_array_equal(counts.hi, hi)
        np.testing.assert_array_equal(counts.ties, offsets)
