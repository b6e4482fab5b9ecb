"""Plots (matplotlib; install the ``plot`` extra). Every function returns the matplotlib Axes
(or Figure), accepts ``ax=`` to draw into existing axes and ``save=`` to write the figure,
and never calls ``plt.show()``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["axes_heatmap", "calibration", "coef_path", "consensus_cdf", "consensus_delta_area",
           "consensus_heatmap", "cutpoint_profile", "cv_curve", "de_volcano", "drug_boxplot",
           "embedding", "forest", "km", "risk_score", "score_violin", "subtype_scores",
           "time_roc", "validation_forest", "volcano"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt  # headless machines fall back to the Agg backend
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'ferroscore[plot]'") from error
    return plt


def _axes(ax, figsize=(6, 4.5)):
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _save(fig, save: str | Path | None) -> None:
    if save is not None:
        path = Path(save)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=150, bbox_inches="tight")


def _format_p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "NA"
    return f"{p:.2g}" if p >= 1e-3 else f"{p:.1e}"


def km(
    result: Any,
    event: Any = None,
    groups: Any = None,
    *,
    cut: Any = None,
    at_risk: bool = True,
    ci: bool = True,
    title: str | None = None,
    xlabel: str = "time",
    time_unit: str | None = None,
    ax: Any = None,
    save: str | Path | None = None,
):
    """Kaplan-Meier curves with a number-at-risk table below the axis and the groups and the
    test in a legend beside the curves (never over them).

    Parameters
    ----------
    result
        A :class:`ferroscore.survival.KMResult`, or survival times (then give ``event`` and
        ``groups``).
    cut
        The :class:`ferroscore.survival.CutpointResult` that defined the groups: the legend
        then shows its search-adjusted p-value instead of the naive log-rank p-value.
    xlabel, time_unit
        The x-axis label is ``"<xlabel> (<time_unit>)"`` when a unit is given (e.g.
        ``time_unit="months"``).
    """
    from lifelines.plotting import add_at_risk_counts

    from ferroscore import survival

    if not isinstance(result, survival.KMResult):
        result = survival.km(result, event, groups)
    ax = _axes(ax)
    for fitter in result.fitters.values():
        fitter.plot_survival_function(ax=ax, ci_show=ci, show_censors=True,
                                      censor_styles={"ms": 5, "marker": "|"})
    if cut is not None:
        label = (f"cut {cut.value:.3g}; max log-rank {cut.statistic:.2f}\n"
                 f"adjusted p ({cut.p_method}) = {_format_p(cut.p_value)}")
    elif result.logrank is not None:
        label = f"log-rank p = {_format_p(result.logrank.p_value)}"
    else:
        label = None
    handles, labels = ax.get_legend_handles_labels()
    if label:
        handles.append(ax.plot([], [], " ")[0])
        labels.append(label)
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8,
              frameon=False, borderaxespad=0)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"{xlabel} ({time_unit})" if time_unit else xlabel)
    ax.set_ylabel("survival probability")
    if title:
        ax.set_title(title)
    if at_risk:
        add_at_risk_counts(*result.fitters.values(), ax=ax, rows_to_show=["At risk"])
    _save(ax.figure, save)
    return ax


def _forest_axis(ax, *, log_scale: bool, label: str) -> None:
    """The reference line (1 on a log scale, else 0) and tick labels of a forest plot."""
    ax.axvline(1.0 if log_scale else 0.0, color="grey", linestyle="--", linewidth=1)
    if log_scale:
        ax.set_xscale("log")
        from matplotlib.ticker import FuncFormatter, NullFormatter

        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(label)


def _forest_meta(meta: Any, *, exponentiate: bool, title: str | None, ax: Any):
    """Forest plot of a :class:`ferroscore.survival.MetaAnalysis`: one row per study (box
    area proportional to its weight), the pooled estimate as a diamond and, for random effects,
    the prediction interval as a line through it."""
    studies = meta.studies
    scale = np.exp if exponentiate else (lambda values: values)
    ax = _axes(ax, figsize=(7, 0.45 * (len(studies) + 2) + 1.2))
    y = np.arange(len(studies))[::-1] + 2.0
    centre = scale(studies["estimate"].to_numpy())
    low, high = scale(studies["ci_lower"].to_numpy()), scale(studies["ci_upper"].to_numpy())
    ax.hlines(y, low, high, color="grey")
    ax.scatter(centre, y, marker="s", color="black",
               s=20 + 180 * studies["weight"].to_numpy() / studies["weight"].max(), zorder=3)
    pooled = scale(np.array([meta.ci_lower, meta.estimate, meta.ci_upper]))
    ax.fill([pooled[0], pooled[1], pooled[2], pooled[1]], [0.5, 0.75, 0.5, 0.25],
            color="tab:blue", zorder=3)
    if np.isfinite(meta.pi_lower):
        ax.hlines(0.5, *scale(np.array([meta.pi_lower, meta.pi_upper])), color="tab:blue",
                  linewidth=1, label="prediction interval")
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(0, -0.12))
    ax.set_yticks([*y, 0.5])
    ax.set_yticklabels([*map(str, studies.index), meta.label])
    effect = "hazard ratio (log scale)" if exponentiate else "estimate"
    _forest_axis(ax, log_scale=exponentiate, label=effect)
    ax.set_xlim(min(low.min(), pooled[0]) / 1.5 if exponentiate else None,
                max(high.max(), pooled[2]) * 4 if exponentiate else None)
    for yi, c, lo, hi, w in zip(y, centre, low, high, studies["weight"], strict=True):
        ax.annotate(f"{c:.2f} ({lo:.2f}-{hi:.2f})  {w:.1f}%", xy=(1.02, yi),
                    xycoords=("axes fraction", "data"), va="center", fontsize=8)
    ax.annotate(f"{pooled[1]:.2f} ({pooled[0]:.2f}-{pooled[2]:.2f})  p={_format_p(meta.p)}",
                xy=(1.02, 0.5), xycoords=("axes fraction", "data"), va="center", fontsize=8,
                weight="bold")
    ax.set_title(title or f"{meta.label}: I2 = {meta.I2:.0f}%, tau2 = {meta.tau2:.3g}, "
                          f"heterogeneity p = {_format_p(meta.Q_p)}", fontsize=9)
    return ax


def forest(
    cox_table: Any,
    *,
    title: str | None = None,
    exponentiate: bool = True,
    ax: Any = None,
    save: str | Path | None = None,
):
    """Forest plot of a Cox table (:func:`ferroscore.survival.cox`): HR with its confidence
    interval on a log axis, with n, HR (CI) and p printed beside each term; or of a
    meta-analysis (:func:`ferroscore.survival.meta_analysis`): each study's estimate and CI
    (box area by weight), the pooled estimate as a diamond with the prediction interval, and
    the heterogeneity in the title. ``exponentiate`` (meta-analysis only) draws ``exp`` of the
    estimates, i.e. hazard ratios for pooled log hazard ratios."""
    from ferroscore.survival.meta import MetaAnalysis

    if isinstance(cox_table, MetaAnalysis):
        ax = _forest_meta(cox_table, exponentiate=exponentiate, title=title, ax=ax)
        _save(ax.figure, save)
        return ax
    table = cox_table.reset_index(drop=True)
    ax = _axes(ax, figsize=(7, 0.5 * len(table) + 1.2))
    y = np.arange(len(table))[::-1]
    hr = table["hr"].to_numpy(dtype=float)
    ax.errorbar(hr, y, xerr=[hr - table["hr_lower"].to_numpy(dtype=float),
                             table["hr_upper"].to_numpy(dtype=float) - hr],
                fmt="s", color="black", ecolor="grey", capsize=3)
    _forest_axis(ax, log_scale=True, label="hazard ratio (log scale)")
    ax.set_yticks(y)
    ax.set_yticklabels(table["term"])
    low, high = table["hr_lower"].min(), table["hr_upper"].max()
    ax.set_xlim(low / 1.5, high * 4)
    for yi, row in zip(y, table.itertuples(index=False), strict=True):
        ax.annotate(f"n={row.n}  {row.hr:.2f} ({row.hr_lower:.2f}-{row.hr_upper:.2f})  "
                    f"p={_format_p(row.p)}", xy=(1.02, yi), xycoords=("axes fraction", "data"),
                    va="center", fontsize=8)
    if title:
        ax.set_title(title)
    _save(ax.figure, save)
    return ax


def cutpoint_profile(
    cut: Any,
    *,
    score_name: str = "score",
    ax: Any = None,
    save: str | Path | None = None,
):
    """Standardised log-rank statistic over the candidate cuts, with the chosen cut and its
    adjusted p-value (maxstat's ``plot.maxtest``)."""
    ax = _axes(ax)
    ax.plot(cut.profile["cut"], cut.profile["statistic"], marker="o", markersize=3,
            color="tab:blue")
    ax.axvline(cut.value, color="tab:red", linestyle="--",
               label=f"cut {cut.value:.3g}: statistic {cut.statistic:.2f}, adjusted p "
                     f"({cut.p_method}) = {_format_p(cut.p_value)}")
    ax.set_xlabel(score_name)
    ax.set_ylabel("standardised log-rank statistic")
    ax.legend(fontsize=8, frameon=False)
    _save(ax.figure, save)
    return ax


def volcano(
    table: pd.DataFrame,
    *,
    effect: str = "estimate",
    q_threshold: float = 0.1,
    label_top: int = 10,
    names: pd.Series | dict | None = None,
    ax: Any = None,
    save: str | Path | None = None,
):
    """Volcano plot of a drug association table (:func:`ferroscore.drugs.associate` or
    :func:`~ferroscore.drugs.compare_groups`): effect against -log10 p, drugs with
    ``q < q_threshold`` highlighted and the strongest ones labelled (``names`` maps drug IDs to
    display names)."""
    ax = _axes(ax)
    data = table.dropna(subset=["p"])
    if effect not in data:
        effect = "rank_biserial" if "rank_biserial" in data else "difference"
    x = data[effect].to_numpy(dtype=float)
    y = -np.log10(data["p"].to_numpy(dtype=float))
    hit = data["q"].to_numpy() < q_threshold
    ax.scatter(x[~hit], y[~hit], s=12, color="lightgrey", label=f"q >= {q_threshold:g}")
    ax.scatter(x[hit], y[hit], s=16, color="tab:red", label=f"q < {q_threshold:g}")
    ax.axvline(0, color="grey", linewidth=0.8)
    for i in np.argsort(-y)[:label_top]:
        drug = data["drug"].iat[i]
        label = drug if names is None else names.get(drug, drug)
        ax.annotate(str(label), (x[i], y[i]), fontsize=7, xytext=(3, 2),
                    textcoords="offset points")
    ax.set_xlabel(effect)
    ax.set_ylabel("-log10 p")
    ax.legend(fontsize=8, frameon=False)
    _save(ax.figure, save)
    return ax


def drug_boxplot(
    response: pd.DataFrame,
    groups: Any,
    drugs: list[str],
    *,
    ylabel: str = "response",
    save: str | Path | None = None,
):
    """Boxplots of the response of some drugs by sample group (one panel per drug).

    Returns the Figure.
    """
    plt = _pyplot()
    labels = groups if isinstance(groups, pd.Series) else pd.Series(np.asarray(groups),
                                                                   index=response.index)
    labels = labels.loc[response.index]
    levels = (list(labels.cat.categories) if isinstance(labels.dtype, pd.CategoricalDtype)
              else sorted(labels.unique(), key=str))
    fig, axes = plt.subplots(1, len(drugs), figsize=(2.6 * len(drugs), 3.4), squeeze=False)
    for ax, drug in zip(axes[0], drugs, strict=True):
        values = [response.loc[(labels == lv).to_numpy(), drug].dropna().to_numpy()
                  for lv in levels]
        ax.boxplot(values, tick_labels=[str(lv) for lv in levels], showfliers=False)
        for k, v in enumerate(values, start=1):
            jitter = np.random.default_rng(k).uniform(-0.15, 0.15, len(v))
            ax.scatter(k + jitter, v, s=6, alpha=0.5, color="tab:blue")
        ax.set_title(str(drug), fontsize=9)
        ax.set_ylabel(ylabel)
    fig.tight_layout()
    _save(fig, save)
    return fig


def _group_labels(adata, groupby: str) -> pd.Series:
    if groupby not in adata.obs:
        raise KeyError(f"groupby={groupby!r} is not an obs column (columns: "
                       f"{list(adata.obs.columns)})")
    labels = adata.obs[groupby]
    if not isinstance(labels.dtype, pd.CategoricalDtype):
        labels = labels.astype("category")
    return labels


def _obs_values(adata, key: str) -> np.ndarray:
    if key not in adata.obs:
        raise KeyError(f"{key!r} is not an obs column; run fs.tl.score(adata, key_added=...) "
                       f"first (obs columns: {list(adata.obs.columns)[:10]})")
    return adata.obs[key].to_numpy(dtype=float)


def score_violin(
    adata,
    key: str = "ferroptosis",
    groupby: str | None = None,
    *,
    ax: Any = None,
    save: str | Path | None = None,
):
    """Violin plot of a score (``obs[key]``) per group of cells (``obs[groupby]``)."""
    values = _obs_values(adata, key)
    ax = _axes(ax)
    if groupby is None:
        groups, data = ["all"], [values]
    else:
        labels = _group_labels(adata, groupby)
        groups = [g for g in labels.cat.categories if (labels == g).any()]
        data = [values[(labels == g).to_numpy()] for g in groups]
    parts = ax.violinplot(data, showmedians=True)
    for body in parts["bodies"]:
        body.set_alpha(0.6)
    for i, d in enumerate(data, start=1):
        jitter = np.random.default_rng(i).uniform(-0.12, 0.12, len(d))
        ax.scatter(i + jitter, d, s=3, color="black", alpha=0.4)
    ax.set_xticks(range(1, len(groups) + 1))
    ax.set_xticklabels([str(g) for g in groups])
    ax.set_xlabel(groupby or "")
    ax.set_ylabel(key)
    _save(ax.figure, save)
    return ax


def axes_heatmap(
    adata,
    key: str = "ferroptosis_axes",
    groupby: str | None = None,
    *,
    standardize: bool = True,
    ax: Any = None,
    save: str | Path | None = None,
):
    """Mean pathway-axis score per group (``obsm[key]`` from :func:`ferroscore.tl.score_axes`).

    With ``standardize`` each axis is z-scored across groups, so the colours show which arm
    of the pathway differs between groups; axis labels carry their direction (+ pro-, -
    anti-ferroptotic).
    """
    if key not in adata.obsm:
        raise KeyError(f"{key!r} is not in adata.obsm; run fs.tl.score_axes(adata) first")
    frame = pd.DataFrame(adata.obsm[key], index=adata.obs_names)
    labels = _group_labels(adata, groupby) if groupby else pd.Series(
        pd.Categorical(["all"] * adata.n_obs), index=adata.obs_names)
    means = frame.groupby(labels.to_numpy(), observed=True).mean()
    shown = (means - means.mean()) / means.std(ddof=0).replace(0, 1) if standardize and len(
        means) > 1 else means
    directions = adata.uns.get(key, {}).get("direction", {})
    ax = _axes(ax, figsize=(0.7 * shown.shape[1] + 2.5, 0.45 * shown.shape[0] + 2))
    image = ax.imshow(shown.to_numpy(), aspect="auto", cmap="RdBu_r")
    ax.set_xticks(range(shown.shape[1]))
    ax.set_xticklabels([f"{c} ({'+' if directions.get(c) == 'pro-ferroptotic' else '-'})"
                        if c in directions else c for c in shown.columns], rotation=45,
                       ha="right")
    ax.set_yticks(range(shown.shape[0]))
    ax.set_yticklabels([str(i) for i in shown.index])
    ax.figure.colorbar(image, ax=ax, label="z-score across groups" if standardize else "mean")
    _save(ax.figure, save)
    return ax


def embedding(
    adata,
    key: str = "ferroptosis",
    basis: str = "umap",
    *,
    ax: Any = None,
    save: str | Path | None = None,
    **kwargs: Any,
):
    """Cells in an embedding (``obsm["X_" + basis]``) coloured by a score.

    Uses ``scanpy.pl.embedding`` when scanpy is installed, else a matplotlib scatter.
    """
    name = basis if basis.startswith("X_") else f"X_{basis}"
    if name not in adata.obsm:
        raise KeyError(f"no embedding {name!r} in adata.obsm (available: "
                       f"{list(adata.obsm.keys())}); run e.g. sc.tl.umap first")
    _obs_values(adata, key)
    ax = _axes(ax, figsize=(5, 4.5))
    try:
        import scanpy as sc
    except ImportError:
        coords = np.asarray(adata.obsm[name])[:, :2]
        points = ax.scatter(coords[:, 0], coords[:, 1], c=adata.obs[key], s=kwargs.pop("s", 12),
                            cmap=kwargs.pop("cmap", "viridis"), **kwargs)
        ax.figure.colorbar(points, ax=ax, label=key)
        ax.set_xlabel(f"{basis}1")
        ax.set_ylabel(f"{basis}2")
    else:
        sc.pl.embedding(adata, basis=name.removeprefix("X_"), color=key, ax=ax, show=False,
                        **kwargs)
    _save(ax.figure, save)
    return ax


# -- differential expression and subtypes ---------------------------------------------------------


def de_volcano(
    result: Any,
    *,
    q_threshold: float = 0.05,
    label_top: int = 10,
    ax: Any = None,
    save: str | Path | None = None,
):
    """Volcano plot of a limma result (:func:`ferroscore.de.limma`, one coefficient): logFC
    against -log10 P.Value, genes with ``adj.P.Val < q_threshold`` highlighted and the
    strongest labelled (the drug :func:`volcano` with limma's columns)."""
    table = result.table if hasattr(result, "table") else result
    if "logFC" not in table:
        raise ValueError("a volcano plot needs one tested coefficient (a logFC column); this "
                         "result is a moderated F test of several")
    frame = pd.DataFrame({"estimate": table["logFC"], "p": table["P.Value"],
                          "q": table["adj.P.Val"], "drug": table.index.astype(str)})
    ax = volcano(frame, effect="estimate", q_threshold=q_threshold, label_top=label_top, ax=ax)
    ax.set_xlabel("logFC")
    ax.set_ylabel("-log10 P.Value")
    ax.legend(fontsize=8, frameon=False, title="adj.P.Val", title_fontsize=8)
    _save(ax.figure, save)
    return ax


def consensus_heatmap(
    result: Any,
    k: int,
    *,
    ax: Any = None,
    save: str | Path | None = None,
):
    """Consensus matrix of one k (:func:`ferroscore.subtypes.consensus`), samples in the order
    of the final tree, with the final classes as a colour bar."""
    if k not in result.consensus:
        raise ValueError(f"k={k} was not computed (available: {result.ks})")
    order = result.order[k]
    matrix = result.consensus[k].loc[order, order].to_numpy()
    classes = result.classes[k].loc[order].to_numpy()
    ax = _axes(ax, figsize=(5.5, 5))
    image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1, interpolation="nearest",
                      extent=(0, len(order), len(order), 0))
    colours = _pyplot().get_cmap("tab10")
    for start in range(len(order)):
        ax.add_patch(_pyplot().Rectangle((start, -0.04 * len(order)), 1, 0.03 * len(order),
                                         color=colours((classes[start] - 1) % 10),
                                         clip_on=False))
    ax.set_ylim(len(order), -0.05 * len(order))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"consensus matrix, k = {k} (PAC {result.pac[k]:.3f})", pad=14)
    ax.figure.colorbar(image, ax=ax, label="consensus", fraction=0.046)
    _save(ax.figure, save)
    return ax


def consensus_cdf(result: Any, *, ax: Any = None, save: str | Path | None = None):
    """Empirical CDF of the consensus values for every k (ConsensusClusterPlus's CDF plot)."""
    ax = _axes(ax)
    for k in result.ks:
        ax.step(result.cdf.index, result.cdf[k], where="post", label=f"k = {k}")
    ax.set_xlabel("consensus index")
    ax.set_ylabel("CDF")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8, frameon=False)
    _save(ax.figure, save)
    return ax


def consensus_delta_area(result: Any, *, ax: Any = None, save: str | Path | None = None):
    """Relative change in the area under the consensus CDF against k (ConsensusClusterPlus's
    delta-area plot), with PAC on a second axis."""
    ax = _axes(ax)
    ks = result.ks
    ax.plot(ks, [result.delta_area[k] for k in ks], marker="o", color="tab:blue",
            label="delta area")
    ax.set_xlabel("k")
    ax.set_ylabel("relative change in CDF area", color="tab:blue")
    ax.set_xticks(ks)
    twin = ax.twinx()
    twin.plot(ks, [result.pac[k] for k in ks], marker="s", color="tab:red", label="PAC")
    twin.set_ylabel("PAC (share of pairs in (0.1, 0.9))", color="tab:red")
    _save(ax.figure, save)
    return ax


def subtype_scores(
    comparison: Any,
    scores: pd.DataFrame | None = None,
    columns: list[str] | None = None,
    *,
    save: str | Path | None = None,
):
    """Boxplots of scores by subtype (one panel per score) with the test across subtypes in
    the titles. ``comparison`` is a :class:`ferroscore.subtypes.SubtypeComparison` (give the
    scores it was computed from) or a Series of subtypes. Returns the Figure."""
    classes = comparison.classes if hasattr(comparison, "classes") else comparison
    if scores is None:
        raise ValueError("give the scores (DataFrame samples x scores) to plot")
    frame = scores.scores if hasattr(scores, "scores") else scores
    frame = frame.set_axis(frame.index.astype(str)).loc[classes.index]
    columns = columns or list(frame.select_dtypes("number").columns[:4])
    fig = drug_boxplot(frame, classes, columns, ylabel="score")
    tests = getattr(comparison, "score_tests", None)
    if tests is not None:
        for ax, column in zip(fig.axes, columns, strict=True):
            if column in tests.index:
                ax.set_title(f"{column}\n{tests.loc[column, 'test']} q = "
                             f"{_format_p(tests.loc[column, 'q'])}", fontsize=8)
    fig.tight_layout()
    _save(fig, save)
    return fig


# -- risk models and their validation -------------------------------------------------------------


def time_roc(
    time: Any,
    event: Any,
    risk: Any,
    horizons: Any = (1, 3, 5),
    *,
    time_unit: str = "months",
    B: int = 0,
    seed: int | None = 0,
    ax: Any = None,
    save: str | Path | None = None,
):
    """Time-dependent (cumulative/dynamic) ROC curves of a risk score at horizons in years
    (:func:`ferroscore.survival.time_roc`), the AUC of each in the legend, with its percentile
    bootstrap interval when ``B`` > 0 (:func:`ferroscore.survival.time_auc_ci`, ``B`` stated in
    the title). A horizon without cases or controls is listed as having no curve."""
    from ferroscore import survival

    ax = _axes(ax, figsize=(5, 5))
    intervals = (survival.time_auc_ci(time, event, risk, horizons, time_unit=time_unit, B=B,
                                      seed=seed).set_index("years") if B else None)
    for years in np.atleast_1d(horizons):
        label = f"{years:g} year{'s' if years != 1 else ''}"
        try:
            curve = survival.time_roc(time, event, risk, years, time_unit=time_unit)
        except ValueError:
            ax.plot([], [], " ", label=f"{label}: no AUC (no case or no control)")
            continue
        text = f"{label}: AUC {curve.attrs['auc']:.3f}"
        if intervals is not None:
            row = intervals.loc[float(years)]
            text += f" ({row['ci_lower']:.3f}-{row['ci_upper']:.3f})"
        ax.plot(curve["fpr"], curve["tpr"], label=text)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("1 - specificity (false-positive rate)")
    ax.set_ylabel("sensitivity (true-positive rate)")
    ax.set_title("time-dependent ROC" + (f" (95% bootstrap CI, B = {B})" if B else ""),
                 fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    _save(ax.figure, save)
    return ax


def _risk_source(model: Any, expr: pd.DataFrame):
    """Risk, cut and model genes from a fitted RiskModel."""
    from ferroscore.survival import RiskModel

    if not isinstance(model, RiskModel):
        raise TypeError(f"expected a fitted ferroscore.survival.RiskModel, got "
                        f"{type(model).__name__}")
    return model.apply(expr), model.cutoff_, list(model.genes_)


def risk_score(
    model: Any,
    expr: pd.DataFrame,
    clinical: pd.DataFrame,
    *,
    time: str,
    event: str,
    max_genes: int = 30,
    save: str | Path | None = None,
):
    """The risk-score plot of a signature paper: samples sorted by risk (top: the risk with
    the high / low cut at the training median; middle: follow-up time and status; bottom: a
    heatmap of the model genes, each standardised within the cohort). Returns the Figure."""
    plt = _pyplot()
    scored, cut, genes = _risk_source(model, expr)
    risk = scored.risk
    common = risk.index.astype(str).intersection(clinical.index.astype(str))
    data = clinical.set_axis(clinical.index.astype(str)).loc[common, [time, event]].dropna()
    risk = risk.set_axis(risk.index.astype(str)).loc[data.index].sort_values(kind="mergesort")
    data = data.loc[risk.index]
    used = scored.report["found"][:max_genes]
    matrix = model._genes_axis(expr)
    values = matrix.set_axis(matrix.columns.astype(str), axis=1).loc[
        [scored.report["features"][g] for g in used], risk.index].to_numpy(dtype=float)
    spread = values.std(axis=1, keepdims=True)
    heat = (values - values.mean(axis=1, keepdims=True)) / np.where(spread > 0, spread, 1.0)
    fig, axes = plt.subplots(3, 1, figsize=(8, 7 + 0.12 * len(used)), sharex=True,
                             gridspec_kw={"height_ratios": [1, 1, max(1.2, 0.12 * len(used))]})
    order = np.arange(len(risk))
    high = (risk > cut).to_numpy()
    axes[0].scatter(order[~high], risk[~high], s=8, color="tab:blue", label="low risk")
    axes[0].scatter(order[high], risk[high], s=8, color="tab:red", label="high risk")
    axes[0].axhline(cut, color="grey", linestyle="--", linewidth=1)
    axes[0].set_ylabel("risk score")
    axes[0].legend(fontsize=8, frameon=False)
    dead = data[event].to_numpy(dtype=float) == 1
    axes[1].scatter(order[~dead], data[time][~dead], s=8, color="tab:blue", label="censored")
    axes[1].scatter(order[dead], data[time][dead], s=8, color="tab:red", label="event")
    axes[1].set_ylabel(time)
    axes[1].legend(fontsize=8, frameon=False)
    image = axes[2].imshow(heat, aspect="auto", cmap="RdBu_r", vmin=-2.5, vmax=2.5,
                           interpolation="nearest")
    axes[2].set_yticks(range(len(used)))
    axes[2].set_yticklabels(used, fontsize=7)
    axes[2].set_xlabel("samples, sorted by risk score")
    for ax in axes[:2]:
        ax.axvline((~high).sum() - 0.5, color="grey", linestyle=":", linewidth=1)
    fig.colorbar(image, ax=axes[2], label="z-score", fraction=0.03, pad=0.01)
    _save(fig, save)
    return fig


def _cv_source(model_or_cv: Any):
    cv = getattr(model_or_cv, "cv_", model_or_cv)
    if cv is None or not hasattr(cv, "cvm"):
        raise ValueError("no cross-validation to plot: give a RiskModel fitted in this session "
                         "(a model loaded from JSON keeps no path) or a cv_coxnet result")
    return cv


def _mark_lambdas(ax, cv) -> None:
    for lam, name, style in ((cv.lambda_min, "lambda.min", "--"),
                             (cv.lambda_1se, "lambda.1se", ":")):
        ax.axvline(np.log(lam), color="grey", linestyle=style, linewidth=1,
                   label=f"{name} = {lam:.3g} ({cv.nzero[np.flatnonzero(cv.lambdas == lam)[0]]}"
                         " genes)")


def coef_path(model_or_cv: Any, *, label_top: int = 10, ax: Any = None,
              save: str | Path | None = None):
    """Coefficient paths of the LASSO / elastic-net Cox fit (glmnet's ``plot(fit,
    xvar="lambda")``): each gene's coefficient against log(lambda), with lambda.min and
    lambda.1se marked and the genes of the model labelled. For a RiskModel fitted in this
    session the coefficients are per training SD (comparable across genes); for a bare
    ``cv_coxnet`` result, on the original scale (as glmnet)."""
    cv = _cv_source(model_or_cv)
    path = cv.path
    coef = path.coef
    data = getattr(model_or_cv, "_training_data", None)
    if data is not None:
        columns = [data.genes.index(g) for g in coef.index]
        coef = coef.mul(data.x[:, columns].std(axis=0), axis=0)
    ax = _axes(ax, figsize=(7, 4.5))
    log_lambda = np.log(path.lambdas)
    active = coef.loc[(coef != 0).any(axis=1)]
    for _, values in active.iterrows():
        ax.plot(log_lambda, values.to_numpy(), linewidth=1)
    chosen = getattr(model_or_cv, "coef_", cv.coef_min)
    chosen = chosen[chosen != 0].abs().sort_values(ascending=False)
    for gene in chosen.index[:label_top]:
        ax.annotate(str(gene), (log_lambda[-1], coef.loc[gene].iat[-1]), fontsize=7,
                    xytext=(3, 0), textcoords="offset points", va="center")
    _mark_lambdas(ax, cv)
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_xlabel("log(lambda)")
    ax.set_ylabel("coefficient per SD" if data is not None else "coefficient")
    ax.legend(fontsize=8, frameon=False)
    _model_size_axis(ax, log_lambda, path.df)
    _save(ax.figure, save)
    return ax


def _model_size_axis(ax: Any, log_lambda: np.ndarray, n_genes: Any) -> None:
    """A top axis giving the number of genes in the model at up to six lambdas (as glmnet)."""
    top = ax.secondary_xaxis("top")
    ticks = np.linspace(0, len(log_lambda) - 1, min(6, len(log_lambda))).astype(int)
    top.set_xticks(log_lambda[ticks])
    top.set_xticklabels([str(n_genes[i]) for i in ticks])
    top.set_xlabel("genes in the model")


def cv_curve(model_or_cv: Any, *, ax: Any = None, save: str | Path | None = None):
    """The cross-validation curve (glmnet's ``plot(cv.glmnet)``): the cross-validated
    measure +- one standard error against log(lambda), with lambda.min and lambda.1se."""
    cv = _cv_source(model_or_cv)
    ax = _axes(ax, figsize=(7, 4.5))
    log_lambda = np.log(cv.lambdas)
    ax.errorbar(log_lambda, cv.cvm, yerr=cv.cvsd, fmt="o", color="tab:red", ecolor="grey",
                markersize=3, capsize=1.5, elinewidth=0.8)
    _mark_lambdas(ax, cv)
    ax.set_xlabel("log(lambda)")
    ax.set_ylabel("cross-validated partial-likelihood deviance" if cv.measure == "deviance"
                  else "cross-validated Harrell's C")
    ax.legend(fontsize=8, frameon=False)
    _model_size_axis(ax, log_lambda, cv.nzero)
    _save(ax.figure, save)
    return ax


def calibration(table: pd.DataFrame, *, ax: Any = None, save: str | Path | None = None):
    """Calibration at a horizon (:func:`ferroscore.survival.calibration`): mean predicted
    survival against Kaplan-Meier observed survival (with its 95% interval) per risk group,
    and the diagonal of perfect calibration."""
    ax = _axes(ax, figsize=(5, 5))
    observed = table["observed"].to_numpy(dtype=float)
    errors = np.vstack([observed - table["observed_lower"].to_numpy(dtype=float),
                        table["observed_upper"].to_numpy(dtype=float) - observed])
    ax.errorbar(table["predicted"], observed, yerr=errors, fmt="o", color="tab:red",
                ecolor="grey", capsize=3)
    for row in table.itertuples(index=False):
        ax.annotate(f"{row.group} (n={row.n})", (row.predicted, row.observed), fontsize=8,
                    xytext=(4, 4), textcoords="offset points")
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    horizon = table.attrs.get("horizon")
    ax.set_xlabel(f"predicted survival at {horizon:g} years" if horizon else
                  "predicted survival")
    ax.set_ylabel("observed survival (Kaplan-Meier)")
    ax.set_title(f"calibration, {len(table)} risk groups", fontsize=10)
    _save(ax.figure, save)
    return ax


def validation_forest(validation: Any, *, ax: Any = None, save: str | Path | None = None):
    """Multi-cohort forest plot of :func:`ferroscore.survival.validate`: each cohort's hazard
    ratio per SD (labelled with n, events and C), and the pooled random-effects estimate with
    its prediction interval; with a single cohort, its hazard ratio alone."""
    from dataclasses import replace

    table = validation.table
    labels = [f"{r.cohort} (n={r.n}, {r.n_events} events, C={r.C:.2f})"
              for r in table.itertuples(index=False)]
    if validation.meta is None:
        frame = pd.DataFrame({"term": labels, "hr": table["hr_per_sd"],
                              "hr_lower": table["hr_lower"], "hr_upper": table["hr_upper"],
                              "n": table["n"], "p": table["p"]})
        ax = forest(frame, title="hazard ratio per SD of the score (one cohort)", ax=ax)
    else:
        meta = replace(validation.meta, studies=validation.meta.studies.set_axis(labels))
        ax = _forest_meta(meta, exponentiate=True, title=None, ax=ax)
        ax.set_xlabel("hazard ratio per SD of the score (log scale)")
    _save(ax.figure, save)
    return ax
