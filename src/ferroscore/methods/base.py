"""The contract every scoring method follows, and helpers shared by the methods.

A method is split into

- ``fit(reference, components)``: statistics across samples of a reference cohort (kernel CDFs,
  gene means and SDs, SVD loadings, control genes, the ssGSEA normalisation range). Per-sample
  methods only validate here.
- ``transform(block, components, state)``: scores of a block of samples, as arrays
  ``(n_block, n_components)`` keyed by output name (``"score"`` and method extras such as
  ``"dispersion"``). Blocks are independent, so any chunking gives the same result.
- ``finish(outputs, state, n_observed)``: whole-call post-processing (ssGSEA range scaling).
- ``combine(up, down)``: the composite score of a signature from its two sides.

Components are gene index arrays into the expression's genes, so the same kernels serve dense,
sparse, chunked and reference-cohort scoring.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from scipy import sparse

__all__ = ["Component", "Method", "SizeGroup", "gather_by_size", "score_observed"]


def _checked_type(method: str, key: str, value: Any, default: Any) -> Any:
    """``value`` of parameter ``key`` checked against the kind of its default: a flag must be a
    bool (the string ``"false"`` is not), a count an integer (``2.7`` is not truncated), a
    number finite. Other parameters (strings, tuples, ``random_state=None``) pass unchanged to
    the method's own :meth:`Method.validate`."""
    where = f"method {method!r} parameter {key}"
    if isinstance(default, (bool, np.bool_)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{where} must be True or False, got {value!r}")
        return bool(value)
    number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_))
    if isinstance(default, int):
        if value is None and key == "random_state":
            return value
        if not number or not float(value).is_integer():
            raise TypeError(f"{where} must be an integer, got {value!r}")
        return int(value)
    if isinstance(default, float):
        if not number or not np.isfinite(value):
            raise TypeError(f"{where} must be a finite number, got {value!r}")
        return float(value)
    return value


@dataclass
class Component:
    """One scored gene set: a plain set, or one side of a signature.

    Attributes
    ----------
    name
        Output column stem (``"kegg_ferroptosis"``, ``"ferroptosis_core_up"``).
    indices
        Positions of the found genes among the expression's genes.
    n_requested
        Number of genes the set asked for (UCell imputes the missing ones).
    excluded
        Found genes the method left out (constant genes for gsva, zscore, plage).
    """

    name: str
    indices: np.ndarray
    n_requested: int
    excluded: list[str] = field(default_factory=list)
    #: Per-gene weights aligned with ``indices`` (used by weighted methods only).
    weights: np.ndarray | None = None

    @property
    def size(self) -> int:
        return len(self.indices)


@dataclass
class SizeGroup:
    """Components of equal size, gathered for vectorised scoring."""

    members: np.ndarray  # which components (positions in the component list)
    local: np.ndarray  # (n_members, k) positions into the union of selected genes

    @property
    def k(self) -> int:
        return self.local.shape[1]


def gather_by_size(components: list[Component]) -> tuple[np.ndarray, list[SizeGroup]]:
    """Union of all component genes, and the components grouped by size.

    Returns
    -------
    union
        Sorted unique gene indices used by any component.
    groups
        One :class:`SizeGroup` per distinct size; ``union[group.local]`` recovers the indices.
    """
    if not components:
        return np.empty(0, dtype=np.intp), []
    union = np.unique(np.concatenate([c.indices for c in components]))
    sizes = np.array([c.size for c in components])
    groups = []
    for k in np.unique(sizes):
        members = np.flatnonzero(sizes == k)
        local = np.vstack([np.searchsorted(union, components[i].indices) for i in members])
        groups.append(SizeGroup(members, local.reshape(len(members), int(k))))
    return union, groups


class Method:
    """Base class of the scoring methods (see the module docstring for the contract)."""

    name: ClassVar[str]
    #: Scores depend only on the within-sample order of genes (invariant to increasing
    #: transforms of a sample).
    scale_free: ClassVar[bool] = False
    #: The method expects log-scale (not raw count) data.
    expects_log: ClassVar[bool] = True
    #: Output names besides ``"score"``.
    extras: ClassVar[tuple[str, ...]] = ()
    #: Parameter defaults; the constructor accepts exactly these.
    defaults: ClassVar[dict[str, Any]] = {}
    #: Genes with constant expression over the reference are removed first (as GSVA does for
    #: gsva, zscore and plage).
    drops_constant_genes: ClassVar[bool] = False
    #: A set must leave genes outside it: the score compares the set's genes with the rest
    #: (ranks, walks), so a set covering every gene gets the same undefined score everywhere.
    needs_genes_outside: ClassVar[bool] = False
    #: Per-gene weight magnitudes enter the score. Other methods use only the weights' signs
    #: (a set with both signs is a signature) and reject non-uniform magnitudes.
    weighted: ClassVar[bool] = False
    #: The score is standardised over the reference samples (needs at least two of them).
    standardises_genes: ClassVar[bool] = False
    #: Per-sample diagnostics that ``transform`` returns besides the scores, as
    #: ``(n_block, 1)`` arrays (``"all_tied"``: 1 for a sample whose genes all tie).
    diagnostics: ClassVar[tuple[str, ...]] = ()
    #: ``transform`` takes dense blocks in either memory order, so blocks of an F-ordered
    #: matrix (a genes x samples DataFrame) are passed without a transposed copy.
    layout_free: ClassVar[bool] = False

    #: Worker threads the engine allows for work inside ``fit`` (set by the engine).
    n_jobs: int = 1

    def __init__(self, **params: Any) -> None:
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            valid = ", ".join(self.defaults) or "none"
            raise TypeError(f"method {self.name!r} got unknown parameter(s) {unknown}; valid "
                            f"parameters: {valid}")
        for key, value in params.items():
            params[key] = _checked_type(self.name, key, value, self.defaults[key])
        self.params = {**self.defaults, **params}
        self.validate()

    # -- hooks overridden by the methods ------------------------------------------------------

    def validate(self) -> None:
        """Check parameter values; raise ValueError naming the bad one."""

    @property
    def per_sample(self) -> bool:
        """A sample's score does not depend on the other samples (no fitted statistics)."""
        return True

    def check_input(self, expression) -> None:
        """Reject input the method cannot score (e.g. negative values for a Poisson kernel)."""

    def fit(self, expression, components: list[Component], *, self_reference: bool,
            n_observed: int) -> dict:
        """Cross-sample statistics from the reference.

        ``self_reference`` means the reference is also the data being scored (a single
        :func:`ferroscore.score` call); the first ``n_observed`` components are the user's
        sets, the rest random sets for the permutation null.
        """
        return {}

    def transform(self, block, components: list[Component], state: dict) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def fit_lazy(self, data, components, *, self_reference: bool, n_observed: int):
        """:meth:`fit` on dask input (a :class:`ferroscore._lazy.LazyData`): the statistics
        as a :class:`ferroscore._lazy.LazyState` of dask reductions, computed with the scores.
        ``components`` may be a dask ``Delayed`` list (random sets drawn in the graph)."""
        from ferroscore._lazy import LazyState

        if not self.per_sample:  # pragma: no cover - every cross-sample method overrides it
            raise NotImplementedError(f"{self.name} has no dask fit")
        return LazyState({})

    def transform_lazy(self, data, components, state, n_observed: int, n_components: int):
        """Scores of dask input ``data`` as a dask array ``(n_samples, width)`` of packed
        outputs (see :func:`ferroscore._lazy.pack`): :meth:`transform` per chunk of samples,
        then :meth:`finish` with the (lazily) fitted whole-call statistics."""
        from ferroscore._lazy import transform_block

        width = (1 + len(self.extras)) * n_components + len(self.diagnostics)
        return data.map_rows(f"{self.name}-transform", transform_block, width, self,
                             components, state.values, n_observed)

    def tie_rule(self) -> str:
        """How tied genes are ranked (for messages about tied samples)."""
        return "tied genes share their average rank"

    def transform_rows(self, expression, rows: slice, components: list[Component],
                       state: dict, block: Any = None) -> dict[str, np.ndarray]:
        """Scores of ``expression``'s samples ``rows``: :meth:`transform` of them, with the
        samples that have NaN/inf values (``na="per_sample"``) each scored on its observed
        genes (see :func:`score_observed`). ``block``: those samples already read (by
        ``expression.rows(rows, contiguous=not self.layout_free)``, e.g. ahead of time)."""
        if block is None:
            block = expression.rows(rows, contiguous=not self.layout_free)
        out = self.transform(block, components, state)
        if expression.missing is not None:
            for i in np.flatnonzero(expression.missing[rows] > 0):
                score_observed(self, expression.rows(slice(rows.start + i, rows.start + i + 1)),
                               components, state, out, i)
        return out

    def finish(self, outputs: dict[str, np.ndarray], state: dict,
               n_observed: int) -> dict[str, np.ndarray]:
        """Post-process the outputs of the whole call (all blocks)."""
        return outputs

    def describe(self, state: dict, components: list[Component], genes) -> dict:
        """JSON-able summary of fitted statistics worth recording in the result's params."""
        return {}

    def combine(self, up: dict[str, np.ndarray], down: dict[str, np.ndarray]) -> dict:
        """Composite of a signature: by default ``score(up) - score(down)``."""
        return {"score": up["score"] - down["score"]}

    def composite_note(self, name: str, composite: np.ndarray) -> str | None:
        """A warning about a signature's composite scores (e.g. mostly clipped), or None."""
        return None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"


def score_observed(method: Method, row, components: list[Component], state: dict,
                   out: dict[str, np.ndarray], i: int) -> None:
    """Score one sample on the genes it observed, writing into row ``i`` of ``out``.

    The sample's NaN/inf genes are removed, so it is ranked among its ``N`` observed genes and
    each set keeps only its observed members; a set with no observed member gets NaN. This is
    exactly the score of that sample alone after dropping its missing genes.
    """
    dense = row.toarray() if sparse.issparse(row) else np.asarray(row)
    observed = np.isfinite(dense[0])
    position = np.cumsum(observed) - 1
    kept, local = [], []
    for j, comp in enumerate(components):
        present = observed[comp.indices]
        if present.any():
            kept.append(j)
            local.append(Component(comp.name, position[comp.indices[present]],
                                   comp.n_requested, comp.excluded,
                                   None if comp.weights is None else comp.weights[present]))
    scores = {}
    if local:
        scores = method.transform(np.ascontiguousarray(dense[:, observed]), local, state)
    for key, values in out.items():
        if key in method.diagnostics:
            values[i] = scores[key][0] if local else 0.0
        else:
            values[i] = np.nan
            if local:
                values[i, kept] = scores[key][0]
