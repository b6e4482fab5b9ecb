"""``ferroscore demo``: the main job on the bundled GSE1992 breast cancer cohort.

Scores the 124 tumours for three ferroptosis signatures with three methods, relates the scores
to relapse-free survival (Cox per SD, Kaplan-Meier by median and by the optimal cut with its
search-adjusted p-value), shows which results change with the scoring method, decomposes the
core signature into pathway axes, predicts the response to the breast-cancer studies' drugs
from the bundled GDSC screens and compares it between ferroptosis-high and -low tumours, and
writes a self-contained ``report.html`` (led by a conclusion generated from the numbers) with
the tables (TSV) and figures (PNG) beside it.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import ferroscore as fs
from ferroscore._agreement import claim
from ferroscore.report import Report

SIGNATURES = ["ferroptosis_core", "ferroptosis_extended", "fpi"]
METHODS = ["singscore", "ssgsea", "gsva"]
ENDPOINT = "relapse-free survival"
TIME, EVENT = "rfs_months", "rfs_event"
COVARIATES = ["age", "er_positive", "node_positive", "grade"]
CORE = "ferroptosis_core [singscore]"
DRUG_NULL_SETS = 100
#: Registry entries (ferroscore._agreement) the provenance section quotes.
AGREEMENT_CLAIMS = {"singscore": "singscore", "ssGSEA": "ssgsea_normalised",
                    "GSVA": "gsva_max_diff", "Cox HR per SD": "cox_per_sd",
                    "log-rank": "logrank_median", "maxstat adjusted p": "maxstat_p_lau"}


def _figure_path(folder: Path, name: str) -> Path:
    return folder / f"{name}.png"


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)
    return path


def _analyze(expression: pd.DataFrame, clinical: pd.DataFrame, sets: list[str],
             methods: list[str], **options) -> tuple[fs.survival.SurvivalAnalysis, list[str]]:
    """``fs.survival.analyze`` with the warnings it gave, as one line each for the report."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        analysis = fs.survival.analyze(expression, clinical, time=TIME, event=EVENT,
                                       covariates=COVARIATES, sets=sets, methods=methods,
                                       time_unit="months", **options)
    return analysis, list(dict.fromkeys(str(w.message) for w in caught))


def _score_table(analysis: fs.survival.SurvivalAnalysis) -> pd.DataFrame:
    """Samples x ``"<set> [<method>]"`` composite scores."""
    return pd.DataFrame({f"{name} [{method}]": result.scores[name]
                         for method, result in analysis.scores.items() for name in SIGNATURES})


def _distribution_figure(scores: pd.DataFrame, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(METHODS), len(SIGNATURES), figsize=(10, 7.5))
    for i, method in enumerate(METHODS):
        for j, name in enumerate(SIGNATURES):
            ax = axes[i, j]
            ax.hist(scores[f"{name} [{method}]"], bins=20, color="tab:red", alpha=0.7)
            ax.set_title(f"{name}\n{method}", fontsize=8)
            ax.set_xlabel(f"{method} score", fontsize=7)
            ax.set_ylabel("tumours", fontsize=7)
            ax.tick_params(labelsize=7)
    fig.tight_layout()
    return _save(fig, path)


def correlation_figure(scores: pd.DataFrame):
    """The Spearman correlation heatmap of the scores, each cell annotated in a colour that
    stays readable on it (white on dark cells)."""
    import matplotlib.pyplot as plt

    corr = scores.corr(method="spearman")
    fig, ax = plt.subplots(figsize=(7, 6))
    image = ax.imshow(corr.to_numpy(), vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(len(corr)))
    ax.set_xticklabels(corr.columns, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(corr)))
    ax.set_yticklabels(corr.columns, fontsize=7)
    for i, j in np.ndindex(corr.shape):
        value = corr.iat[i, j]
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=6,
                color="white" if abs(value) > 0.6 else "black")
    fig.colorbar(image, ax=ax, label="Spearman correlation")
    return fig


def _axis_names() -> list[str]:
    table = fs.genesets.available()
    return list(table.loc[table["kind"] == "axis", "name"])


def _hazard_columns(table: pd.DataFrame) -> pd.DataFrame:
    """The hazard ratios of an ``analyze`` table as "HR (lower-upper)" text, unadjusted with
    its q and adjusted with its p and q."""

    def interval(hr: str, low: str, high: str) -> list[str]:
        return [f"{a:.2f} ({b:.2f}-{c:.2f})" for a, b, c in
                zip(table[hr], table[low], table[high], strict=True)]

    return pd.DataFrame({
        "HR per SD (95% CI)": interval("hr_per_sd", "hr_lower", "hr_upper"),
        "q": table["q_cox"],
        "adjusted HR per SD (95% CI)": interval("hr_per_sd_multi", "hr_multi_lower",
                                                "hr_multi_upper"),
        "adjusted p": table["p_cox_multi"], "adjusted q": table["q_cox_multi"],
    }, index=table.index)


def _axis_table(analysis: fs.survival.SurvivalAnalysis, axes: pd.DataFrame,
                core: pd.Series) -> pd.DataFrame:
    """Per axis: direction, genes found, correlation with the core composite, HR per SD with
    its 95% CI and q, unadjusted and adjusted for the covariates."""
    table = analysis.table.set_index("score")
    genes = [f"{f}/{r}" for f, r in zip(table["n_genes_found"], table["n_genes_requested"],
                                         strict=True)]
    described = pd.DataFrame({
        "direction": table["direction"], "genes found": genes,
        "spearman with core": axes.corrwith(core, method="spearman").loc[table.index]})
    return described.join(_hazard_columns(table))


def _survival_table(analysis: fs.survival.SurvivalAnalysis) -> pd.DataFrame:
    """Per score and method: direction, tumours and events, hazard ratios, the median-split
    and optimal-cut p-values and Harrell's C."""
    table = analysis.table
    keys = [analysis.key(s, m) for s, m in zip(table["score"], table["method"], strict=True)]
    table = table.set_index(pd.Index(keys, name="score [method]"))
    described = pd.DataFrame({
        "direction": table["direction"],
        "tumours (events)": [f"{n} ({e})" for n, e in zip(table["n"], table["n_events"],
                                                          strict=True)]})
    tests = pd.DataFrame({"p median split": table["p_logrank_median"],
                          "p optimal cut (adjusted)": table["p_cut"],
                          "C": table["concordance"]})
    return described.join(_hazard_columns(table)).join(tests)


def _auc_table(analysis: fs.survival.SurvivalAnalysis) -> pd.DataFrame:
    """Per score and method, one column per horizon: ``AUC (lower-upper)``, with the cases
    and controls behind it."""
    rows = {}
    for entry in analysis.time_auc.itertuples(index=False):
        key = analysis.key(entry.score, entry.method)
        label = f"{entry.horizon} (cases / controls)"
        rows.setdefault(key, {})[label] = (
            f"{entry.auc:.2f} ({entry.ci_lower:.2f}-{entry.ci_upper:.2f}); "
            f"{entry.n_cases} / {entry.n_controls}")
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("score [method]")


def _axes_figure(axes: pd.DataFrame, directions: pd.Series, groups: pd.Series,
                 path: Path) -> Path:
    import matplotlib.pyplot as plt

    z = (axes - axes.mean()) / axes.std()
    means = z.groupby(groups.to_numpy(), observed=True).mean().loc[["low", "high"]]
    fig, ax = plt.subplots(figsize=(8, 2.8))
    image = ax.imshow(means.to_numpy(), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(range(means.shape[1]))
    ax.set_xticklabels([f"{c} ({'+' if directions[c].startswith('pro') else '-'})"
                        for c in means.columns], rotation=45, ha="right", fontsize=8)
    ax.set_yticks([0, 1])
    ax.set_yticklabels(["core score low", "core score high"])
    fig.colorbar(image, ax=ax, label="mean z-score")
    return _save(fig, path)


def _drug_figure(table: pd.DataFrame, path: Path) -> Path:
    """Spearman of the core score with each drug's predicted ln IC50, against the central 95%
    of the same correlation for random gene sets of matched size and expression."""
    import matplotlib.pyplot as plt

    shown = table[table["reason"] == ""].iloc[::-1]
    fig, ax = plt.subplots(figsize=(6.5, 0.32 * len(shown) + 1.2))
    y = np.arange(len(shown))
    band = shown["null_rho_abs95"].to_numpy()
    ax.barh(y, 2 * band, left=-band, color="0.85", label="random gene sets (95%)")
    colours = {"more sensitive": "tab:blue", "less sensitive": "tab:red"}
    for direction, colour in colours.items():
        reported = shown["reported_direction"].str.startswith(direction).to_numpy()
        ax.scatter(shown["rho"].to_numpy()[reported], y[reported], color=colour, zorder=3,
                   label=f"reported: {direction} (first study)")
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{d} ({s})" for d, s in zip(shown["drug"], shown["screen"],
                                                     strict=True)], fontsize=8)
    ax.set_xlabel("Spearman: core score vs predicted ln IC50 (< 0: high score, more sensitive)")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return _save(fig, path)


def _drug_section(report: Report, output: Path, core: pd.Series,
                  expression: pd.DataFrame) -> fs.drugs.DrugSensitivity:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fs.drugs.drug_sensitivity(core.rename("ferroptosis_core"), expression,
                                           signature="ferroptosis_core", method="singscore",
                                           n_null=DRUG_NULL_SETS)
    result.table.to_csv(output / "drug_sensitivity.tsv", sep="\t", index=False)
    result.predictions.to_csv(output / "predicted_ln_ic50.tsv", sep="\t")
    section = report.section("drugs", "Predicted drug sensitivity")
    report.text(section, "Drug response of the tumours predicted from the bundled GDSC cell-line "
                         "screens (GDSC2; GDSC1 for drugs GDSC2 lacks): ComBat homogenisation, "
                         "Box-Cox power transform and ridge regression with a leave-one-out "
                         "penalty per drug (oncoPredict-style). The drugs are those of Zhu et al. "
                         "2022 (brain metastasis) and Xu et al. (neoadjuvant chemotherapy); "
                         "predicted ln IC50 is compared between tumours above and below the "
                         "median core score (Mann-Whitney, rank-biserial effect, BH q across "
                         "drugs) and correlated with the score (Spearman).")
    report.text(section, "Guards against circular findings: the models are refitted without the "
                         "signature's genes, and the correlation is compared with "
                         f"{DRUG_NULL_SETS} random gene sets of matched size and expression "
                         "level (empirical p).", note=True)
    shown = result.table.set_index("drug")[
        ["screen", "reported_direction", "found_direction", "median_low", "median_high",
         "rank_biserial", "q_mannwhitney", "rho", "q_rho", "rho_without_signature_genes",
         "p_empirical"]]
    report.table(section, shown, "Study drugs: reported vs found direction (predicted ln IC50, "
                                 "high minus low score)")
    report.figure(section, _drug_figure(result.table, _figure_path(output, "drug_null")),
                  "Correlation of the core score with predicted ln IC50 (dots) against random "
                  "gene sets of matched size and expression (grey: central 95% of |rho|)")
    report.text(section, result.summary)
    return result


def _survival_section(report: Report, output: Path, analysis: fs.survival.SurvivalAnalysis,
                      clinical: pd.DataFrame, scores: pd.DataFrame) -> None:
    uni = pd.concat([t.assign(term=key) for key, t in analysis.cox_univariate.items()],
                    ignore_index=True)
    uni.to_csv(output / "cox_univariate.tsv", sep="\t", index=False)
    multi = analysis.cox_multivariable[CORE]
    multi.to_csv(output / "cox_multivariable_core.tsv", sep="\t", index=False)
    data = clinical.assign(score=scores[CORE])
    ph = fs.survival.ph_test(data, TIME, EVENT, ["score", *COVARIATES])
    ph.to_csv(output / "ph_test_core.tsv", sep="\t")

    section = report.section("survival", "Relapse-free survival")
    report.text(section, "Primary analysis on the continuous scores: Cox models with the hazard "
                         "ratio per standard deviation of the score (Efron ties), univariate "
                         f"and adjusted for {', '.join(COVARIATES)} (complete cases). q-values "
                         f"are Benjamini-Hochberg across the {len(SIGNATURES)} signatures "
                         "within each method.")
    report.text(section, "direction: 'signed' scores are drivers minus suppressors, so HR > 1 "
                         "means more pro-ferroptotic tumours relapse sooner; 'signed, signs "
                         "unverified' (fpi) follows published signs that could not be checked; "
                         "an 'unsigned' set mixes drivers and suppressors and its HR has no "
                         "ferroptosis direction.", note=True)
    report.table(section, _survival_table(analysis),
                 "Survival summary per score and method (every column: survival_summary.tsv)")
    analysis.time_auc.to_csv(output / "time_auc.tsv", sep="\t", index=False)
    report.table(section, _auc_table(analysis),
                 "Time-dependent AUC of each score as a risk marker, 95% percentile-bootstrap "
                 f"CI ({analysis.params['time_auc']['B']} resamples; time_auc.tsv)")
    report.text(section, "AUC (cumulative cases by the horizon vs tumours event-free beyond it, "
                         "censoring-weighted): 0.5 is no discrimination, below 0.5 means higher "
                         "scores relapse later. Few tumours are followed beyond 5 years, so the "
                         "late intervals are wide.", note=True)
    report.figure(section, _save(fs.pl.forest(uni, title="HR per SD (univariate)").figure,
                                 _figure_path(output, "forest_univariate")),
                  "Hazard ratio per SD of each score, 95% CI")
    report.figure(section, _save(fs.pl.forest(multi, title=f"{CORE}, multivariable").figure,
                                 _figure_path(output, "forest_multivariable_core")),
                  "Multivariable Cox model of the core score")
    report.table(section, multi.set_index("term"), "Multivariable Cox model (core, singscore)")
    report.table(section, ph, "Proportional hazards test (cox.zph, KM transform)")
    km_median = fs.pl.km(analysis.km[CORE], title=f"{CORE}: median split", xlabel=ENDPOINT,
                         time_unit="months")
    report.figure(section, _save(km_median.figure, _figure_path(output, "km_median_core")),
                  "Kaplan-Meier by median split of the core score (log-rank p), with the "
                  "number at risk")
    cut = analysis.cutpoints[CORE]
    km_cut = fs.pl.km(data[TIME], data[EVENT], cut.groups(data["score"]), cut=cut,
                      title=f"{CORE}: optimal cut", xlabel=ENDPOINT, time_unit="months")
    report.figure(section, _save(km_cut.figure, _figure_path(output, "km_cut_core")),
                  "Kaplan-Meier by the maximally selected cut; the legend shows the p-value "
                  "adjusted for the search over cuts (Lau94)")
    report.figure(section, _save(fs.pl.cutpoint_profile(cut, score_name=CORE).figure,
                                 _figure_path(output, "cutpoint_profile_core")),
                  "Standardised log-rank statistic over candidate cuts")
    report.text(section, f"The optimal cut's naive log-rank p ({cut.p_raw:.3g}) ignores the "
                         f"search over {len(cut.profile)} candidate cuts; the adjusted p "
                         f"({cut.p_method}) is {cut.p_value:.3g}. Report the adjusted value.",
                note=True)


def _method_section(report: Report, output: Path,
                    analysis: fs.survival.SurvivalAnalysis) -> None:
    sensitivity = analysis.method_sensitivity
    sensitivity.to_csv(output / "method_sensitivity.tsv", sep="\t", index=False)
    section = report.section("methods", "Method sensitivity")
    report.text(section, f"Each signature scored with {', '.join(METHODS)}: the range of the "
                         "HR per SD across methods, and whether the result flips (HRs on both "
                         "sides of 1, or q < 0.05 with some methods only).")
    report.table(section, sensitivity.set_index("score")[
        ["direction", "methods", "hr_min", "hr_max", "q_min", "q_max", "hr_both_sides_of_1",
         "significance_differs", "flips"]], "HR per SD and q across scoring methods")
    for line in sensitivity["summary"]:
        report.text(section, line)
    report.text(section, "The q-values are adjusted within each method; they do not cover "
                         "choosing a method after seeing these results. Fix the method before "
                         "looking, and report every method tried.", note=True)


def _axes_section(report: Report, output: Path, expression: pd.DataFrame,
                  clinical: pd.DataFrame, core: pd.Series) -> fs.survival.SurvivalAnalysis:
    names = _axis_names()
    analysis, _ = _analyze(expression, clinical, names, ["singscore"],
                           score_options={"min_coverage": 0})
    axes = analysis.scores["singscore"].scores[names]
    axes.to_csv(output / "axes_scores.tsv", sep="\t")
    table = _axis_table(analysis, axes, core)
    table.to_csv(output / "axes_summary.tsv", sep="\t")
    section = report.section("axes", "Pathway axes of the score")
    report.text(section, "Each pathway arm is scored separately (singscore) to show which arm "
                         "drives the signature (Spearman with the core composite): "
                         "pro-ferroptotic axes (+) should rise and anti-ferroptotic axes (-) "
                         "fall with the core score. Hazard ratios per SD with 95% CIs, "
                         f"unadjusted (q: BH across the {len(names)} axes) and adjusted for "
                         f"{', '.join(COVARIATES)}.")
    report.table(section, table, "Axes: genes found, correlation with the core score, and HR "
                                 "per SD for relapse, unadjusted and adjusted")
    report.text(section, analysis.conclusion(ENDPOINT))
    directions = table["direction"]
    report.figure(section, _axes_figure(axes, directions, fs.survival.split(core, "median"),
                                        _figure_path(output, "axes_heatmap")),
                  "Mean axis z-score in tumours with low and high core scores")
    return analysis


def _provenance_section(report: Report, params: dict) -> None:
    section = report.section("provenance", "Methods and provenance")
    report.text(section, f"Gene-set catalogue {params['catalogue_version']}; "
                         + ", ".join(f"{k} {v}" for k, v in params["versions"].items()))
    report.text(section, "Agreement with the reference implementations, as asserted by "
                         "ferroscore's test suite (its agreement registry): "
                         + "; ".join(f"{name}: {claim(key)}"
                                     for name, key in AGREEMENT_CLAIMS.items()) + ".")
    report.text(section, "Data: GEO GSE1992, Hu Z et al. The molecular portraits of breast "
                         "tumors are conserved across microarray platforms. BMC Genomics "
                         "2006;7:96; redistributed by survJamda.data and SurvSet.")
    report.text(section, f"Drug training data: {fs.datasets.GDSC_CITATION}")


def _print_summary(analysis: fs.survival.SurvivalAnalysis, drug_result, n_tumours: int,
                   path: Path, elapsed: float) -> None:
    show = analysis.table
    terminal = pd.DataFrame({
        "method": show["method"], "direction": show["direction"],
        "HR/SD (95% CI)": [f"{r.hr_per_sd:.2f} ({r.hr_lower:.2f}-{r.hr_upper:.2f})"
                           for r in show.itertuples()],
        "q Cox": show["q_cox"].map("{:.3f}".format),
        "p median split": show["p_logrank_median"].map("{:.3f}".format),
        "p optimal cut (adj.)": show["p_cut"].map("{:.3f}".format),
    }).set_index(show["score"])
    print(f"ferroscore {fs.__version__} demo: GSE1992, {n_tumours} tumours, {ENDPOINT}")
    print(analysis.conclusion(ENDPOINT))
    print(terminal.to_string())
    drugs = drug_result.table.set_index("drug")
    print("\npredicted drug sensitivity, core score high vs low (GDSC-trained):")
    print(pd.DataFrame({
        "screen": drugs["screen"], "reported": drugs["reported_direction"],
        "found": drugs["found_direction"], "q": drugs["q_mannwhitney"].map("{:.3f}".format),
        "p vs random sets": drugs["p_empirical"].map("{:.2f}".format)}).to_string())
    print(drug_result.summary)
    print(f"\nreport: {path.resolve()}  ({elapsed:.0f} s)")


def run_demo(output: Path, *, quiet: bool = False) -> dict:
    """Run the main job and write ``report.html``, TSV tables and PNG figures to ``output``.

    Returns a dict with the score table, the survival analysis, the axis analysis, the drug
    result and the path of the report.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    start = time.perf_counter()
    output.mkdir(parents=True, exist_ok=True)
    expression, clinical = fs.datasets.breast_cancer(as_frames=True)
    report = Report("ferroscore demo: ferroptosis scores in breast cancer (GSE1992)")
    lead = report.section("conclusion", "Conclusion")
    analysis, caught = _analyze(expression, clinical, SIGNATURES, METHODS)
    scores = _score_table(analysis)
    platform = analysis.params["platform"]

    section = report.section("data", "Data")
    report.text(section, f"GEO GSE1992 (Hu et al., BMC Genomics 2006): {expression.shape[1]} "
                         f"primary breast tumours x {expression.shape[0]:,} genes, with "
                         f"relapse-free survival (months). {int(clinical[EVENT].sum())} "
                         f"relapses; median observed time {clinical[TIME].median():.0f} "
                         "months.")
    report.text(section, f"Platform: {platform}.", note=True)
    report.table(section, clinical.describe().T[["count", "mean", "min", "max"]],
                 "Clinical variables (missing values excluded from counts)")

    scores.to_csv(output / "scores.tsv", sep="\t")
    for method, result in analysis.scores.items():
        result.save(output / f"scores_{method}.tsv")
    coverage = analysis.scores["singscore"].coverage
    coverage_long = analysis.scores["singscore"].coverage_long()
    coverage_long.to_csv(output / "coverage.tsv", sep="\t", index=False)
    section = report.section("coverage", "Gene coverage")
    report.text(section, "Set members are found among the matrix rows through current symbols, "
                         "previous symbols and unambiguous aliases; no row is renamed or "
                         "dropped. Outdated names used for matching are listed; coverage.tsv "
                         "has one row per set side and gene with its status.")
    shown = coverage[["n_requested", "n_found", "missing", "mapped_aliases"]].copy()
    shown["missing"] = shown["missing"].map(", ".join)
    shown["mapped_aliases"] = shown["mapped_aliases"].map(
        lambda d: ", ".join(f"{k} as {v}" for k, v in d.items()))
    report.table(section, shown, "Coverage per signature side")
    for message in caught:
        report.text(section, f"Warning: {message}", note=True)

    section = report.section("scores", "Scores")
    report.text(section, "singscore (rank-based, per sample, centred: 0 = balanced), ssGSEA "
                         "(GSVA 1.46, range-normalised over the call) and GSVA (Gaussian "
                         "kernel, relative to the cohort); each signature's score is drivers "
                         "minus suppressors.")
    report.table(section, scores.describe().T[["mean", "std", "min", "50%", "max"]],
                 "Score distributions")
    distributions = _distribution_figure(scores, _figure_path(output, "score_distributions"))
    report.figure(section, distributions, "Distribution of each score over the 124 tumours")
    report.figure(section, _save(correlation_figure(scores),
                                 _figure_path(output, "score_correlations")),
                  "Spearman correlation between scores")

    analysis.table.to_csv(output / "survival_summary.tsv", sep="\t", index=False)
    _survival_section(report, output, analysis, clinical, scores)
    _method_section(report, output, analysis)
    axes = _axes_section(report, output, expression, clinical, scores[CORE])
    drug_result = _drug_section(report, output, scores[CORE], expression)
    _provenance_section(report, analysis.scores["singscore"].params)

    report.text(lead, analysis.conclusion(ENDPOINT))
    report.text(lead, f"Pathway axes (singscore): {axes.conclusion(ENDPOINT)}")
    flips = analysis.method_sensitivity.query("flips")["summary"]
    for line in flips:
        report.text(lead, f"Method sensitivity: {line}", note=True)
    path = report.write(output / "report.html")
    plt.close("all")
    elapsed = time.perf_counter() - start
    if not quiet:
        _print_summary(analysis, drug_result, expression.shape[1], path, elapsed)
    return {"scores": scores, "survival": analysis, "axes": axes, "drugs": drug_result,
            "report": path, "seconds": elapsed}


if __name__ == "__main__":  # pragma: no cover
    run_demo(Path(sys.argv[1] if len(sys.argv) > 1 else "ferroscore_demo"))
