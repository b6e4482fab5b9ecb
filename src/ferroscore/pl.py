"""Plots (matplotlib; install the ``plot`` extra). Every function returns the matplotlib Axes
(or Figure), accepts ``ax=`` to draw into existing axes and ``save=`` to write the figure,
and never calls ``plt.show()``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["cutpoint_profile", "drug_boxplot", "forest", "km", "volcano"]


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
    ax: Any = None,
    save: str | Path | None = None,
):
    """Kaplan-Meier curves with a number-at-risk table and the test in the legend.

    Parameters
    ----------
    result
        A :class:`ferroscore.survival.KMResult`, or survival times (then give ``event`` and
        ``groups``).
    cut
        The :class:`ferroscore.survival.CutpointResult` that defined the groups: the legend
        then shows its search-adjusted p-value instead of the naive log-rank p-value.
    """
    from lifelines.plotting import add_at_risk_counts

    from ferroscore import survival

    if not isinstance(result, survival.KMResult):
        result = survival.km(result, event, groups)
    ax = _axes(ax)
    for level, fitter in result.fitters.items():
        fitter.plot_survival_function(ax=ax, ci_show=ci, show_censors=True,
                                      censor_styles={"ms": 5, "marker": "|"})
    if cut is not None:
        label = (f"cut {cut.value:.3g}; max log-rank {cut.statistic:.2f}, "
                 f"adjusted p ({cut.p_method}) = {_format_p(cut.p_value)}")
    elif result.logrank is not None:
        label = f"log-rank p = {_format_p(result.logrank.p_value)}"
    else:
        label = None
    handles, labels = ax.get_legend_handles_labels()
    if label:
        handles.append(ax.plot([], [], " ")[0])
        labels.append(label)
    ax.legend(handles, labels, loc="best", fontsize=8, frameon=False)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("survival probability")
    if title:
        ax.set_title(title)
    if at_risk:
        add_at_risk_counts(*result.fitters.values(), ax=ax, rows_to_show=["At risk"])
    _save(ax.figure, save)
    return ax


def forest(
    cox_table: pd.DataFrame,
    *,
    title: str | None = None,
    ax: Any = None,
    save: str | Path | None = None,
):
    """Forest plot of a Cox table (:func:`ferroscore.survival.cox`): HR with its confidence
    interval on a log axis, with n, HR (CI) and p printed beside each term."""
    table = cox_table.reset_index(drop=True)
    ax = _axes(ax, figsize=(7, 0.5 * len(table) + 1.2))
    y = np.arange(len(table))[::-1]
    ax.errorbar(table["hr"], y, xerr=[table["hr"] - table["hr_lower"],
                                      table["hr_upper"] - table["hr"]],
                fmt="s", color="black", ecolor="grey", capsize=3)
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    ax.set_yticks(y)
    ax.set_yticklabels(table["term"])
    ax.set_xlabel("hazard ratio (log scale)")
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
        label = (names.get(drug, drug) if isinstance(names, dict) else
                 names.get(drug, drug) if isinstance(names, pd.Series) else drug)
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
