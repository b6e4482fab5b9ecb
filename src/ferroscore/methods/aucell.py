"""AUCell (Aibar et al. 2017): area under the recovery curve of a set in a cell's ranking.

Genes are ranked per cell in decreasing expression. With the threshold
``t = ceil(max_rank_frac * p)`` (AUCell's ``aucMaxRank``), the area under the recovery curve of
the set's ranks below ``t`` is ``sum(t - r)`` over set genes with ``r < t``; it is divided by
the largest area a set of that size can reach (AUCell's normalised AUC, in [0, 1]). Only found
genes count, as in AUCell.

Ties: AUCell R breaks ties at random (``colRanks(ties.method="random")``), so its scores change
with the seed when ties reach the top ``t`` genes. ferroscore gives tied genes their average
rank instead, which is deterministic and invariant to the order of the genes; on data without
ties among the top genes the two agree exactly. As for UCell, sparse input must not hold
negative stored values (implicit zeros rank at the bottom); dense input may hold any finite
values.
"""

from __future__ import annotations

import math

import numpy as np

from ferroscore.methods._ranks import rank_counts
from ferroscore.methods.base import Component, Method, gather_by_size
from ferroscore.methods.ucell import check_ranked_zeros


class AUCell(Method):
    name = "aucell"
    scale_free = True
    expects_log = False
    needs_genes_outside = True
    diagnostics = ("all_tied",)
    layout_free = True
    defaults = {"max_rank_frac": 0.05}

    def check_input(self, expression) -> None:
        check_ranked_zeros(self, expression)

    def validate(self) -> None:
        frac = self.params["max_rank_frac"]
        if not 0 < frac <= 1:
            raise ValueError(f"aucell max_rank_frac must be in (0, 1], got {frac!r}")

    def threshold(self, n_genes: int) -> int:
        threshold = math.ceil(self.params["max_rank_frac"] * n_genes)
        if threshold < 2:
            raise ValueError(f"aucell threshold ceil({self.params['max_rank_frac']} x {n_genes} "
                             "genes) is below 2; increase max_rank_frac")
        return threshold

    def transform(self, block, components: list[Component], state: dict) -> dict[str, np.ndarray]:
        union, groups = gather_by_size(components)
        counts = rank_counts(block, union)
        p = counts.n_genes
        threshold = self.threshold(p)
        descending = p + 1 - counts.average_rank()
        area = np.where(descending < threshold, threshold - descending, 0.0)
        score = np.empty((descending.shape[0], len(components)))
        for group in groups:
            best = np.arange(1, min(group.k, threshold - 1) + 1)
            max_area = float((threshold - best).sum())
            score[:, group.members] = area[:, group.local].sum(axis=2) / max_area
        return {"score": score, "all_tied": counts.all_tied()}
