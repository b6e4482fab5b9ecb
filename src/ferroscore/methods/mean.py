"""Control-gene mean score, with scanpy ``sc.tl.score_genes`` semantics (scanpy 1.10-1.12).

The score is the mean expression of the set's genes minus the mean of control genes drawn from
the same expression bins: all genes are binned by their mean over the reference samples
(``n_bins`` equal-count bins by rank), and for every bin holding a set gene ``ctrl_size`` genes
are drawn at random from that bin (set genes then removed). Draws use
``numpy.random.RandomState(random_state)`` in the order scanpy uses, restarted for every set, so
a set gets the same control genes whatever else is scored. The control genes depend on the
reference cohort, so this is not a per-sample method.

Sample order. The gene means are floating-point sums in sample order, as in scanpy; reordering
the samples changes them in the last bits (4e-15 on GSE1992), which moves genes with nearly
equal means between bins and changes the control genes (scores move by up to 0.03 there; scanpy
1.11 moves the same way). ``order_free=True`` bins by the correctly rounded means of exact sums
(:meth:`~ferroscore.matrix.Expression.exact_gene_means`), which no order changes; the binning
then is order-free too. The default stays scanpy's, which the conformance test checks.

Dask input. A distributed sum has no sample order to follow, so on dask input the gene means
are always the exact ones (a tree reduction of exact partial sums): ``order_free=True`` is used,
and recorded in the result's parameters. The control genes, and so the scores, then equal the
in-memory ``order_free=True`` result exactly, whatever the chunking or the cluster.

Set and control means are computed per sample; a sample whose values exceed
:data:`~ferroscore.matrix.LARGE` is averaged after exact power-of-two rescaling, so it does
not overflow to inf.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from ferroscore.matrix import power_of_two_scale
from ferroscore.methods.base import Component, Method


def control_genes(gene_means: np.ndarray, set_genes: np.ndarray, *, ctrl_size: int, n_bins: int,
                  random_state: int | None) -> np.ndarray:
    """Indices of the control genes of one set (scanpy's binning and sampling)."""
    rng = np.random.RandomState(random_state)
    means = pd.Series(gene_means)
    n_items = int(np.round(len(means) / (n_bins - 1)))
    cut = (means.rank(method="min") // n_items).to_numpy()
    chosen: set[int] = set()
    for value in np.unique(cut[set_genes]):
        in_bin = np.flatnonzero(cut == value)
        if ctrl_size < len(in_bin):
            in_bin = in_bin[rng.permutation(len(in_bin))[:ctrl_size]]
        chosen.update(int(g) for g in in_bin)
    chosen.difference_update(int(g) for g in set_genes)
    return np.array(sorted(chosen), dtype=np.intp)


def _column_mean(block, cols: np.ndarray) -> np.ndarray:
    """Row means over some columns, accumulated in float64 for any input precision."""
    sub = block[:, cols]
    if sparse.issparse(sub):
        # scipy accumulates float32 sums in float32 even with dtype=float64: cast first
        means = np.asarray(sub.astype(np.float64).sum(axis=1)).ravel() / len(cols)
        if np.isfinite(means).all():
            return means
        sub = sub.toarray()
    sub = np.asarray(sub, dtype=np.float64)
    scale = power_of_two_scale(np.abs(sub).max(axis=1, initial=0.0))
    if (scale == 1.0).all():
        return sub.mean(axis=1)
    return (sub / scale[:, None]).mean(axis=1) * scale


class ControlMean(Method):
    name = "mean"
    defaults = {"ctrl_size": 50, "n_bins": 25, "random_state": 0, "order_free": False}

    def validate(self) -> None:
        if int(self.params["ctrl_size"]) < 1:
            raise ValueError(f"mean ctrl_size must be >= 1, got {self.params['ctrl_size']!r}")
        if int(self.params["n_bins"]) < 2:
            raise ValueError(f"mean n_bins must be >= 2, got {self.params['n_bins']!r}")
        if not isinstance(self.params["order_free"], bool):
            raise ValueError(f"mean order_free must be True or False, got "
                             f"{self.params['order_free']!r}")

    @property
    def per_sample(self) -> bool:
        return False

    def fit(self, expression, components: list[Component], *, self_reference: bool,
            n_observed: int) -> dict:
        means = (expression.exact_gene_means() if self.params["order_free"]
                 else expression.gene_means())
        return {"controls": self._controls(means, components)}

    def fit_lazy(self, data, components, *, self_reference: bool, n_observed: int):
        """Control genes from exactly rounded gene means reduced over the chunks (see the
        module docstring: dask input implies ``order_free=True``)."""
        from ferroscore._lazy import LazyState, exact_means, task

        self.params["order_free"] = True
        return LazyState({"controls": task("control-genes", self._controls, exact_means(data),
                                           components)})

    def _controls(self, means: np.ndarray, components: list[Component]) -> list[np.ndarray]:
        controls = []
        for comp in components:
            ctrl = control_genes(means, comp.indices, ctrl_size=int(self.params["ctrl_size"]),
                                 n_bins=int(self.params["n_bins"]),
                                 random_state=self.params["random_state"])
            if len(ctrl) == 0:
                raise ValueError(f"no control genes for set {comp.name!r}; increase ctrl_size "
                                 "or score a larger matrix")
            controls.append(ctrl)
        return controls

    def describe(self, state: dict, components: list[Component], genes) -> dict:
        return {"control_genes": {comp.name: [str(genes[i]) for i in ctrl] for comp, ctrl in
                                  zip(components, state["controls"], strict=False)}}

    def transform(self, block, components: list[Component], state: dict) -> dict[str, np.ndarray]:
        score = np.empty((block.shape[0], len(components)))
        for i, comp in enumerate(components):
            score[:, i] = _column_mean(block, comp.indices) - _column_mean(
                block, state["controls"][i])
        return {"score": score}
