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

    def transform(self, block, components: list[Component], state: dict) -> dict[str, np.ndarray]:
        union, _ = gather_by_size(components)
        z = standardise(block, state, union)
        score = np.empty((z.shape[0], len(components)))
        for i, comp in enumerate(components):
            cols = np.searchsorted(union, comp.indices)
            # an element-wise row reduction (not BLAS) keeps scores independent of block shape
            score[:, i] = (z[:, cols] * state["loadings"][i]).sum(axis=1)
        return {"score": score}
