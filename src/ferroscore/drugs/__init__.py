"""Drug sensitivity: association tests, ComBat, and oncoPredict-style response prediction."""

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

__all__ = [
    "ResponsePrediction",
    "associate",
    "combat",
    "compare_groups",
    "homogenize_datasets",
    "inverse_transform_response",
    "predict_response",
    "read_expression",
    "read_rds",
    "read_response",
    "transform_response",
]
