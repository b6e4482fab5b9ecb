"""Single-sample GSEA (Barbie et al. 2009) exactly as GSVA 1.46 ``method="ssgsea"``.

Per sample, genes get ascending average ranks truncated to integers (GSVA stores them as
integers), weights ``w = rank ** alpha``, and are ordered by decreasing rank with ties in row
order. The walk sum has a closed form: with ``q_g`` the ascending position of set gene ``g``,

    ES = sum(w q) / sum(w) - (p (p + 1) / 2 - sum(q)) / (p - k).

With ``normalize=True`` scores are divided by the range (max - min) of the raw scores over all
sets and samples of the call, or of the reference cohort when scoring against one. That range
needs at least :data:`MIN_NORMALISING_SAMPLES` samples: with one sample a signature's composite
is exactly -1 or 1, with two every difference between the samples is a fixed fraction of the
range; fewer samples are an error (score raw, ``normalize=False``, or against a reference).

``ties="average_position"`` is ferroscore's order-invariant variant: tied genes get their
average rank for both the weight and the position, so permuting the rows of the matrix cannot
change a score. On data without ties both modes are identical.
"""

from __future__ import annotations

import numpy as np

from ferroscore._interface import hint
from ferroscore.methods._ranks import rank_counts
from ferroscore.methods.base import Component, Method, gather_by_size

#: Fewest samples over which ssGSEA's range normalisation is accepted.
MIN_NORMALISING_SAMPLES = 3


def _check_normalising_samples(n_samples: int) -> None:
    if n_samples < MIN_NORMALISING_SAMPLES:
        raise ValueError(
            f"ssgsea normalisation divides by the range of the raw scores over the samples; "
            f"with {n_samples} sample{'s' if n_samples > 1 else ''} it is degenerate (one "
            "sample: a signature scores exactly -1 or 1). It needs at least "
            f"{MIN_NORMALISING_SAMPLES} samples: score raw with "
            f"{hint('normalize=False', '--param normalize=false')}, score against a reference "
            "cohort, or add samples")


def _raw_extremes(block, method: SsGSEA, observed: list[Component]) -> tuple[float, float]:
    raw = method.transform(block, observed, {})["score"]
    finite = raw[~np.isnan(raw)]
    return (float(finite.max()), float(finite.min())) if finite.size else (np.nan, np.nan)


def _merge_extremes(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    return float(np.fmax(a[0], b[0])), float(np.fmin(a[1], b[1]))


def _span(extremes: tuple[float, float]) -> float:
    return float(extremes[0] - extremes[1])


class SsGSEA(Method):
    name = "ssgsea"
    scale_free = True
    expects_log = False
    needs_genes_outside = True
    diagnostics = ("all_tied",)
    layout_free = True
    defaults = {"alpha": 0.25, "normalize": True, "ties": "row_order"}

    def tie_rule(self) -> str:
        if self.params["ties"] == "row_order":
            return ("tied genes are ordered by their row in the matrix, GSVA's rule, so the "
                    "score changes with the gene order; ties='average_position' is order-free")
        return "tied genes share their average position"

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
        _check_normalising_samples(expression.n_samples)
        observed = components[:n_observed]
        raw = np.vstack([self.transform_rows(expression, rows, observed, {})["score"]
                         for rows in expression.block_slices()])
        return {"range": float(np.nanmax(raw) - np.nanmin(raw))}

    def fit_lazy(self, data, components, *, self_reference: bool, n_observed: int):
        """The normalisation range as a reduction over the raw scores of the observed sets
        (of the scored samples themselves for a plain call): max and min are exact, so the
        range equals the in-memory one."""
        from ferroscore._lazy import LazyState

        if not self.params["normalize"]:
            return LazyState({"range": None})
        _check_normalising_samples(data.n_samples)
        span = data.reduce("ssgsea-range", _raw_extremes, _merge_extremes, _span, self,
                           components[:n_observed])
        return LazyState({"range": span})

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
        return {"score": score, "all_tied": counts.all_tied()}

    def finish(self, outputs: dict, state: dict, n_observed: int) -> dict:
        if not self.params["normalize"]:
            return outputs
        span = state.get("range")
        if span is None:
            _check_normalising_samples(outputs["score"].shape[0])
            observed = outputs["score"][:, :n_observed]
            span = float(np.nanmax(observed) - np.nanmin(observed))
        if span == 0:
            raise ValueError("ssGSEA normalisation: all raw scores are equal (range 0); use "
                             "normalize=False")
        return {**outputs, "score": outputs["score"] / span}
