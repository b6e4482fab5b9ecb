"""Single-sample GSEA (Barbie et al. 2009) exactly as GSVA 1.46 ``method="ssgsea"``.

Per sample, genes get ascending average ranks truncated to integers (GSVA stores them as
integers), weights ``w = rank ** alpha``, and are ordered by decreasing rank with ties in row
order. The walk sum has a closed form: with ``q_g`` the ascending position of set gene ``g``,

    ES = sum(w q) / sum(w) - (p (p + 1) / 2 - sum(q)) / (p - k).

With ``normalize=True`` scores are divided by the range (max - min) of the raw scores over all
sets and samples of the call, or of the reference cohort when scoring against one.

``ties="average_position"`` is ferroscore's order-invariant variant: tied genes get their
average rank for both the weight and the position, so permuting the rows of the matrix cannot
change a score. On data without ties both modes are identical.
"""

from __future__ import annotations

import numpy as np

from ferroscore.methods._ranks import rank_counts
from ferroscore.methods.base import Component, Method, gather_by_size


class SsGSEA(Method):
    name = "ssgsea"
    scale_free = True
    expects_log = False
    defaults = {"alpha": 0.25, "normalize": True, "ties": "row_order"}

    def validate(self) -> None:
        if self.params["ties"] not in ("row_order", "average_position"):
            raise ValueError("ssgsea ties must be 'row_order' (GSVA) or 'average_position', got "
                             f"{self.params['ties']!r}")
        if not np.isfinite(self.params["alpha"]) or self.params["alpha"] < 0:
            raise ValueError(f"ssgsea alpha must be >= 0, got {self.params['alpha']!r}")

    @property
    def per_sample(self) -> bool:
        return not self.params["normalize"]

    def fit(self, expression, components: list[Component], *, self_reference: bool,
            n_observed: int) -> dict:
        if not self.params["normalize"] or self_reference:
            return {"range": None}
        observed = components[:n_observed]
        raw = np.vstack([self.transform(block, observed, {})["score"]
                         for _, block in expression.blocks()])
        return {"range": float(raw.max() - raw.min())}

    def transform(self, block, components: list[Component], state: dict) -> dict[str, np.ndarray]:
        union, groups = gather_by_size(components)
        row_order = self.params["ties"] == "row_order"
        counts = rank_counts(block, union, ties=row_order)
        p = counts.n_genes
        if row_order:
            weight = np.floor(counts.average_rank()) ** self.params["alpha"]
            position = counts.row_order_position()
        else:
            position = counts.average_rank()
            weight = position ** self.params["alpha"]
        total = p * (p + 1) / 2.0
        score = np.empty((counts.lo.shape[0], len(components)))
        for group in groups:
            k = group.k
            if k >= p:
                raise ValueError(f"a gene set covers all {p} genes; ssGSEA needs genes outside it")
            w = weight[:, group.local]
            q = position[:, group.local]
            score[:, group.members] = ((w * q).sum(axis=2) / w.sum(axis=2)
                                       - (total - q.sum(axis=2)) / (p - k))
        return {"score": score}

    def finish(self, outputs: dict, state: dict, n_observed: int) -> dict:
        if not self.params["normalize"]:
            return outputs
        span = state.get("range")
        if span is None:
            observed = outputs["score"][:, :n_observed]
            span = float(observed.max() - observed.min())
        if span == 0:
            raise ValueError("ssGSEA normalisation: all raw scores are equal (range 0); use "
                             "normalize=False")
        return {**outputs, "score": outputs["score"] / span}
