"""Cohort preparation before pooling cohorts (scanpy-style ``fs.pp`` names): merging on common
genes with a report of what each cohort lost (:func:`merge_cohorts`), per-cohort
standardisation (:func:`scale`) and ComBat batch correction (:func:`combat`, as
``sva::ComBat``)."""

from ferroscore.pp.cohorts import MergedCohorts, merge_cohorts, scale
from ferroscore.pp.combat import combat

__all__ = ["MergedCohorts", "combat", "merge_cohorts", "scale"]
