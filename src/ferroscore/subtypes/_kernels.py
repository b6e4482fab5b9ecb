"""Clustering kernels of the consensus-clustering resampling loop (numba, GIL released).

- :func:`linkage`: agglomerative hierarchical clustering of a dense distance matrix by the
  nearest-neighbour chain algorithm (exact for the reducible linkages average, complete and
  single; Murtagh 1983), returning the merges in the order of their heights.
- :func:`cut`: cluster labels after all but ``k - 1`` merges (R ``cutree(tree, k)``), for
  several ``k`` at once.
- :func:`pam`: partitioning around medoids (Kaufman and Rousseeuw), BUILD then SWAP until no
  swap lowers the total distance, as R ``cluster::pam(diss=TRUE)``.
- :func:`kmeans`: k-means by Hartigan's method (single-object transfers, the criterion of R's
  default Hartigan-Wong algorithm) from given initial centres.
"""

from __future__ import annotations

import numpy as np
from numba import njit

LINKAGES = {"average": 0, "complete": 1, "single": 2}


@njit(cache=True, nogil=True)
def linkage(distance: np.ndarray, method: int):
    """Merges ``(left, right, height)`` of hierarchical clustering; ``distance`` is modified.

    ``left``/``right`` are representative objects of the merged clusters (the merged cluster
    keeps the representative ``right``); merges are sorted by height (stable).
    """
    m = distance.shape[0]
    active = np.ones(m, dtype=np.bool_)
    size = np.ones(m, dtype=np.float64)
    chain = np.empty(m, dtype=np.int64)
    left = np.empty(m - 1, dtype=np.int64)
    right = np.empty(m - 1, dtype=np.int64)
    height = np.empty(m - 1, dtype=np.float64)
    top = 0
    for step in range(m - 1):
        if top == 0:
            for i in range(m):
                if active[i]:
                    chain[0] = i
                    top = 1
                    break
        while True:
            x = chain[top - 1]
            if top >= 2:
                y = chain[top - 2]
                best = distance[x, y]
            else:
                y = -1
                best = np.inf
            for j in range(m):
                if active[j] and j != x and distance[x, j] < best:
                    best = distance[x, j]
                    y = j
            if top >= 2 and y == chain[top - 2]:
                break
            chain[top] = y
            top += 1
        top -= 2
        left[step], right[step], height[step] = x, y, best
        nx, ny = size[x], size[y]
        for j in range(m):
            if active[j] and j != x and j != y:
                if method == 0:
                    value = (nx * distance[x, j] + ny * distance[y, j]) / (nx + ny)
                elif method == 1:
                    value = max(distance[x, j], distance[y, j])
                else:
                    value = min(distance[x, j], distance[y, j])
                distance[y, j] = value
                distance[j, y] = value
        size[y] = nx + ny
        active[x] = False
    order = np.argsort(height, kind="mergesort")
    return left[order], right[order], height[order]


@njit(cache=True, nogil=True)
def _root(parent: np.ndarray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@njit(cache=True, nogil=True)
def _relabel(parent: np.ndarray, out: np.ndarray) -> None:
    """Labels 0, 1, ... numbered by first appearance (as R's ``cutree``)."""
    m = len(parent)
    code = np.full(m, -1, dtype=np.int64)
    n_labels = 0
    for i in range(m):
        r = _root(parent, i)
        if code[r] < 0:
            code[r] = n_labels
            n_labels += 1
        out[i] = code[r]


@njit(cache=True, nogil=True)
def cut(left: np.ndarray, right: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """Labels ``(len(ks), m)`` after ``m - k`` merges for each ``k`` of the increasing ``ks``
    (processed from the largest, i.e. fewest merges)."""
    m = len(left) + 1
    parent = np.arange(m)
    labels = np.empty((len(ks), m), dtype=np.int64)
    done = 0
    for position in range(len(ks) - 1, -1, -1):
        target = m - ks[position]
        while done < target:
            a = _root(parent, left[done])
            b = _root(parent, right[done])
            parent[a] = b
            done += 1
        _relabel(parent, labels[position])
    return labels


@njit(cache=True, nogil=True)
def hierarchical_labels(distance: np.ndarray, ks: np.ndarray, method: int) -> np.ndarray:
    left, right, _ = linkage(distance, method)
    return cut(left, right, ks)


@njit(cache=True, nogil=True)
def resample_labels(distance: np.ndarray, items: np.ndarray, ks: np.ndarray, method: int,
                    use_pam: bool) -> np.ndarray:
    """Labels ``(n_resamples, len(ks), m)`` of hierarchical clustering (``method``) or PAM of
    every resample ``items[r]`` (``m`` object indices into the full ``distance``)."""
    n_reps, m = items.shape
    labels = np.empty((n_reps, len(ks), m), dtype=np.int64)
    sub = np.empty((m, m))
    for r in range(n_reps):
        for i in range(m):
            for j in range(m):
                sub[i, j] = distance[items[r, i], items[r, j]]
        if use_pam:
            for position in range(len(ks)):
                labels[r, position] = pam(sub, ks[position])
        else:
            labels[r] = hierarchical_labels(sub, ks, method)
    return labels


@njit(cache=True, nogil=True)
def co_clustered(labels: np.ndarray, items: np.ndarray, n: int) -> np.ndarray:
    """Counts ``(len(ks), n, n)`` of resamples that put objects ``a < b`` (upper triangle) in
    the same cluster, from ``labels`` ``(n_resamples, len(ks), m)`` of the objects ``items``."""
    n_reps, n_ks, m = labels.shape
    counts = np.zeros((n_ks, n, n), dtype=np.int64)
    for r in range(n_reps):
        for position in range(n_ks):
            lab = labels[r, position]
            for i in range(m):
                a = items[r, i]
                for j in range(i + 1, m):
                    if lab[j] == lab[i]:
                        counts[position, a, items[r, j]] += 1
    return counts


@njit(cache=True, nogil=True)
def pam(distance: np.ndarray, k: int) -> np.ndarray:
    """Labels (0..k-1, by medoid order) of partitioning around medoids."""
    m = distance.shape[0]
    is_medoid = np.zeros(m, dtype=np.bool_)
    nearest = np.full(m, distance.max() * 1.1 + 1.0)
    for _ in range(k):  # BUILD: add the object that lowers the total distance most
        best_gain, best = -1.0, -1
        for i in range(m):
            if is_medoid[i]:
                continue
            gain = 0.0
            for j in range(m):
                gain += max(nearest[j] - distance[i, j], 0.0)
            if gain > best_gain:
                best_gain, best = gain, i
        is_medoid[best] = True
        for j in range(m):
            nearest[j] = min(nearest[j], distance[best, j])
    second = np.empty(m)
    while True:  # SWAP: the best (medoid, non-medoid) exchange while it lowers the total
        for j in range(m):
            first_d, second_d = np.inf, np.inf
            for i in range(m):
                if is_medoid[i]:
                    d = distance[i, j]
                    if d < first_d:
                        second_d, first_d = first_d, d
                    elif d < second_d:
                        second_d = d
            nearest[j], second[j] = first_d, second_d
        best_change, best_i, best_h = 0.0, -1, -1
        for i in range(m):
            if not is_medoid[i]:
                continue
            for h in range(m):
                if is_medoid[h]:
                    continue
                change = 0.0
                for j in range(m):
                    if distance[i, j] == nearest[j]:
                        change += min(second[j], distance[h, j]) - nearest[j]
                    elif distance[h, j] < nearest[j]:
                        change += distance[h, j] - nearest[j]
                if change < best_change:
                    best_change, best_i, best_h = change, i, h
        if best_i < 0 or best_change > -1e-12 * max(1.0, nearest.sum()):
            break
        is_medoid[best_i] = False
        is_medoid[best_h] = True
    medoids = np.flatnonzero(is_medoid)
    labels = np.empty(m, dtype=np.int64)
    for j in range(m):
        best_d, best_c = np.inf, 0
        for c in range(len(medoids)):
            d = distance[medoids[c], j]
            if d < best_d:
                best_d, best_c = d, c
        labels[j] = best_c
    return labels


@njit(cache=True, nogil=True)
def kmeans(data: np.ndarray, initial: np.ndarray, max_iter: int) -> np.ndarray:
    """Labels of k-means on ``data`` (objects x features) by Hartigan's method from the
    objects ``initial`` as starting centres: objects are first assigned to the nearest centre,
    then moved one at a time to the cluster that lowers the within-cluster sum of squares most
    (``n_B / (n_B + 1) d(x, c_B)^2 < n_A / (n_A - 1) d(x, c_A)^2``), centres updated after each
    move, for at most ``max_iter`` passes. This is the criterion of R's default
    Hartigan-Wong algorithm (which adds bookkeeping to skip hopeless transfers)."""
    m, p = data.shape
    k = len(initial)
    centres = data[initial].copy()
    labels = np.empty(m, dtype=np.int64)
    for j in range(m):
        best_d, best_c = np.inf, 0
        for c in range(k):
            d = 0.0
            for f in range(p):
                diff = data[j, f] - centres[c, f]
                d += diff * diff
            if d < best_d:
                best_d, best_c = d, c
        labels[j] = best_c
    counts = np.zeros(k)
    centres[:] = 0.0
    for j in range(m):
        counts[labels[j]] += 1
        for f in range(p):
            centres[labels[j], f] += data[j, f]
    for c in range(k):
        if counts[c] > 0:
            for f in range(p):
                centres[c, f] /= counts[c]
    distances = np.empty(k)
    for _ in range(max_iter):
        moved = False
        for j in range(m):
            a = labels[j]
            if counts[a] <= 1:
                continue
            for c in range(k):
                d = 0.0
                for f in range(p):
                    diff = data[j, f] - centres[c, f]
                    d += diff * diff
                distances[c] = d
            leave = counts[a] / (counts[a] - 1) * distances[a]
            best_c, best_cost = a, leave
            for c in range(k):
                if c != a and counts[c] > 0:
                    cost = counts[c] / (counts[c] + 1) * distances[c]
                    if cost < best_cost:
                        best_c, best_cost = c, cost
            if best_c != a:
                for f in range(p):
                    centres[a, f] = (centres[a, f] * counts[a] - data[j, f]) / (counts[a] - 1)
                    centres[best_c, f] = ((centres[best_c, f] * counts[best_c] + data[j, f])
                                          / (counts[best_c] + 1))
                counts[a] -= 1
                counts[best_c] += 1
                labels[j] = best_c
                moved = True
        if not moved:
            break
    return labels
