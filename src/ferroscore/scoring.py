"""Per-sample gene-set scores: :func:`score` and the reference-cohort :class:`FerroptosisScorer`.

The flow is one direction: input -> validated samples x genes :class:`~ferroscore.matrix.Expression`
-> gene sets located among the features (coverage report) -> method ``fit`` on the reference
-> method ``transform`` on blocks of samples (in threads) -> composite scores for signatures ->
optional permutation p-values -> :class:`~ferroscore.result.ScoreResult`.
"""

from __future__ import annotations

import functools
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from tqdm.auto import tqdm

from ferroscore import genesets, ids
from ferroscore._interface import hint, warn
from ferroscore._readahead import ReadAhead
from ferroscore._version import __version__
from ferroscore.datasets import platform_note
from ferroscore.genesets import GeneSet, Signature
from ferroscore.matrix import (
    DROP_GENES_API,
    Expression,
    as_expression,
    gene_labels,
    looks_like_counts,
)
from ferroscore.methods import METHODS, Component, Method, make_method
from ferroscore.result import COVERAGE_COLUMNS, ScoreResult
from ferroscore.significance import benjamini_hochberg, draw_null, empirical_pvalues

__all__ = ["FerroptosisScorer", "LazyScoreResult", "score"]

DEFAULT_METHOD = "singscore"
PER_SAMPLE_API = "na='per_sample'"
ENGINE_OPTIONS = ("genes_axis", "min_genes", "min_coverage", "na", "n_permutations", "null",
                  "random_state", "chunk_size", "n_jobs", "progress")


def versions() -> dict[str, str]:
    """Versions of ferroscore and the libraries its numbers depend on (a new dict each call;
    the package metadata is read once per process)."""
    return dict(_versions())


@functools.cache
def _versions() -> tuple[tuple[str, str], ...]:
    out = {"ferroscore": __version__, "python": sys.version.split()[0]}
    for package in ("numpy", "scipy", "pandas", "numba", "anndata", "scikit-learn"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:  # pragma: no cover - all are dependencies
            out[package] = "not installed"
    return tuple(out.items())


def _n_jobs(n_jobs: int | None) -> int:
    if n_jobs is None:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - not Linux
            return max(1, os.cpu_count() or 1)
    return n_jobs


def _check_integer(name: str, value: Any, minimum: int, *, none_ok: bool = False) -> None:
    """Reject anything but an integer >= ``minimum`` (booleans and floats such as 2.5 or 1e3
    included: nothing is truncated silently)."""
    if value is None and none_ok:
        return
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer{' or None' if none_ok else ''}, got "
                        f"{value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")


@dataclass
class _Plan:
    """One requested set: its observed side(s) and their random counterparts."""

    gene_set: GeneSet | Signature
    sides: list[Component]
    located: list[ids.Located]
    null: list[list[Component]]

    @property
    def signed(self) -> bool:
        return isinstance(self.gene_set, Signature)


@dataclass
class _Layout:
    """What turns a block of method outputs into result columns: the sets' names and kinds
    (no gene indices, so it is small to ship to dask workers)."""

    sets: list[tuple[str, bool]]  # (name, signed)
    n_permutations: int
    columns: list[str]  # every result column except the q-values (set across all samples)

    @property
    def qvalue_columns(self) -> list[str]:
        return [f"{name}_qvalue" for name, _ in self.sets] if self.n_permutations else []


def _assemble_columns(outputs: dict, method: Method, layout: _Layout) -> dict[str, np.ndarray]:
    """Result columns of a block of samples (all but the q-values): composites of signatures,
    extras, and per-sample permutation p-values."""
    n_perm = layout.n_permutations
    data: dict[str, np.ndarray] = {}
    position = 0
    null_position = sum(2 if signed else 1 for _, signed in layout.sets)
    for name, signed in layout.sets:
        sides = []
        for _ in range(2 if signed else 1):
            sides.append({k: v[:, position] for k, v in outputs.items()})
            position += 1
        main = method.combine(sides[0], sides[1]) if signed else sides[0]
        data[name] = main["score"]
        if signed:
            data[f"{name}_up"], data[f"{name}_down"] = sides[0]["score"], sides[1]["score"]
        for extra in method.extras:
            data[f"{name}_{extra}"] = main[extra]
            if signed:
                data[f"{name}_up_{extra}"] = sides[0][extra]
                data[f"{name}_down_{extra}"] = sides[1][extra]
        if n_perm:
            null_sides = []
            for _ in range(2 if signed else 1):
                cols = slice(null_position, null_position + n_perm)
                null_sides.append({k: v[:, cols] for k, v in outputs.items()})
                null_position += n_perm
            null_main = (method.combine(null_sides[0], null_sides[1])["score"]
                         if signed else null_sides[0]["score"])
            data[f"{name}_pvalue"] = empirical_pvalues(main["score"], null_main,
                                                       two_sided=signed)
    return data


def _block_columns(raw: np.ndarray, method: Method, layout: _Layout,
                   n_components: int) -> np.ndarray:
    """Dask kernel: packed method outputs of a block -> its result columns and diagnostics."""
    from ferroscore._lazy import unpack

    keys = ["score", *method.extras]
    outputs = unpack(raw, keys, n_components, method.diagnostics)
    diagnostics = [outputs.pop(key)[:, 0] for key in method.diagnostics]
    columns = _assemble_columns(outputs, method, layout)
    return np.column_stack([columns[c] for c in layout.columns] + diagnostics)


def _is_lazy(state: Any) -> bool:
    """A :class:`ferroscore._lazy.LazyState` (statistics fitted on dask input)."""
    return hasattr(state, "materialise")


def _draw_all(sides: list[list[Component]], universe: np.ndarray, n_permutations: int,
              rng: np.random.Generator, null: str,
              gene_means: np.ndarray | None) -> list[list[list[Component]]]:
    """Random counterparts of every plan, drawn in plan order from one generator."""
    return [draw_null(plan_sides, universe, n_permutations, rng, null=null,
                      gene_means=gene_means) for plan_sides in sides]


def _with_nulls(observed: list[Component], nulls: list[list[list[Component]]]
                ) -> list[Component]:
    return observed + [c for plan in nulls for side in plan for c in side]


class FerroptosisScorer(TransformerMixin, BaseEstimator):
    """Score samples against a frozen reference cohort (scikit-learn transformer).

    ``fit(reference)`` locates the sets' genes and, for methods with cross-sample statistics
    (gsva kernel CDFs, zscore/plage means and SDs, plage loadings, ssGSEA normalisation range,
    control genes of ``mean``), computes them on the reference; ``transform(new)`` scores new
    samples with those frozen statistics. For per-sample methods ``fit`` only resolves genes.
    Scoring the reference itself reproduces :func:`score` on the reference.

    A dask reference is fitted lazily: the statistics become dask reductions, and
    ``transform`` of dask data runs them and the scoring as one graph (on a
    ``dask.distributed`` cluster when a client is active); ``transform`` of in-memory data
    computes them first. Only the constant genes (gsva, zscore, plage, pca) are reduced when
    ``fit`` is called, since they decide which genes the sets keep.

    Parameters
    ----------
    sets
        Catalogue name, GeneSet, Signature, list of those, or dict name -> genes.
    method
        One of ``singscore`` (default), ``ssgsea``, ``gsva``, ``zscore``, ``plage``, ``ucell``,
        ``aucell``, ``mean``, ``wsum``.
    **params
        Engine options (see :func:`score`) and method parameters.

    Examples
    --------
    >>> expr, _ = fs.datasets.breast_cancer(as_frames=True)
    >>> scorer = fs.FerroptosisScorer("ferroptosis_core", method="gsva").fit(expr.iloc[:, :100])
    >>> scorer.transform(expr.iloc[:, 100:]).shape  # 24 new tumours: total, up and down scores
    (24, 3)
    """

    def __init__(self, sets: Any = "ferroptosis_core", method: str = DEFAULT_METHOD, *,
                 genes_axis: Any = None, min_genes: int = 1, min_coverage: float = 0.5,
                 na: str = "error", n_permutations: int = 0, null: str = "uniform",
                 random_state: int | None = 0, chunk_size: int | None = None,
                 n_jobs: int | None = None, progress: bool | None = None, **params: Any) -> None:
        self.sets = sets
        self.method = method
        self.genes_axis = genes_axis
        self.min_genes = min_genes
        self.min_coverage = min_coverage
        self.na = na
        self.n_permutations = n_permutations
        self.null = null
        self.random_state = random_state
        self.chunk_size = chunk_size
        self.n_jobs = n_jobs
        self.progress = progress
        self.method_params = params

    # -- scikit-learn plumbing: method parameters travel through get_params/set_params --------

    def get_params(self, deep: bool = True) -> dict:
        out = super().get_params(deep=deep)
        out.update(self.method_params)
        return out

    def set_params(self, **params: Any) -> FerroptosisScorer:
        own = set(super().get_params(deep=False))
        for key, value in params.items():
            if key in own:
                setattr(self, key, value)
            else:
                self.method_params = {**self.method_params, key: value}
        return self

    # -- public API -----------------------------------------------------------------------------

    def fit(self, X: Any, y: Any = None, **input_options: Any) -> FerroptosisScorer:
        """Fit on a reference cohort (any input accepted by :func:`score`)."""
        expression = self._expression(X, input_options)
        self._fit_expression(expression, self_reference=False)
        return self

    def transform(self, X: Any, **input_options: Any) -> pd.DataFrame:
        """Scores of new samples (DataFrame, index = sample IDs)."""
        return self.score_result(X, **input_options).scores

    def score_result(self, X: Any, *, compute: bool = True,
                     **input_options: Any) -> ScoreResult | LazyScoreResult:
        """Like :meth:`transform`, returning the full :class:`ScoreResult` (for dask input
        with ``compute=False``: a :class:`LazyScoreResult`, one graph with the reference
        statistics when the scorer was fitted on dask input too)."""
        self._check_fitted()
        expression = self._expression(X, input_options).reorder_genes(self.genes_)
        return self._score_expression(expression, compute=compute)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        self._check_fitted()
        return np.asarray(self.columns_, dtype=object)

    # -- internals ------------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "plans_"):
            raise RuntimeError("this FerroptosisScorer is not fitted yet; call fit(reference)")

    def _make_method(self) -> Method:
        params = dict(self.method_params)
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}; available: {', '.join(METHODS)}")
        if "random_state" in METHODS[self.method].defaults:
            params.setdefault("random_state", self.random_state)
        return make_method(self.method, **params)

    def _check_options(self) -> None:
        """Engine options that can be checked before any data is read."""
        _check_integer("n_permutations", self.n_permutations, 0)
        _check_integer("min_genes", self.min_genes, 1)
        _check_integer("chunk_size", self.chunk_size, 1, none_ok=True)
        _check_integer("n_jobs", self.n_jobs, 1, none_ok=True)
        coverage = self.min_coverage
        if isinstance(coverage, (bool, np.bool_)) or not isinstance(
                coverage, (int, float, np.integer, np.floating)) or not 0 <= coverage <= 1:
            raise ValueError(f"min_coverage is the fraction of a set's genes that must be found, "
                             f"between 0 and 1; got {coverage!r}")
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}; available: {', '.join(METHODS)}")
        if self.na == "per_sample" and not METHODS[self.method].scale_free:
            rank = [name for name, cls in METHODS.items() if cls.scale_free]
            raise ValueError(
                f"na='per_sample' needs a rank method ({', '.join(rank)}), which rank each "
                f"sample on the genes it observed; {self.method} uses every sample's value of "
                f"a gene. Use {hint(DROP_GENES_API, '--na drop_genes')} (drops the genes with "
                "NaN, reported) or impute the missing values")

    def _expression(self, data: Any, input_options: dict) -> Expression:
        self._check_options()
        members = {g for s in genesets.coerce_sets(self.sets) for g in s.genes}
        return as_expression(data, genes_axis=self.genes_axis, na=self.na, members=members,
                             **input_options)

    def _fit_expression(self, expression: Expression, *, self_reference: bool) -> None:
        self.method_ = self._make_method()
        self.method_.n_jobs = _n_jobs(self.n_jobs)
        self.sets_ = genesets.coerce_sets(self.sets)
        self._check_samples(expression)
        self.method_.check_input(expression)
        self._warn_if_counts(expression)
        excluded = (expression.constant_genes() if self.method_.drops_constant_genes
                    else np.zeros(expression.n_genes, dtype=bool))
        self.plans_ = [self._plan(s, expression, excluded) for s in self.sets_]
        self._draw_nulls(expression, excluded)
        components = self._components()
        if expression.is_dask:  # statistics as lazy dask reductions (see ferroscore._lazy)
            from ferroscore._lazy import LazyData

            self._fitted_on = (expression, LazyData.from_expression(expression))
            self.state_ = self.method_.fit_lazy(self._fitted_on[1], components,
                                                self_reference=self_reference,
                                                n_observed=self._n_observed())
        else:
            self._fitted_on = None
            self.state_ = self.method_.fit(expression, components,
                                           self_reference=self_reference,
                                           n_observed=self._n_observed())
        self.genes_ = expression.genes
        self.reference_info_ = {"n_samples": expression.n_samples, "n_genes": expression.n_genes,
                                "input": expression.input_kind,
                                "dropped_genes": list(expression.dropped),
                                "constant_genes_excluded": int(excluded.sum())}
        self.columns_ = self._column_names()

    def _check_samples(self, expression: Expression) -> None:
        if self.method_.standardises_genes and expression.n_samples < 2:
            raise ValueError(
                f"{self.method_.name} standardises every gene over the samples and needs at "
                f"least 2 samples; got {expression.n_samples}. "
                + hint("Score it against a reference cohort "
                       "(fs.FerroptosisScorer(sets, method).fit(reference).transform(sample)) "
                       "or use a per-sample method (singscore, ucell, aucell)",
                       "Use a per-sample method (--method singscore, ucell or aucell) or "
                       "score it together with other samples"))

    def _warn_if_counts(self, expression: Expression) -> None:
        if not self.method_.expects_log:
            return
        counts, top = looks_like_counts(expression.values)
        if counts:
            warn(
                f"the values look like raw counts (non-negative integers up to {top:g}); method "
                f"{self.method_.name!r} expects log-scale data. Log-transform first (e.g. "
                "log2(x + 1), or sc.pp.normalize_total + sc.pp.log1p), or use a rank-based "
                "method (singscore, ssgsea, ucell, aucell) or gsva with kcdf='poisson'.")

    def _plan(self, gene_set: GeneSet | Signature, expression: Expression,
              excluded: np.ndarray) -> _Plan:
        sides = ([(gene_set.name, gene_set.genes)] if isinstance(gene_set, GeneSet) else
                 [(f"{gene_set.name}_up", gene_set.up.genes),
                  (f"{gene_set.name}_down", gene_set.down.genes)])
        sides_sets = ([gene_set] if isinstance(gene_set, GeneSet) else
                      [gene_set.up, gene_set.down])
        # every member of a catalogue signature, and of a weighted score, is expected
        strict = self.method_.weighted or (isinstance(gene_set, Signature)
                                           and gene_set.meta.get("kind") == "signature")
        n_scorable = expression.n_genes - int(excluded.sum())
        components, located = [], []
        for (name, genes), side_set in zip(sides, sides_sets, strict=True):
            self._check_weights(name, side_set)
            found = ids.locate(genes, expression.feature_index,
                               feature_means=expression.gene_means)
            keep = ~excluded[found.indices]
            weights = None
            if side_set.weights is not None:
                by_gene = dict(zip(side_set.genes, side_set.weights, strict=True))
                weights = np.array([by_gene[g] for g in found.found])[keep]
            component = Component(name, found.indices[keep], len(genes),
                                  [str(expression.genes[i]) for i in found.indices[~keep]],
                                  weights)
            self._check_coverage(component, found, strict)
            if self.method_.needs_genes_outside and component.size >= n_scorable:
                raise ValueError(
                    f"gene set {name!r} covers all {n_scorable} scorable genes of the data; "
                    f"{self.method_.name} compares a set's genes with the genes outside it, so "
                    "every sample would get the same meaningless score. Score a matrix with "
                    "more genes, or a smaller set")
            components.append(component)
            located.append(found)
        return _Plan(gene_set, components, located, [])

    def _check_weights(self, name: str, gene_set: GeneSet) -> None:
        if self.method_.weighted or gene_set.has_uniform_weights:
            return
        options = [hint(f"method={m!r}", f"--method {m}") for m, cls in METHODS.items()
                   if cls.weighted]
        magnitudes = sorted({abs(w) for w in gene_set.weights})
        raise ValueError(
            f"gene set {name!r} has per-gene weights of different magnitudes "
            f"({', '.join(f'{w:g}' for w in magnitudes[:5])}"
            f"{', ...' if len(magnitudes) > 5 else ''}), but method {self.method_.name!r} "
            "(like its reference implementation) takes no per-gene weights and would ignore "
            f"them. Use a weighted method ({', '.join(options)}: sum of weight x value), or "
            "drop the weights (their signs alone, +1/-1, make a signature)")

    def _check_coverage(self, component: Component, found: ids.Located, strict: bool) -> None:
        n_req, n_found = component.n_requested, component.size
        missing = found.missing + component.excluded
        detail = f"missing: {', '.join(missing[:20])}{' ...' if len(missing) > 20 else ''}"
        if component.excluded:
            detail += f" (constant genes excluded: {', '.join(component.excluded)})"
        if n_found == 0 or n_found < self.min_genes:
            raise ValueError(f"gene set {component.name!r}: {n_found} of {n_req} genes found in "
                             f"the data, fewer than min_genes={self.min_genes}; {detail}")
        if n_found / n_req < self.min_coverage:
            warn(f"gene set {component.name!r}: only {n_found} of {n_req} genes found "
                 f"({n_found / n_req:.0%} < min_coverage={self.min_coverage:.0%}); "
                 f"{detail}")
        elif strict and found.missing:
            what = ("weighted score" if self.method_.weighted else "catalogue signature")
            warn(f"gene set {component.name!r}: {len(found.missing)} of {n_req} genes "
                 f"of this {what} not found in the data ({detail}); it is scored "
                 f"without them (see {hint('result.coverage', 'the coverage in the .json')})")

    def _draw_nulls(self, expression: Expression, excluded: np.ndarray) -> None:
        """Random sets for the permutation null. Expression-matched sets are binned by the
        exactly rounded gene means (order-free, and equal for in-memory and dask input); on
        dask input they are drawn in the graph, from the reduced means."""
        self._lazy_nulls = None
        n_perm = self.n_permutations
        if n_perm == 0:
            return
        rng = np.random.default_rng(self.random_state)
        universe = np.flatnonzero(~excluded)
        sides = [plan.sides for plan in self.plans_]
        if self.null == "expression_matched" and expression.is_dask:
            from ferroscore._lazy import LazyData, exact_means, task

            means = exact_means(LazyData.from_expression(expression))
            self._lazy_nulls = task("null-draws", _draw_all, sides, universe, n_perm, rng,
                                    self.null, means)
            return
        means = expression.exact_gene_means() if self.null == "expression_matched" else None
        for plan, drawn in zip(self.plans_, _draw_all(sides, universe, n_perm, rng, self.null,
                                                      means), strict=True):
            plan.null = drawn

    def _n_observed(self) -> int:
        return sum(len(p.sides) for p in self.plans_)

    def _components(self) -> list[Component]:
        """Observed sets then random ones (a dask ``Delayed`` list while the expression-matched
        draws of dask input are not computed)."""
        observed = [c for p in self.plans_ for c in p.sides]
        if getattr(self, "_lazy_nulls", None) is not None:
            from dask import delayed

            return delayed(_with_nulls)(observed, self._lazy_nulls)
        random = [c for p in self.plans_ for side in p.null for c in side]
        return observed + random

    def _layout(self) -> _Layout:
        sets = [(plan.gene_set.name, plan.signed) for plan in self.plans_]
        layout = _Layout(sets, int(self.n_permutations or 0), [])
        layout.columns = [c for c in self.columns_ if c not in layout.qvalue_columns]
        return layout

    def _column_names(self) -> list[str]:
        extras = self.method_.extras
        columns: list[str] = []
        for plan in self.plans_:
            name = plan.gene_set.name
            columns.append(name)
            if plan.signed:
                columns += [f"{name}_up", f"{name}_down"]
            for extra in extras:
                columns.append(f"{name}_{extra}")
                if plan.signed:
                    columns += [f"{name}_up_{extra}", f"{name}_down_{extra}"]
            if self.n_permutations:
                columns += [f"{name}_pvalue", f"{name}_qvalue"]
        clashes = sorted({c for c in columns if columns.count(c) > 1})
        if clashes:
            raise ValueError(f"score column(s) {clashes} would be written twice: a set's name "
                             "equals a column of another set (a signature 'S' writes 'S_up' and "
                             "'S_down'; extras and p-values add '_<name>' suffixes); rename one "
                             "of the sets")
        return columns

    def _run_blocks(self, expression: Expression, components: list[Component]) -> dict:
        n_jobs = _n_jobs(self.n_jobs)
        union = len(np.unique(np.concatenate([c.indices for c in components])))
        per_sample = 16 * expression.n_genes + 40 * union + 8 * len(components)
        slices = expression.block_slices(self.chunk_size, bytes_per_sample=per_sample,
                                         n_jobs=n_jobs)
        outputs: dict[str, np.ndarray] = {}
        # backed input: one thread reads ahead while the others compute
        reader = (ReadAhead(expression, slices, n_jobs + 1,
                            contiguous=not self.method_.layout_free)
                  if expression.lazy else None)

        def work(i: int) -> tuple[slice, dict]:
            try:
                block = None if reader is None else reader.take(i)
                return slices[i], self.method_.transform_rows(expression, slices[i], components,
                                                              self.state_, block)
            finally:
                if reader is not None:
                    reader.release(i)

        show = self.progress if self.progress is not None else (
            sys.stderr.isatty() and len(slices) > 8)
        pool = ThreadPoolExecutor(max_workers=n_jobs)
        try:
            with tqdm(total=expression.n_samples, disable=not show, unit="sample",
                      desc=f"scoring ({self.method_.name})") as bar:
                for rows, out in pool.map(work, range(len(slices))):
                    for key, value in out.items():
                        if key not in outputs:
                            outputs[key] = np.empty((expression.n_samples, value.shape[1]))
                        outputs[key][rows] = value
                    bar.update(rows.stop - rows.start)
        finally:  # after an error, neither reads nor scores of the remaining blocks
            if reader is not None:
                reader.close()
            pool.shutdown(wait=True, cancel_futures=True)
        return self.method_.finish(outputs, self.state_, self._n_observed())

    def _score_expression(self, expression: Expression, *, compute: bool = True):
        if expression.is_dask:
            lazy = self._lazy_result(expression)
            return lazy.compute() if compute else lazy
        self._materialise()
        outputs = self._run_blocks(expression, self._components())
        return self._result(outputs, expression)

    def _materialise(self) -> None:
        """Compute statistics and random sets fitted lazily on dask input, for scoring
        in-memory data."""
        if _is_lazy(self.state_):
            self.state_ = self.state_.materialise()
        if getattr(self, "_lazy_nulls", None) is not None:
            for plan, drawn in zip(self.plans_, self._lazy_nulls.compute(), strict=True):
                plan.null = drawn
            self._lazy_nulls = None

    def _lazy_result(self, expression: Expression) -> LazyScoreResult:
        """The whole call as one dask graph: fitted statistics, per-chunk scores and
        p-values, q-values across samples."""
        from dask import delayed

        from ferroscore._lazy import LazyData, LazyState, as_delayed

        fitted_on = getattr(self, "_fitted_on", None)
        data = (fitted_on[1] if fitted_on is not None and fitted_on[0] is expression
                else LazyData.from_expression(expression))
        state = self.state_ if _is_lazy(self.state_) else LazyState(self.state_)
        components = self._components()
        n_components = self._n_observed() * (1 + int(self.n_permutations or 0))
        raw = self.method_.transform_lazy(data, components, state, self._n_observed(),
                                          n_components)
        layout = self._layout()
        width = len(layout.columns) + len(self.method_.diagnostics)
        columns = raw.map_blocks(_block_columns, self.method_, layout, n_components,
                                 dtype=np.float64, chunks=(raw.chunks[0], (width,)),
                                 meta=np.empty((0, 0)),
                                 name=f"ferroscore-columns-{raw.name.rpartition('-')[2]}")
        qvalues = {}
        for name in layout.qvalue_columns:
            where = layout.columns.index(name[:-len("qvalue")] + "pvalue")
            qvalues[name] = columns[:, where].rechunk(-1).map_blocks(
                benjamini_hochberg, dtype=np.float64,
                name=f"ferroscore-bh-{name}-{columns.name.rpartition('-')[2]}")
        observed = [c for p in self.plans_ for c in p.sides]
        fitted = delayed(self.method_.describe)(as_delayed(state.values), observed,
                                                     self.genes_)
        return LazyScoreResult(self, expression, columns, qvalues, fitted, layout)

    def _result(self, outputs: dict, expression: Expression) -> ScoreResult:
        diagnostics = {key: outputs.pop(key) for key in self.method_.diagnostics}
        scores = self._assemble(outputs, expression.samples)
        return self._finish_result(scores, diagnostics, expression)

    def _finish_result(self, scores: pd.DataFrame, diagnostics: dict, expression: Expression,
                       fitted: dict | None = None) -> ScoreResult:
        if "all_tied" in diagnostics:
            self._warn_tied(diagnostics["all_tied"][:, 0] > 0, expression)
        for plan in (p for p in self.plans_ if p.signed):
            note = self.method_.composite_note(plan.gene_set.name, scores[plan.gene_set.name])
            if note:
                warn(note)
        params = self._params(expression, fitted)
        if expression.missing is not None:
            params["missing"] = self._missing_report(expression)
        return ScoreResult(scores, self._coverage(), params)

    def _warn_tied(self, tied: np.ndarray, expression: Expression) -> None:
        rows = np.flatnonzero(tied)
        if len(rows):
            examples = [str(x) for x in expression.samples[rows[:5]]]
            warn(f"{len(rows)} of {expression.n_samples} samples have the same value for "
                 f"every gene (e.g. {examples}): their {self.method_.name} scores carry no "
                 f"information, only the tie rule ({self.method_.tie_rule()}). Check these "
                 "samples (empty or failed profiles?)")

    def _missing_report(self, expression: Expression) -> dict:
        """Per-sample NaN/inf counts (``na="per_sample"``) and the set genes they hit, with a
        warning when there are any."""
        counts = expression.missing
        incomplete = np.flatnonzero(counts > 0)
        samples = {str(expression.samples[i]): int(counts[i]) for i in incomplete}
        hit: dict[str, int] = {}
        for component in (c for plan in self.plans_ for c in plan.sides):
            values = expression.columns(component.indices)
            for index, n in zip(component.indices, (~np.isfinite(values)).sum(axis=0),
                                strict=True):
                if n:
                    hit[str(expression.genes[index])] = int(n)
        if samples:
            labels = gene_labels(list(hit)[:10], expression.symbol_map())
            genes = ", ".join(f"{label} (in {hit[g]})" for label, g in zip(
                labels, list(hit)[:10], strict=True)) or "none"
            warn(f"{hint(PER_SAMPLE_API, '--na per_sample')}: {len(samples)} of "
                 f"{expression.n_samples} samples have NaN/inf values (up to "
                 f"{int(counts.max())} of {expression.n_genes} genes in one sample); each "
                 "was ranked on the genes it observed (counts per sample: "
                 f"{hint('result.missing', 'params.missing in the .json')}). Set genes "
                 f"missing in some samples: {genes}")
        return {"samples": samples, "set_genes": hit}

    def _assemble(self, outputs: dict, samples: pd.Index) -> pd.DataFrame:
        data = _assemble_columns(outputs, self.method_, self._layout())
        for name in self._layout().qvalue_columns:
            data[name] = benjamini_hochberg(data[name[:-len("qvalue")] + "pvalue"])
        frame = pd.DataFrame(data, index=pd.Index(samples, name="sample"))
        return frame[self.columns_]

    def _coverage(self) -> pd.DataFrame:
        rows = []
        for plan in self.plans_:
            kinds = ["set"] if not plan.signed else ["up", "down"]
            for side, component, found in zip(kinds, plan.sides, plan.located, strict=True):
                rows.append({
                    "component": component.name, "set": plan.gene_set.name, "side": side,
                    "n_requested": component.n_requested, "n_found": component.size,
                    "fraction": component.size / component.n_requested,
                    "found": [g for g in found.found if found.mapped.get(g, g) not in
                              component.excluded],
                    "missing": list(found.missing), "mapped_aliases": dict(found.mapped),
                    "ambiguous": dict(found.ambiguous), "excluded": list(component.excluded),
                    "notes": found.choices + found.duplicates,
                })
        return pd.DataFrame(rows).set_index("component")[COVERAGE_COLUMNS]

    def _params(self, expression: Expression, fitted: dict | None = None) -> dict:
        sets = []
        for plan in self.plans_:
            entry = {"name": plan.gene_set.name,
                     "type": "signature" if plan.signed else "set",
                     "n_requested": sum(c.n_requested for c in plan.sides),
                     "n_found": sum(c.size for c in plan.sides),
                     "provenance": plan.gene_set.meta.get("provenance", "") if plan.signed
                     else "",
                     "direction": genesets.direction_of(plan.gene_set)}
            sets.append(entry)
        return {
            "method": self.method_.name,
            "parameters": dict(self.method_.params),
            "options": {key: getattr(self, key) for key in ENGINE_OPTIONS},
            "sets": sets,
            "reference": dict(self.reference_info_),
            "scored": {"n_samples": expression.n_samples, "n_genes": expression.n_genes,
                       "input": expression.input_kind},
            "fitted": fitted if fitted is not None else self.method_.describe(
                self.state_, [c for p in self.plans_ for c in p.sides], self.genes_),
            "scale_free": self.method_.scale_free,
            "per_sample": self.method_.per_sample,
            "catalogue_version": genesets.catalogue_version(),
            "versions": versions(),
        }


class LazyScoreResult:
    """Scores of dask input as one dask graph, not computed yet (``fs.score(...,
    compute=False)``).

    The graph holds everything the call needs: the cross-sample statistics of the method as
    dask reductions (gene moments, exact gene sums, TSQR factors, ssGSEA's range, gsva's
    kernel CDFs over blocks of genes, expression-matched random sets), the per-chunk scores and
    permutation p-values, and the q-values across samples. Call :meth:`compute` (inside a
    ``dask.distributed`` client to run on a cluster) for the :class:`ScoreResult`.

    Attributes
    ----------
    outputs
        Dask array ``(n_samples, n_columns)``: every result column but the q-values, then the
        method's per-sample diagnostics.
    qvalues
        Column name -> dask array of BH q-values.
    fitted
        Dask ``Delayed`` of the fitted statistics' summary (``params["fitted"]``).
    """

    def __init__(self, scorer: FerroptosisScorer, expression: Expression, outputs, qvalues: dict,
                 fitted, layout: _Layout) -> None:
        self.scorer, self.expression, self.layout = scorer, expression, layout
        self.outputs, self.qvalues, self.fitted = outputs, qvalues, fitted

    @property
    def graph(self):
        """The dask graph (a ``HighLevelGraph``) of everything :meth:`compute` computes."""
        from dask.highlevelgraph import HighLevelGraph

        parts = [self.outputs, *self.qvalues.values(), self.fitted]
        return HighLevelGraph.merge(*[p.__dask_graph__() for p in parts])

    def compute(self, **compute_kwargs: Any) -> ScoreResult:
        """Run the graph (``compute_kwargs`` go to ``dask.compute``) and build the result."""
        import dask

        values, qvalues, fitted = dask.compute(self.outputs, self.qvalues, self.fitted,
                                               **compute_kwargs)
        values = np.asarray(values)
        n_columns = len(self.layout.columns)
        frame = pd.DataFrame(values[:, :n_columns], columns=self.layout.columns,
                             index=pd.Index(self.expression.samples, name="sample"))
        for name, q in qvalues.items():
            frame[name] = q
        diagnostics = {key: values[:, n_columns + i:n_columns + i + 1]
                       for i, key in enumerate(self.scorer.method_.diagnostics)}
        return self.scorer._finish_result(frame[self.scorer.columns_], diagnostics,
                                          self.expression, fitted)

    def __repr__(self) -> str:
        return (f"LazyScoreResult(method={self.scorer.method_.name!r}, "
                f"{self.expression.n_samples} samples, {self.outputs.npartitions} chunks)")


def score(
    data: Any,
    sets: Any = "ferroptosis_core",
    method: str = DEFAULT_METHOD,
    *,
    genes: Any = None,
    samples: Any = None,
    layer: str | None = None,
    use_raw: bool | None = None,
    gene_symbols: str | None = None,
    genes_axis: Any = None,
    min_genes: int = 1,
    min_coverage: float = 0.5,
    na: str = "error",
    n_permutations: int = 0,
    null: str = "uniform",
    random_state: int | None = 0,
    chunk_size: int | None = None,
    n_jobs: int | None = None,
    progress: bool | None = None,
    compute: bool = True,
    **params: Any,
) -> ScoreResult | LazyScoreResult:
    """Score every sample for one or more gene sets or signed signatures.

    ``fs.score`` defaults to ``singscore``, a good choice for bulk expression; for single cells
    use :func:`ferroscore.tl.score`, which defaults to ``ucell``.

    Parameters
    ----------
    data
        Expression: a DataFrame (genes x samples or samples x genes, detected from the labels;
        see ``genes_axis``), a numpy array or scipy sparse matrix with ``genes=``, or an
        AnnData (``layer=``, ``use_raw=``, ``gene_symbols=``). Set members are found among the
        features by exact name, then through :mod:`ferroscore.ids` (aliases, previous symbols,
        Ensembl/Entrez IDs); features are never renamed, merged or dropped.
    sets
        A catalogue name (see :func:`ferroscore.genesets.available`), a GeneSet, a Signature,
        a list of those, or a dict name -> list of genes. Default ``"ferroptosis_core"``.
    method
        ``singscore`` (default), ``ssgsea``, ``gsva``, ``zscore``, ``plage``, ``ucell``,
        ``aucell``, ``mean`` or ``wsum``. Rank-based and scale-free (any monotone transform of
        a sample gives the same score): singscore, ssgsea, ucell, aucell. Value-based (expect
        log-scale data; a warning is raised for data that look like raw counts): gsva
        (Gaussian kernel), zscore, plage, mean, wsum. gsva with ``kcdf="poisson"`` takes
        counts. Only ``wsum`` (sum of weight x value) uses per-gene weight magnitudes of a
        GeneSet; the others, like their references, take none and reject a set whose weights
        differ in magnitude (signs alone make a signature).
    genes, samples
        Names for array input.
    genes_axis
        ``"rows"``/0 or ``"columns"``/1 to force the genes axis.
    min_genes
        Error if fewer genes of a set are found (default 1, as the R references accept any
        non-empty set).
    min_coverage
        Warn (naming the missing genes) if a smaller fraction of a set is found.
    na
        NaN/inf values (``pd.NA`` of nullable columns counts as NaN): ``"error"`` (default);
        ``"drop_genes"`` drops the genes carrying any (reported by identifier and symbol);
        ``"per_sample"`` (rank methods only) ranks each sample on the genes it observed, so a
        missing value removes a gene from that sample only; ``result.missing`` and
        ``params["missing"]`` report the count per sample. On complete data it equals the
        default exactly.
    n_permutations, null
        Add per-sample empirical p-values (``N_pvalue``) and BH q-values across samples
        (``N_qvalue``) against ``n_permutations`` random sets (``null="uniform"`` or
        ``"expression_matched"``); see :mod:`ferroscore.significance`.
    random_state
        Seed for the random sets and for ``mean``'s control genes; same seed, same output.
    chunk_size, n_jobs, progress
        Samples per block (default: about 64 MB per block), worker threads (default: all
        cores) and progress bar (default: on a terminal for long runs). Results do not depend
        on them. Backed AnnData (``read_h5ad(path, backed="r")``) is read block by block, so
        memory stays bounded by ``chunk_size``.
    compute
        For dask input (a dask array, or AnnData with a dask ``X`` such as anndata's
        ``read_elem_lazy``): the whole call is one dask graph, run on the active
        ``dask.distributed`` client if there is one, with worker memory bounded by a few chunks
        of samples (gsva: blocks of genes holding all samples). Cross-sample statistics are
        dask reductions in that graph: gene moments (zscore, plage, pca), TSQR factors (plage,
        pca), exact gene sums (mean's bins, expression-matched random sets), the ssGSEA range,
        gsva's kernel CDFs. ``False`` returns the :class:`LazyScoreResult` without computing
        it. The scores equal the in-memory ones exactly for singscore, ssgsea, ucell, aucell,
        wsum, gsva and mean (whose bins always use the exactly rounded gene means on dask
        input, i.e. ``order_free=True``), and to about 1e-13 (tested to 1e-12) for zscore,
        plage and pca, whose moments and SVDs are merged over chunks in another summation
        order.
    **params
        Method parameters, e.g. ``center``/``known_direction`` (singscore), ``alpha``,
        ``normalize``, ``ties`` (ssgsea), ``kcdf``, ``max_diff``, ``abs_ranking``, ``tau``,
        ``order_free`` (gsva), ``max_rank``, ``w_neg``, ``missing_genes``, ``clip`` (ucell),
        ``max_rank_frac`` (aucell), ``ctrl_size``, ``n_bins``, ``order_free`` (mean). UCell's
        composite for a signature is ``UCell(up) - w_neg * UCell(down)`` by default;
        ``clip=True`` gives UCell's own ``max(0, ...)`` (warned about when mostly 0).
        ``order_free=True`` makes gsva and mean independent of the order of the samples
        (their defaults follow GSVA and scanpy, which are not; see the method modules).

    Warns
    -----
    UserWarning
        Low coverage (below ``min_coverage``) and any missing member of a catalogue
        signature, samples whose genes all tie (rank methods), NaN/inf per sample, a UCell
        composite clipped to 0 in most samples, data that look like raw counts.

    Returns
    -------
    ScoreResult
        ``.scores`` (samples x columns), ``.coverage``, ``.params``.

    Examples
    --------
    >>> import ferroscore as fs
    >>> expr, clinical = fs.datasets.breast_cancer(as_frames=True)
    >>> res = fs.score(expr, "ferroptosis_core")
    >>> res.scores.columns[:3].tolist()
    ['ferroptosis_core', 'ferroptosis_core_up', 'ferroptosis_core_down']
    """
    scorer = FerroptosisScorer(sets, method, genes_axis=genes_axis, min_genes=min_genes,
                               min_coverage=min_coverage, na=na, n_permutations=n_permutations,
                               null=null, random_state=random_state, chunk_size=chunk_size,
                               n_jobs=n_jobs, progress=progress, **params)
    options = {k: v for k, v in {"genes": genes, "samples": samples, "layer": layer,
                                 "use_raw": use_raw, "gene_symbols": gene_symbols}.items()
               if v is not None}
    expression = scorer._expression(data, options)
    scorer._fit_expression(expression, self_reference=True)
    result = scorer._score_expression(expression, compute=compute)
    note = platform_note(data)
    if note is not None and isinstance(result, ScoreResult):
        result.params["platform"] = note
    return result
