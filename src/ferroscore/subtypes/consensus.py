"""Consensus clustering (Monti et al. 2003) with ConsensusClusterPlus 1.62's definitions.

For ``reps`` resamples, ``floor(p_item * n)`` samples are drawn without replacement (and, with
``p_feature < 1``, ``floor(p_feature * n_genes)`` genes) and clustered into each ``k``. The
consensus of two samples is the number of resamples that put them in the same cluster divided by
the number of resamples that drew both (diagonal included: 1 for every sample drawn at least
once; 0 for a pair never drawn together, reported). Final classes come from clustering
``1 - consensus`` with ``final_linkage`` and cutting the tree into ``k`` groups.

- Distances are computed once on the full matrix (``1 - Pearson``/``1 - Spearman`` correlation
  between samples over genes, or Euclidean) and subset per resample, as ConsensusClusterPlus
  does when every gene is used; with ``p_feature < 1`` they are recomputed on each resample's
  genes. k-means clusters the data (Euclidean) of each resample.
- CDF of the consensus values over the pairs of the strict lower triangle, evaluated at the
  right edges of R ``hist`` bins of width 0.01 (closed on the right, with R's 1e-7-of-a-bin
  fuzz); area = sum of 0.01 x CDF at those edges.
- Delta area (ConsensusClusterPlus's definition): for the first k its CDF area itself, then the
  relative change ``(A_k - A_{k-1}) / A_{k-1}``.
- PAC (Senbabaoglu et al. 2014): the share of pairs with consensus strictly inside
  ``(0.1, 0.9)``; lower is a cleaner split.

Random subsampling makes the numbers agree with R only statistically (numpy's generator, not
R's); the tolerances measured against ConsensusClusterPlus are in
src/ferroscore/data/agreement.toml.
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.cluster import hierarchy
from scipy.spatial.distance import squareform

from ferroscore import genesets, ids
from ferroscore.matrix import as_expression
from ferroscore.subtypes import _kernels

__all__ = ["ConsensusResult", "KRecommendation", "consensus"]

ALGORITHMS = ("hc", "km", "pam")
DISTANCES = ("pearson", "spearman", "euclidean")
CENTERS = ("median", "mean", None)
RULES = ("pac", "delta_area")
#: Consensus CDF bins of ConsensusClusterPlus (``hist(breaks = seq(0, 1, by = 0.01))``).
CDF_EDGES = np.arange(1, 101) * 0.01
#: R's ``hist`` moves every break by 1e-7 of the median bin width (right-closed bins).
HIST_FUZZ = 1e-7 * 0.01
KMEANS_MAX_ITER = 10  # R kmeans' iter.max default, as ConsensusClusterPlus calls it


@dataclass
class KRecommendation:
    """A suggested number of clusters, with the rule that chose it and the curves it read.

    Attributes
    ----------
    k
        The suggestion.
    rule
        The rule in words.
    table
        ``k``, ``cdf_area``, ``delta_area``, ``pac`` and ``chosen`` for every k: read it, the
        curves matter more than the pick.
    """

    k: int
    rule: str
    table: pd.DataFrame


@dataclass
class ConsensusResult:
    """Result of :func:`consensus` (dicts keyed by k).

    Attributes
    ----------
    consensus
        k -> samples x samples DataFrame of consensus values in [0, 1].
    classes
        k -> Series of final classes 1..k by sample (numbered by first appearance, as R's
        ``cutree``).
    cdf
        DataFrame of the consensus CDF at the bin edges 0.01 .. 1.00 (rows) per k (columns).
    cdf_area, delta_area, pac
        k -> float.
    cosampled
        Samples x samples count of resamples that drew both samples.
    order
        k -> sample order of the final tree's leaves (for heatmaps).
    genes
        Genes clustered on (after dropping absent and constant genes).
    params
        Parameters, what was dropped, versions.
    """

    consensus: dict[int, pd.DataFrame]
    classes: dict[int, pd.Series]
    cdf: pd.DataFrame
    cdf_area: dict[int, float]
    delta_area: dict[int, float]
    pac: dict[int, float]
    cosampled: pd.DataFrame = field(repr=False)
    order: dict[int, list] = field(repr=False)
    genes: list[str] = field(repr=False)
    params: dict = field(repr=False)

    @property
    def ks(self) -> list[int]:
        return sorted(self.consensus)

    def summary(self) -> pd.DataFrame:
        """One row per k: CDF area, delta area, PAC and the cluster sizes."""
        rows = [{"k": k, "cdf_area": self.cdf_area[k], "delta_area": self.delta_area[k],
                 "pac": self.pac[k],
                 "cluster_sizes": self.classes[k].value_counts().sort_index().tolist()}
                for k in self.ks]
        return pd.DataFrame(rows).set_index("k")

    def recommend_k(self, rule: str = "pac", threshold: float = 0.1) -> KRecommendation:
        """Suggest a number of clusters.

        Parameters
        ----------
        rule
            ``"pac"`` (default): the k with the lowest PAC (the smallest such k on ties), as
            Senbabaoglu et al. (2014) recommend. ``"delta_area"``: the smallest k after which
            adding a cluster raises the CDF area by less than ``threshold`` (relative), i.e. the
            elbow of ConsensusClusterPlus's delta-area plot; the largest k if there is none.
        threshold
            Relative area gain for ``"delta_area"``.

        Returns
        -------
        KRecommendation
            The k, the rule in words, and the table of every curve (always look at it).
        """
        if rule not in RULES:
            raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
        table = self.summary()[["cdf_area", "delta_area", "pac"]].reset_index()
        ks = self.ks
        if rule == "pac":
            chosen = int(table.loc[table["pac"].idxmin(), "k"])
            text = "lowest PAC (share of pairs with consensus in (0.1, 0.9)); smallest k on ties"
        else:
            later = [k for i, k in enumerate(ks[:-1]) if self.delta_area[ks[i + 1]] < threshold]
            chosen = later[0] if later else ks[-1]
            text = (f"smallest k after which one more cluster raises the consensus CDF area by "
                    f"less than {threshold:g} (relative)")
        table["chosen"] = table["k"] == chosen
        return KRecommendation(chosen, text, table.set_index("k"))


def _n_jobs(n_jobs: int | None) -> int:
    if n_jobs is None:
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                   else os.cpu_count() or 1)
    if int(n_jobs) < 1:
        raise ValueError(f"n_jobs must be a positive integer or None, got {n_jobs!r}")
    return int(n_jobs)


def sample_distances(data: np.ndarray, distance: str) -> np.ndarray:
    """Samples x samples distances of ``data`` (samples x genes)."""
    if distance == "euclidean":
        squared = (data**2).sum(axis=1)
        gram = data @ data.T
        out = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * gram, 0.0))
        np.fill_diagonal(out, 0.0)
        return out
    values = stats.rankdata(data, axis=1) if distance == "spearman" else data
    centred = values - values.mean(axis=1, keepdims=True)
    norms = np.sqrt((centred**2).sum(axis=1))
    if (norms == 0).any():
        raise ValueError(f"{int((norms == 0).sum())} samples have the same value for every "
                         "gene, so their correlation distance is undefined")
    unit = centred / norms[:, None]
    out = 1.0 - np.clip(unit @ unit.T, -1.0, 1.0)
    np.fill_diagonal(out, 0.0)
    return out


def _prepare(expr: Any, genes: Any, center: str | None, genes_axis: Any
             ) -> tuple[np.ndarray, pd.Index, list, dict]:
    """Samples x genes matrix of the clustered genes, centred, and a report of what was
    dropped."""
    members = [] if genes is None else list(genes)
    expression = as_expression(expr, members=members, genes_axis=genes_axis)
    report: dict = {"input": expression.input_kind}
    if genes is None:
        columns = np.arange(expression.n_genes)
        report["genes_missing"] = []
    else:
        if isinstance(genes, str):
            raise TypeError("genes must be a list of gene names, not a single string")
        found = ids.locate(members, expression.feature_index)
        columns = np.asarray(found.indices)
        report["genes_missing"] = list(found.missing)
        if found.missing:
            warnings.warn(f"{len(found.missing)} of {len(members)} genes are not in the data "
                          f"and were left out: {found.missing[:20]}", UserWarning, stacklevel=3)
    values = expression.columns(columns)
    names = [str(expression.genes[i]) for i in columns]
    spread = values.max(axis=0) - values.min(axis=0)
    constant = spread <= 1e-12 * np.maximum(1.0, np.abs(values).max(axis=0))
    report["genes_constant"] = [n for n, c in zip(names, constant, strict=True) if c]
    if constant.any():
        warnings.warn(f"{int(constant.sum())} genes are constant over the samples and were left "
                      f"out: {report['genes_constant'][:20]}", UserWarning, stacklevel=3)
    values = values[:, ~constant]
    names = [n for n, c in zip(names, constant, strict=True) if not c]
    if len(names) < 2:
        raise ValueError(f"{len(names)} usable genes; consensus clustering needs at least 2")
    if center == "median":
        values = values - np.median(values, axis=0)
    elif center == "mean":
        values = values - values.mean(axis=0)
    return values, expression.samples, names, report


def _check_params(ks: list[int], n: int, p_item: float, p_feature: float, reps: int,
                  algorithm: str, distance: str, linkage: str, final_linkage: str,
                  center: str | None) -> int:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    if distance not in DISTANCES:
        raise ValueError(f"distance must be one of {DISTANCES}, got {distance!r}")
    if algorithm == "km" and distance != "euclidean":
        raise ValueError("algorithm='km' (k-means) clusters the data with Euclidean distances; "
                         "pass distance='euclidean' (ConsensusClusterPlus switches silently)")
    for name, value in (("linkage", linkage), ("final_linkage", final_linkage)):
        if value not in _kernels.LINKAGES:
            raise ValueError(f"{name} must be one of {list(_kernels.LINKAGES)}, got {value!r}")
    if center not in CENTERS:
        raise ValueError(f"center must be one of {CENTERS}, got {center!r}")
    if int(reps) != reps or reps < 1:
        raise ValueError(f"reps must be a positive integer, got {reps!r}")
    for name, value in (("p_item", p_item), ("p_feature", p_feature)):
        if not 0 < value <= 1:
            raise ValueError(f"{name} must be in (0, 1], got {value!r}")
    if n < 3:
        raise ValueError(f"{n} samples; consensus clustering needs at least 3")
    size = int(np.floor(p_item * n))
    if size < 2:
        raise ValueError(f"p_item={p_item} draws {size} of {n} samples per resample, so no pair "
                         "is ever clustered together; use a larger p_item")
    if not ks or min(ks) < 2:
        raise ValueError(f"k must be integers >= 2, got {ks}")
    if max(ks) > size:
        raise ValueError(f"k={max(ks)} is larger than the {size} samples drawn per resample "
                         f"(floor(p_item x {n} samples)); use k <= {size}")
    return size


def _draw(rng: np.random.Generator, n: int, size: int, reps: int) -> np.ndarray:
    """``reps`` sorted subsamples of ``size`` of ``n`` indices, without replacement."""
    return np.sort(np.argsort(rng.random((reps, n)), axis=1)[:, :size], axis=1)


def _cluster_resample(data, items, features, ks, algorithm, distance, method, starts):
    """Labels ``(len(ks), len(items))`` of one resample whose distances are not precomputed
    (k-means, or a subsample of genes)."""
    sub = data[items] if features is None else data[np.ix_(items, features)]
    if algorithm == "km":
        sub = np.ascontiguousarray(sub)
        return np.vstack([_kernels.kmeans(sub, start, KMEANS_MAX_ITER) for start in starts])
    dist = sample_distances(sub, distance)
    if algorithm == "hc":
        return _kernels.hierarchical_labels(dist, ks, method)
    return np.vstack([_kernels.pam(dist, int(k)) for k in ks])


def _count_chunk(data, full_distance, items, features, ks, algorithm, distance, method,
                 starts, n) -> np.ndarray:
    """Co-clustering counts ``(len(ks), n, n)`` of a chunk of resamples (upper triangle)."""
    n_reps = len(items)
    if full_distance is not None:  # every resample inside one compiled loop
        labels = _kernels.resample_labels(full_distance, items, ks, method, algorithm == "pam")
    else:
        labels = np.empty((n_reps, len(ks), items.shape[1]), dtype=np.int64)
        for r in range(n_reps):
            labels[r] = _cluster_resample(data, items[r],
                                          None if features is None else features[r], ks,
                                          algorithm, distance, method,
                                          None if starts is None else starts[r])
    return _kernels.co_clustered(labels, items, n)  # items are sorted: upper triangle


def _cdf(matrix: np.ndarray) -> np.ndarray:
    """Consensus CDF at ConsensusClusterPlus's bin edges (strict lower triangle)."""
    values = np.sort(matrix[np.tril_indices_from(matrix, -1)])
    return np.searchsorted(values, CDF_EDGES + HIST_FUZZ, side="right") / len(values)


def _final_classes(matrix: np.ndarray, k: int, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Classes 1..k (numbered by first appearance, as ``cutree``) and the leaf order of the
    hierarchical clustering of ``1 - consensus``."""
    tree = hierarchy.linkage(squareform(1.0 - matrix, checks=False), method=method)
    n = len(matrix)
    representative = np.empty(2 * n - 1, dtype=np.int64)  # one object of every scipy cluster
    representative[:n] = np.arange(n)
    for step, b in enumerate(tree[:, 1].astype(np.int64)):
        representative[n + step] = representative[b]
    left = representative[tree[:, 0].astype(np.int64)]
    right = representative[tree[:, 1].astype(np.int64)]
    labels = _kernels.cut(left, right, np.array([k], dtype=np.int64))[0]
    return labels + 1, hierarchy.leaves_list(tree)


def consensus(
    expr: Any,
    genes: Any = None,
    k: Any = range(2, 7),
    reps: int = 1000,
    p_item: float = 0.8,
    p_feature: float = 1.0,
    algorithm: str = "hc",
    distance: str = "pearson",
    linkage: str = "average",
    *,
    final_linkage: str = "average",
    center: str | None = "median",
    seed: int = 0,
    n_jobs: int | None = None,
    genes_axis: Any = None,
) -> ConsensusResult:
    """Consensus clustering of samples into subtypes (ConsensusClusterPlus's definitions).

    Parameters
    ----------
    expr
        Expression (DataFrame in either orientation, array with names, or AnnData); log scale.
    genes
        Genes to cluster on (e.g. ferroptosis-related genes), located as in scoring (aliases
        and previous symbols); absent genes are reported and left out. Default: every gene.
        Genes constant over the samples are left out (reported).
    k
        Numbers of clusters (integers >= 2), default 2..6.
    reps, p_item, p_feature
        Resamples, and the fractions of samples and genes drawn in each (without replacement).
    algorithm
        ``"hc"`` (hierarchical, ``linkage``), ``"pam"`` (partitioning around medoids) or
        ``"km"`` (k-means; Euclidean only).
    distance
        ``"pearson"`` (1 - correlation between samples, default), ``"spearman"`` or
        ``"euclidean"``.
    linkage, final_linkage
        ``"average"`` (default), ``"complete"`` or ``"single"``, for the resamples and for the
        final clustering of ``1 - consensus``.
    center
        Centre every gene over the samples first: ``"median"`` (default, as in the
        ConsensusClusterPlus vignette), ``"mean"`` or None (use the values as given).
    seed
        Seed of the subsampling (numpy); same seed and input, identical result.
    n_jobs
        Worker threads (default: all cores); the result does not depend on it.
    genes_axis
        ``"rows"`` or ``"columns"``: the axis of a DataFrame holding the genes (detected from
        the labels by default).

    Returns
    -------
    ConsensusResult
        ``.consensus[k]``, ``.classes[k]``, ``.cdf_area[k]``, ``.delta_area[k]``, ``.pac[k]``,
        ``.summary()``, ``.recommend_k()``; plots in ``fs.pl.consensus_heatmap``,
        ``fs.pl.consensus_cdf`` and ``fs.pl.consensus_delta_area``.

    Raises
    ------
    ValueError
        k below 2 or above the samples drawn per resample, p_item drawing fewer than 2
        samples, fewer than 2 usable genes or 3 samples, unknown options. Pairs never drawn
        together (too few resamples for a small p_item) get consensus 0 and a warning.

    Examples
    --------
    >>> import ferroscore as fs
    >>> expr, _ = fs.datasets.breast_cancer(as_frames=True)
    >>> genes = fs.genesets.load("kegg_ferroptosis").genes  # doctest: +SKIP
    >>> res = fs.subtypes.consensus(expr, genes, reps=200, seed=1)  # doctest: +SKIP
    >>> res.recommend_k().table  # doctest: +SKIP
    """
    ks = sorted({int(x) for x in ([k] if np.isscalar(k) else k)})
    values, samples, names, report = _prepare(expr, genes, center, genes_axis)
    n = len(samples)
    size = _check_params(ks, n, p_item, p_feature, reps, algorithm, distance, linkage,
                         final_linkage, center)
    reps = int(reps)
    rng = np.random.default_rng(seed)
    items = _draw(rng, n, size, reps)
    n_features = int(np.floor(p_feature * len(names)))
    if n_features < 1:
        raise ValueError(f"p_feature={p_feature} draws no gene of {len(names)}")
    features = None
    if p_feature < 1:
        features = _draw(rng, len(names), n_features, reps)
    starts = None
    if algorithm == "km":
        starts = [[np.sort(rng.choice(size, int(kk), replace=False)) for kk in ks]
                  for _ in range(reps)]
    full_distance = (sample_distances(values, distance)
                     if algorithm != "km" and features is None else None)
    ks_array = np.asarray(ks, dtype=np.int64)
    method = _kernels.LINKAGES[linkage]
    workers = _n_jobs(n_jobs)
    bounds = np.linspace(0, reps, min(reps, 4 * workers) + 1).astype(int)
    chunks = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]

    def work(chunk: slice) -> np.ndarray:
        return _count_chunk(values, full_distance, items[chunk],
                            None if features is None else features[chunk], ks_array, algorithm,
                            distance, method, None if starts is None else starts[chunk], n)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        upper = sum(pool.map(work, chunks))
    together = upper + np.transpose(upper, (0, 2, 1))
    indicator = np.zeros((n, reps), dtype=np.float32)
    indicator[items.ravel(), np.repeat(np.arange(reps), size)] = 1.0
    cosampled = (indicator @ indicator.T).astype(np.float64)
    never = cosampled == 0
    n_never = int(np.triu(never, 1).sum())
    if n_never:
        warnings.warn(f"{n_never} pairs of samples were never drawn together in {reps} "
                      f"resamples (p_item={p_item}); their consensus is set to 0 as "
                      "ConsensusClusterPlus does. Use more resamples or a larger p_item.",
                      UserWarning, stacklevel=2)
    index = pd.Index(samples, name="sample")
    matrices, classes, orders, cdf, area, pac = {}, {}, {}, {}, {}, {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for position, kk in enumerate(ks):
            matrix = np.where(never, 0.0, together[position] / cosampled)
            np.fill_diagonal(matrix, np.where(np.diag(never), 0.0, 1.0))
            matrices[kk] = pd.DataFrame(matrix, index=index, columns=index)
            labels, leaves = _final_classes(matrix, kk, final_linkage)
            classes[kk] = pd.Series(labels, index=index, name=f"k{kk}")
            orders[kk] = [samples[i] for i in leaves]
            cdf[kk] = _cdf(matrix)
            area[kk] = float(np.sum(0.01 * cdf[kk]))
            lower = matrix[np.tril_indices_from(matrix, -1)]
            pac[kk] = float(np.mean((lower > 0.1) & (lower < 0.9)))
    delta = {ks[0]: area[ks[0]]}
    for previous, kk in zip(ks[:-1], ks[1:], strict=True):
        delta[kk] = (area[kk] - area[previous]) / area[previous]
    from ferroscore.scoring import versions

    params = {"k": ks, "reps": reps, "p_item": p_item, "p_feature": p_feature,
              "algorithm": algorithm, "distance": distance, "linkage": linkage,
              "final_linkage": final_linkage, "center": center, "seed": seed,
              "n_samples": n, "samples_per_resample": size, "n_genes": len(names),
              "genes_per_resample": n_features, "pairs_never_cosampled": n_never,
              "reproduces": "ConsensusClusterPlus 1.62.0 definitions (statistically)",
              **report, "catalogue_version": genesets.catalogue_version(),
              "versions": versions()}
    cdf_frame = pd.DataFrame(cdf, index=pd.Index(np.round(CDF_EDGES, 2), name="consensus"))
    return ConsensusResult(matrices, classes, cdf_frame, area, delta, pac,
                           pd.DataFrame(cosampled, index=index, columns=index), orders, names,
                           params)
