"""Drug sensitivity: association tests, oncoPredict-style response prediction trained on the
bundled GDSC screens, its cross-validation, and the ferroptosis-score drug analysis.

ComBat moved to :func:`ferroscore.pp.combat`; ``fs.drugs.combat`` still works for one release
and warns (DeprecationWarning).
"""

import functools as _functools
import warnings as _warnings

from ferroscore.drugs.association import associate, compare_groups
from ferroscore.drugs.prediction import (
    ResponsePrediction,
    homogenize_datasets,
    inverse_transform_response,
    predict_response,
    transform_response,
)
from ferroscore.drugs.readers import read_expression, read_rds, read_response
from ferroscore.drugs.sensitivity import (
    STUDY_DRUGS,
    DrugSensitivity,
    drug_sensitivity,
    reported_directions,
)
from ferroscore.drugs.training import resolve_drugs
from ferroscore.drugs.validation import CrossValidation, cross_validate
from ferroscore.pp.combat import combat as _combat


@_functools.wraps(_combat)
def combat(*args, **kwargs):
    """Deprecated alias of :func:`ferroscore.pp.combat` (removed in the next release)."""
    _warnings.warn("fs.drugs.combat moved to fs.pp.combat; the alias will be removed in the next "
                   "release", DeprecationWarning, stacklevel=2)
    return _combat(*args, **kwargs)


__all__ = [
    "STUDY_DRUGS",
    "CrossValidation",
    "DrugSensitivity",
    "ResponsePrediction",
    "associate",
    "combat",
    "compare_groups",
    "cross_validate",
    "drug_sensitivity",
    "homogenize_datasets",
    "inverse_transform_response",
    "predict_response",
    "read_expression",
    "read_rds",
    "read_response",
    "reported_directions",
    "resolve_drugs",
    "transform_response",
]
