"""Drug-response prediction from expression, after oncoPredict's ``calcPhenotype``.

Steps (oncoPredict 1.x defaults in brackets):

1. duplicated gene names are averaged [``selection=1``]; train and test keep their common genes;
2. the two matrices are homogenised together [``batchCorrect="eb"``]: ``"combat"`` (ComBat
   with batch = train/test, after dropping genes with variance <= 1e-3 as oncoPredict does),
   ``"quantile"``, ``"standardize"`` (per-gene z-score within each dataset), ``"rank"``
   (per-gene ranks within each dataset, ties averaged) or ``"none"``;
3. the lowest-variance genes are dropped [``removeLowVaryingGenes=0.2``];
4. per drug, lines with a response are used; a response with negative values is shifted to
   start at 1 and power-transformed ``y ** lambda`` with the Box-Cox maximum-likelihood
   ``lambda`` [``powerTransformPhenotype=TRUE``];
5. ridge regression on the standardised genes, the penalty chosen per drug by exact
   leave-one-out cross-validation over a grid. oncoPredict uses ``ridge::linearRidge``'s
   automatic penalty (Cule and De Iorio); ferroscore chooses by leave-one-out prediction error
   instead because it targets what is reported (prediction accuracy), is computed exactly in
   closed form for every penalty at the cost of one eigen-decomposition per drug, and gives the
   cross-validated accuracy as a diagnostic at no extra cost;
6. predictions are back-transformed ``pred ** (1 / lambda) - shift``.

The fit works in the dual (kernel) form: the Gram matrix of the training lines is computed once
and each drug only needs the eigen-decomposition of its lines' block, so hundreds of drugs are
fitted in seconds.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ferroscore.drugs.combat import combat

__all__ = ["DrugModel", "ResponsePrediction", "homogenize_datasets", "inverse_transform_response",
           "predict_response", "transform_response"]

HOMOGENIZE = ("combat", "quantile", "standardize", "rank", "none")


# ----------------------------------------------------------------------------------------------
# Response transform
# ----------------------------------------------------------------------------------------------


def transform_response(y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Shift to positive (if needed) and raise to the Box-Cox maximum-likelihood power.

    Returns ``(transformed, lam, shift)``; invert with ``transformed ** (1 / lam) - shift``.
    As oncoPredict, a response with negative values is shifted by ``-min(y) + 1``; the power
    ``lam`` maximises the Box-Cox profile likelihood on [-3, 3] (car's ``powerTransform``).
    """
    y = np.asarray(y, dtype=float)
    shift = float(-y.min() + 1.0) if y.min() < 0 else 0.0
    if y.min() == 0:  # Box-Cox needs positive values; shift zeros as well
        shift = 1.0
    positive = y + shift
    lam = float(stats.boxcox_normmax(positive, brack=(-3.0, 3.0), method="mle"))
    lam = float(np.clip(lam, -3.0, 3.0))
    if abs(lam) < 1e-8:
        lam = 1e-8  # y ** 0 carries no information; stay invertible
    return positive**lam, lam, shift


def inverse_transform_response(values: np.ndarray, lam: float, shift: float) -> np.ndarray:
    """Undo :func:`transform_response`; values outside the transform's range give NaN."""
    values = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(values > 0, values ** (1.0 / lam), np.nan) - shift
    return out


# ----------------------------------------------------------------------------------------------
# Homogenisation
# ----------------------------------------------------------------------------------------------


def _average_duplicates(frame: pd.DataFrame, what: str, report: dict) -> pd.DataFrame:
    if not frame.index.has_duplicates:
        return frame
    n_dup = int(frame.index.duplicated(keep=False).sum())
    report[f"duplicated_genes_{what}"] = n_dup
    warnings.warn(f"{what}: averaged {n_dup} rows with duplicated gene names",
                  UserWarning, stacklevel=3)
    return frame.groupby(level=0, sort=False).mean()


def homogenize_datasets(train: pd.DataFrame, test: pd.DataFrame, method: str
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Put train and test (genes x samples, same genes) on a common scale."""
    if method not in HOMOGENIZE:
        raise ValueError(f"homogenize must be one of {HOMOGENIZE}, got {method!r}")
    if method == "none":
        return train, test
    if method == "standardize":
        return tuple(f.sub(f.mean(axis=1), axis=0).div(f.std(axis=1, ddof=1), axis=0)
                     for f in (train, test))  # type: ignore[return-value]
    if method == "rank":
        return train.rank(axis=1), test.rank(axis=1)
    both = pd.concat([train, test], axis=1)
    if method == "quantile":
        ranked = np.sort(both.to_numpy(), axis=0).mean(axis=1)
        ranks = both.rank(axis=0, method="average").to_numpy()
        grid = np.arange(1, len(ranked) + 1)
        values = np.interp(ranks, grid, ranked)
        both = pd.DataFrame(values, index=both.index, columns=both.columns)
    else:
        batch = np.r_[np.repeat("train", train.shape[1]), np.repeat("test", test.shape[1])]
        both = combat(both, batch)
    return both.iloc[:, : train.shape[1]], both.iloc[:, train.shape[1]:]


# ----------------------------------------------------------------------------------------------
# Dual ridge with exact leave-one-out selection
# ----------------------------------------------------------------------------------------------


@dataclass
class DrugModel:
    """A fitted per-drug ridge model.

    Attributes
    ----------
    coef
        Coefficients over the model's genes on the standardised scale (see
        :class:`ResponsePrediction`), predicting the power-transformed response.
    intercept, penalty
        Intercept and ridge penalty.
    lam, shift
        The response transform (see :func:`transform_response`).
    """

    coef: np.ndarray
    intercept: float
    penalty: float
    lam: float
    shift: float


def _loo_select(eigval: np.ndarray, eigvec: np.ndarray, y: np.ndarray,
                penalties: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """Exact leave-one-out error of kernel ridge with an intercept for each penalty.

    ``eigval``/``eigvec`` decompose the centred Gram matrix; returns the best index, the LOO
    predictions per penalty and the dual coefficients per penalty.
    """
    n = len(y)
    mean = y.mean()
    proj = eigvec.T @ (y - mean)
    shrink = eigval[:, None] / (eigval[:, None] + penalties[None, :])  # (n, L)
    fitted = mean + eigvec @ (shrink * proj[:, None])  # (n, L)
    hat_diag = 1.0 / n + (eigvec**2) @ shrink  # (n, L)
    loo = y[:, None] - (y[:, None] - fitted) / (1.0 - hat_diag)
    errors = ((y[:, None] - loo) ** 2).mean(axis=0)
    best = int(np.argmin(errors))
    alpha = eigvec @ (proj / (eigval + penalties[best]))
    return best, loo[:, best], alpha


@dataclass
class ResponsePrediction:
    """Result of :func:`predict_response`.

    Attributes
    ----------
    predictions
        Test samples x drugs, on the scale of the training response.
    diagnostics
        Per drug: ``n_lines``, ``penalty``, ``lambda`` (power), ``shift``, ``cv_r2`` and
        ``cv_correlation`` (leave-one-out, on the transformed scale), ``n_nan`` (predictions
        that could not be back-transformed), ``reason`` for drugs that were skipped.
    models
        Drug -> :class:`DrugModel`.
    genes
        Genes used by the models, with the centring/scaling applied before the ridge
        (``gene_mean``, ``gene_sd``, homogenised scale).
    params
        The arguments and counts (genes shared, kept after filtering, duplicates averaged).
    """

    predictions: pd.DataFrame
    diagnostics: pd.DataFrame
    models: dict[str, DrugModel] = field(repr=False)
    genes: pd.DataFrame = field(repr=False)
    params: dict = field(default_factory=dict)


class _DrugFitter:
    """Fits one drug (callable on ``(drug, response column)``) against shared Gram matrices."""

    def __init__(self, x_train, gram, cross, grid, power, min_samples):
        self.x_train, self.gram, self.cross, self.grid = x_train, gram, cross, grid
        self.power, self.min_samples = power, min_samples

    def __call__(self, item: tuple) -> tuple:
        drug, column = item
        y_all = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        measured = np.flatnonzero(np.isfinite(y_all))
        row = {"drug": drug, "n_lines": len(measured), "penalty": np.nan, "lambda": np.nan,
               "shift": np.nan, "cv_r2": np.nan, "cv_correlation": np.nan, "n_nan": 0,
               "reason": ""}
        y = y_all[measured]
        if len(measured) < self.min_samples:
            row["reason"] = f"fewer than min_train_samples={self.min_samples} lines"
        elif np.ptp(y) == 0:
            row["reason"] = "constant response"
        if row["reason"]:
            return drug, np.full(self.cross.shape[0], np.nan), row, None
        target, lam, shift = transform_response(y) if self.power else (y, 1.0, 0.0)
        block = self.gram[np.ix_(measured, measured)]
        means_row = block.mean(axis=0)
        centred = block - means_row[:, None] - means_row[None, :] + block.mean()
        eigval, eigvec = np.linalg.eigh(centred)
        eigval = np.clip(eigval, 0.0, None)
        scale = eigval.mean() if eigval.mean() > 0 else 1.0
        best, loo, alpha = _loo_select(eigval, eigvec, target, self.grid * scale)
        test_cross = self.cross[:, measured]
        centred_cross = (test_cross - test_cross.mean(axis=1, keepdims=True)
                         - means_row[None, :] + block.mean())
        pred_t = target.mean() + centred_cross @ alpha
        pred = inverse_transform_response(pred_t, lam, shift) if self.power else pred_t
        # primal coefficients X_S' alpha of the centred lines, without copying X_S
        weights = np.zeros(self.x_train.shape[0])
        weights[measured] = alpha - alpha.sum() / len(measured)
        coef = self.x_train.T @ weights
        intercept = target.mean() - (self.x_train @ coef)[measured].mean()
        ss_total = ((target - target.mean()) ** 2).sum()
        row.update(penalty=float(self.grid[best] * scale), **{"lambda": lam}, shift=shift,
                   cv_r2=float(1 - ((target - loo) ** 2).sum() / ss_total),
                   cv_correlation=float(np.corrcoef(target, loo)[0, 1]),
                   n_nan=int(np.isnan(pred).sum()))
        model = DrugModel(coef, float(intercept), row["penalty"], lam, shift)
        return drug, pred, row, model


def _check_frame(frame: Any, what: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame")
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"{what} is empty (shape {frame.shape})")
    values = frame.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise ValueError(f"{what} has missing or infinite values; impute or drop them first")
    return frame.astype(float)


def predict_response(
    train_expr: pd.DataFrame,
    train_response: pd.DataFrame,
    test_expr: pd.DataFrame,
    homogenize: str = "combat",
    min_variance_quantile: float = 0.2,
    power_transform: bool = True,
    min_train_samples: int = 10,
    *,
    penalties: np.ndarray | None = None,
) -> ResponsePrediction:
    """Predict each drug's response for test samples from cell-line training data.

    Parameters
    ----------
    train_expr
        Genes x cell lines expression (e.g. GDSC RMA).
    train_response
        Cell lines x drugs response (e.g. IC50; missing = not screened).
    test_expr
        Genes x samples expression of the samples to predict (e.g. tumours).
    homogenize
        ``"combat"`` (default), ``"quantile"``, ``"standardize"``, ``"rank"`` or ``"none"``.
    min_variance_quantile
        Fraction of lowest-variance genes dropped after homogenisation (0 keeps all).
    power_transform
        Box-Cox-power-transform each drug's response before the ridge fit.
    min_train_samples
        Drugs with fewer measured lines are skipped (reported in ``diagnostics``).
    penalties
        Ridge penalties tried, relative to the mean eigenvalue of the centred Gram matrix
        (default: 25 values from 1e-3 to 1e3).

    Raises
    ------
    ValueError
        No cell lines in common, fewer than ``min_train_samples`` lines overall, no genes in
        common between train and test (with counts), bad values.
    """
    train_expr = _check_frame(train_expr, "train_expr")
    test_expr = _check_frame(test_expr, "test_expr")
    if not isinstance(train_response, pd.DataFrame):
        raise TypeError("train_response must be a cell lines x drugs DataFrame")
    if not 0 <= min_variance_quantile < 1:
        raise ValueError(f"min_variance_quantile must be in [0, 1), got {min_variance_quantile}")
    report: dict[str, Any] = {}
    train_expr = _average_duplicates(train_expr, "train_expr", report)
    test_expr = _average_duplicates(test_expr, "test_expr", report)
    lines = train_expr.columns.intersection(train_response.index)
    if len(lines) < min_train_samples:
        raise ValueError(f"only {len(lines)} cell lines are in both train_expr (columns) and "
                         f"train_response (index); need at least {min_train_samples}")
    genes = train_expr.index.intersection(test_expr.index)
    report.update(n_genes_train=int(train_expr.shape[0]), n_genes_test=int(test_expr.shape[0]),
                  n_genes_shared=len(genes), n_lines=len(lines))
    if len(genes) == 0:
        raise ValueError(f"train_expr ({train_expr.shape[0]} genes) and test_expr "
                         f"({test_expr.shape[0]} genes) share no gene names; use the same "
                         "identifiers (e.g. map both to symbols with fs.ids.resolve)")
    train, test = train_expr.loc[genes, lines], test_expr.loc[genes]
    if homogenize == "combat":
        variance = pd.concat([train, test], axis=1).var(axis=1)
        keep = variance > 1e-3
        report["n_genes_low_variance_before_combat"] = int((~keep).sum())
        train, test = train.loc[keep], test.loc[keep]
    train, test = homogenize_datasets(train, test, homogenize)
    if min_variance_quantile > 0:
        variance = pd.concat([test, train], axis=1).var(axis=1).to_numpy()
        n_keep = int(len(variance) * (1 - min_variance_quantile))
        order = np.argsort(-variance, kind="mergesort")[:n_keep]
        train, test = train.iloc[np.sort(order)], test.iloc[np.sort(order)]
    report["n_genes_used"] = int(train.shape[0])
    gene_mean = train.mean(axis=1)
    gene_sd = train.std(axis=1, ddof=1).replace(0, np.nan)
    usable = gene_sd.notna()
    x_train = ((train[usable].sub(gene_mean[usable], axis=0)).div(gene_sd[usable], axis=0)
               ).to_numpy().T
    x_test = ((test[usable].sub(gene_mean[usable], axis=0)).div(gene_sd[usable], axis=0)
              ).to_numpy().T
    gram = x_train @ x_train.T
    cross = x_test @ x_train.T
    grid = np.logspace(-3, 3, 25) if penalties is None else np.asarray(penalties, float)

    response = train_response.loc[lines]
    fit = _DrugFitter(x_train, gram, cross, grid, power_transform, min_train_samples)
    fitted = [fit((drug, response[drug])) for drug in response.columns]  # BLAS is threaded
    predictions = {drug: pred for drug, pred, _, _ in fitted}
    diagnostics = [row for _, _, row, _ in fitted]
    models = {drug: model for drug, _, _, model in fitted if model is not None}
    prediction_frame = pd.DataFrame(predictions, index=test.columns)
    prediction_frame.index.name = "sample"
    gene_table = pd.DataFrame({"gene_mean": gene_mean[usable], "gene_sd": gene_sd[usable]})
    params = {"homogenize": homogenize, "min_variance_quantile": min_variance_quantile,
              "power_transform": power_transform, "min_train_samples": min_train_samples,
              "penalties_relative": grid.tolist(), **report}
    return ResponsePrediction(prediction_frame, pd.DataFrame(diagnostics).set_index("drug"),
                              models, gene_table, params)
