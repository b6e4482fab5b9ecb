"""Subtypes: consensus clustering of samples (``fs.subtypes.consensus``) and the comparison of
subtypes in one call (``fs.subtypes.compare``).

- :mod:`~ferroscore.subtypes.consensus`: ConsensusClusterPlus's definitions, fast resampling.
- :mod:`~ferroscore.subtypes.compare`: survival, scores and DE across subtypes.
- :mod:`~ferroscore.subtypes._kernels`: numba clustering kernels (hierarchical, PAM, k-means).
"""

from ferroscore.subtypes.compare import SubtypeComparison, compare
from ferroscore.subtypes.consensus import ConsensusResult, KRecommendation, consensus

__all__ = ["ConsensusResult", "KRecommendation", "SubtypeComparison", "compare", "consensus"]
