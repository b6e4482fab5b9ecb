"""Results that cannot mislead (issue 12): the direction of each score, method sensitivity,
the platform note, conclusions generated from the numbers, tidy coverage and readable
figures. Numbers are GSE1992's (real), quoted by the README and the demo report."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import ferroscore as fs
from ferroscore.survival import interpret

TIME, EVENT = "rfs_months", "rfs_event"
COVARIATES = ["age", "er_positive", "node_positive", "grade"]


@pytest.fixture(scope="module")
def by_method(breast):
    """Two signatures and an unsigned pathway, singscore and gsva, with covariates."""
    expression, clinical = breast
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        analysis = fs.survival.analyze(expression, clinical, time=TIME, event=EVENT,
                                       covariates=COVARIATES, methods=["singscore", "gsva"],
                                       sets=["ferroptosis_core", "fpi", "kegg_ferroptosis"])
    return analysis, [str(w.message) for w in caught]


def test_direction_of_catalogue_sets():
    names = ["ferroptosis_core", "fpi", "kegg_ferroptosis", "iron_import", "gsh_gpx4", "nope"]
    assert [fs.genesets.direction_of(n) for n in names] == [
        "signed", "signed, signs unverified", "unsigned", "pro-ferroptotic axis",
        "anti-ferroptotic axis", "unknown"]
    changed = fs.genesets.GeneSet("iron_import", ("TFRC", "NCOA4"))
    assert fs.genesets.direction_of(changed) == "unsigned"  # not the catalogue's members
    assert set(fs.genesets.DIRECTIONS) >= set(interpret.DIRECTED) | {"unsigned", "unknown"}


def test_the_table_has_method_direction_and_genes_found(by_method):
    analysis, _ = by_method
    table = analysis.table
    assert table.columns[:5].tolist() == ["score", "method", "direction", "n_genes_found",
                                          "n_genes_requested"]
    assert table["method"].tolist() == ["singscore"] * 3 + ["gsva"] * 3
    assert table.set_index(["score", "method"]).loc[
        ("kegg_ferroptosis", "gsva"), "direction"] == "unsigned"
    row = table.set_index(["score", "method"]).loc[("fpi", "singscore")]
    assert (row["direction"], row["n_genes_found"], row["n_genes_requested"]) == (
        "signed, signs unverified", 23, 24)
    assert list(analysis.cox_univariate) == [analysis.key(s, m) for s, m in
                                             zip(table["score"], table["method"], strict=True)]
    assert analysis.key("fpi", "gsva") == "fpi [gsva]"


def test_each_method_equals_scoring_with_it_alone(by_method, breast):
    """The method panel is the single-method analysis, repeated: same HR, same q (BH within
    each method, never across methods)."""
    analysis, _ = by_method
    expression, clinical = breast
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone = fs.survival.analyze(
            fs.score(expression, ["ferroptosis_core", "fpi", "kegg_ferroptosis"], "gsva"),
            clinical, time=TIME, event=EVENT, covariates=COVARIATES).table
    gsva = analysis.table[analysis.table["method"] == "gsva"].reset_index(drop=True)
    for column in ("hr_per_sd", "hr_lower", "q_cox", "hr_per_sd_multi", "q_cox_multi", "p_cut"):
        np.testing.assert_allclose(gsva[column], alone[column], rtol=1e-12, err_msg=column)
    assert alone["method"].tolist() == ["gsva"] * 3 and analysis.params["methods"] == [
        "singscore", "gsva"]


def test_a_result_that_flips_with_the_method_is_flagged(by_method):
    analysis, messages = by_method
    panel = analysis.method_sensitivity.set_index("score")
    fpi = panel.loc["fpi"]
    assert fpi["hr_min"] == pytest.approx(0.924, abs=5e-4)  # singscore
    assert fpi["hr_max"] == pytest.approx(1.32, abs=5e-3)  # gsva
    assert fpi["hr_both_sides_of_1"] and fpi["flips"]
    assert "the result depends on the scoring method" in fpi["summary"]
    assert [m for m in messages if m.startswith("results flip")] == [
        "results flip with the scoring method: " + " ".join(panel.query("flips")["summary"])]


def test_unsigned_sets_warn_once_per_call(by_method, breast):
    _, messages = by_method
    undirected = [m for m in messages if "no ferroptosis direction" in m]
    assert len(undirected) == 1 and "kegg_ferroptosis" in undirected[0]
    expression, clinical = breast
    signed_only = fs.score(expression, "ferroptosis_core")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fs.survival.analyze(signed_only, clinical, time=TIME, event=EVENT)
    assert not [w for w in caught if "direction" in str(w.message)]
    plain = signed_only.set_scores().rename(columns={"ferroptosis_core": "my_score"})
    with pytest.warns(UserWarning, match="1 score has no ferroptosis direction .my_score"):
        table = fs.survival.analyze(plain, clinical, time=TIME, event=EVENT).table
    assert table["direction"].tolist() == ["unknown"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a direction given by the user: no warning
        table = fs.survival.analyze(plain, clinical, time=TIME, event=EVENT,
                                    directions={"my_score": "signed"}).table
    assert table["direction"].tolist() == ["signed"]
    with pytest.raises(ValueError, match="unknown directions"):
        fs.survival.analyze(plain, clinical, time=TIME, event=EVENT, directions={"x": "up"})


def test_bad_method_requests_are_errors(breast):
    expression, clinical = breast
    with pytest.raises(ValueError, match="distinct method names"):
        fs.survival.analyze(expression, clinical, time=TIME, event=EVENT,
                            methods=["gsva", "gsva"])
    scores = fs.score(expression, "ferroptosis_core")
    with pytest.raises(TypeError, match="pass the expression"):
        fs.survival.analyze(scores, clinical, time=TIME, event=EVENT, methods=["gsva"])
    with pytest.raises(ValueError, match="looks like expression"):
        fs.survival.analyze(expression, clinical, time=TIME, event=EVENT)


def test_platform_note_travels_with_the_data(breast):
    adata = fs.datasets.breast_cancer()
    expression, clinical = breast
    assert adata.uns["dataset"]["platform"] == fs.datasets.BREAST_PLATFORM
    assert fs.datasets.platform_note(adata) == fs.datasets.BREAST_PLATFORM
    fresh, _ = fs.datasets.breast_cancer(as_frames=True)
    assert fs.datasets.platform_note(fresh).startswith("two-colour Agilent arrays: log ratios")
    result = fs.score(fresh, "ferroptosis_core")
    assert result.params["platform"] == fs.datasets.BREAST_PLATFORM
    surv = fs.survival.analyze(result, clinical, time=TIME, event=EVENT)
    assert surv.params["platform"] == fs.datasets.BREAST_PLATFORM
    assert "platform: two-colour" in repr(surv)
    mine = fs.survival.analyze(result, clinical, time=TIME, event=EVENT,
                               platform="RNA-seq, log2 TPM")
    assert mine.params["platform"] == "RNA-seq, log2 TPM"
    plain = pd.DataFrame(fresh.to_numpy(), index=fresh.index, columns=fresh.columns)
    assert fs.datasets.platform_note(plain) is None
    assert "platform" not in fs.score(plain, "ferroptosis_core").params


def _table(q, hr, methods=None, direction="signed"):
    n = len(q)
    return pd.DataFrame({
        "score": [f"s{i % 2}" for i in range(n)] if methods else [f"s{i}" for i in range(n)],
        "method": methods or [None] * n, "direction": direction, "hr_per_sd": hr,
        "hr_lower": np.array(hr) * 0.8, "hr_upper": np.array(hr) * 1.2, "q_cox": q,
        "hr_per_sd_multi": hr, "p_cox_multi": [0.2] * n})


def test_the_conclusion_is_generated_from_the_numbers():
    none = interpret.conclusion(_table([0.92, 0.95], [1.1, 0.9]), endpoint="relapse-free survival")
    assert none == ("No ferroptosis score is associated with relapse-free survival in this "
                    "cohort (smallest q = 0.92; Cox per SD, 2 scores, BH across scores).")
    unsigned = interpret.conclusion(_table([0.5], [1.1], direction="unsigned"), endpoint="OS")
    assert unsigned.startswith("No score is associated with OS")  # not a "ferroptosis score"
    one = interpret.conclusion(_table([0.004, 0.6], [1.83, 0.9]), endpoint="OS",
                               covariates=["age"])
    assert one.startswith("1 of 2 scores is associated with OS")
    assert "a higher s0 score (drivers over suppressors) goes with shorter OS (HR 1.83" in one
    assert "not significant after adjustment for age (HR 1.83, p = 0.2)" in one
    mixed = interpret.conclusion(_table([0.01, 0.5, 0.3, 0.6], [0.7, 1.0, 1.1, 1.0],
                                        methods=["a", "a", "b", "b"]), endpoint="OS")
    assert "goes with longer OS" in mixed and "this depends on the scoring method" in mixed


def test_result_objects_print(by_method):
    analysis, _ = by_method
    text = repr(analysis)
    assert len(text.splitlines()) < 12 and "methods: singscore, gsva" in text
    assert analysis.conclusion() in text
    str(analysis.table), str(next(iter(analysis.cox_univariate.values())))  # no pandas error


def test_coverage_long_is_tidy(breast):
    expression, _ = breast
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fs.score(expression, ["ferroptosis_core", "fpi"])
    tidy = result.coverage_long()
    assert tidy.columns.tolist() == ["set", "side", "gene", "status", "matched_as"]
    assert not tidy.duplicated(["set", "side", "gene"]).any()
    assert tidy.groupby(["set", "side"]).size().sum() == result.coverage["n_requested"].sum()
    row = tidy.set_index(["set", "gene"]).loc[("ferroptosis_core", "LPCAT3")]
    assert (row["status"], row["matched_as"]) == ("found", "MBOAT5")
    assert tidy.query("status == 'missing'")["gene"].tolist() == ["CISD1"]
    assert all(isinstance(v, str) for v in tidy.to_numpy().ravel())


def test_km_has_time_unit_at_risk_table_and_legend_beside_the_curves(breast):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, clinical = breast
    groups = fs.survival.split(clinical["age"].astype(float), "median")
    ax = fs.pl.km(clinical[TIME], clinical[EVENT], groups, xlabel="relapse-free survival",
                  time_unit="months")
    fig = ax.figure
    fig.canvas.draw()
    assert ax.get_xlabel() == "relapse-free survival (months)"
    texts = [t.get_text() for a in fig.axes for t in a.texts] + [
        t.get_text() for a in fig.axes for t in a.get_xticklabels()]
    assert any("At risk" in t for t in texts)
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1  # beside the axes, never over the curves
    plt.close(fig)


def test_heatmap_annotations_are_readable_on_dark_cells(breast):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgb

    from ferroscore.demo import correlation_figure

    scores = pd.DataFrame({"a": np.arange(10.0), "b": np.arange(10.0) ** 2,
                           "c": np.r_[1, -1, 2, -2, 3, -3, 4, -4, 5, -5.0]})
    fig = correlation_figure(scores)
    colours = {t.get_text(): to_rgb(t.get_color()) for t in fig.axes[0].texts}
    assert colours["1.00"] == (1, 1, 1)  # white on the dark diagonal
    assert colours["-0.15"] == (0, 0, 0)  # black on the pale cells
    plt.close(fig)
