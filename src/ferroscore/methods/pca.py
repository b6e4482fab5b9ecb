"""Consensus-cluster PCA score: the sum of the first principal-component scores of a gene set.

This is the "ferroptosis score" of the cluster -> differential genes -> PCA template (Zhang et
al., Mol Cancer 2020, the m6A score; used for ferroptosis by Zhu et al., Front Genet 2022, and
others): ``score = PC1 + PC2`` per sample, PCA run on the signature genes' expression. The
published descriptions ("score = sum(PC1_i + PC2_i)") leave choices open; this module makes each
one explicit:

- genes are standardised over the reference samples (``scale=True``, R ``prcomp(scale.=TRUE)``
  as the widely shared scripts call it; ``scale=False`` centres only, ``prcomp``'s default);
- a component's sample scores are the standardised data times its loadings (``prcomp``'s
  ``x``, not rescaled), so PC1 weighs more than PC2 by its larger variance; ``components``
  chooses which are summed (1-based; default ``(1, 2)``);
- the sign of each component is arbitrary in an SVD (and in the papers); ferroscore orients
  it so the score has a direction: for a signature (drivers up, suppressors down) the
  component must correlate positively with ``mean z(drivers) - mean z(suppressors)`` over the
  reference samples; for an unsigned gene list (e.g. genes differing between subtypes) its
  loadings must sum to a positive number (``orient="loadings"`` uses that rule for signatures
  too).

For a signature the PCA runs on the drivers and suppressors together; its ``_up`` column is the
drivers' contribution to the score and ``_down`` minus the suppressors' contribution, so
``score = up - down`` as for every method. ``fit`` learns the reference means, SDs and
loadings; ``transform`` projects new samples on them (R ``predict(prcomp_fit, newdata)``), so
a score fitted on one cohort can be applied to another through
:class:`~ferroscore.FerroptosisScorer`.

The engine names a signature's sides ``<name>_up`` and ``<name>_down`` and passes them one
after the other; that is how the two sides are recognised (a plain set named ``x_up`` directly
followed by one named ``x_down`` would be read as the signature ``x``: name plain sets
otherwise).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ferroscore.methods.base import Component, gather_by_size
from ferroscore.methods.plage import PLAGE
from ferroscore.methods.zscore import Standardised, standardise, zscores

MIN_GENES = 3
ORIENTATIONS = ("auto", "loadings")


def _partner(components: list[Component], n_observed: int) -> dict[int, int]:
    """Map the position of every signature's up side to its down side."""
    position = {c.name: i for i, c in enumerate(components)}
    pairs = {}
    for i, comp in enumerate(components):
        if i < n_observed:
            if comp.name.endswith("_up") and i + 1 < n_observed and \
                    components[i + 1].name == comp.name[:-3] + "_down":
                pairs[i] = i + 1
        elif "_up__null" in comp.name:
            stem, _, draw = comp.name.rpartition("_up__null")
            other = position.get(f"{stem}_down__null{draw}")
            if other is not None:
                pairs[i] = other
    return pairs


def _pca_sets(components: list[Component], n_observed: int) -> list[tuple]:
    """The PCAs to run: ``(position, partner, name, genes, n_up)`` for every plain set and every
    signature (its up side's position, the down side's as partner, genes up then down)."""
    pairs = _partner(components, n_observed)
    down_sides = set(pairs.values())
    sets = []
    for i, comp in enumerate(components):
        if i in down_sides:
            continue
        partner = pairs.get(i)
        down = components[partner].indices if partner is not None else np.empty(0, int)
        genes = np.concatenate([comp.indices, down])
        if len(np.unique(genes)) < len(genes):
            raise ValueError(f"gene set {comp.name!r}: a gene is on both sides of the "
                             "signature after identifier resolution")
        name = comp.name[:-3] if partner is not None else comp.name
        sets.append((i, partner, name, genes, comp.size if partner is not None else None))
    return sets


def _centred_factors(block, components: list[Component], n_observed: int,
                     state: dict) -> list[np.ndarray]:
    """Per PCA: the R factor of ``[1, Z]`` (a column of ones, then the set's z-scores) in one
    chunk of samples."""
    from ferroscore._lazy import r_factor

    union, _ = gather_by_size(components)
    z = standardise(block, state, union)
    ones = np.ones((z.shape[0], 1))
    return [r_factor(np.hstack([ones, z[:, np.searchsorted(union, genes)]]))
            for _, _, _, genes, _ in _pca_sets(components, n_observed)]


def _merge_r(a: list[np.ndarray], b: list[np.ndarray]) -> list[np.ndarray]:
    from ferroscore._lazy import r_merge

    return r_merge(a, b)


class PCAScore(Standardised):
    """``method="pca"``: sum of oriented principal-component scores (see the module docstring).

    Parameters
    ----------
    components
        1-based principal components summed into the score (default ``(1, 2)``).
    scale
        Standardise genes over the reference (default True) or only centre them.
    orient
        ``"auto"`` (signatures by the driver-minus-suppressor direction, plain sets by the sum
        of loadings) or ``"loadings"`` (always by the sum of loadings).
    """

    name = "pca"
    defaults: dict[str, Any] = {"components": (1, 2), "scale": True, "orient": "auto"}

    def validate(self) -> None:
        comps = self.params["components"]
        if isinstance(comps, (int, np.integer)):
            comps = (int(comps),)
        comps = tuple(comps)
        if not comps or any(not isinstance(c, (int, np.integer)) or isinstance(c, bool) or c < 1
                            for c in comps) or len(set(comps)) != len(comps):
            raise ValueError(f"components must be distinct positive integers (1 = PC1), got "
                             f"{self.params['components']!r}")
        self.params["components"] = tuple(int(c) for c in comps)
        if not isinstance(self.params["scale"], (bool, np.bool_)):
            raise ValueError(f"scale must be True or False, got {self.params['scale']!r}")
        if self.params["orient"] not in ORIENTATIONS:
            raise ValueError(f"orient must be one of {ORIENTATIONS}, got "
                             f"{self.params['orient']!r}")

    def fit(self, expression, components: list[Component], *, self_reference: bool,
            n_observed: int) -> dict:
        state = super().fit(expression, components, self_reference=self_reference,
                            n_observed=n_observed)
        if not self.params["scale"]:
            state["sd"] = np.ones_like(state["sd"])
        union = state["union"]
        z = zscores(expression.columns(union), state, np.arange(len(union)))
        sets = _pca_sets(components, n_observed)
        fitted = [self._loadings(name, z[:, np.searchsorted(union, genes)], n_up)
                  for _, _, name, genes, n_up in sets]
        state.update(self._assign(sets, fitted, len(components), n_observed))
        return state

    def fit_lazy(self, data, components, *, self_reference: bool, n_observed: int):
        """Loadings from a TSQR per set: the R factor of ``[1, Z]`` over chunks of samples,
        merged in a tree, holds the R factor of the centred ``Z`` (whose SVD is the PCA), and
        ``R'R`` gives the orientation's correlation. Equal to the in-memory SVD to about
        1e-13."""
        from ferroscore._lazy import task

        state = super().fit_lazy(data, components, self_reference=self_reference,
                                 n_observed=n_observed)
        if not self.params["scale"]:
            state.values["sd"] = np.ones(data.n_genes)
        if isinstance(components, list):  # size errors now, not after a pass over the data
            for _, _, name, genes, _ in _pca_sets(components, n_observed):
                self._check_size(name, data.n_samples, len(genes))
        factors = data.reduce("pca-tsqr", _centred_factors, _merge_r, None, components,
                              n_observed, state.values)
        fitted = task("pca-loadings", self._from_factors, factors, components, n_observed,
                      data.n_samples)
        state.values.update({key: fitted[key] for key in ("loadings", "signs", "explained")})
        return state

    def _from_factors(self, factors: list[np.ndarray], components, n_observed: int,
                      n_samples: int) -> dict:
        sets = _pca_sets(components, n_observed)
        fitted = [self._loadings_from_r(name, r[1:, 1:], n_up, n_samples)
                  for (_, _, name, _, n_up), r in zip(sets, factors, strict=True)]
        return self._assign(sets, fitted, len(components), n_observed)

    @staticmethod
    def _assign(sets: list, fitted: list, n_components: int, n_observed: int) -> dict:
        """Per-component weights (a signature's down side gets minus its part) and the
        observed sets' signs and variance explained."""
        weights: list[np.ndarray | None] = [None] * n_components
        signs, explained = {}, {}
        for (i, partner, name, _, n_up), (w, set_signs, set_explained) in zip(sets, fitted,
                                                                               strict=True):
            if partner is None:
                weights[i] = w
            else:
                weights[i], weights[partner] = w[:n_up], -w[n_up:]
            if i < n_observed:
                signs[name], explained[name] = set_signs, set_explained
        # per-component weights, read by the shared transform
        return {"loadings": weights, "signs": signs, "explained": explained}

    def _check_size(self, name: str, n_samples: int, n_genes: int) -> None:
        if n_genes < MIN_GENES:
            raise ValueError(f"gene set {name!r}: the PCA score needs at least {MIN_GENES} "
                             f"genes, {n_genes} found (after dropping constant genes)")
        wanted = self.params["components"]
        available = min(n_samples - 1, n_genes)
        if max(wanted) > available:
            raise ValueError(f"gene set {name!r}: component {max(wanted)} asked for, but "
                             f"{n_genes} genes and {n_samples} reference samples give "
                             f"{available} components")

    def _directed(self, n_up: int | None, n_genes: int) -> bool:
        """Orient by the driver-minus-suppressor direction (else by the sum of loadings)."""
        return (n_up is not None and self.params["orient"] == "auto"
                and 0 < n_up < n_genes)

    def _loadings(self, name: str, z: np.ndarray, n_up: int | None):
        """Oriented, summed loadings of the chosen components of ``z`` (samples x genes)."""
        n_samples, n_genes = z.shape
        self._check_size(name, n_samples, n_genes)
        centred = z - z.mean(axis=0)
        _, singular, vt = np.linalg.svd(centred, full_matrices=False)
        if self._directed(n_up, n_genes):
            direction = centred[:, :n_up].mean(axis=1) - centred[:, n_up:].mean(axis=1)
            centred_direction = direction - direction.mean()
            return self._oriented(singular, vt, lambda loading: float(
                (centred @ loading) @ centred_direction))
        return self._oriented(singular, vt, lambda loading: float(loading.sum()))

    def _loadings_from_r(self, name: str, r: np.ndarray, n_up: int | None, n_samples: int):
        """:meth:`_loadings` from the R factor of the centred z-scores (``Z_c = QR``): the
        same singular values and vectors, and ``(Z_c v) . (Z_c w) = v' R'R w``."""
        n_genes = r.shape[1]
        self._check_size(name, n_samples, n_genes)
        _, singular, vt = np.linalg.svd(r, full_matrices=False)
        if self._directed(n_up, n_genes):
            w = np.r_[np.full(n_up, 1.0 / n_up), np.full(n_genes - n_up, -1.0 / (n_genes - n_up))]
            gram_w = r.T @ (r @ w)
            return self._oriented(singular, vt, lambda loading: float(loading @ gram_w))
        return self._oriented(singular, vt, lambda loading: float(loading.sum()))

    def _oriented(self, singular: np.ndarray, vt: np.ndarray, key):
        total = np.zeros(vt.shape[1])
        signs = []
        for c in self.params["components"]:
            loading = vt[c - 1]
            sign = -1.0 if key(loading) < 0 else 1.0
            signs.append(sign)
            total += sign * loading
        variance = singular**2
        explained = [float(variance[c - 1] / variance.sum()) for c in self.params["components"]]
        return total, signs, explained

    #: Scores are the standardised genes times the per-gene weights, as plage projects.
    transform = PLAGE.transform

    def describe(self, state: dict, components: list[Component], genes) -> dict:
        return {"components": list(self.params["components"]),
                "variance_explained": state["explained"], "component_signs": state["signs"]}
