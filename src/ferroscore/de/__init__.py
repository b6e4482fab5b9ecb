"""Differential expression: limma's moderated t and F statistics (``fs.de.limma``).

- :mod:`~ferroscore.de.design`: expression orientation, design matrices from groups or
  covariates, rank checks, contrasts.
- :mod:`~ferroscore.de.linear`: least squares per gene (NaN handled per gene) and contrasts.
- :mod:`~ferroscore.de.ebayes`: the empirical-Bayes prior, moderated statistics, B, BH.
- :mod:`~ferroscore.de.limma`: the public function and its result.
"""

from ferroscore.de.limma import LimmaResult, limma

__all__ = ["LimmaResult", "limma"]
