"""Compiled proximal-Newton solver for one lambda of the penalised Breslow Cox objective

    F(b) = -loglik(x b) / n + sum_j [l1_j |b_j| + l2_j b_j^2 / 2]

over the active columns ``x`` (time-ordered, see :mod:`ferroscore.survival._breslow`).

Each Newton step minimises the penalised quadratic model of F exactly: coordinate descent finds
the support and signs of the minimiser, then one linear solve on the support gives it to
rounding (kept only if the signs and the optimality conditions of the zero coordinates hold);
a backtracking line search on F makes every step a descent step. Near the minimum the steps
shrink quadratically, so the stopping rule on the step size leaves an error far below it.
"""

from __future__ import annotations

import numba
import numpy as np

from ferroscore.survival._breslow import negative_hessian, risk_state

MAX_NEWTON = 200
MAX_SWEEPS = 100_000


@numba.njit(nogil=True, cache=True, error_model="numpy")
def coordinate_descent(hessian, linear, z, l1, l2, tol, max_sweeps):  # pragma: no cover
    """Coordinate descent for ``min linear'z + z'Hz/2 + sum l1|z| + sum l2 z^2/2`` (H
    symmetric) from the start ``z`` (updated in place). Sweeps the non-zero coordinates until
    the largest ``(H_jj + l2_j) dz_j^2`` is below ``tol``, then checks with a sweep over all
    coordinates. Returns the number of sweeps."""
    a = z.shape[0]
    grad = linear.copy()
    for j in range(a):
        if z[j] != 0.0:
            for i in range(a):
                grad[i] += hessian[j, i] * z[j]  # symmetric: row j is column j
    full = True
    sweeps = 0
    while sweeps < max_sweeps:
        sweeps += 1
        biggest = 0.0
        for j in range(a):
            if not full and z[j] == 0.0:
                continue
            denominator = hessian[j, j] + l2[j]
            if denominator <= 0.0:
                continue
            u = hessian[j, j] * z[j] - grad[j]
            if u > l1[j]:
                new = (u - l1[j]) / denominator
            elif u < -l1[j]:
                new = (u + l1[j]) / denominator
            else:
                new = 0.0
            delta = new - z[j]
            if delta != 0.0:
                z[j] = new
                for i in range(a):
                    grad[i] += hessian[j, i] * delta
                change = denominator * delta * delta
                if change > biggest:
                    biggest = change
        if biggest < tol:
            if full:
                break
            full = True
        else:
            full = False
    return sweeps


@numba.njit(nogil=True, cache=True, error_model="numpy")
def polish(hessian, linear, z, l1, l2):  # pragma: no cover - compiled
    """The exact minimiser of the quadratic model with the support and signs of ``z``, and
    whether it is valid (signs kept, zero coordinates optimal)."""
    a = z.shape[0]
    support = np.flatnonzero(z)
    m = support.shape[0]
    if m == 0:
        for j in range(a):
            if abs(linear[j]) > l1[j]:
                return z, False
        return z.copy(), True
    block = np.empty((m, m))
    rhs = np.empty(m)
    for u in range(m):
        for v in range(m):
            block[u, v] = hessian[support[u], support[v]]
        block[u, u] += l2[support[u]]
        rhs[u] = -(linear[support[u]] + l1[support[u]] * np.sign(z[support[u]]))
    try:
        exact = np.linalg.solve(block, rhs)
    except Exception:  # singular model on this support
        return z, False
    polished = np.zeros(a)
    for u in range(m):
        if np.sign(exact[u]) != np.sign(z[support[u]]):
            return z, False
        polished[support[u]] = exact[u]
    for j in range(a):
        if polished[j] != 0.0:
            continue
        g = linear[j]
        for u in range(m):
            g += hessian[j, support[u]] * exact[u]
        if abs(g) > l1[j] * (1.0 + 1e-9):
            return z, False
    return polished, True


@numba.njit(nogil=True, cache=True)
def _penalty(beta, l1, l2):  # pragma: no cover - compiled
    return np.sum(l1 * np.abs(beta)) + 0.5 * np.sum(l2 * beta * beta)


@numba.njit(nogil=True, cache=True, error_model="numpy")
def newton(x, event, starts, deaths, beta, eta, l1, l2, tol):  # pragma: no cover - compiled
    """Minimise F over the active columns ``x`` (n, a) from ``beta`` / ``eta = x beta``
    (plus the inactive genes' fixed part). Returns the coefficients, the linear predictor and
    whether the step size fell below ``tol``."""
    n = x.shape[0]
    value, weight, risk, scale = risk_state(eta, event, starts, deaths)
    objective = -value / n + _penalty(beta, l1, l2)
    for _ in range(MAX_NEWTON):
        gradient = -(x.T @ (event - weight)) / n
        hessian = negative_hessian(x, weight, risk, starts, scale) / n
        linear = gradient - hessian @ beta
        z, exact = polish(hessian, linear, beta, l1, l2)  # the support often stays the same
        if not exact:
            z = beta.copy()
            for cd_tol in (tol * 1e4, tol, tol * 1e-3):  # loose first: the polish finishes it
                coordinate_descent(hessian, linear, z, l1, l2, cd_tol, MAX_SWEEPS)
                polished, exact = polish(hessian, linear, z, l1, l2)
                if exact:
                    z = polished
                    break
        step = z - beta
        move = x @ step
        size = 0.0
        for j in range(step.shape[0]):
            size = max(size, (hessian[j, j] + l2[j]) * step[j] * step[j])
        decrease = gradient @ step + _penalty(z, l1, l2) - _penalty(beta, l1, l2)
        # a step below tol, or a decrease below the rounding of F: the model is exact here
        if size < tol or decrease > -1e-15 * abs(objective):
            return z, eta + move, True
        t = 1.0
        accepted = False
        while t > 1e-12:
            candidate_beta = beta + t * step
            candidate_eta = eta + t * move
            candidate, _, _, _ = risk_state(candidate_eta, event, starts, deaths)
            candidate = -candidate / n + _penalty(candidate_beta, l1, l2)
            if candidate <= objective + 1e-4 * t * decrease:
                accepted = True
                break
            t *= 0.5
        if not accepted:
            return beta, eta, False
        beta, eta, objective = candidate_beta, candidate_eta, candidate
        value, weight, risk, scale = risk_state(eta, event, starts, deaths)
    return beta, eta, False
