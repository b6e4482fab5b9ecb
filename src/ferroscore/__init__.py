"""ferroscore: ferroptosis scores from transcriptomes, for patients and drugs."""

from ferroscore import datasets, genesets, ids
from ferroscore._version import __version__

__all__ = ["__version__", "datasets", "genesets", "ids"]
