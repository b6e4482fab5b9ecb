"""Random gene-set nulls and empirical p-values for per-sample scores.

For each scored set, ``B`` random sets of the same size are drawn and scored with the same
method on the same samples.

- ``null="uniform"``: genes drawn uniformly from all scorable genes (singscore's
  ``generateNull``); a signature's two sides are drawn together, without overlap.
- ``null="expression_matched"``: every set gene is replaced by a random gene from the same
  mean-expression bin (``n_bins`` equal-count bins over the samples' mean expression), so the
  null keeps the set's expression profile (none of the peer tools offer this for signed sets).

p-values: for a plain set the test is one-sided (upper tail),
``p = (1 + #{null >= observed}) / (B + 1)``; for a signature's composite it is two-sided around
the null median, ``p = (1 + #{|null - m| >= |observed - m|}) / (B + 1)``. q-values are
Benjamini-Hochberg across samples.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ferroscore.methods.base import Component

__all__ = ["benjamini_hochberg", "draw_null", "empirical_pvalues"]

NULLS = ("uniform", "expression_matched")


def _bins(gene_means: np.ndarray, universe: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-count expression bins (0..n_bins-1) of the universe genes, -1 elsewhere."""
    bins = np.full(len(gene_means), -1, dtype=np.int64)
    ranks = pd.Series(gene_means[universe]).rank(method="first").to_numpy() - 1
    bins[universe] = np.minimum((ranks * n_bins / len(universe)).astype(np.int64), n_bins - 1)
    return bins


def draw_null(
    sides: list[Component],
    universe: np.ndarray,
    n_permutations: int,
    rng: np.random.Generator,
    *,
    null: str = "uniform",
    gene_means: np.ndarray | None = None,
    n_bins: int = 25,
) -> list[list[Component]]:
    """Random counterparts of one set (one side) or one signature (two sides).

    Returns one list of ``n_permutations`` components per side, in side order.
    """
    if null not in NULLS:
        raise ValueError(f"null must be one of {NULLS}, got {null!r}")
    sizes = [s.size for s in sides]
    total = sum(sizes)
    if total > len(universe):
        raise ValueError(f"cannot draw {total} random genes from {len(universe)} scorable genes")
    if null == "expression_matched":
        if gene_means is None:
            raise ValueError("expression_matched null needs gene means")
        bins = _bins(gene_means, universe, n_bins)
        target = bins[np.concatenate([s.indices for s in sides])]
        members = {b: np.flatnonzero(bins == b) for b in np.unique(target)}
    out: list[list[Component]] = [[] for _ in sides]
    for b in range(n_permutations):
        if null == "uniform":
            drawn = universe[rng.choice(len(universe), size=total, replace=False)]
        else:
            drawn = np.empty(total, dtype=np.intp)
            for value, pool in members.items():
                where = np.flatnonzero(target == value)
                if len(where) > len(pool):
                    raise ValueError("expression bin too small for an expression-matched null; "
                                     "use fewer bins or null='uniform'")
                drawn[where] = pool[rng.choice(len(pool), size=len(where), replace=False)]
        start = 0
        for i, side in enumerate(sides):
            genes = drawn[start:start + side.size]
            # a weighted side keeps its weights, in member order, on the random genes
            out[i].append(Component(f"{side.name}__null{b}", genes, side.n_requested,
                                    weights=side.weights))
            start += side.size
    return out


def empirical_pvalues(observed: np.ndarray, null: np.ndarray, *, two_sided: bool) -> np.ndarray:
    """Empirical p-values of ``observed`` (n,) against ``null`` (n, B), per sample."""
    n_perm = null.shape[1]
    if two_sided:
        centre = np.median(null, axis=1, keepdims=True)
        extreme = np.abs(null - centre) >= np.abs(observed[:, None] - centre)
    else:
        extreme = null >= observed[:, None]
    return (1.0 + extreme.sum(axis=1)) / (n_perm + 1.0)


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), same order as ``p``; NaN kept."""
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    if len(ok) == 0:
        return q
    order = ok[np.argsort(p[ok], kind="mergesort")]
    m = len(order)
    adjusted = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(adjusted[::-1])[::-1]
    q[order] = np.minimum(adjusted, 1.0)
    return q
