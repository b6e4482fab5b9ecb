"""Combined z-score (Lee et al. 2008) exactly as GSVA 1.46 ``method="zscore"``.

Each gene is standardised with its mean and SD (n - 1) over the reference samples; a set's
score is the sum of its genes' z-scores divided by the square root of the set size. Genes with
constant expression in the reference cannot be standardised and are left out of the sets, as
GSVA does.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ferroscore.matrix import power_of_two_scale
from ferroscore.methods.base import Component, Method, gather_by_size


def standardiser(expression, components: list[Component]) -> dict:
    """Reference mean and SD of every gene used by the components.

    Genes with values beyond :data:`~ferroscore.matrix.LARGE` are first divided by a power of
    two (``scale``, exact), so their sums of squares cannot overflow; mean and SD are kept in
    those units, which leaves the z-scores exactly as they would be without overflow.
    """
    union, _ = gather_by_size(components)
    values = expression.columns(union)
    scale = power_of_two_scale(np.abs(values).max(axis=0, initial=0.0))
    if (scale != 1.0).any():
        values = values / scale
    mean = values.mean(axis=0)
    sd = values.std(axis=0, ddof=1)
    return {"union": union, "mean": mean, "sd": sd, "scale": scale}


def lazy_standardiser(data) -> dict:
    """:func:`standardiser` of dask input, for every gene: mean, SD and scale from a tree
    reduction of per-chunk moments (merged by Chan et al.'s update, so the summation order
    differs from numpy's: equal to about 1e-15 relative)."""
    from ferroscore._lazy import moments, task

    stats = task("standardiser", _from_moments, moments(data))
    return {"union": np.arange(data.n_genes), "mean": stats["mean"], "sd": stats["sd"],
            "scale": stats["scale"]}


def _from_moments(stats) -> dict:
    return {"mean": stats.mean, "sd": stats.sd, "scale": stats.scale}


def standardise(block, state: dict, union: np.ndarray) -> np.ndarray:
    """z-scores ``(n_block, len(union))`` of the union genes using the fitted statistics."""
    at = np.searchsorted(state["union"], union)
    sub = block[:, union]
    sub = sub.toarray() if sparse.issparse(sub) else np.asarray(sub, dtype=np.float64)
    return zscores(sub, state, at)


def zscores(sub: np.ndarray, state: dict, at: np.ndarray) -> np.ndarray:
    """z-scores of dense values ``sub`` of the fitted genes ``state["union"][at]``."""
    scale = state["scale"][at]
    if (scale != 1.0).any():
        sub = sub / scale
    return (sub - state["mean"][at]) / state["sd"][at]


class Standardised(Method):
    """Methods on genes standardised over the reference (zscore, plage)."""

    drops_constant_genes = True
    standardises_genes = True
    defaults: dict = {}

    @property
    def per_sample(self) -> bool:
        return False

    def fit(self, expression, components: list[Component], *, self_reference: bool,
            n_observed: int) -> dict:
        return standardiser(expression, components)

    def fit_lazy(self, data, components, *, self_reference: bool, n_observed: int):
        from ferroscore._lazy import LazyState

        return LazyState(lazy_standardiser(data))


class ZScore(Standardised):
    name = "zscore"

    def transform(self, block, components: list[Component], state: dict) -> dict[str, np.ndarray]:
        union, groups = gather_by_size(components)
        z = standardise(block, state, union)
        score = np.empty((z.shape[0], len(components)))
        for group in groups:
            score[:, group.members] = z[:, group.local].sum(axis=2) / np.sqrt(group.k)
        return {"score": score}
