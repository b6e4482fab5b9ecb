"""UCell (Andreatta & Carmona 2021), as UCell >= 2.7.6.

Genes are ranked per cell in decreasing expression with ties averaged; ranks are capped at
``max_rank`` (itself capped at the number of genes). For a set of ``k`` genes the
Mann-Whitney statistic ``U = sum(r) - k(k+1)/2`` gives ``UCell = 1 - U / (k * max_rank -
k(k+1)/2)``, in [0, 1], 1 meaning the set's genes are the cell's top-ranked genes. Requested
genes missing from the data count at ``max_rank`` (``missing_genes="impute"``, UCell's default)
or are skipped (``"skip"``).

For a signature the composite is, by default (``clip=False``), the difference
``UCell(up) - w_neg * UCell(down)`` (in [-w_neg, 1]). ``clip=True`` gives UCell's own signed
score ``max(0, UCell(up) - w_neg * UCell(down))``; when broadly expressed suppressors (FTH1,
GPX4) outrank the drivers it is 0 in most cells (94-96% of the HSMM myoblasts, 98% of the
GSE1992 tumours for ``ferroptosis_core``), so a warning says when more than 90% of the samples
are 0.

Zeros tie at the bottom of each cell's ranking, so on sparse input only the stored values are
sorted and the result equals the dense computation exactly. Negative stored values contradict
that (they would rank below the implicit zeros): sparse input must be non-negative, while dense
input may hold any finite values.
"""

from __future__ import annotations

import numpy as np

from ferroscore._interface import hint
from ferroscore.matrix import check_sparse_non_negative
from ferroscore.methods._ranks import rank_counts
from ferroscore.methods.base import Component, Method, gather_by_size

#: Share of zeros above which a clipped composite is reported.
CLIPPED_SHARE = 0.9


def check_ranked_zeros(method: Method, expression) -> None:
    """Sparse input for methods that rank implicit zeros at the bottom must not hold negative
    stored values: checked now for in-memory input, block by block for lazy input."""
    if expression.lazy:
        expression.reject_negative_sparse = method.name
    elif expression.is_sparse:
        check_sparse_non_negative(expression.values, method.name, "the expression matrix")


class UCell(Method):
    name = "ucell"
    scale_free = True
    expects_log = False
    needs_genes_outside = True
    diagnostics = ("all_tied",)
    layout_free = True
    defaults = {"max_rank": 1500, "w_neg": 1.0, "missing_genes": "impute", "clip": False}

    def validate(self) -> None:
        if int(self.params["max_rank"]) != self.params["max_rank"] or self.params["max_rank"] < 2:
            raise ValueError(f"ucell max_rank must be an integer >= 2, got "
                             f"{self.params['max_rank']!r}")
        if self.params["w_neg"] < 0:
            raise ValueError(f"ucell w_neg must be >= 0, got {self.params['w_neg']!r}")
        if self.params["missing_genes"] not in ("impute", "skip"):
            raise ValueError("ucell missing_genes must be 'impute' or 'skip', got "
                             f"{self.params['missing_genes']!r}")

    def check_input(self, expression) -> None:
        check_ranked_zeros(self, expression)

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
        return {"score": score, "all_tied": counts.all_tied()}

    def combine(self, up: dict, down: dict) -> dict:
        difference = up["score"] - self.params["w_neg"] * down["score"]
        return {"score": np.maximum(0.0, difference) if self.params["clip"] else difference}

    def composite_note(self, name: str, composite: np.ndarray) -> str | None:
        if not self.params["clip"]:
            return None
        zero = float(np.mean(composite == 0))
        if zero <= CLIPPED_SHARE:
            return None
        return (f"UCell's signed score max(0, up - w_neg * down) is 0 in {zero:.0%} of samples "
                f"for {name!r}: its suppressors outrank its drivers. See {name}_up / "
                f"{name}_down, or drop {hint('clip=True', '--param clip=true')} for the "
                "unclipped difference (the default)")
