"""Scoring methods: one module per method, all following :class:`~ferroscore.methods.base.Method`.

| name | reference reproduced | scale-free (rank-based) | per sample |
|---|---|---|---|
| singscore | singscore R (rankGenes ties="min", simpleScore) | yes | yes |
| ssgsea | GSVA 1.46 method="ssgsea" | yes | only with normalize=False |
| gsva | GSVA 1.46 method="gsva" | no (kernel on values) | no |
| zscore | GSVA 1.46 method="zscore" | no | no |
| plage | GSVA 1.46 method="plage" (sign oriented) | no | no |
| ucell | UCell >= 2.7.6 | yes | yes |
| aucell | AUCell normalised AUC (ties averaged) | yes | yes |
| mean | scanpy score_genes (control genes) | no | no |
| pca | R prcomp (PC1 + PC2 of the set's genes, sign oriented) | no | no |
| wsum | weighted sum of values (linear risk scores) | no | yes |
"""

from __future__ import annotations

from ferroscore.methods.aucell import AUCell
from ferroscore.methods.base import Component, Method
from ferroscore.methods.gsva import GSVA
from ferroscore.methods.mean import ControlMean
from ferroscore.methods.pca import PCAScore
from ferroscore.methods.plage import PLAGE
from ferroscore.methods.singscore import Singscore
from ferroscore.methods.ssgsea import SsGSEA
from ferroscore.methods.ucell import UCell
from ferroscore.methods.wsum import WeightedSum
from ferroscore.methods.zscore import ZScore

METHODS: dict[str, type[Method]] = {
    cls.name: cls for cls in (Singscore, SsGSEA, GSVA, ZScore, PLAGE, UCell, AUCell, ControlMean,
                              PCAScore, WeightedSum)
}

__all__ = ["METHODS", "Component", "Method", "make_method"]


def make_method(name: str, **params) -> Method:
    """Instantiate a method by name, validating its parameters."""
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; available: {', '.join(METHODS)}")
    return METHODS[name](**params)
