"""Sentences generated from a survival table: what a score's direction means, whether a
result flips with the scoring method, and the conclusion a report leads with.

Everything here reads the numbers of :func:`ferroscore.survival.analyze`'s table (columns
``score``, ``method``, ``direction``, ``hr_per_sd``, ``hr_lower``, ``hr_upper``, ``q_cox``
and, with covariates, ``p_cox_multi``); nothing is written by hand, so a report cannot claim
more than its numbers.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["conclusion", "method_sensitivity", "undirected_scores"]

#: Directions whose hazard ratio can be read as a ferroptosis direction.
DIRECTED = ("signed", "signed, signs unverified", "pro-ferroptotic axis", "anti-ferroptotic axis")

_PHRASES = {
    "signed": "drivers over suppressors",
    "signed, signs unverified": "drivers over suppressors as published; signs unverified",
    "pro-ferroptotic axis": "a pro-ferroptotic axis",
    "anti-ferroptotic axis": "an anti-ferroptotic axis",
    "unsigned": "an unsigned set, with no ferroptosis direction",
    "unknown": "direction unknown",
}

SENSITIVITY_COLUMNS = ["score", "direction", "methods", "hr_min", "hr_max", "q_min", "q_max",
                       "hr_both_sides_of_1", "significance_differs", "flips", "summary"]


def _q(value: float) -> str:
    return f"{value:.2g}" if value >= 1e-3 else f"{value:.1e}"


def _methods(rows: pd.DataFrame) -> list[str]:
    return [str(m) for m in rows["method"]]


def undirected_scores(table: pd.DataFrame) -> list[str]:
    """Score names whose direction is ``unsigned`` or ``unknown``: their hazard ratio says
    whether the score relates to survival, not in which ferroptosis direction."""
    rows = table[~table["direction"].isin(DIRECTED)]
    return list(dict.fromkeys(rows["score"].astype(str)))


def method_sensitivity(table: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """One row per score tested with more than one method: the range of the HR per SD and of
    the Cox q-value across methods, and whether the result flips with the method.

    A result ``flips`` when the hazard ratios lie on both sides of 1 (``hr_both_sides_of_1``)
    or when ``q < alpha`` with some methods and not with others (``significance_differs``).
    ``summary`` is a generated sentence. Empty (with the columns) for one method.
    """
    out = []
    for score, rows in table.groupby("score", sort=False):
        if len(rows) < 2:
            continue
        hr, q = rows["hr_per_sd"], rows["q_cox"]
        both_sides = bool((hr > 1).any() and (hr < 1).any())
        significant = q < alpha
        differs = bool(significant.any() and not significant.all())
        low, high = rows.loc[hr.idxmin()], rows.loc[hr.idxmax()]
        spread = (f"HR per SD {low['hr_per_sd']:.2f} ({low['method']}) to "
                  f"{high['hr_per_sd']:.2f} ({high['method']})")
        if differs:
            names = ", ".join(_methods(rows[significant]))
            others = ", ".join(_methods(rows[~significant]))
            verdict = f"q < {alpha:g} with {names} only, not with {others}"
        elif significant.all():
            verdict = f"q < {alpha:g} with every method"
        else:
            verdict = f"q >= {alpha:g} with every method (smallest {_q(q.min())})"
        flips = both_sides or differs
        side = "; on both sides of 1" if both_sides else ""
        ending = ": the result depends on the scoring method" if flips else ""
        out.append({
            "score": score, "direction": rows["direction"].iat[0],
            "methods": ", ".join(_methods(rows)), "hr_min": hr.min(), "hr_max": hr.max(),
            "q_min": q.min(), "q_max": q.max(), "hr_both_sides_of_1": both_sides,
            "significance_differs": differs, "flips": flips,
            "summary": f"{score}: {spread}{side}; {verdict}{ending}.",
        })
    return pd.DataFrame(out, columns=SENSITIVITY_COLUMNS)


def _effect(row: pd.Series, endpoint: str) -> str:
    longer = "shorter" if row["hr_per_sd"] > 1 else "longer"
    return (f"a higher {row['score']} score ({_PHRASES.get(row['direction'], row['direction'])})"
            f" goes with {longer} {endpoint} (HR {row['hr_per_sd']:.2f} per SD, 95% CI "
            f"{row['hr_lower']:.2f}-{row['hr_upper']:.2f}, q = {_q(row['q_cox'])}"
            f"{'' if pd.isna(row['method']) else ', ' + str(row['method'])})")


def _adjusted(row: pd.Series, covariates: list[str], alpha: float) -> str:
    if not covariates or "p_cox_multi" not in row or pd.isna(row["p_cox_multi"]):
        return ""
    held = "still" if row["p_cox_multi"] < alpha else "not"
    return (f", {held} significant after adjustment for {', '.join(covariates)} "
            f"(HR {row['hr_per_sd_multi']:.2f}, p = {_q(row['p_cox_multi'])})")


def conclusion(table: pd.DataFrame, *, endpoint: str, covariates: list[str] | None = None,
               alpha: float = 0.05) -> str:
    """The one-paragraph conclusion of a survival table, generated from its numbers.

    The test is the univariate Cox model per SD of each score, with Benjamini-Hochberg
    q-values across the scores of each method. A score "is associated" when ``q_cox < alpha``;
    with several methods the sentence says when that holds for some methods only, and the
    direction of an association is stated in ferroptosis terms only for signed sets and
    one-directional axes.

    Examples
    --------
    "No ferroptosis score is associated with relapse-free survival in this cohort (smallest
    q = 0.92; Cox per SD, 3 scores x 3 methods, BH within each method)."
    """
    covariates = list(covariates or [])
    methods = list(dict.fromkeys(table["method"].astype(str)))
    scores = list(dict.fromkeys(table["score"].astype(str)))
    family = (f"Cox per SD, {len(scores)} score{'s' * (len(scores) > 1)}"
              + (f" x {len(methods)} methods, BH within each method" if len(methods) > 1
                 else ", BH across scores"))
    significant = table[table["q_cox"] < alpha]
    if significant.empty:
        kind = "ferroptosis score" if table["direction"].isin(DIRECTED).all() else "score"
        return (f"No {kind} is associated with {endpoint} in this cohort (smallest q = "
                f"{_q(table['q_cox'].min())}; {family}).")
    clauses = []
    for score in dict.fromkeys(significant.sort_values("q_cox")["score"]):
        rows = table[table["score"] == score]
        best = significant[significant["score"] == score].sort_values("q_cox").iloc[0]
        clause = _effect(best, endpoint) + _adjusted(best, covariates, alpha)
        found = rows["q_cox"] < alpha
        if len(rows) > 1 and not found.all():
            others = rows[~found]
            clause += (f"; not with {', '.join(_methods(others))} (q = "
                       f"{', '.join(_q(v) for v in others['q_cox'])}): this depends on the "
                       "scoring method")
        elif len(rows) > 1:
            clause += (f"; q < {alpha:g} with every method (HR per SD "
                       f"{rows['hr_per_sd'].min():.2f}-{rows['hr_per_sd'].max():.2f})")
        clauses.append(clause)
    n_found = len(clauses)
    lead = (f"{n_found} of {len(scores)} scores {'is' if n_found == 1 else 'are'} associated "
            f"with {endpoint} ({family}, q < {alpha:g}): ")
    return lead + "; ".join(clauses) + "."
