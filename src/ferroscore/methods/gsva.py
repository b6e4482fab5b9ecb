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

The kernel step is O(genes x samples x reference samples); it runs in a compiled loop over genes.
"""

from __future__ import annotations

import numba
import numpy as np
from scipy import sparse, special

from ferroscore.methods._ranks import rank_counts
from ferroscore.methods.base import Component, Method, gather_by_size

_RESOLUTION = 10000
_MAX_PRECOMPUTE = 10.0
#: GSVA's table: the standard normal CDF at 10 * i / 10000, i = 0..10000.
NORMAL_TABLE = special.ndtr(_MAX_PRECOMPUTE * np.arange(_RESOLUTION + 1) / float(_RESOLUTION))
CONSTANT_SD = 1e-10


@numba.njit(nogil=True, cache=True)
def _gaussian_statistic(ref, test, bandwidth, table):  # pragma: no cover - compiled
    """ref (genes, n_ref), test (genes, n_test) -> log(F/(1-F)) (genes, n_test)."""
    n_genes, n_ref = ref.shape
    n_test = test.shape[1]
    out = np.empty((n_genes, n_test))
    for g in range(n_genes):
        h = bandwidth[g]
        for j in range(n_test):
            y = test[g, j]
            left = 0.0
            for i in range(n_ref):
                v = (y - ref[g, i]) / h
                if v < -_MAX_PRECOMPUTE:
                    c = 0.0
                elif v > _MAX_PRECOMPUTE:
                    c = 1.0
                else:
                    c = table[int(abs(v) / _MAX_PRECOMPUTE * _RESOLUTION)]
                    if v < 0:
                        c = 1.0 - c
                left += c
            left = left / n_ref
            out[g, j] = -1.0 * np.log((1.0 - left) / left)
    return out


def gsva_sd(values: np.ndarray) -> np.ndarray:
    """Per-column SD as GSVA's C code computes it (long-double sums, corrected mean)."""
    n = values.shape[0]
    wide = values.astype(np.longdouble)
    mean = wide.sum(axis=0) / n
    mean = mean + (wide - mean).sum(axis=0) / n
    mean = mean.astype(np.float64)
    dev = values - mean
    squares = (dev * dev).astype(np.longdouble).sum(axis=0)
    return np.sqrt((squares / (n - 1)).astype(np.float64))


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


def walk_scores(position: np.ndarray, weight: np.ndarray, p: int, *, max_diff: bool,
                abs_ranking: bool) -> np.ndarray:
    """Walk statistic for groups of equal-size sets.

    Parameters
    ----------
    position
        ``(..., k)`` descending-order positions (1-based, distinct) of the set genes.
    weight
        ``(..., k)`` step weights ``r ** tau`` of the same genes.
    p
        Number of genes in the ranking.
    """
    k = position.shape[-1]
    order = np.argsort(position, axis=-1)
    pos = np.take_along_axis(position, order, axis=-1)
    w = np.take_along_axis(weight, order, axis=-1)
    cum = np.cumsum(w, axis=-1)
    walk_in = cum / cum[..., -1:]
    misses = (pos - np.arange(1, k + 1)) / (p - k)
    at_hits = walk_in - misses
    before_hits = np.concatenate([np.zeros_like(walk_in[..., :1]), walk_in[..., :-1]],
                                 axis=-1) - misses
    top = np.maximum(at_hits.max(axis=-1), 0.0)
    bottom = np.minimum(before_hits.min(axis=-1), 0.0)
    if max_diff:
        return top - bottom if abs_ranking else top + bottom
    return np.where(top > np.abs(bottom), top, bottom)


class GSVA(Method):
    name = "gsva"
    drops_constant_genes = True
    defaults = {"kcdf": "gaussian", "max_diff": True, "abs_ranking": False, "tau": 1.0}

    def validate(self) -> None:
        kcdf = str(self.params["kcdf"]).lower()
        if kcdf not in ("gaussian", "poisson", "none"):
            raise ValueError(f"gsva kcdf must be 'gaussian', 'poisson' or 'none', got "
                             f"{self.params['kcdf']!r}")
        self.params["kcdf"] = kcdf
        if self.params["tau"] < 0:
            raise ValueError(f"gsva tau must be >= 0, got {self.params['tau']!r}")

    @property
    def expects_log(self) -> bool:  # type: ignore[override]
        return self.params["kcdf"] == "gaussian"

    @property
    def per_sample(self) -> bool:
        return False

    def check_input(self, expression) -> None:
        if self.params["kcdf"] != "poisson":
            return
        for _, block in expression.blocks():
            data = block.data if sparse.issparse(block) else block
            if (data < 0).any():
                raise ValueError("kcdf='poisson' needs non-negative counts; the input has "
                                 "negative values (use kcdf='gaussian' for log-scale data)")
            if not np.all(data == np.round(data)):
                raise ValueError("kcdf='poisson' needs integer counts; the input has non-integer "
                                 "values (use kcdf='gaussian' for log-scale data)")

    def fit(self, expression, components: list[Component], *, self_reference: bool,
            n_observed: int) -> dict:
        keep = ~expression.constant_genes(CONSTANT_SD)
        ref = expression.dense()[:, keep]
        return {
            "keep": keep,
            "new_index": np.cumsum(keep) - 1,
            "reference": np.ascontiguousarray(ref.T),
            "bandwidth": gsva_sd(ref) / 4.0,
        }

    def statistic(self, block, state: dict) -> np.ndarray:
        """``(n_block, p_kept)`` log-odds CDF statistic of each gene in each sample."""
        dense = block.toarray() if sparse.issparse(block) else block
        test_t = np.ascontiguousarray(np.asarray(dense, dtype=np.float64)[:, state["keep"]].T)
        kcdf = self.params["kcdf"]
        if kcdf == "gaussian":
            stat = _gaussian_statistic(state["reference"], test_t, state["bandwidth"],
                                       NORMAL_TABLE)
        elif kcdf == "poisson":
            stat = _poisson_statistic(state["reference"], test_t)
        else:
            stat = _ecdf_statistic(state["reference"], test_t)
        return np.ascontiguousarray(stat.T)

    def transform(self, block, components: list[Component], state: dict) -> dict[str, np.ndarray]:
        stat = self.statistic(block, state)
        p = stat.shape[1]
        local_components = [Component(c.name, state["new_index"][c.indices], c.n_requested)
                            for c in components]
        union, groups = gather_by_size(local_components)
        counts = rank_counts(stat, union, ties=True)
        ascending = counts.row_order_position()
        descending = p - ascending + 1
        weight = np.abs(ascending - p / 2.0) ** self.params["tau"]
        score = np.empty((stat.shape[0], len(components)))
        for group in groups:
            if group.k >= p:
                raise ValueError(f"a gene set covers all {p} genes; GSVA needs genes outside it")
            score[:, group.members] = walk_scores(
                descending[:, group.local], weight[:, group.local], p,
                max_diff=self.params["max_diff"], abs_ranking=self.params["abs_ranking"])
        return {"score": score}
