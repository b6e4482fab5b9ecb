"""ferroscore: ferroptosis scores from transcriptomes, for patients and drugs.

>>> import ferroscore as fs
>>> fs.genesets.available()          # the curated catalogue
>>> result = fs.score(expression, "ferroptosis_core", method="singscore")
"""

from ferroscore import (
    datasets,
    de,
    drugs,
    genesets,
    ids,
    pl,
    pp,
    significance,
    subtypes,
    survival,
    tl,
)
from ferroscore._version import __version__
from ferroscore.genesets import GeneSet, Signature
from ferroscore.result import ScoreResult
from ferroscore.scoring import FerroptosisScorer, score

__all__ = [
    "FerroptosisScorer",
    "GeneSet",
    "ScoreResult",
    "Signature",
    "__version__",
    "datasets",
    "de",
    "drugs",
    "genesets",
    "ids",
    "pl",
    "pp",
    "score",
    "significance",
    "subtypes",
    "survival",
    "tl",
]
