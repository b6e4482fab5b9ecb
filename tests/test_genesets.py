"""GeneSet / Signature construction, catalogue access and GMT input/output."""

from __future__ import annotations

import pytest

import ferroscore as fs
from ferroscore.genesets import GeneSet, Signature


def test_geneset_from_list_with_weights():
    gs = GeneSet("mine", ["GPX4", "ACSL4"], weights=[-1, 1])
    assert gs.genes == ("GPX4", "ACSL4") and gs.weights == (-1.0, 1.0)
    assert gs.is_signed
    sig = gs.to_signature()
    assert sig.up.genes == ("ACSL4",) and sig.down.genes == ("GPX4",)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"genes": []}, ValueError, "empty"),
        ({"genes": ["A", "B", "A"]}, ValueError, "more than once"),
        ({"genes": ["A", 7157]}, TypeError, "non-string"),
        ({"genes": ["A", ""]}, TypeError, "non-string"),
        ({"genes": "GPX4"}, TypeError, "single string"),
        ({"genes": ["A", "B"], "weights": [1]}, ValueError, "weights"),
        ({"genes": ["A"], "weights": [float("nan")]}, ValueError, "non-finite"),
    ],
)
def test_geneset_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        GeneSet("x", **kwargs)


def test_geneset_name_must_be_text():
    with pytest.raises(ValueError, match="name"):
        GeneSet("", ["A"])
    with pytest.raises(ValueError, match="tabs"):
        GeneSet("a\tb", ["A"])


def test_signature_rejects_genes_on_both_sides():
    with pytest.raises(ValueError, match="both sides: \\['GPX4'\\]"):
        Signature.from_sets("s", ["GPX4", "ACSL4"], ["GPX4"])


def test_signature_from_two_sets():
    sig = fs.genesets.signature("s", GeneSet("d", ["ACSL4"]), ["GPX4"])
    assert sig.up.name == "d" and sig.down.genes == ("GPX4",)
    assert sig.genes == ("ACSL4", "GPX4")


def test_weight_zero_cannot_be_split():
    with pytest.raises(ValueError, match="weight 0"):
        GeneSet("x", ["A", "B"], weights=[1, 0]).to_signature()


def test_load_core_signature():
    core = fs.genesets.load("ferroptosis_core")
    assert isinstance(core, Signature)
    assert core.up.genes == ("ACSL4", "LPCAT3", "TFRC", "NCOA4")
    assert core.down.genes == ("GPX4", "SLC7A11", "AIFM2", "FTH1", "GCH1")


def test_unknown_set_lists_available():
    with pytest.raises(KeyError) as info:
        fs.genesets.load("ferroptosis_cor")
    message = str(info.value)
    assert "unknown gene set 'ferroptosis_cor'" in message
    assert "ferroptosis_core" in message and "fpi" in message


def test_coerce_sets_forms():
    sets = fs.genesets.coerce_sets({"a": ["GPX4", "ACSL4"], "b": GeneSet("zz", ["TFRC"])})
    assert [s.name for s in sets] == ["a", "b"]
    sets = fs.genesets.coerce_sets(["ferroptosis_core", "kegg_ferroptosis"])
    assert isinstance(sets[0], Signature) and isinstance(sets[1], GeneSet)
    with pytest.raises(TypeError, match="ambiguous"):
        fs.genesets.coerce_sets(["GPX4", "ACSL4"])
    with pytest.raises(ValueError, match="unique"):
        fs.genesets.coerce_sets(["fpi", "fpi"])
    with pytest.raises(TypeError, match="string"):
        fs.genesets.coerce_sets({"a": "GPX4"})


def test_gmt_round_trip_with_signatures(tmp_path):
    path = fs.genesets.write_gmt(["ferroptosis_core", "kegg_ferroptosis"], tmp_path / "x.gmt")
    plain = fs.genesets.read_gmt(path)
    assert list(plain) == ["ferroptosis_core_up", "ferroptosis_core_down", "kegg_ferroptosis"]
    paired = fs.genesets.read_gmt(path, pair_signatures=True)
    assert paired["ferroptosis_core"].up.genes == fs.genesets.load("ferroptosis_core").up.genes
    assert paired["kegg_ferroptosis"].genes == fs.genesets.load("kegg_ferroptosis").genes


def test_gmt_malformed_lines(tmp_path):
    path = tmp_path / "bad.gmt"
    path.write_text("ok\tdesc\tGPX4\nbroken\tonly-description\n")
    with pytest.raises(ValueError, match="bad.gmt:2: malformed"):
        fs.genesets.read_gmt(path)
    path.write_text("a\td\tGPX4\na\td\tACSL4\n")
    with pytest.raises(ValueError, match="more than once"):
        fs.genesets.read_gmt(path)


def test_gmt_duplicate_genes_dropped_with_warning_or_error(tmp_path):
    path = tmp_path / "dup.gmt"
    path.write_text("a\td\tGPX4\tACSL4\tGPX4\t\t\n\n")
    with pytest.warns(UserWarning, match="GPX4"):
        sets = fs.genesets.read_gmt(path)
    assert sets["a"].genes == ("GPX4", "ACSL4")
    with pytest.raises(ValueError, match="more than once"):
        fs.genesets.read_gmt(path, duplicates="error")
