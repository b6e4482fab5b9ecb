"""Univariate Cox screen of many genes at once (Efron ties, as R ``coxph``), optionally
adjusted for covariates.

For every gene the model ``h(t) = h0(t) exp(b x_gene + c' z)`` (``z`` the covariates) is fitted
by Newton-Raphson with step halving from ``b = c = 0``, exactly as :func:`cox` would, but
compiled and run for blocks of genes in parallel threads (memory bounded by the block). Each
gene uses the samples where it is measured (a gene with missing values is fitted on its
complete samples, and ``n`` says how many). Newton iterates until the Newton decrement
``U' I^-1 U`` is below 1e-20, i.e. to the maximum of the partial likelihood (R's ``coxph``
stops on a relative log-likelihood change of 1e-9, which leaves its coefficients within about
1e-6 of the maximum on some genes).
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import pandas as pd
from scipy import stats

from ferroscore.significance import benjamini_hochberg
from ferroscore.survival._validation import check_survival, check_unique_genes
from ferroscore.survival.cox import _prepare
from ferroscore.tables import align_samples, design_matrix

__all__ = ["screen"]

SCREEN_COLUMNS = ["coef", "hr", "hr_lower", "hr_upper", "se", "z", "p", "q", "n", "n_events",
                  "converged", "reason"]
MAX_ITER = 50
DECREMENT_TOL = 1e-20
BLOCK = 512
OK, CONSTANT, NO_EVENTS, NOT_CONVERGED, SINGULAR = 0, 1, 2, 3, 4
REASONS = {
    OK: "",
    CONSTANT: "one value in all samples used",
    NO_EVENTS: "no event among the samples where the gene is measured",
    NOT_CONVERGED: "did not converge: the coefficient may be infinite (the gene separates "
                   "events from non-events)",
    SINGULAR: "singular information matrix (the gene is collinear with the covariates)",
}


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _efron_terms(design, used, event, group_ends, beta, s1, s2, a1, a2):  # pragma: no cover
    """Efron log partial likelihood, score and information of ``design beta`` over the used
    time-ordered rows; ``s1, s2, a1, a2`` are work arrays."""
    n, p = design.shape
    eta = design @ beta
    shift = -np.inf
    for i in range(n):
        if used[i] and eta[i] > shift:
            shift = eta[i]
    loglik = 0.0
    score = np.zeros(p)
    info = np.zeros((p, p))
    s0 = 0.0
    s1[:] = 0.0
    s2[:] = 0.0
    for g in range(group_ends.shape[0] - 1, -1, -1):
        start = group_ends[g - 1] if g > 0 else 0
        a0 = 0.0
        a1[:] = 0.0
        a2[:] = 0.0
        deaths = 0
        for i in range(start, group_ends[g]):
            if not used[i]:
                continue
            r = np.exp(eta[i] - shift)
            x = design[i]
            s0 += r
            for u in range(p):
                s1[u] += r * x[u]
                for v in range(p):
                    s2[u, v] += r * x[u] * x[v]
            if event[i]:
                deaths += 1
                a0 += r
                loglik += eta[i]
                for u in range(p):
                    a1[u] += r * x[u]
                    score[u] += x[u]
                    for v in range(p):
                        a2[u, v] += r * x[u] * x[v]
        for k in range(deaths):
            f = k / deaths
            d0 = s0 - f * a0
            loglik -= np.log(d0) + shift
            for u in range(p):
                mean_u = (s1[u] - f * a1[u]) / d0
                score[u] -= mean_u
                for v in range(p):
                    mean_v = (s1[v] - f * a1[v]) / d0
                    info[u, v] += (s2[u, v] - f * a2[u, v]) / d0 - mean_u * mean_v
    return loglik, score, info


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _screen_block(values, covariates, event, group_ends):  # pragma: no cover - compiled
    """Cox fit of every row of ``values`` (genes x time-ordered samples; NaN = not measured)
    with the covariates; returns coef, se, samples used, events used, status per gene."""
    n_genes, n = values.shape
    q = covariates.shape[1]
    p = 1 + q
    coef = np.full(n_genes, np.nan)
    se = np.full(n_genes, np.nan)
    n_used = np.zeros(n_genes, dtype=np.int64)
    n_events = np.zeros(n_genes, dtype=np.int64)
    status = np.zeros(n_genes, dtype=np.int64)
    design = np.empty((n, p))
    used = np.empty(n, dtype=np.bool_)
    s1, a1 = np.empty(p), np.empty(p)
    s2, a2 = np.empty((p, p)), np.empty((p, p))
    for g in range(n_genes):
        m = 0
        events = 0
        for i in range(n):
            used[i] = np.isfinite(values[g, i])
            if used[i]:
                m += 1
                events += event[i]
        n_used[g], n_events[g] = m, events
        if events == 0:
            status[g] = NO_EVENTS
            continue
        for i in range(n):  # centred design over the used samples (as R centres)
            design[i, 0] = values[g, i] if used[i] else 0.0
            for u in range(q):
                design[i, 1 + u] = covariates[i, u]
        constant = True
        for u in range(p):
            mean = 0.0
            for i in range(n):
                if used[i]:
                    mean += design[i, u]
            mean /= m
            for i in range(n):
                design[i, u] = design[i, u] - mean if used[i] else 0.0
                if u == 0 and used[i] and design[i, 0] != 0.0:
                    constant = False
        if constant:
            status[g] = CONSTANT
            continue
        beta = np.zeros(p)
        loglik, score, info = _efron_terms(design, used, event, group_ends, beta, s1, s2,
                                           a1, a2)
        status[g] = NOT_CONVERGED
        for iteration in range(MAX_ITER):
            # a singular information matrix at the start is collinearity; later, the
            # likelihood flattening out as the coefficient runs away (separation)
            failed = SINGULAR if iteration == 0 else NOT_CONVERGED
            try:
                step = np.linalg.solve(info, score)
            except Exception:
                status[g] = failed
                break
            decrement = score @ step
            if not np.isfinite(decrement) or decrement < 0:
                status[g] = failed
                break
            candidate = beta + step
            new, new_score, new_info = _efron_terms(design, used, event, group_ends,
                                                    candidate, s1, s2, a1, a2)
            halvings = 0
            # step halving when the likelihood drops by more than its rounding (as coxph)
            while (not np.isfinite(new) or new < loglik - 1e-12 * abs(loglik)) \
                    and halvings < 30:
                step = step / 2
                candidate = beta + step
                new, new_score, new_info = _efron_terms(design, used, event, group_ends,
                                                        candidate, s1, s2, a1, a2)
                halvings += 1
            beta, loglik, score, info = candidate, new, new_score, new_info
            if decrement < DECREMENT_TOL:
                # converged unless the steps are still large next to the coefficient
                if abs(step[0]) <= 1e-6 * max(1.0, abs(beta[0])):
                    status[g] = OK
                break
        if status[g] != OK:
            continue
        try:
            variance = np.linalg.inv(info)
        except Exception:
            status[g] = SINGULAR
            continue
        if not variance[0, 0] > 0:
            status[g] = SINGULAR
            continue
        coef[g] = beta[0]
        se[g] = np.sqrt(variance[0, 0])
    return coef, se, n_used, n_events, status


def _n_jobs(n_jobs: int | None) -> int:
    from ferroscore.scoring import _n_jobs as scoring_jobs

    return scoring_jobs(n_jobs)


def screen(
    expr: pd.DataFrame,
    clinical: pd.DataFrame,
    *,
    time: str,
    event: str,
    genes: list[str] | None = None,
    covariates: str | list[str] | None = None,
    join: str = "exact",
    alpha: float = 0.05,
    n_jobs: int | None = None,
) -> pd.DataFrame:
    """Univariate Cox regression of survival on every gene (Efron ties, as R ``coxph``),
    optionally adjusted for clinical covariates, with Benjamini-Hochberg q-values.

    Parameters
    ----------
    expr
        Genes x samples expression (the orientation of :func:`ferroscore.score`). Missing
        values are allowed: each gene is fitted on the samples where it is measured.
    clinical
        One row per sample (index = sample IDs, matched with the columns of ``expr``).
    time, event
        Columns of ``clinical``: survival time (> 0) and event indicator (1 = event).
    genes
        Rows of ``expr`` to test (default: all).
    covariates
        Columns of ``clinical`` to adjust for (numeric, boolean or categorical, encoded as
        :func:`ferroscore.survival.cox` does). Samples with a missing time, event or covariate
        are dropped (counted in ``attrs["n_dropped"]``, with a warning).
    join
        ``"exact"``: ``expr`` and ``clinical`` must hold the same sample IDs; ``"inner"``: use
        the common ones (with a warning).
    alpha
        1 - confidence level of the HR interval.
    n_jobs
        Threads (default: all cores).

    Returns
    -------
    DataFrame
        Indexed by gene: ``coef`` (log HR per unit of expression), ``hr``, ``hr_lower``,
        ``hr_upper``, ``se``, ``z``, ``p`` (Wald), ``q`` (BH over the tested genes), ``n``,
        ``n_events`` (samples and events used), ``converged`` and ``reason`` (why a gene has
        no estimate: constant, no events, no convergence, collinear). ``attrs``: ``n_samples``,
        ``n_dropped``, ``covariates``, ``ties``.

    Raises
    ------
    KeyError
        ``time``, ``event`` or a covariate is not a column of ``clinical``.
    ValueError
        Unknown or repeated genes, infinite expression values, sample IDs that do not match
        (``join="exact"``), bad survival data.

    Examples
    --------
    >>> import ferroscore as fs
    >>> expr, clinical = fs.datasets.breast_cancer(as_frames=True)
    >>> table = fs.survival.screen(expr, clinical, time="rfs_months", event="rfs_event",
    ...                            genes=["GPX4", "SLC7A11", "ACSL4"])
    >>> list(table.index), bool((table["q"] >= table["p"]).all())
    (['GPX4', 'SLC7A11', 'ACSL4'], True)
    """
    if not isinstance(expr, pd.DataFrame):
        raise TypeError(f"expr must be a genes x samples DataFrame, got {type(expr).__name__}")
    covariates = [] if covariates is None else [covariates] if isinstance(covariates, str) \
        else list(covariates)
    rows = _gene_rows(expr, genes)
    complete, n_dropped = _prepare(clinical, time, event, covariates, [])
    if n_dropped:
        warnings.warn(f"{n_dropped} samples with a missing {time}, {event} or covariate were "
                      "left out", UserWarning, stacklevel=2)
    sample_frame, complete, _ = align_samples(pd.DataFrame(index=expr.columns), complete,
                                              join=join, left_name="expr (columns)",
                                              right_name="clinical data")
    t, e = check_survival(complete[time], complete[event])
    design, _ = design_matrix(complete[covariates])
    order = np.argsort(t, kind="mergesort")
    columns = pd.Index(expr.columns.astype(str)).get_indexer(sample_frame.index)[order]
    ends = np.r_[np.flatnonzero(np.diff(t[order]) != 0) + 1, len(t)]
    z = design.to_numpy(dtype=float)[order] if design.shape[1] else np.zeros((len(t), 0))
    event_sorted = e[order].astype(np.int64)
    values = expr.to_numpy()

    def fit(block: np.ndarray):
        chunk = np.asarray(values[np.ix_(block, columns)], dtype=float)
        if np.isinf(chunk).any():
            bad = expr.index[block[np.isinf(chunk).any(axis=1)]]
            raise ValueError(f"expression is infinite for {len(bad)} genes (e.g. "
                             f"{list(bad[:5])}); fix or drop them")
        return _screen_block(np.ascontiguousarray(chunk), z, event_sorted, ends)

    blocks = [rows[i:i + BLOCK] for i in range(0, len(rows), BLOCK)]
    with ThreadPoolExecutor(max_workers=_n_jobs(n_jobs)) as pool:
        parts = list(pool.map(fit, blocks))
    coef, se, n_used, n_events, status = (np.concatenate(part) for part in zip(*parts,
                                                                               strict=True))
    z_crit = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(invalid="ignore", over="ignore"):
        z_value = coef / se
        table = pd.DataFrame({
            "coef": coef, "hr": np.exp(coef), "hr_lower": np.exp(coef - z_crit * se),
            "hr_upper": np.exp(coef + z_crit * se), "se": se, "z": z_value,
            "p": 2 * stats.norm.sf(np.abs(z_value)),
        }, index=pd.Index(expr.index[rows], name="gene"))
    tested = np.isfinite(table["p"].to_numpy())
    table["q"] = np.nan
    table.loc[tested, "q"] = benjamini_hochberg(table["p"].to_numpy()[tested])
    table["n"], table["n_events"] = n_used, n_events
    table["converged"] = status == OK
    table["reason"] = [REASONS[s] for s in status]
    _report(table, n_used, len(t))
    table.attrs.update({"n_samples": len(t), "n_dropped": int(n_dropped),
                        "covariates": list(design.columns), "ties": "efron"})
    return table[SCREEN_COLUMNS]


def _gene_rows(expr: pd.DataFrame, genes: list[str] | None) -> np.ndarray:
    if genes is None:
        check_unique_genes(expr.index)
        return np.arange(len(expr.index))
    genes = [genes] if isinstance(genes, str) else list(genes)
    if len(set(genes)) != len(genes):
        raise ValueError("genes lists some genes more than once")
    missing = [g for g in genes if g not in expr.index]
    if missing:
        raise ValueError(f"{len(missing)} of {len(genes)} genes are not rows of expr (e.g. "
                         f"{missing[:5]})")
    located = expr.index.get_indexer_for(genes)
    if len(located) != len(genes):
        repeated = [g for g in genes if (expr.index == g).sum() > 1]
        raise ValueError(f"genes occur more than once in expr: {repeated[:5]}; collapse them "
                         "first (ferroscore.ids.collapse)")
    return located


def _report(table: pd.DataFrame, n_used: np.ndarray, n: int) -> None:
    partial = table.index[n_used < n]
    if len(partial):
        warnings.warn(f"{len(partial)} genes have missing values and were fitted on the samples "
                      f"where they are measured (column n; e.g. {list(partial[:5])})",
                      UserWarning, stacklevel=3)
    untested = table.loc[~table["converged"], "reason"]
    if len(untested):
        counts = untested.value_counts()
        summary = "; ".join(f"{count}: {reason}" for reason, count in counts.items())
        warnings.warn(f"{len(untested)} genes have no estimate (NaN, left out of the q-values): "
                      f"{summary} (e.g. {list(untested.index[:5])})", UserWarning,
                      stacklevel=3)
