"""UCell (Andreatta & Carmona 2021), as UCell >= 2.7.6.

Genes are ranked per cell in decreasing expression with ties averaged; ranks are capped at
``max_rank`` (itself capped at the number of genes). For a set of ``k`` genes the
Mann-Whitney statistic ``U = sum(r) - k(k+1)/2`` gives ``UCell = 1 - U / (k * max_rank -
k(k+1)/2)``, in [0, 1], 1 meaning the set's genes are the cell's top-ranked genes. Requested
genes missing from the data count at ``max_rank`` (``missing_genes="impute"``, UCell's default)
or are skipped (``"skip"``). For a signature the composite is UCell's signed score
``max(0, UCell(up) - w_neg * UCell(down))``. When broadly expressed suppressors (FTH1, GPX4)
outrank the drivers this is 0 in most cells; ``clip=False`` keeps the difference
``UCell(up) - w_neg * UCell(down)`` (in [-w_neg, 1]) instead.

Zeros tie at the bottom of each cell's ranking, so on sparse input only the stored values are
sorted and the result equals the dense computation exactly.
"""

from __future__ import annotations

import numpy as np

from ferroscore.methods._ranks import rank_counts
from ferroscore.methods.base import Component, Method, gather_by_size


class UCell(Method):
    name = "ucell"
    scale_free = True
    expects_log = False
    defaults = {"max_rank": 1500, "w_neg": 1.0, "missing_genes": "impute", "clip": True}

    def validate(self) -> None:
        if int(self.params["max_rank"]) != self.params["max_rank"] or self.params["max_rank"] < 2:
            raise ValueError(f"ucell max_rank must be an integer >= 2, got "
                             f"{self.params['max_rank']!r}")
        if self.params["w_neg"] < 0:
            raise ValueError(f"ucell w_neg must be >= 0, got {self.params['w_neg']!r}")
        if self.params["missing_genes"] not in ("impute", "skip"):
            raise ValueError("ucell missing_genes must be 'impute' or 'skip', got "
                             f"{self.params['missing_genes']!r}")

    def transform(self, block, components: list[Component], state: dict) -> dict[str, np.ndarray]:
        union, groups = gather_by_size(components)
        counts = rank_counts(block, union)
        p = counts.n_genes
        cap = min(int(self.params["max_rank"]), p)
        descending = np.minimum(p + 1 - counts.average_rank(), cap)
        impute = self.params["missing_genes"] == "impute"
        score = np.empty((descending.shape[0], len(components)))
        for group in groups:
            rank_sum = descending[:, group.local].sum(axis=2)
            for col, member in enumerate(group.members):
                comp = components[member]
                k = comp.n_requested if impute else comp.size
                if k > cap:
                    raise ValueError(f"set {comp.name!r} has {k} genes, more than max_rank="
                                     f"{cap}; increase max_rank")
                missing = (k - comp.size) * cap
                u_stat = rank_sum[:, col] + missing - k * (k + 1) / 2.0
                score[:, member] = 1.0 - u_stat / (k * cap - k * (k + 1) / 2.0)
        return {"score": score}

    def combine(self, up: dict, down: dict) -> dict:
        difference = up["score"] - self.params["w_neg"] * down["score"]
        return {"score": np.maximum(0.0, difference) if self.params["clip"] else difference}
