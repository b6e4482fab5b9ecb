"""Drug sensitivity: association tests, ComBat, oncoPredict-style response prediction trained on
the bundled GDSC screens, its cross-validation, and the ferroptosis-score drug analysis."""

from ferroscore.drugs.association import associate, compare_groups
from ferroscore.drugs.combat import combat
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
