"""ferroscore: ferroptosis scores from transcriptomes, for patients and drugs.

>>> import ferroscore as fs
>>> catalogue = fs.genesets.available()          # the curated catalogue
>>> expression, clinical = fs.datasets.breast_cancer(as_frames=True)
>>> result = fs.score(expression, "ferroptosis_core", method="singscore")
>>> result.scores["ferroptosis_core"].shape       # one score per tumour
(124,)
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
