"""The drug step of the breast-cancer ferroptosis studies in one call: predicted drug response
of tumours (GDSC-trained, :func:`~ferroscore.drugs.predict_response`) compared between
ferroptosis-score groups and correlated with the score, beside what the studies reported.

Reported directions (both from the breast-cancer review the project was built from; "more
sensitive" = a higher ferroptosis score goes with a lower IC50):

- Zhu et al. 2022 (breast cancer brain metastasis; consensus-cluster PCA ferroptosis score):
  more sensitive to cisplatin, dasatinib, etoposide, gefitinib, lapatinib, pazopanib,
  sunitinib, docetaxel and vinorelbine; less sensitive to sorafenib, vorinostat and
  doxorubicin.
- Xu et al. (neoadjuvant chemotherapy): more sensitive to paclitaxel, gefitinib, doxorubicin,
  bleomycin and bortezomib.

Two guards against circular findings (the predicted IC50 and the score are both functions of
the same tumour matrix) are part of the output:

(a) the association is recomputed with predictions whose models leave the signature's genes out
    of their features (``rho_without_signature_genes``);
(b) an empirical null: ``n_null`` random gene sets (signatures: random sides) of the same sizes,
    each gene drawn from the same mean-expression bin of the tumour matrix (25 equal-count bins,
    signature genes excluded), are scored with the same method, and each drug gets
    ``p_empirical = (1 + #{|rho_null| >= |rho|}) / (n_null + 1)``: how often a random gene set
    is as strongly correlated with the predicted response as the score is.

Nothing is tuned to the reported directions; a direction is "found" when the Mann-Whitney test
between the score groups has BH q < ``alpha`` across the analysed drugs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ferroscore import datasets, genesets, ids
from ferroscore.drugs.association import _score_series, associate, check_finite, compare_groups
from ferroscore.drugs.prediction import (
    DEFAULT_PENALTIES,
    MIN_SHARED_GENES,
    check_expression,
    fit_drugs,
    prepare_features,
)
from ferroscore.drugs.training import resolve_drugs, screen_order
from ferroscore.tables import align_samples

__all__ = ["STUDY_DRUGS", "DrugSensitivity", "drug_sensitivity", "reported_directions"]

ZHU, XU = "Zhu 2022", "Xu"
STUDIES = {ZHU: "Zhu et al. 2022, breast cancer brain metastasis",
           XU: "Xu et al., neoadjuvant chemotherapy"}
MORE, LESS, NONE = "more sensitive", "less sensitive", "no difference"
_REPORTED = {
    ZHU: {MORE: ["Cisplatin", "Dasatinib", "Etoposide", "Gefitinib", "Lapatinib", "Pazopanib",
                 "Sunitinib", "Docetaxel", "Vinorelbine"],
          LESS: ["Sorafenib", "Vorinostat", "Doxorubicin"]},
    XU: {MORE: ["Paclitaxel", "Gefitinib", "Doxorubicin", "Bleomycin", "Bortezomib"]},
}
STUDY_DRUGS = list(dict.fromkeys(d for study in _REPORTED.values() for drugs in study.values()
                                 for d in drugs))
N_BINS = 25
STATISTICS = ("n_low", "n_high", "median_low", "median_high", "difference", "rank_biserial",
              "p_mannwhitney", "q_mannwhitney", "rho", "p_rho", "q_rho",
              "rho_without_signature_genes", "q_without_signature_genes", "null_rho_median",
              "null_rho_abs95", "null_fraction", "p_empirical")


def reported_directions() -> pd.DataFrame:
    """The directions the two studies reported: one row per study and drug (``study``,
    ``drug``, ``direction``: "more sensitive" = higher ferroptosis score with lower IC50)."""
    return pd.DataFrame([{"study": s, "drug": d, "direction": direction}
                         for s, by in _REPORTED.items() for direction, drugs in by.items()
                         for d in drugs])


def _reported(drug: str) -> dict[str, str]:
    key = drug.casefold()
    return {s: direction for s, by in _REPORTED.items() for direction, drugs in by.items()
            if key in {d.casefold() for d in drugs}}


@dataclass
class DrugSensitivity:
    """Result of :func:`drug_sensitivity`.

    Attributes
    ----------
    table
        One row per drug (see :func:`drug_sensitivity`).
    predictions
        Tumours x drugs predicted ln IC50 (models on all shared genes).
    predictions_without_signature
        The same from models without the signature's genes (guard a; empty if not run).
    groups
        The score group of each tumour (``low`` / ``high``; NaN for tumours left out).
    null
        Random gene sets x drugs: Spearman correlation of each random set's score with the
        predicted response (guard b; empty if not run).
    summary
        Sentences generated from the table.
    params
        Arguments, the signature and method used for the guards, screens and line counts,
        feature counts, versions.
    """

    table: pd.DataFrame
    predictions: pd.DataFrame = field(repr=False)
    predictions_without_signature: pd.DataFrame = field(repr=False)
    groups: pd.Series = field(repr=False)
    null: pd.DataFrame = field(repr=False)
    summary: str = ""
    params: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------
# Inputs: score, groups, signature
# ----------------------------------------------------------------------------------------------


def _score_groups(score: pd.Series, groups: Any) -> pd.Series:
    from ferroscore.survival import split

    low_high = pd.CategoricalDtype(["low", "high"], ordered=True)
    if isinstance(groups, pd.Series):
        labels = groups.reindex(score.index)
        if labels.isna().any():
            warnings.warn(f"{int(labels.isna().sum())} tumours have no group label and are left "
                          "out of the group comparison (still in the correlations)",
                          UserWarning, stacklevel=3)
        levels = [v for v in (labels.cat.categories if isinstance(labels.dtype,
                  pd.CategoricalDtype) else sorted(labels.dropna().unique(), key=str))
                  if (labels == v).any()]
        if len(levels) != 2:
            raise ValueError(f"groups must have two labels (low first, high second); got "
                             f"{levels}")
        return labels.map({levels[0]: "low", levels[1]: "high"}).astype(low_high)
    if groups == "median":
        return split(score, "median")
    if groups == "tertiles":
        thirds = split(score, "tertiles")
        return thirds.map({"T1": "low", "T3": "high"}).astype(low_high)
    raise ValueError(f"groups must be 'median', 'tertiles' or a Series of two labels, got "
                     f"{groups!r}")


def _signature(signature: Any, scores: Any,
               name: str) -> genesets.GeneSet | genesets.Signature | None:
    from ferroscore.result import ScoreResult

    if isinstance(signature, (genesets.GeneSet, genesets.Signature)):
        return signature
    if isinstance(signature, str):
        return genesets.load(signature)
    if signature is not None:
        return genesets.GeneSet(name, tuple(signature))
    if isinstance(scores, ScoreResult):
        rows = scores.coverage[scores.coverage["set"] == name]
        sides = {side: list(found) for side, found in zip(rows["side"], rows["found"],
                                                           strict=True)}
        if set(sides) == {"up", "down"}:
            return genesets.Signature.from_sets(name, sides["up"], sides["down"])
        if len(sides) == 1:
            return genesets.GeneSet(name, tuple(next(iter(sides.values()))))
    if name in set(genesets.available()["name"]):
        return genesets.load(name)
    return None


def _method(method: str | None, scores: Any) -> tuple[str, dict]:
    from ferroscore.result import ScoreResult

    if method is not None:
        return method, {}
    if isinstance(scores, ScoreResult):
        return scores.params["method"], dict(scores.params.get("parameters", {}))
    return "singscore", {}


def _sides(gene_set, rows: pd.Index) -> list[ids.Located]:
    parts = [gene_set.up, gene_set.down] if isinstance(gene_set, genesets.Signature) else [
        gene_set]
    return [ids.locate(list(part.genes), rows) for part in parts]


# ----------------------------------------------------------------------------------------------
# Guard (b): random gene sets of matched size and expression level
# ----------------------------------------------------------------------------------------------


def _expression_bins(tumour: pd.DataFrame, n_bins: int = N_BINS) -> np.ndarray:
    """Equal-count bins (0 .. n_bins-1) of the tumour genes by mean expression."""
    ranks = pd.Series(tumour.mean(axis=1).to_numpy()).rank(method="first").to_numpy() - 1
    return np.minimum((ranks * n_bins / len(ranks)).astype(np.int64), n_bins - 1)


def _random_sets(gene_set, located: list[ids.Located], tumour: pd.DataFrame, n_null: int,
                 seed: int) -> list:
    """``n_null`` random counterparts of ``gene_set``: every found gene is replaced by a gene of
    the same expression bin that is not in the set (no gene twice in one random set)."""
    bins = _expression_bins(tumour)
    own = np.unique(np.concatenate([loc.indices for loc in located]))
    wanted = np.concatenate([loc.indices for loc in located])
    pools = {b: np.setdiff1d(np.flatnonzero(bins == b), own) for b in np.unique(bins[wanted])}
    need = pd.Series(bins[wanted]).value_counts()
    short = [int(b) for b, n in need.items() if len(pools[b]) < n]
    if short:
        raise ValueError(f"expression bins {short} have too few genes outside the set for a "
                         "matched null")
    rng = np.random.default_rng(seed)
    rows, out = tumour.index, []
    for b in range(n_null):
        drawn = np.empty(len(wanted), dtype=np.intp)
        for value, pool in pools.items():
            where = np.flatnonzero(bins[wanted] == value)
            drawn[where] = rng.choice(pool, size=len(where), replace=False)
        sides, start = [], 0
        for loc in located:
            sides.append(tuple(rows[drawn[start:start + loc.n_found]]))
            start += loc.n_found
        if isinstance(gene_set, genesets.Signature):
            out.append(genesets.Signature.from_sets(f"null_{b}", sides[0], sides[1]))
        else:
            out.append(genesets.GeneSet(f"null_{b}", sides[0]))
    return out


def _default_null_scorer(method: str, method_params: dict) -> Callable:
    def score(tumour: pd.DataFrame, sets: list) -> pd.DataFrame:
        from ferroscore.scoring import score as fs_score

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fs_score(tumour, sets, method, progress=False, **method_params)
        return result.scores[[s.name for s in sets]]
    return score


def _rank_correlations(null_scores: pd.DataFrame, predictions: pd.DataFrame) -> pd.DataFrame:
    """Spearman correlation of every null score with every drug's predictions (random sets x
    drugs), each drug on its finite predictions."""
    out = pd.DataFrame(np.nan, index=null_scores.columns, columns=predictions.columns)
    for drug in predictions.columns:
        ok = predictions[drug].notna().to_numpy()
        if ok.sum() < 3 or predictions.loc[ok, drug].nunique() < 2:
            continue
        a = stats.rankdata(null_scores.to_numpy()[ok], axis=0)
        b = stats.rankdata(predictions.loc[ok, drug].to_numpy())
        a = (a - a.mean(axis=0)) / a.std(axis=0)
        b = (b - b.mean()) / b.std()
        out[drug] = (a * b[:, None]).mean(axis=0)
    return out


# ----------------------------------------------------------------------------------------------
# Prediction per training screen
# ----------------------------------------------------------------------------------------------


def _predict(resolved: pd.DataFrame, screens: dict[str, datasets.GDSCData],
             tumour: pd.DataFrame, exclude: list[str] | None, options: dict
             ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """Predictions with all genes, without ``exclude``, diagnostics and per-screen counts."""
    with_all, without, diagnostics, counts = [], [], [], {}
    for screen, rows in resolved.groupby("screen", sort=False):
        data = screens[screen]
        if options["tissue"] is not None:
            data = data.for_tissue(options["tissue"])
        drugs = list(rows["drug"])
        features = prepare_features(data.expression, tumour, homogenize=options["homogenize"],
                                    min_variance_quantile=options["min_variance_quantile"],
                                    min_shared_genes=options["min_shared_genes"])
        fit = {"power_transform": True, "min_train_samples": options["min_train_samples"],
               "penalties": DEFAULT_PENALTIES, "n_jobs": options["n_jobs"]}
        predictions, diag, _ = fit_drugs(features, data.response[drugs], **fit)
        with_all.append(predictions)
        diagnostics.append(diag.assign(screen=screen))
        if exclude:
            reduced = features.without(exclude)
            without.append(fit_drugs(reduced, data.response[drugs], **fit)[0])
            counts[f"{screen}_n_genes_excluded"] = reduced.report["n_genes_excluded"]
        duplicated = {d["drug"]: d for d in data.report["duplicated_drugs"]}
        notes = {d: (f"{screen} lists {d} under several drug IDs; their ln IC50 were averaged "
                     f"per line (median |difference| {duplicated[d]['median_abs_difference']})")
                 for d in drugs if d in duplicated}
        diagnostics[-1]["note"] = [notes.get(d, "") for d in diagnostics[-1].index]
        counts.update({f"{screen}_n_lines": len(features.lines),
                       f"{screen}_n_genes_shared": features.report["n_genes_shared"],
                       f"{screen}_n_genes_used": features.report["n_genes_used"]})
    return (pd.concat(with_all, axis=1), pd.concat(without, axis=1) if without else
            pd.DataFrame(index=tumour.columns), pd.concat(diagnostics), counts)


# ----------------------------------------------------------------------------------------------
# The table
# ----------------------------------------------------------------------------------------------


def _found(q: float, difference: float, alpha: float) -> str:
    if not np.isfinite(q) or q >= alpha:
        return NONE
    return MORE if difference < 0 else LESS


def _agreement(found: str, reported: dict[str, str]) -> str:
    if not reported:
        return "no reported direction"
    words = {True: "agrees", False: "opposite"}
    return "; ".join(f"{s}: {'not found' if found == NONE else words[found == d]}"
                     for s, d in reported.items())


def _conclusion(row: dict, alpha: float, n_null: int) -> str:
    if row["found_direction"] == NONE:
        parts = [f"no difference between score groups (q = {row['q_mannwhitney']:.2g})"]
    else:
        higher = "lower" if row["found_direction"] == MORE else "higher"
        parts = [f"higher score, {higher} predicted IC50 (q = {row['q_mannwhitney']:.2g})"]
        for study, direction in row["_reported"].items():
            parts.append(f"{'as' if direction == row['found_direction'] else 'opposite to'} "
                         f"{study}")
    if np.isfinite(row["p_empirical"]):
        specific = "specific to the signature" if row["p_empirical"] < alpha else (
            "not specific to the signature")
        parts.append(f"{specific}: random gene sets of matched size and expression are as "
                     f"strongly correlated in {row['null_fraction']:.0%} of {n_null} draws "
                     f"(empirical p = {row['p_empirical']:.2g})")
    if np.isfinite(row["rho_without_signature_genes"]):
        kept = (row["q_without_signature_genes"] < alpha and np.sign(
            row["rho_without_signature_genes"]) == np.sign(row["rho"]))
        parts.append(f"without the signature's genes rho = "
                     f"{row['rho_without_signature_genes']:.2f} "
                     f"(q = {row['q_without_signature_genes']:.2g}; "
                     f"{'holds' if kept else 'does not hold'})")
    return "; ".join(parts)


def _names(frame: pd.DataFrame, limit: int = 6) -> str:
    drugs = list(frame["drug"])
    return f" ({', '.join(drugs)})" if 0 < len(drugs) <= limit else ""


def _summary(table: pd.DataFrame, score_name: str, groups: pd.Series, alpha: float) -> str:
    tested = table[table["reason"] == ""]
    n = len(tested)
    found = tested[tested["found_direction"] != NONE]
    per_screen = ", ".join(f"{k} from {s}" for s, k in tested["screen"].value_counts().items())
    sentences = [f"Score {score_name!r}: {int((groups == 'low').sum())} low and "
                 f"{int((groups == 'high').sum())} high tumours; {n} drugs predicted "
                 f"({per_screen})."]
    if n and found.empty:
        best = tested.loc[tested["q_mannwhitney"].idxmin()]
        sentences.append(f"No drug differs between the groups at q < {alpha} (smallest q "
                         f"{best['q_mannwhitney']:.2g}, {best['drug']}).")
    elif n:
        agree = found[found["agreement"].str.contains("agrees")]
        opposite = found[found["agreement"].str.contains("opposite")]
        unreported = found[found["agreement"] == "no reported direction"]
        sentences.append(f"{len(found)} of {n} differ between the groups (q < {alpha}): "
                         f"{len(agree)} in a reported direction{_names(agree)}, "
                         f"{len(opposite)} opposite to a reported direction{_names(opposite)}"
                         + (f", {len(unreported)} without a reported direction"
                            if len(unreported) else "") + ".")
    if tested["p_empirical"].notna().any():
        specific = tested[tested["p_empirical"] < alpha]
        sentences.append(f"Against random gene sets of matched size and expression, {len(specific)}"
                         f" of {n} drugs are more strongly correlated with the score (empirical "
                         f"p < {alpha}){_names(specific)}; the smallest empirical p is "
                         f"{tested['p_empirical'].min():.2g}.")
    if tested["rho_without_signature_genes"].notna().any():
        kept = tested[tested["q_without_signature_genes"] < alpha]
        change = (tested["rho_without_signature_genes"] - tested["rho"]).abs().max()
        sentences.append(f"Correlated with the score at q < {alpha}: "
                         f"{int((tested['q_rho'] < alpha).sum())} of {n} drugs, and "
                         f"{len(kept)}{_names(kept)} when the predictors leave out the "
                         f"signature's genes (rho changes by at most {change:.2f}).")
    if len(table) > n:
        sentences.append(f"Not analysed: {', '.join(table.loc[table['reason'] != '', 'drug'])}.")
    return " ".join(sentences)


def _null_scores(frame: Any, sets: list, samples: pd.Index) -> pd.DataFrame:
    """The random sets' scores as samples x sets, aligned to the tumours by sample ID."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"null_scorer must return a samples x sets DataFrame, got "
                        f"{type(frame).__name__}")
    names = [s.name for s in sets]
    missing = [n for n in names if n not in frame.columns]
    if missing or not samples.isin(frame.index).all():
        raise ValueError(f"null_scorer must return one column per random set (missing: "
                         f"{missing[:3]}) and one row per tumour (missing: "
                         f"{list(samples[~samples.isin(frame.index)][:3])})")
    return frame.loc[samples, names].astype(float)


def _drug_row(drug: str, diag: pd.Series, score_name: str, tests: dict, alpha: float,
              n_null: int) -> dict:
    """One table row: the drug's tests, its reported direction and the generated conclusion."""
    reported = _reported(drug)
    row: dict[str, Any] = {
        "drug": drug, "screen": diag["screen"], "n_lines": int(diag["n_lines"]),
        "score": score_name, "study": "; ".join(reported),
        "reported_direction": "; ".join(f"{d} ({s})" for s, d in reported.items()),
        "reason": diag["reason"], "note": diag["note"], "_reported": reported,
        "found_direction": "", "agreement": "", **dict.fromkeys(STATISTICS, np.nan)}
    if diag["reason"]:
        row["conclusion"] = diag["reason"]
        return row
    groups, corr = tests["groups"].loc[drug], tests["rho"].loc[drug]
    row.update(n_low=groups["n_low"], n_high=groups["n_high"], median_low=groups["median_low"],
               median_high=groups["median_high"], difference=groups["difference"],
               rank_biserial=groups["rank_biserial"], p_mannwhitney=groups["p"],
               q_mannwhitney=groups["q"], rho=corr["estimate"], p_rho=corr["p"],
               q_rho=corr["q"])
    if tests["rho_without"] is not None:
        row.update(rho_without_signature_genes=tests["rho_without"].loc[drug, "estimate"],
                   q_without_signature_genes=tests["rho_without"].loc[drug, "q"])
    null = tests["null"][drug].dropna() if drug in tests["null"] else pd.Series(dtype=float)
    if len(null):
        extreme = int((null.abs() >= abs(row["rho"]) - 1e-12).sum())
        row.update(null_rho_median=float(null.median()),
                   null_rho_abs95=float(null.abs().quantile(0.95)),
                   null_fraction=extreme / len(null), p_empirical=(1 + extreme) / (len(null) + 1))
    row["found_direction"] = _found(row["q_mannwhitney"], row["difference"], alpha)
    row["agreement"] = _agreement(row["found_direction"], reported)
    row["conclusion"] = _conclusion(row, alpha, n_null)
    return row


def drug_sensitivity(
    scores: Any,
    tumour_expr: pd.DataFrame,
    training: str = "GDSC2",
    drugs: list[str] | None = None,
    groups: str | pd.Series = "median",
    *,
    column: str | None = None,
    signature: Any = None,
    method: str | None = None,
    null_scorer: Callable[[pd.DataFrame, list], pd.DataFrame] | None = None,
    n_null: int = 200,
    alpha: float = 0.05,
    homogenize: str = "combat",
    min_variance_quantile: float = 0.2,
    min_train_samples: int = 10,
    min_shared_genes: int = MIN_SHARED_GENES,
    tissue: str | None = None,
    seed: int = 0,
    n_jobs: int | None = None,
) -> DrugSensitivity:
    """Predicted drug sensitivity of ferroptosis-high vs -low tumours, against the studies.

    Parameters
    ----------
    scores
        The ferroptosis score per tumour: any Series indexed by sample ID, a one-column
        DataFrame, or a ScoreResult (``column`` picks the set; default the first).
    tumour_expr
        Genes x tumours expression (the matrix the score came from); its sample IDs must be
        those of ``scores``.
    training
        The preferred bundled GDSC screen (``"GDSC2"`` or ``"GDSC1"``); a drug missing from it
        is trained on the other screen, recorded in the ``screen`` column.
    drugs
        Drug names (case-insensitive); default :data:`STUDY_DRUGS`, the union of the two
        studies' drugs. A name in neither screen is an error listing close matches.
    groups
        ``"median"`` (low = score <= median), ``"tertiles"`` (lowest vs highest third; the
        middle third is left out) or a Series of two labels (first = low).
    signature
        The genes behind the score, for the guards: a catalogue name, GeneSet, Signature or a
        list of genes. Default: a ScoreResult's set, or the catalogue set named like the
        Series; otherwise the guards are not run (a warning says so).
    method
        Scoring method for the random gene sets of guard (b) (default: a ScoreResult's own
        method and parameters, else ``"singscore"``): pass the method that made the score.
    null_scorer
        Instead of ``method``: a function ``(tumour_expr, sets) -> samples x set-names
        DataFrame`` scoring random sets like the score was made (e.g. a PCA score).
    n_null
        Random gene sets for guard (b) (0 skips it).
    alpha
        q-value threshold for "found" directions and the conclusions.
    homogenize, min_variance_quantile, min_train_samples, min_shared_genes
        As :func:`~ferroscore.drugs.predict_response` (power transform on); drugs with fewer
        lines are reported, not analysed.
    tissue
        Train on one tissue's lines only (GDSC1 descriptor, e.g. ``"breast"``).
    seed, n_jobs
        Seed of the random gene sets; threads.

    Returns
    -------
    DrugSensitivity
        ``table``: one row per drug with ``drug``, ``screen``, ``n_lines``, ``score``,
        ``study``, ``reported_direction``, ``n_low``/``n_high``,
        ``median_low``/``median_high`` (predicted ln IC50), ``difference`` (high - low),
        ``rank_biserial`` (> 0: higher IC50 in the high group), ``p_mannwhitney``,
        ``q_mannwhitney`` (BH across drugs), ``found_direction``, ``agreement``, ``rho``,
        ``p_rho``, ``q_rho`` (Spearman with the continuous score), ``rho_without_signature_genes``
        and ``q_without_signature_genes`` (guard a), ``null_rho_median``,
        ``null_rho_abs95`` and ``p_empirical`` (guard b), ``conclusion``, ``note``,
        ``reason``; plus ``predictions``, ``null``, ``summary`` and ``params``.

    Examples
    --------
    >>> expr, _ = fs.datasets.breast_cancer(as_frames=True)
    >>> core = fs.score(expr, "ferroptosis_core")
    >>> result = fs.drugs.drug_sensitivity(core, expr)  # doctest: +SKIP
    >>> result.table[["drug", "screen", "reported_direction", "found_direction", "q_mannwhitney",
    ...               "p_empirical"]]  # doctest: +SKIP
    """
    score = _score_series(scores, column).astype(float)
    name = str(column or score.name or "score")
    tumour = check_expression(tumour_expr, "tumour_expr")
    check_finite(score, "scores")
    if score.isna().any():
        raise ValueError(f"scores has {int(score.isna().sum())} missing values (e.g. "
                         f"{list(score.index[score.isna()][:3])}); drop those tumours")
    score, _, _ = align_samples(score, pd.DataFrame(index=tumour.columns), join="exact",
                                left_name="scores", right_name="tumour_expr columns")
    tumour = tumour[score.index]
    labels = _score_groups(score, groups)
    if not 0 < alpha < 1 or int(n_null) != n_null or n_null < 0:
        raise ValueError(f"alpha must be in (0, 1) and n_null a non-negative integer; got "
                         f"{alpha!r}, {n_null!r}")
    gene_set = _signature(signature, scores, name)
    if gene_set is None:
        warnings.warn("the score's genes are unknown, so the guards (predictors without the "
                      "signature's genes; random gene sets) were not run; pass signature=",
                      UserWarning, stacklevel=2)
    order = screen_order(training)
    screens = {s: datasets.gdsc(s) for s in order}
    resolved = resolve_drugs(drugs if drugs is not None else STUDY_DRUGS,
                             {s: data.response.columns for s, data in screens.items()})
    located = _sides(gene_set, tumour.index) if gene_set is not None else []
    exclude = sorted({g for loc in located for g in loc.features} | set(
        gene_set.genes if gene_set is not None else ()))
    options = {"homogenize": homogenize, "min_variance_quantile": min_variance_quantile,
               "min_train_samples": min_train_samples, "min_shared_genes": min_shared_genes,
               "tissue": tissue, "n_jobs": n_jobs}
    predictions, without, diagnostics, counts = _predict(resolved, screens, tumour, exclude,
                                                         options)
    requested = list(resolved["drug"])  # the requested order
    predictions = predictions[requested]
    without = without[requested] if not without.empty else without
    analysed = [d for d in predictions.columns if diagnostics.loc[d, "reason"] == ""]
    kept = labels.notna()
    compared = compare_groups(predictions.loc[kept, analysed], labels[kept]).set_index("drug") \
        if analysed else pd.DataFrame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # untested drugs are reported through `reason`
        corr = associate(score, predictions[analysed]).set_index("drug") if analysed else None
        corr_wo = associate(score, without[analysed]).set_index("drug") if (
            analysed and not without.empty) else None
    null = pd.DataFrame()
    method_used, method_params = _method(method, scores)
    if gene_set is not None and n_null > 0 and analysed:
        sets = _random_sets(gene_set, located, tumour, int(n_null), seed)
        scorer = null_scorer or _default_null_scorer(method_used, method_params)
        null = _rank_correlations(_null_scores(scorer(tumour, sets), sets, tumour.columns),
                                  predictions[analysed])
    tests = {"groups": compared, "rho": corr, "rho_without": corr_wo, "null": null}
    rows = [_drug_row(drug, diagnostics.loc[drug], name, tests, alpha, int(n_null))
            for drug in predictions.columns]
    columns = ["drug", "screen", "n_lines", "score", "study", "reported_direction", "n_low",
               "n_high", "median_low", "median_high", "difference", "rank_biserial",
               "p_mannwhitney", "q_mannwhitney", "found_direction", "agreement", "rho", "p_rho",
               "q_rho", "rho_without_signature_genes", "q_without_signature_genes",
               "null_rho_median", "null_rho_abs95", "p_empirical", "conclusion", "note",
               "reason"]
    table = pd.DataFrame(rows)[columns]
    from ferroscore.scoring import versions

    params = {"training": order[0], "screens": order, "groups": groups if isinstance(
        groups, str) else "user labels", "n_tumours": int(len(score)),
        "n_left_out_of_groups": int((~kept).sum()), "score": name,
        "signature": None if gene_set is None else {
            "name": gene_set.name, "n_found": int(sum(loc.n_found for loc in located)),
            "excluded_from_features": exclude},
        "null_method": None if null.empty else ("custom" if null_scorer else method_used),
        "n_null": int(n_null), "n_bins": N_BINS, "alpha": alpha, "seed": seed,
        "resolved_drugs": resolved.to_dict("records"), **options, **counts,
        "catalogue_version": genesets.catalogue_version(), "versions": versions()}
    return DrugSensitivity(table, predictions, without, labels, null,
                           _summary(table, name, labels, alpha), params)
