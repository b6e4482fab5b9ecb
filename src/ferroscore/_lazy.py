"""Dask graphs for scoring: passes over the data, tree reductions and lazily fitted statistics.

Dask input is scored as one graph. Its validated chunks of samples (:class:`LazyData`) are read
in *passes*: a pass computing a cross-sample statistic (gene moments, exact gene sums, the
ssGSEA range, TSQR factors) reduces per-chunk partials in a tree, and a later pass that needs
the statistic reads the data again (a clone of the input's tasks, bound to start after the
statistic) instead of keeping every chunk in memory until the statistic is known. Worker memory
therefore stays bounded by a few chunks whatever the size of the data, except where a method
needs all samples of a gene at once (gsva: the data is rechunked to blocks of genes).

Every task the statistics add is named ``ferroscore-<statistic>-...`` so the graph can be
inspected (:attr:`ferroscore.scoring.LazyScoreResult.graph`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dask
import dask.array as da
import numpy as np
import pandas as pd
from dask._task_spec import DataNode, Task, TaskRef, convert_legacy_graph
from dask.base import is_dask_collection, tokenize
from dask.core import flatten
from dask.delayed import Delayed
from dask.highlevelgraph import HighLevelGraph
from scipy import sparse

from ferroscore import _exactsum
from ferroscore.matrix import _checked_block, power_of_two_scale

__all__ = ["LazyData", "LazyState", "as_delayed", "pack", "task", "transform_block",
           "tree_reduce", "unpack"]

#: Partials merged per task in a tree reduction.
SPLIT_EVERY = 8
_counter = itertools.count()


def nested_collections(value: Any) -> list:
    """The dask collections in ``value`` or in its dict values and list items."""
    if is_dask_collection(value):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [c for item in value for c in nested_collections(item)]
    return []


def task(name: str, func: Callable, *args: Any) -> Delayed:
    """``func(*args)`` as one named graph task (key ``ferroscore-<name>-<token>``)."""
    return dask.delayed(func, pure=True)(
        *args, dask_key_name=f"ferroscore-{name}-{tokenize(name, func, *args)}")


def as_delayed(value: Any) -> Any:
    """A dask collection as it is; anything else as one shared graph key (so a large argument
    of a per-chunk task is shipped once, not once per task)."""
    if is_dask_collection(value):
        return value
    return dask.delayed(value, pure=True, traverse=True)


def tree_reduce(parts: list, merge: Callable, name: str,
                split_every: int = SPLIT_EVERY) -> Delayed:
    """Merge partials pairwise-associatively in a tree of ``split_every``-ary tasks."""
    if not parts:
        raise ValueError("nothing to reduce")
    token = tokenize(name, [getattr(p, "key", p) for p in parts])
    level = 0
    while len(parts) > 1:
        parts = [dask.delayed(_fold, pure=True)(merge, *parts[i:i + split_every],
                                                dask_key_name=f"ferroscore-{name}-merge-"
                                                              f"{token}-{level}-{i}")
                 for i in range(0, len(parts), split_every)]
        level += 1
    return parts[0] if isinstance(parts[0], Delayed) else dask.delayed(parts[0])


def _fold(merge: Callable, *parts):
    out = parts[0]
    for part in parts[1:]:
        out = merge(out, part)
    return out


@dataclass
class LazyData:
    """Validated dask input: samples x genes in chunks of samples (all genes per chunk).

    Each block is checked as it is read (dtype, NaN/inf, negative stored values of sparse
    input for ucell/aucell, see :func:`ferroscore.matrix._checked_block`) and handed to the
    kernels as a C-contiguous array or a CSR matrix with sorted indices; CSR chunks stay sparse.
    """

    values: da.Array
    n_samples: int
    n_genes: int
    sparse: bool
    expression: Any = field(default=None, repr=False)  # the Expression it was made from
    _seed: int = field(default_factory=lambda: next(_counter))
    _passes: int = 0

    @classmethod
    def from_expression(cls, expression) -> LazyData:
        values = expression.values
        if len(values.chunks[1]) > 1:
            values = values.rechunk({1: -1})
        samples, genes = expression.samples, expression.genes
        reject = expression.reject_negative_sparse
        is_sparse = sparse.issparse(getattr(values, "_meta", None))

        # the names go in as one graph key each, shipped once per worker, never per task
        checked = values.map_blocks(_check_block, as_delayed(samples), as_delayed(genes),
                                    reject, dtype=values.dtype, meta=values._meta,
                                    name=f"ferroscore-checked-{tokenize(values.name, reject)}")
        return cls(checked, expression.n_samples, expression.n_genes, is_sparse, expression)

    @property
    def row_chunks(self) -> tuple[int, ...]:
        return self.values.chunks[0]

    def fresh(self, after: list | tuple = ()) -> da.Array:
        """The data for one more pass: its own copy of the input's tasks, started only once
        every collection in ``after`` is computed."""
        self._passes += 1
        return copy_tasks(self.values, f"pass{self._seed}.{self._passes}",
                          [a for a in after if is_dask_collection(a)])

    def partials(self, name: str, func: Callable, *args: Any) -> list[Delayed]:
        """``func(block, *args)`` for every chunk of a fresh pass (started after the dask
        collections in ``args``)."""
        array = self.fresh(nested_collections(args))
        shared = [as_delayed(a) for a in args]
        token = tokenize(name, array.name, [getattr(a, "key", None) for a in shared])
        return [dask.delayed(func, pure=True)(block, *shared,
                                              dask_key_name=f"ferroscore-{name}-{token}-{i}")
                for i, block in enumerate(array.to_delayed(optimize_graph=False).ravel())]

    def reduce(self, name: str, chunk: Callable, merge: Callable, final: Callable | None,
               *args: Any) -> Delayed:
        """Tree reduction of ``chunk(block, *args)`` over a fresh pass, then ``final``."""
        total = tree_reduce(self.partials(name, chunk, *args), merge, name)
        return total if final is None else task(f"{name}-final", final, total)

    def map_rows(self, name: str, func: Callable, width: int, *args: Any) -> da.Array:
        """``func(block, *args)`` -> ``(n_block, width)`` float64 for every chunk, as a dask
        array of samples x ``width``: a fresh pass after the dask collections in ``args``, or
        the input's own tasks when there are none."""
        after = nested_collections(args)
        array = self.fresh(after) if after else self.values
        shared = [as_delayed(a) for a in args]
        return array.map_blocks(func, *shared, dtype=np.float64,
                                chunks=(array.chunks[0], (width,)), meta=np.empty((0, 0)),
                                name=f"ferroscore-{name}-{tokenize(array.name, shared)}")


def pack(outputs: dict[str, np.ndarray], keys: list[str]) -> np.ndarray:
    """Method outputs of a block side by side: ``keys`` in order (each ``(n, n_components)``
    or a ``(n, 1)`` diagnostic)."""
    return np.hstack([outputs[key] for key in keys])


def unpack(values: np.ndarray, keys: list[str], n_components: int,
           diagnostics: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Inverse of :func:`pack` for ``keys`` of ``n_components`` columns then diagnostics."""
    out = {key: values[:, i * n_components:(i + 1) * n_components]
           for i, key in enumerate(keys)}
    end = len(keys) * n_components
    for i, key in enumerate(diagnostics):
        out[key] = values[:, end + i:end + i + 1]
    return out


def transform_block(block, method, components, state: dict, n_observed: int) -> np.ndarray:
    """Dask kernel: the method's scores of one chunk, finished with whole-call statistics
    (the ssGSEA range) and packed (:func:`pack`)."""
    out = method.finish(method.transform(block, components, state), state, n_observed)
    return pack(out, ["score", *method.extras, *method.diagnostics])


def copy_tasks(array: da.Array, suffix: str, after: list) -> da.Array:
    """A copy of ``array`` whose tasks (its input's included) have their own keys, so dask
    computes them again instead of keeping the first results in memory; its root tasks wait
    for the collections in ``after``. (``dask.graph_manipulation.bind`` does this too, but
    loses dependencies of rechunked arrays in dask 2026.8.)"""
    graph = convert_legacy_graph(dict(array.__dask_graph__()))
    rename = {key: _renamed(key, suffix) for key in graph}
    waits = [TaskRef(key) for c in after for key in flatten(c.__dask_keys__())]
    copied = {}
    for key, node in graph.items():
        new = rename[key]
        if waits and not node.dependencies:  # a root: run it inline, after the parents
            inline = (DataNode(None, node.value) if isinstance(node, DataNode) else
                      Task(None, node.func, *node.args, **node.kwargs))
            copied[new] = Task(new, _first, inline, *waits)
        else:
            copied[new] = node.substitute(rename, key=new)
    name = _renamed(array.name, suffix)
    layers = HighLevelGraph.from_collections(name, copied, dependencies=after)
    return da.Array(layers, name, array.chunks, meta=array._meta)


def _renamed(key, suffix: str):
    if isinstance(key, tuple):
        return (f"{key[0]}-{suffix}", *key[1:])
    return f"{key}-{suffix}"


def _first(value, *_):
    return value


def _check_block(block, samples: pd.Index, genes: pd.Index, reject: str | None,
                 block_info=None):
    """Dask kernel: one chunk validated (names of the chunk's samples in any error)."""
    start, stop = block_info[0]["array-location"][0]
    return _kernel_block(_checked_block(block, samples[start:stop], genes, reject))


def _kernel_block(block):
    """A block as the kernels take it: CSR with sorted indices, or C-contiguous."""
    if sparse.issparse(block):
        block = sparse.csr_matrix(block)
        block.sort_indices()
        return block
    return np.ascontiguousarray(block)


@dataclass
class LazyState:
    """Statistics fitted on dask input, not computed yet.

    ``values`` holds what the method's per-block ``transform`` and ``describe`` read (numpy
    values or dask ``Delayed``s of them); ``arrays`` holds large dask arrays that stay
    distributed (gsva's reference values and self statistic); ``data`` is the input the
    statistics were fitted on.
    """

    values: dict
    arrays: dict = field(default_factory=dict)
    data: LazyData | None = None

    def collections(self) -> list:
        return [v for v in (*self.values.values(), *self.arrays.values())
                if is_dask_collection(v)]

    def materialise(self) -> dict:
        """The computed statistics, as the in-memory ``fit`` returns them."""
        values, arrays = dask.compute(self.values, self.arrays)
        return {**values, **{k: np.asarray(v) for k, v in arrays.items()}}


# ----------------------------------------------------------------------------------------------
# Reductions over the samples of each gene
# ----------------------------------------------------------------------------------------------


def exact_sums(data: LazyData) -> Delayed:
    """Exact per-gene sums and counts (:mod:`ferroscore._exactsum`), as a tree reduction."""
    return data.reduce("exact-sums", _exactsum.accumulate, _exactsum.merge, None)


def exact_means(data: LazyData) -> Delayed:
    """Correctly rounded gene means: bit-identical to
    :meth:`ferroscore.matrix.Expression.exact_gene_means` of the same values in memory."""
    return task("exact-means", _exactsum.means, exact_sums(data))


@dataclass
class Moments:
    """Per-gene moments of a set of samples, in units of ``scale`` (a power of two per gene,
    1 unless the gene's values pass :data:`~ferroscore.matrix.LARGE`)."""

    n: int
    scale: np.ndarray
    mean: np.ndarray
    m2: np.ndarray  # sum of squared deviations from the mean
    low: np.ndarray
    high: np.ndarray

    @property
    def sd(self) -> np.ndarray:
        """Sample SD (n - 1), in units of ``scale``."""
        return np.sqrt(self.m2 / max(self.n - 1, 1))


def moments_chunk(block) -> Moments:
    """Moments of one block (dense or CSR, finite values)."""
    n = block.shape[0]
    if sparse.issparse(block):
        csc = sparse.csc_matrix(block, dtype=np.float64)
        stored = np.diff(csc.indptr)
        gene = np.repeat(np.arange(block.shape[1]), stored)
        data = csc.data
        # implicit zeros count for genes with fewer stored values than samples
        high = np.where(stored == n, -np.inf, 0.0)
        low = -high
        some = np.flatnonzero(stored)
        starts = csc.indptr[some]
        high[some] = np.maximum(high[some], np.maximum.reduceat(data, starts))
        low[some] = np.minimum(low[some], np.minimum.reduceat(data, starts))
        scale = power_of_two_scale(np.maximum(np.abs(low), np.abs(high)))
        scaled = data / scale[gene]
        mean = np.bincount(gene, scaled, minlength=block.shape[1]) / n
        m2 = (np.bincount(gene, (scaled - mean[gene]) ** 2, minlength=block.shape[1])
              + (n - stored) * mean ** 2)
        return Moments(n, scale, mean, m2, low, high)
    dense = np.asarray(block, dtype=np.float64)
    low, high = dense.min(axis=0), dense.max(axis=0)
    scale = power_of_two_scale(np.maximum(np.abs(low), np.abs(high)))
    scaled = dense / scale if (scale != 1.0).any() else dense
    mean = scaled.mean(axis=0)
    return Moments(n, scale, mean, ((scaled - mean) ** 2).sum(axis=0), low, high)


def moments_merge(a: Moments, b: Moments) -> Moments:
    """Moments of the union of two disjoint sets of samples (Chan et al.'s update), brought to
    the larger of the two scales first (exact: powers of two)."""
    scale = np.maximum(a.scale, b.scale)
    ra, rb = a.scale / scale, b.scale / scale
    mean_a, mean_b = a.mean * ra, b.mean * rb
    n = a.n + b.n
    delta = mean_b - mean_a
    mean = mean_a + delta * (b.n / n)
    m2 = a.m2 * ra ** 2 + b.m2 * rb ** 2 + delta ** 2 * (a.n * b.n / n)
    return Moments(n, scale, mean, m2, np.minimum(a.low, b.low), np.maximum(a.high, b.high))


def moments(data: LazyData) -> Delayed:
    """Per-gene :class:`Moments` of all samples, as a tree reduction."""
    return data.reduce("moments", moments_chunk, moments_merge, None)


def constant_genes(expression, tolerance: float) -> np.ndarray:
    """:meth:`ferroscore.matrix.Expression.constant_genes` of dask input, computed now (the
    constant genes decide which genes the sets keep, which the coverage report needs before
    the scores are computed)."""
    return constant_from_moments(moments(LazyData.from_expression(expression)).compute(),
                                 tolerance)


def constant_from_moments(m: Moments, tolerance: float) -> np.ndarray:
    """The rule of :meth:`ferroscore.matrix.Expression.constant_genes` on reduced moments: SD
    below ``tolerance``, or all values equal (checked exactly, as min == max, for genes whose
    SD is tiny next to their mean)."""
    sd = m.sd * m.scale
    constant = ~(sd >= tolerance)
    suspects = ~constant & (sd <= np.abs(m.mean * m.scale) * 1e-8)
    constant[suspects] = m.low[suspects] == m.high[suspects]
    return constant


# ----------------------------------------------------------------------------------------------
# TSQR: R factors of tall-skinny matrices, one per gene set, merged over chunks of samples
# ----------------------------------------------------------------------------------------------


def r_factor(matrix: np.ndarray) -> np.ndarray:
    """R of a QR decomposition (``min(n, k) x k``)."""
    return np.linalg.qr(matrix, mode="r")


def r_merge(a: list[np.ndarray], b: list[np.ndarray]) -> list[np.ndarray]:
    """R factors of the stacked samples of two chunks, set by set (the TSQR tree step)."""
    return [r_factor(np.vstack([x, y])) for x, y in zip(a, b, strict=True)]

