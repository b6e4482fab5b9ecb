"""Gene set variation analysis (Hänzelmann et al. 2013) exactly as GSVA 1.46 ``method="gsva"``.

1. Genes with constant expression in the reference (SD < 1e-10) are removed, as GSVA does.
2. Each gene's values are turned into a cumulative-distribution statistic against the reference
   samples (the scored samples themselves when no other reference is given):
   ``kcdf="gaussian"``: Gaussian kernel with bandwidth SD/4 evaluated through GSVA's 10,001-point
   lookup table of the normal CDF; ``"poisson"``: Poisson kernel with mean ``x + 0.5`` (counts);
   ``"none"``: the empirical CDF. The statistic is ``log(F / (1 - F))``.
3. Per sample, genes are ordered by decreasing statistic (ties in row order) and get the
   symmetric rank score ``|p - i + 1 - p/2|`` at position ``i``.
4. A Kolmogorov-Smirnov-like walk over that order steps up by ``r**tau / sum(r**tau)`` at set
   genes and down by ``1 / (p - k)`` elsewhere; with ``max_diff=True`` the score is the sum of
   the largest positive and negative deviations (``abs_ranking=True``: their difference),
   otherwise the deviation of larger magnitude.

The kernel step is O(genes x samples x reference samples); it runs in compiled loops, over
chunks of genes in threads. When the scored samples are the reference (a plain ``fs.score``
call), each pair of samples is looked up once (see :func:`_gaussian_statistic_self`), with
results bit-identical to the pairwise loop.

Sample order. GSVA sums each gene's kernel terms in sample order, so reordering the samples
changes the statistic in its last bits; genes whose statistics are mathematically tied (common,
since the terms come from a lookup table) then swap places in the walk, and scores move (by up
to 1.5e-4 on GSE1992, as GSVA 1.46 itself does). ``order_free=True`` removes both dependencies:
each gene's terms are summed in the order of its sorted reference values, and genes with equal
statistics enter the walk together (one step, at their average rank weight) instead of in row
order; the score is then invariant to the order of samples and of genes. Without ties between
statistics the walk is GSVA's. The default stays GSVA's rule, which the conformance tests check.

Genes with values beyond :data:`~ferroscore.matrix.LARGE` are divided by a power of two
(exactly) before the Gaussian kernel, so their SD cannot overflow and the statistic stays
invariant to scaling a gene.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba
import numpy as np
from scipy import sparse, special

from ferroscore.matrix import power_of_two_scale
from ferroscore.methods._ranks import rank_counts
from ferroscore.methods.base import Component, Method, gather_by_size

_RESOLUTION = 10000
_MAX_PRECOMPUTE = 10.0
#: GSVA's table: the standard normal CDF at 10 * i / 10000, i = 0..10000.
NORMAL_TABLE = special.ndtr(_MAX_PRECOMPUTE * np.arange(_RESOLUTION + 1) / float(_RESOLUTION))
CONSTANT_SD = 1e-10
_TILE = 64


# GSVA's table ends at pnorm(10) == 1.0 exactly, so clamping the table index at 10000
# reproduces the C code's cut-offs (0 below -10, 1 above +10) without branches.
assert NORMAL_TABLE[_RESOLUTION] == 1.0


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _gaussian_statistic(ref, test, bandwidth, table):  # pragma: no cover - compiled
    """ref (genes, n_ref), test (genes, n_test) -> log(F/(1-F)) (genes, n_test).

    Terms are summed over the reference in order, as GSVA's C code does, so the result is
    bit-identical to it.
    """
    n_genes, n_ref = ref.shape
    n_test = test.shape[1]
    out = np.empty((n_genes, n_test))
    for g in range(n_genes):
        h = bandwidth[g]
        x = ref[g]
        for j in range(n_test):
            y = test[g, j]
            left = 0.0
            for i in range(n_ref):
                v = (y - x[i]) / h
                c = table[int(min(abs(v) / _MAX_PRECOMPUTE * _RESOLUTION, _RESOLUTION))]
                left += c if v >= 0 else 1.0 - c
            left = left / n_ref
            out[g, j] = -1.0 * np.log((1.0 - left) / left)
    return out


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _gaussian_statistic_self(ref, bandwidth, table, tile):  # pragma: no cover - compiled
    """The statistic of the reference against itself, ``(n, genes)``, bit-identical to
    :func:`_gaussian_statistic` (ref, ref) at about half the table look-ups.

    The term of pair (i, j) uses the same table entry as (j, i), with the complementary side.
    Pairs are visited in tiles: each entry above the diagonal is looked up once, and every
    sample still adds its terms in increasing partner order, exactly as GSVA's C loop does.
    """
    n_genes, n = ref.shape
    out = np.empty((n, n_genes))
    left = np.empty(n)
    entry = np.empty((tile, tile))
    positive = np.empty((tile, tile), dtype=np.bool_)
    for g in range(n_genes):
        h = bandwidth[g]
        x = ref[g]
        left[:] = 0.0
        for j0 in range(0, n, tile):
            j1 = min(j0 + tile, n)
            for j in range(j0, j1):  # the diagonal tile, directly
                y = x[j]
                acc = left[j]
                for i in range(j0, j1):
                    v = (y - x[i]) / h
                    c = table[int(min(abs(v) / _MAX_PRECOMPUTE * _RESOLUTION, _RESOLUTION))]
                    acc += c if v >= 0 else 1.0 - c
                left[j] = acc
            for i0 in range(j1, n, tile):  # tiles above the diagonal: each pair once
                i1 = min(i0 + tile, n)
                for j in range(j0, j1):
                    y = x[j]
                    acc = left[j]
                    for i in range(i0, i1):
                        v = (y - x[i]) / h
                        c = table[int(min(abs(v) / _MAX_PRECOMPUTE * _RESOLUTION, _RESOLUTION))]
                        entry[j - j0, i - i0] = c
                        positive[j - j0, i - i0] = v > 0
                        acc += c if v >= 0 else 1.0 - c
                    left[j] = acc
                for i in range(i0, i1):  # the mirrored terms, partners in increasing order
                    acc = left[i]
                    for j in range(j0, j1):
                        c = entry[j - j0, i - i0]
                        acc += 1.0 - c if positive[j - j0, i - i0] else c
                    left[i] = acc
        for j in range(n):
            f = left[j] / n
            out[j, g] = -1.0 * np.log((1.0 - f) / f)
    return out


def gsva_sd(values: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Per-column SD as GSVA's C code computes it (long-double sums, corrected mean).

    Columns are processed in chunks to bound the long-double temporaries.
    """
    n = values.shape[0]
    out = np.empty(values.shape[1])
    for start in range(0, values.shape[1], chunk):
        cols = values[:, start:start + chunk]
        wide = cols.astype(np.longdouble)
        mean = wide.sum(axis=0) / n
        mean = (mean + (wide - mean).sum(axis=0) / n).astype(np.float64)
        dev = cols - mean
        squares = (dev * dev).astype(np.longdouble).sum(axis=0)
        out[start:start + chunk] = np.sqrt((squares / (n - 1)).astype(np.float64))
    return out


def _poisson_statistic(ref: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Poisson kernel: F_j = mean_i ppois(y_j; x_i + 0.5), grouped over repeated counts."""
    out = np.empty(test.shape)
    for g in range(ref.shape[0]):
        lam, lam_count = np.unique(ref[g], return_counts=True)
        y, where = np.unique(test[g], return_inverse=True)
        cdf = special.pdtr(y[:, None], lam[None, :] + 0.5)
        left = (cdf * lam_count).sum(axis=1) / ref.shape[1]
        with np.errstate(divide="ignore"):
            out[g] = (-1.0 * np.log((1.0 - left) / left))[where]
    return out


def _ecdf_statistic(ref: np.ndarray, test: np.ndarray) -> np.ndarray:
    out = np.empty(test.shape)
    n_ref = ref.shape[1]
    for g in range(ref.shape[0]):
        left = np.searchsorted(np.sort(ref[g]), test[g], side="right") / n_ref
        with np.errstate(divide="ignore"):
            out[g] = np.log(left / (1.0 - left))
    return out


def walk_scores(before: np.ndarray, through: np.ndarray, weight: np.ndarray, p: int, *,
                max_diff: bool, abs_ranking: bool) -> np.ndarray:
    """Walk statistic for groups of equal-size sets.

    Every set gene sits in a block of genes with its statistic: ``before`` genes come strictly
    earlier in the descending order, ``through`` genes come no later. GSVA's row-order rule
    makes every block one gene (``through = before + 1``, the 1-based position). A longer
    block is walked as one step, so the walk is evaluated only at block ends (for its maximum)
    and block starts (for its minimum): the expected walk over the orders of the tied genes.

    Parameters
    ----------
    before, through
        ``(..., k)`` counts of genes strictly before / up to each set gene's block.
    weight
        ``(..., k)`` step weights ``r ** tau`` of the same genes.
    p
        Number of genes in the ranking.
    """
    k = before.shape[-1]
    order = np.argsort(before, axis=-1)
    start = np.take_along_axis(before, order, axis=-1)
    end = np.take_along_axis(through, order, axis=-1)
    w = np.take_along_axis(weight, order, axis=-1)
    cum = np.cumsum(w, axis=-1)
    walk_in = cum / cum[..., -1:]
    hits = np.arange(1, k + 1)
    # the last set gene of a block reaches the block's end; the first starts at its start
    at_hits = walk_in - (end - hits) / (p - k)
    before_hits = np.concatenate([np.zeros_like(walk_in[..., :1]), walk_in[..., :-1]],
                                 axis=-1) - (start - (hits - 1)) / (p - k)
    top = np.maximum(at_hits.max(axis=-1), 0.0)
    bottom = np.minimum(before_hits.min(axis=-1), 0.0)
    if max_diff:
        return top - bottom if abs_ranking else top + bottom
    return np.where(top > np.abs(bottom), top, bottom)


def _check_counts(values: np.ndarray) -> None:
    """kcdf='poisson' takes non-negative integer counts."""
    if (values < 0).any():
        raise ValueError("kcdf='poisson' needs non-negative counts; the input has "
                         "negative values (use kcdf='gaussian' for log-scale data)")
    if not np.all(values == np.round(values)):
        raise ValueError("kcdf='poisson' needs integer counts; the input has non-integer "
                         "values (use kcdf='gaussian' for log-scale data)")


def _gene_blocks(data, kept: np.ndarray, genes: tuple[int, ...] | None = None):
    """Dense float64 values of the ``kept`` genes, samples x genes in blocks of genes holding
    every sample (``genes``: the blocks' sizes; default about 64 MB each, at least 8 blocks)."""
    dense = data.values.map_blocks(_dense64, dtype=np.float64, meta=np.empty((0, 0)))
    if len(kept) < data.n_genes:
        dense = dense[:, kept]
    return dense.rechunk({0: -1, 1: genes or _block_genes(len(kept), data.n_samples)})


def _block_genes(n_genes: int, n_samples: int) -> int:
    """Genes per block of all samples: about 64 MB, and at least 8 blocks."""
    return max(1, min(-(-n_genes // 8), (64 * 2**20) // (8 * n_samples)))


def _dense64(block) -> np.ndarray:
    dense = block.toarray() if sparse.issparse(block) else block
    return np.asarray(dense, dtype=np.float64)


class GSVA(Method):
    name = "gsva"
    drops_constant_genes = True
    standardises_genes = True
    needs_genes_outside = True
    defaults = {"kcdf": "gaussian", "max_diff": True, "abs_ranking": False, "tau": 1.0,
                "order_free": False}

    def validate(self) -> None:
        kcdf = str(self.params["kcdf"]).lower()
        if kcdf not in ("gaussian", "poisson", "none"):
            raise ValueError(f"gsva kcdf must be 'gaussian', 'poisson' or 'none', got "
                             f"{self.params['kcdf']!r}")
        self.params["kcdf"] = kcdf
        if self.params["tau"] < 0:
            raise ValueError(f"gsva tau must be >= 0, got {self.params['tau']!r}")
        if not isinstance(self.params["order_free"], bool):
            raise ValueError(f"gsva order_free must be True or False, got "
                             f"{self.params['order_free']!r}")

    @property
    def expects_log(self) -> bool:  # type: ignore[override]
        return self.params["kcdf"] == "gaussian"

    @property
    def per_sample(self) -> bool:
        return False

    def check_input(self, expression) -> None:
        if self.params["kcdf"] != "poisson" or expression.is_dask:  # dask: per block of genes
            return
        for _, block in expression.blocks():
            _check_counts(block.data if sparse.issparse(block) else block)

    def fit(self, expression, components: list[Component], *, self_reference: bool,
            n_observed: int) -> dict:
        keep = ~expression.constant_genes(CONSTANT_SD)
        dense = expression.dense()
        # genes x samples, contiguous per gene; a view when the input already is (DataFrame)
        ref_t, kernel_ref, bandwidth, scale = self._reference(
            np.ascontiguousarray(dense.T if keep.all() else dense.T[keep]))
        state = {"keep": keep, "new_index": np.cumsum(keep) - 1, "reference": kernel_ref,
                 "bandwidth": bandwidth, "scale": scale}
        if self_reference:
            # the scored samples are the reference: compute their statistic once
            state["self_statistic"] = self._self_statistic(ref_t, kernel_ref, bandwidth)
            state["self_expression"] = expression
        return state

    def _reference(self, ref_t: np.ndarray) -> tuple[np.ndarray, ...]:
        """Reference values of some genes (genes x samples, C order) -> the values scaled,
        the kernel's reference (sorted with ``order_free``), bandwidths and scales. Each gene
        is handled on its own, so blocks of genes give the same numbers as the whole matrix."""
        scale = np.ones(ref_t.shape[0])
        if self.params["kcdf"] == "gaussian":
            scale = power_of_two_scale(np.abs(ref_t).max(axis=1, initial=0.0))
            if (scale != 1.0).any():
                ref_t = ref_t / scale[:, None]
        # order_free: each gene's kernel terms are summed in the order of its sorted values
        kernel_ref = np.sort(ref_t, axis=1) if self.params["order_free"] else ref_t
        return ref_t, kernel_ref, gsva_sd(kernel_ref.T) / 4.0, scale

    # -- dask: kernel CDFs over blocks of genes holding all samples ---------------------------

    def fit_lazy(self, data, components, *, self_reference: bool, n_observed: int):
        """Kernel CDFs need every sample of a gene: the data is rechunked to blocks of genes
        (all samples each), whose statistics are computed exactly as in memory (per gene, in
        the same order), so the scores are bit-identical. The self statistic is rechunked back
        to samples for the walk."""
        from ferroscore._lazy import LazyState

        keep = ~data.expression.constant_genes(CONSTANT_SD)
        values = {"keep": keep, "new_index": np.cumsum(keep) - 1}
        genes_t = _gene_blocks(data, np.flatnonzero(keep)).T  # genes x samples, gene blocks
        n = data.n_samples
        if self_reference:
            stat_t = genes_t.map_blocks(self._self_block, dtype=np.float64,
                                        name=f"ferroscore-gsva-kcdf-{genes_t.name[-32:]}")
            return LazyState(values, {"self_statistic": stat_t.T}, data)
        packed = genes_t.map_blocks(self._reference_block, dtype=np.float64,
                                    chunks=(genes_t.chunks[0], (n + 2,)),
                                    name=f"ferroscore-gsva-reference-{genes_t.name[-32:]}")
        arrays = {"reference": packed[:, :n], "scale": packed[:, n], "bandwidth": packed[:, n + 1]}
        return LazyState(values, arrays, data)

    def _reference_block(self, ref_t: np.ndarray) -> np.ndarray:
        self._check_block(ref_t)
        _, kernel_ref, bandwidth, scale = self._reference(np.ascontiguousarray(ref_t))
        return np.hstack([kernel_ref, scale[:, None], bandwidth[:, None]])

    def _self_block(self, ref_t: np.ndarray) -> np.ndarray:
        self._check_block(ref_t)
        ref_t, kernel_ref, bandwidth, _ = self._reference(np.ascontiguousarray(ref_t))
        return self._self_statistic(ref_t, kernel_ref, bandwidth).T

    def _check_block(self, ref_t: np.ndarray) -> None:
        if self.params["kcdf"] == "poisson":
            _check_counts(ref_t)

    def transform_lazy(self, data, components, state, n_observed: int, n_components: int):
        import dask.array as da

        from ferroscore._lazy import as_delayed, pack

        values = state.values
        if "self_statistic" in state.arrays and state.data is data:
            stat = state.arrays["self_statistic"]
        else:
            arrays = {key: state.arrays.get(key, values.get(key))
                      for key in ("reference", "scale", "bandwidth")}
            reference = da.asarray(arrays["reference"])
            if len(reference.chunks[0]) == 1:  # fitted in memory: blocks of genes
                reference = reference.rechunk({0: _block_genes(*reference.shape)})
            reference = reference.rechunk({1: -1})
            genes = reference.chunks[0]
            test_t = _gene_blocks(data, np.flatnonzero(values["keep"]), genes).T
            stat = da.blockwise(
                self._test_block, "gs", test_t, "gs", reference, "gr",
                da.asarray(arrays["scale"]).rechunk((genes,)), "g",
                da.asarray(arrays["bandwidth"]).rechunk((genes,)), "g",
                dtype=np.float64, concatenate=True,
                name=f"ferroscore-gsva-kcdf-{test_t.name[-32:]}").T
        stat = stat.rechunk({0: data.row_chunks, 1: -1})
        small = as_delayed({"new_index": values["new_index"]})
        method = as_delayed(self)

        def walk(block, method, components, state):
            return pack(method._scores(block, components, state), ["score"])

        return stat.map_blocks(walk, method, components, small, dtype=np.float64,
                               chunks=(stat.chunks[0], (n_components,)),
                               meta=np.empty((0, 0)),
                               name=f"ferroscore-gsva-walk-{stat.name[-32:]}")

    def _test_block(self, test_t, reference, scale, bandwidth) -> np.ndarray:
        if (scale != 1.0).any():
            test_t = test_t / scale[:, None]
        return self._statistic_t(np.ascontiguousarray(reference), np.ascontiguousarray(test_t),
                                 bandwidth)

    def _self_statistic(self, ref_t: np.ndarray, kernel_ref: np.ndarray,
                        bandwidth: np.ndarray) -> np.ndarray:
        if self.params["kcdf"] != "gaussian":
            return self._statistic_t(kernel_ref, ref_t, bandwidth).T.copy()
        chunks = np.array_split(np.arange(ref_t.shape[0]), max(1, 8 * self.n_jobs))
        out = np.empty((ref_t.shape[1], ref_t.shape[0]))

        def work(genes: np.ndarray) -> None:
            if not len(genes):
                return
            if self.params["order_free"]:
                out[:, genes] = _gaussian_statistic(kernel_ref[genes], ref_t[genes],
                                                    bandwidth[genes], NORMAL_TABLE).T
            else:  # by pairs, each looked up once
                out[:, genes] = _gaussian_statistic_self(ref_t[genes], bandwidth[genes],
                                                         NORMAL_TABLE, _TILE)

        with ThreadPoolExecutor(max_workers=self.n_jobs) as pool:
            list(pool.map(work, chunks))
        return out

    def _statistic_t(self, ref_t: np.ndarray, test_t: np.ndarray,
                     bandwidth: np.ndarray) -> np.ndarray:
        kcdf = self.params["kcdf"]
        if kcdf == "gaussian":
            return _gaussian_statistic(ref_t, test_t, bandwidth, NORMAL_TABLE)
        if kcdf == "poisson":
            return _poisson_statistic(ref_t, test_t)
        return _ecdf_statistic(ref_t, test_t)

    def statistic(self, block, state: dict) -> np.ndarray:
        """``(n_block, p_kept)`` log-odds CDF statistic of each gene in each sample."""
        dense = block.toarray() if sparse.issparse(block) else block
        test_t = np.asarray(dense, dtype=np.float64)[:, state["keep"]].T
        if (state["scale"] != 1.0).any():
            test_t = test_t / state["scale"][:, None]
        stat = self._statistic_t(state["reference"], np.ascontiguousarray(test_t),
                                 state["bandwidth"])
        return np.ascontiguousarray(stat.T)

    def transform_rows(self, expression, rows: slice, components: list[Component],
                       state: dict, block: Any = None) -> dict[str, np.ndarray]:
        if state.get("self_expression") is expression:  # the statistic of fit (a block read
            # ahead for backed input is not needed: the O(n^2) kernel dwarfs that read)
            return self._scores(state["self_statistic"][rows], components, state)
        return self.transform(expression.rows(rows) if block is None else block, components,
                              state)

    def transform(self, block, components: list[Component], state: dict) -> dict[str, np.ndarray]:
        return self._scores(self.statistic(block, state), components, state)

    def _scores(self, stat: np.ndarray, components: list[Component],
                state: dict) -> dict[str, np.ndarray]:
        p = stat.shape[1]
        local_components = [Component(c.name, state["new_index"][c.indices], c.n_requested)
                            for c in components]
        union, groups = gather_by_size(local_components)
        if self.params["order_free"]:  # tied statistics form one block, at their average rank
            counts = rank_counts(stat, union)
            ascending = counts.average_rank()
            before, through = p - counts.hi, p - counts.lo
        else:  # GSVA: ties in row order, every gene its own position
            counts = rank_counts(stat, union, ties=True)
            ascending = counts.row_order_position()
            through = p - ascending + 1
            before = through - 1
        weight = np.abs(ascending - p / 2.0) ** self.params["tau"]
        score = np.empty((stat.shape[0], len(components)))
        for group in groups:
            if group.k >= p:
                raise ValueError(f"a gene set covers all {p} genes; GSVA needs genes outside it")
            score[:, group.members] = walk_scores(
                before[:, group.local], through[:, group.local], weight[:, group.local], p,
                max_diff=self.params["max_diff"], abs_ranking=self.params["abs_ranking"])
        return {"score": score}
