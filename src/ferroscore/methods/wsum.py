"""Weighted sum: ``sum(w_g * x_g)`` over a set's found genes, the score of linear risk models.

The weights come from the :class:`~ferroscore.genesets.GeneSet` (1 for every gene when it has
none). A set with weights of both signs is a signature whose sides carry the weights'
magnitudes, so its composite ``up - down`` equals ``sum(w_g * x_g)`` over all its genes. Genes
missing from the data contribute nothing, which changes the score's scale: every missing gene
is reported in a warning, whatever ``min_coverage`` says. The values enter as they are (no
standardisation), so the data must be on the scale the weights were fitted on.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ferroscore.methods.base import Component, Method


class WeightedSum(Method):
    name = "wsum"
    weighted = True
    defaults: dict = {}

    def transform(self, block, components: list[Component], state: dict) -> dict[str, np.ndarray]:
        score = np.empty((block.shape[0], len(components)))
        for i, comp in enumerate(components):
            sub = block[:, comp.indices]
            sub = sub.toarray() if sparse.issparse(sub) else np.asarray(sub, dtype=np.float64)
            weights = np.ones(comp.size) if comp.weights is None else comp.weights
            # an element-wise row reduction (not BLAS) keeps scores independent of block shape
            score[:, i] = (sub * weights).sum(axis=1)
        return {"score": score}
