"""Pathway level analysis of gene expression (Tomfohr et al. 2005), as GSVA 1.46
``method="plage"``.

Genes are standardised over the reference samples (as for ``zscore``); a set's score is the
first right singular vector of its genes' standardised matrix (genes x reference samples).
GSVA leaves the sign arbitrary; ferroscore orients it so the score correlates positively with
the set's mean z-score, which makes the sign interpretable ("high = set expressed high").
Samples scored against a frozen reference are projected on the reference loadings:
``score = z_new @ u / d``, which reproduces the singular vector for the reference itself.
"""

from __future__ import annotations

import numpy as np

from ferroscore.methods.base import Component, gather_by_size
from ferroscore.methods.zscore import Standardised, standardise, zscores


def _set_factors(block, components: list[Component], state: dict):
    """Per set: R factor and column sums of the set's z-scores in one chunk of samples."""
    from ferroscore._lazy import r_factor

    union, _ = gather_by_size(components)
    z = standardise(block, state, union)
    subs = [z[:, np.searchsorted(union, comp.indices)] for comp in components]
    return [r_factor(sub) for sub in subs], [sub.sum(axis=0) for sub in subs]


def _merge_factors(a, b):
    from ferroscore._lazy import r_merge

    return r_merge(a[0], b[0]), [x + y for x, y in zip(a[1], b[1], strict=True)]


def _loadings_from_factors(factors, n_samples: int) -> list[np.ndarray]:
    """The in-memory loadings from each set's R and column sums: ``Z = QR`` shares its right
    singular vectors with ``R``, and the orientation's correlation with the centred sample
    means is ``u' (R'R 1 / k - mean(Z) S)`` (S = column sums), up to the positive factor d."""
    loadings = []
    for r, col_sums in zip(*factors, strict=True):
        k = r.shape[1]
        _, d, vt = np.linalg.svd(r)
        grand = col_sums.sum() / (n_samples * k)
        key = vt[0] @ (r.T @ (r @ np.ones(k)) / k - grand * col_sums)
        loadings.append((-1.0 if key < 0 else 1.0) * vt[0] / d[0])
    return loadings


class PLAGE(Standardised):
    name = "plage"

    def fit(self, expression, components: list[Component], *, self_reference: bool,
            n_observed: int) -> dict:
        state = super().fit(expression, components, self_reference=self_reference,
                            n_observed=n_observed)
        union = state["union"]
        z = zscores(expression.columns(union), state, np.arange(len(union)))
        loadings = []
        for comp in components:
            cols = np.searchsorted(union, comp.indices)
            sub = z[:, cols].T  # genes x samples, as GSVA passes it to svd()
            u, d, vt = np.linalg.svd(sub, full_matrices=False)
            centred_mean = sub.mean(axis=0) - sub.mean()
            sign = -1.0 if vt[0] @ centred_mean < 0 else 1.0  # sign of their correlation
            loadings.append(sign * u[:, 0] / d[0])
        state["loadings"] = loadings
        return state

    def fit_lazy(self, data, components, *, self_reference: bool, n_observed: int):
        """Loadings from a TSQR of each set's standardised genes: R factors of chunks of
        samples merged in a tree, whose SVD gives the singular vector (equal to the in-memory
        SVD to about 1e-13)."""
        from ferroscore._lazy import task

        state = super().fit_lazy(data, components, self_reference=self_reference,
                                 n_observed=n_observed)
        factors = data.reduce("plage-tsqr", _set_factors, _merge_factors, None, components,
                              state.values)
        state.values["loadings"] = task("plage-loadings", _loadings_from_factors, factors,
                                        data.n_samples)
        return state

    def transform(self, block, components: list[Component], state: dict) -> dict[str, np.ndarray]:
        union, _ = gather_by_size(components)
        z = standardise(block, state, union)
        score = np.empty((z.shape[0], len(components)))
        for i, comp in enumerate(components):
            cols = np.searchsorted(union, comp.indices)
            # an element-wise row reduction (not BLAS) keeps scores independent of block shape
            score[:, i] = (z[:, cols] * state["loadings"][i]).sum(axis=1)
        return {"score": score}
