"""singscore (Foroutan et al. 2018), as in the singscore R package.

Genes are ranked per sample in increasing expression with ties at their minimum rank
(``rankGenes(tiesMethod="min")``). A set's score is its mean rank scaled by the theoretical
bounds for its size, ``(mean - L) / (U - L)`` with ``L = (k + 1) / 2`` and
``U = (2p - k + 1) / 2``, minus 0.5 when centred. The dispersion is R's ``mad`` (constant
1.4826) of the set's ranks. For a signature, the composite is singscore's ``TotalScore``
(``up + (1 - down)``, centred); ``N_up``/``N_down`` hold the two sides scored as plain sets, so
``TotalScore = N_up - N_down`` when centred, and singscore's ``DownScore`` equals ``-N_down``.
``TotalDispersion`` is the mean of the two sides' dispersions (as in the reference outputs).
With ``known_direction=False`` (plain sets only) ranks are folded around the sample's median
rank, ``|r - ceiling(median)|``, with the corresponding bounds and no centring.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ferroscore.methods._ranks import rank_counts
from ferroscore.methods.base import Component, Method, gather_by_size

MAD_CONSTANT = 1.4826


def _bounds(k: np.ndarray | int, p: int) -> tuple:
    return (k + 1) / 2.0, (2.0 * p - k + 1) / 2.0


def _median_min_rank(block) -> np.ndarray:
    """Median over all genes of each sample's min-ranks, ``(n_block,)``."""
    dense = block.toarray() if sparse.issparse(block) else block
    srt = np.sort(dense, axis=1)
    p = srt.shape[1]
    mids = np.unique([(p - 1) // 2, p // 2])
    ranks = np.empty((srt.shape[0], len(mids)))
    for i, row in enumerate(srt):
        ranks[i] = np.searchsorted(row, row[mids], side="left") + 1
    return ranks.mean(axis=1)


class Singscore(Method):
    name = "singscore"
    scale_free = True
    expects_log = False
    needs_genes_outside = True
    extras = ("dispersion",)
    diagnostics = ("all_tied",)
    layout_free = True
    defaults = {"center": True, "known_direction": True}

    def tie_rule(self) -> str:
        return "tied genes share their minimum rank (singscore's rankGenes)"

    def transform(self, block, components: list[Component], state: dict) -> dict[str, np.ndarray]:
        union, groups = gather_by_size(components)
        counts = rank_counts(block, union)
        ranks = counts.min_rank()
        p = block.shape[1]
        known = self.params["known_direction"]
        offset = -0.5 if (self.params["center"] and known) else 0.0
        if not known:
            ranks = np.abs(ranks - np.ceil(_median_min_rank(block))[:, None])
        n = ranks.shape[0]
        score = np.empty((n, len(components)))
        dispersion = np.empty((n, len(components)))
        for group in groups:
            sub = ranks[:, group.local]  # (n, members, k)
            k = group.k
            if k >= p:
                raise ValueError(f"a gene set covers all {p} genes; singscore needs genes "
                                 "outside it")
            if known:
                low, up = _bounds(k, p)
            else:
                low, up = _bounds(k // 2, int(np.ceil(p / 2)))
            score[:, group.members] = (sub.mean(axis=2) - low) / (up - low) + offset
            med = np.median(sub, axis=2, keepdims=True)
            dispersion[:, group.members] = MAD_CONSTANT * np.median(np.abs(sub - med), axis=2)
        return {"score": score, "dispersion": dispersion, "all_tied": counts.all_tied()}

    def combine(self, up: dict, down: dict) -> dict:
        if not self.params["known_direction"]:
            raise ValueError("singscore with known_direction=False scores plain gene sets only; "
                             "score each side of the signature as its own set")
        offset = -0.5 if self.params["center"] else 0.0
        return {
            "score": up["score"] - down["score"] + 1.0 + 2.0 * offset,
            "dispersion": (up["dispersion"] + down["dispersion"]) / 2.0,
        }
