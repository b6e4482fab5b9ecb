"""The Cox partial likelihood with Breslow ties on time-sorted data (glmnet's Cox objective).

With samples sorted by time, the risk set of the ``k``-th distinct event time ``t_k`` is the
block of positions ``starts[k]:`` (every sample with time >= ``t_k``, censored samples at
``t_k`` included), and ``deaths[k]`` is the number of events at ``t_k``. For a linear predictor
``eta`` (unit weights)::

    loglik(eta)  = sum_i d_i eta_i - sum_k D_k log S_k,        S_k = sum_{i in R_k} exp(eta_i)
    d/d eta_i    = d_i - exp(eta_i) A_i,                        A_i = sum_{k: i in R_k} D_k / S_k
    -d2/d eta2   = diag(exp(eta) A) - sum_k (D_k / S_k^2) m_k m_k'   with m_k = exp(eta) 1_{R_k}

Everything is computed after shifting ``eta`` by its maximum (the likelihood is invariant to a
constant shift), so ``exp`` never overflows. The saturated log-likelihood is
``-sum_k D_k log D_k`` (glmnet's ``coxnet.deviance``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np


@dataclass(frozen=True)
class BreslowData:
    """Survival data in time order.

    Attributes
    ----------
    order
        Sample positions in time order (stable sort): ``time[order]`` is ascending.
    event
        Event indicators (float 0/1) in time order, shape (n,).
    starts
        First time-ordered position of each distinct event time's risk set, shape (K,).
    deaths
        Number of events at each distinct event time, shape (K,).
    """

    order: np.ndarray
    event: np.ndarray
    starts: np.ndarray
    deaths: np.ndarray

    @property
    def n(self) -> int:
        return len(self.order)

    @property
    def saturated_loglik(self) -> float:
        return float(-np.sum(self.deaths * np.log(self.deaths)))


def breslow_data(time: np.ndarray, event: np.ndarray) -> BreslowData:
    """Sort validated times and 0/1 events into the risk-set layout of :class:`BreslowData`."""
    order = np.argsort(time, kind="mergesort")
    t = time[order]
    d = event[order].astype(float)
    event_times, deaths = np.unique(t[d == 1], return_counts=True)
    starts = np.searchsorted(t, event_times, side="left")
    return BreslowData(order, d, starts, deaths.astype(float))


def _risk_sums(data: BreslowData, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``exp(eta - max)`` per position and the risk-set sums ``S_k`` on the same scale.

    ``eta`` may be (n,) or (n, m) for m predictors at once (columns)."""
    shifted = eta - eta.max(axis=0)
    risk = np.exp(shifted)
    tail = np.cumsum(risk[::-1], axis=0)[::-1]
    return risk, tail[data.starts]


def loglik(data: BreslowData, eta: np.ndarray) -> np.ndarray | float:
    """Breslow log partial likelihood of time-ordered linear predictors (n,) or (n, m)."""
    _, sums = _risk_sums(data, eta)
    shift = eta.max(axis=0)
    deaths = data.deaths if eta.ndim == 1 else data.deaths[:, None]
    value = data.event @ eta - np.sum(deaths * (np.log(sums) + shift), axis=0)
    return float(value) if eta.ndim == 1 else value


def deviance(data: BreslowData, eta: np.ndarray) -> np.ndarray | float:
    """``2 (saturated loglik - loglik)``, as glmnet's ``coxnet.deviance`` (unit weights)."""
    return 2.0 * (data.saturated_loglik - loglik(data, eta))


@numba.njit(nogil=True, cache=True, error_model="numpy")
def risk_state(eta, event, starts, deaths):  # pragma: no cover - compiled
    """Log-likelihood and derivative ingredients at one time-ordered ``eta`` (n,).

    Returns ``loglik``, ``weight`` (``exp(eta_i) A_i``: the diagonal part of the negative
    Hessian; the gradient is ``event - weight``), ``risk`` (``exp(eta - max)``) and ``scale``
    (``D_k / S_k^2`` on the shifted scale)."""
    n = eta.shape[0]
    shift = eta.max()
    risk = np.exp(eta - shift)
    tail = np.zeros(n + 1)
    for i in range(n - 1, -1, -1):
        tail[i] = tail[i + 1] + risk[i]
    sums = tail[starts]
    weight = np.empty(n)
    cumulative = 0.0
    k = 0
    for i in range(n):
        while k < starts.shape[0] and starts[k] == i:
            cumulative += deaths[k] / sums[k]
            k += 1
        weight[i] = risk[i] * cumulative
    value = event @ eta - np.sum(deaths * (np.log(sums) + shift))
    return value, weight, risk, deaths / (sums * sums)


@numba.njit(nogil=True, cache=True, error_model="numpy")
def negative_hessian(x, weight, risk, starts, scale):  # pragma: no cover - compiled
    """``x' H x`` for time-ordered columns ``x`` (n, a), H the negative Hessian in ``eta``
    (from :func:`risk_state`)."""
    n, a = x.shape
    hessian = (x * weight.reshape(n, 1)).T @ x
    tail = np.zeros(a)
    tails = np.empty((starts.shape[0], a))
    k = starts.shape[0] - 1
    for i in range(n - 1, -1, -1):
        tail += risk[i] * x[i]
        while k >= 0 and starts[k] == i:
            tails[k] = tail * np.sqrt(scale[k])
            k -= 1
    return hessian - tails.T @ tails
