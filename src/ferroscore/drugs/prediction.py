"""Drug-response prediction from expression, after oncoPredict's ``calcPhenotype``.

Steps (oncoPredict 1.x defaults in brackets):

1. duplicated gene names are averaged [``selection=1``]; train and test keep their common genes;
2. the two matrices are homogenised together [``batchCorrect="eb"``]: ``"combat"`` (ComBat
   with batch = train/test, after dropping genes with variance <= 1e-3 as oncoPredict does),
   ``"quantile"``, ``"standardize"`` (per-gene z-score within each dataset), ``"rank"``
   (per-gene ranks within each dataset, ties averaged) or ``"none"``;
3. the lowest-variance genes are dropped [``removeLowVaryingGenes=0.2``]: ranked by the
   variance of the homogenised train and test samples together
   [``removeLowVaringGenesFrom="homogenizeData"``], except for ``"standardize"`` and ``"rank"``,
   which give every gene the same spread, so there a gene must rank above the quantile in the
   training and in the test data before homogenisation (oncoPredict's ``"rawData"`` rule);
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
and each drug only needs the eigen-decomposition of its lines' block, shared by all drugs
screened on the same lines, so hundreds of drugs are fitted in seconds.

Input rules (no silent wrong answers): expression must be finite; a response may be missing
(not screened) but not infinite or non-numeric; duplicated cell-line, sample or drug names are
errors (duplicated genes are averaged and reported); train and test must share at least
``min_shared_genes`` genes (default 100; a warning below half of the training genes); the
per-dataset homogenisations (``"combat"``, ``"standardize"``, ``"rank"``) need at least two
test samples; genes that become non-finite after homogenisation (constant within one dataset
under ``"standardize"``) are dropped and counted.
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

from ferroscore.pp.combat import combat
from ferroscore.scoring import _n_jobs
from ferroscore.tables import check_finite, numeric_frame

__all__ = ["DrugModel", "Features", "ResponsePrediction", "check_expression",
           "check_training_response", "fit_drugs", "homogenize_datasets",
           "inverse_transform_response", "predict_response", "prepare_features",
           "transform_response"]

HOMOGENIZE = ("combat", "quantile", "standardize", "rank", "none")
PER_DATASET = ("combat", "standardize", "rank")  # estimate per-gene statistics of each dataset
MIN_SHARED_GENES = 100
DEFAULT_PENALTIES = np.logspace(-3, 3, 25)


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
    # the likelihood ignores order; sorting makes the optimiser's answer ignore it too
    lam = float(stats.boxcox_normmax(np.sort(positive), brack=(-3.0, 3.0), method="mle"))
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
                  UserWarning, stacklevel=4)
    return frame.groupby(level=0, sort=False).mean()


def homogenize_datasets(train: pd.DataFrame, test: pd.DataFrame, method: str
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Put train and test (genes x samples, same genes) on a common scale.

    ``"combat"``: ComBat with batch = train/test; ``"quantile"``: quantile normalisation of
    all samples together; ``"standardize"``: per-gene z-score within each dataset; ``"rank"``:
    per-gene ranks within each dataset (ties averaged); ``"none"``: unchanged.
    """
    if method not in HOMOGENIZE:
        raise ValueError(f"homogenize must be one of {HOMOGENIZE}, got {method!r}")
    if not train.index.equals(test.index):
        raise ValueError("train and test must have the same genes in the same order")
    a, b = _homogenize(train.to_numpy(dtype=float), test.to_numpy(dtype=float), method)
    return (pd.DataFrame(a, index=train.index, columns=train.columns),
            pd.DataFrame(b, index=test.index, columns=test.columns))


def _homogenize(train: np.ndarray, test: np.ndarray, method: str
                ) -> tuple[np.ndarray, np.ndarray]:
    if method == "none":
        return train, test
    if method == "standardize":
        with np.errstate(invalid="ignore", divide="ignore"):
            return tuple((x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, ddof=1, keepdims=True)
                         for x in (train, test))  # type: ignore[return-value]
    if method == "rank":
        return stats.rankdata(train, axis=1), stats.rankdata(test, axis=1)
    both = np.hstack([train, test])
    if method == "quantile":
        reference = np.sort(both, axis=0).mean(axis=1)
        ranks = stats.rankdata(both, axis=0)
        both = np.interp(ranks, np.arange(1, len(reference) + 1), reference)
    else:
        batch = np.r_[np.repeat("train", train.shape[1]), np.repeat("test", test.shape[1])]
        both = combat(both, batch)
    return both[:, : train.shape[1]], both[:, train.shape[1]:]


# ----------------------------------------------------------------------------------------------
# Features: homogenised, filtered, standardised genes
# ----------------------------------------------------------------------------------------------


@dataclass
class Features:
    """The ridge inputs shared by all drugs: training lines and test samples on the same
    standardised genes (internal; also used by cross-validation and its baselines)."""

    x_train: np.ndarray  # lines x genes
    x_test: np.ndarray  # samples x genes
    lines: pd.Index
    samples: pd.Index
    genes: pd.DataFrame  # gene_mean, gene_sd per gene (homogenised scale)
    report: dict

    def without(self, genes: list[str] | None) -> Features:
        """The same features without ``genes`` (the number actually present is reported)."""
        drop = self.genes.index.isin(list(genes or []))
        report = {**self.report, "n_genes_excluded": int(drop.sum()),
                  "genes_excluded": self.genes.index[drop].tolist(),
                  "n_genes_used": int((~drop).sum())}
        return Features(self.x_train[:, ~drop], self.x_test[:, ~drop], self.lines,
                        self.samples, self.genes[~drop], report)


def _top_variance(variance: np.ndarray, quantile: float) -> np.ndarray:
    """Mask of the ``1 - quantile`` fraction of genes with the largest variance (ties by
    gene order)."""
    keep = np.zeros(len(variance), dtype=bool)
    keep[np.argsort(-variance, kind="mergesort")[: int(len(variance) * (1 - quantile))]] = True
    return keep


def prepare_features(train_expr: pd.DataFrame, test_expr: pd.DataFrame, *, homogenize: str,
                     min_variance_quantile: float, min_shared_genes: int = MIN_SHARED_GENES
                     ) -> Features:
    """Common genes, homogenisation, variance filter and standardisation (steps 1-3)."""
    if homogenize not in HOMOGENIZE:
        raise ValueError(f"homogenize must be one of {HOMOGENIZE}, got {homogenize!r}")
    if not 0 <= min_variance_quantile < 1:
        raise ValueError(f"min_variance_quantile must be in [0, 1), got {min_variance_quantile}")
    if homogenize in PER_DATASET and test_expr.shape[1] < 2:
        raise ValueError(f"homogenize={homogenize!r} estimates per-gene statistics within the "
                         f"test samples and needs at least 2 of them (got {test_expr.shape[1]}); "
                         "predict several samples together, or use homogenize='quantile' (or "
                         "'none' if test and training data share one platform and scale)")
    report: dict[str, Any] = {}
    train_expr = _average_duplicates(train_expr, "train_expr", report)
    test_expr = _average_duplicates(test_expr, "test_expr", report)
    genes = train_expr.index.intersection(test_expr.index, sort=False)
    report.update(n_genes_train=int(train_expr.shape[0]), n_genes_test=int(test_expr.shape[0]),
                  n_genes_shared=len(genes))
    if len(genes) < min_shared_genes:
        shared = f"only {len(genes)} gene names" if len(genes) else "no gene names"
        raise ValueError(f"train_expr ({train_expr.shape[0]} genes) and test_expr "
                         f"({test_expr.shape[0]} genes) share {shared}; at least "
                         f"min_shared_genes={min_shared_genes} are needed. Use the same "
                         "identifiers in both (e.g. map both to symbols with fs.ids.resolve)")
    if len(genes) < 0.5 * train_expr.shape[0]:
        warnings.warn(f"test_expr has only {len(genes)} of the {train_expr.shape[0]} training "
                      "genes; the models use these shared genes only", UserWarning,
                      stacklevel=3)
    train = train_expr.loc[genes].to_numpy(dtype=float)
    test = test_expr.loc[genes].to_numpy(dtype=float)
    if homogenize == "combat":
        keep = np.hstack([train, test]).var(axis=1, ddof=1) > 1e-3
        report["n_genes_low_variance_before_combat"] = int((~keep).sum())
        train, test, genes = train[keep], test[keep], genes[keep]
    if homogenize in ("standardize", "rank"):  # afterwards every gene has the same spread
        keep = (_top_variance(train.var(axis=1, ddof=1), min_variance_quantile)
                & _top_variance(test.var(axis=1, ddof=1), min_variance_quantile))
        train, test, genes = train[keep], test[keep], genes[keep]
    train, test = _homogenize(train, test, homogenize)
    finite = np.isfinite(train).all(axis=1) & np.isfinite(test).all(axis=1)
    report["n_genes_not_finite_after_homogenizing"] = int((~finite).sum())
    train, test, genes = train[finite], test[finite], genes[finite]
    if homogenize not in ("standardize", "rank"):
        keep = _top_variance(np.hstack([test, train]).var(axis=1, ddof=1), min_variance_quantile)
        train, test, genes = train[keep], test[keep], genes[keep]
    mean, sd = train.mean(axis=1), train.std(axis=1, ddof=1)
    usable = sd > 0
    report["n_genes_constant_in_training"] = int((~usable).sum())
    report["n_genes_used"] = int(usable.sum())
    mean, sd = mean[usable], sd[usable]
    x_train = (train[usable].T - mean) / sd
    x_test = (test[usable].T - mean) / sd
    table = pd.DataFrame({"gene_mean": mean, "gene_sd": sd}, index=genes[usable])
    return Features(x_train, x_test, train_expr.columns, test_expr.columns, table, report)


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
    predictions at the best penalty and its dual coefficients.
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
class _Kernel:
    """Eigen-decomposition of the centred Gram block of one set of measured lines."""

    measured: np.ndarray
    eigval: np.ndarray
    eigvec: np.ndarray
    row_means: np.ndarray
    block_mean: float

    @classmethod
    def of(cls, gram: np.ndarray, measured: np.ndarray) -> _Kernel:
        block = gram[np.ix_(measured, measured)]
        row_means = block.mean(axis=0)
        centred = block - row_means[:, None] - row_means[None, :] + block.mean()
        eigval, eigvec = np.linalg.eigh(centred)
        return cls(measured, np.clip(eigval, 0.0, None), eigvec, row_means, float(block.mean()))


def _empty_row(drug: Any, n_lines: int) -> dict:
    return {"drug": drug, "n_lines": n_lines, "penalty": np.nan, "lambda": np.nan,
            "shift": np.nan, "cv_r2": np.nan, "cv_correlation": np.nan, "n_nan": 0,
            "reason": ""}


def _fit_one(drug: Any, y: np.ndarray, kernel: _Kernel, features: Features, cross: np.ndarray,
             grid: np.ndarray, power: bool) -> tuple[np.ndarray, dict, DrugModel]:
    measured = kernel.measured
    row = _empty_row(drug, len(measured))
    target, lam, shift = transform_response(y) if power else (y, 1.0, 0.0)
    scale = kernel.eigval.mean() if kernel.eigval.mean() > 0 else 1.0
    best, loo, alpha = _loo_select(kernel.eigval, kernel.eigvec, target, grid * scale)
    test_cross = cross[:, measured]
    centred_cross = (test_cross - test_cross.mean(axis=1, keepdims=True)
                     - kernel.row_means[None, :] + kernel.block_mean)
    pred_t = target.mean() + centred_cross @ alpha
    pred = inverse_transform_response(pred_t, lam, shift) if power else pred_t
    # primal coefficients X_S' alpha of the centred lines, without copying X_S
    weights = np.zeros(features.x_train.shape[0])
    weights[measured] = alpha - alpha.sum() / len(measured)
    coef = features.x_train.T @ weights
    intercept = target.mean() - (features.x_train @ coef)[measured].mean()
    ss_total = ((target - target.mean()) ** 2).sum()
    row.update(penalty=float(grid[best] * scale), **{"lambda": lam}, shift=shift,
               cv_r2=float(1 - ((target - loo) ** 2).sum() / ss_total),
               cv_correlation=float(np.corrcoef(target, loo)[0, 1]),
               n_nan=int(np.isnan(pred).sum()))
    return pred, row, DrugModel(coef, float(intercept), row["penalty"], lam, shift)


def fit_drugs(features: Features, response: pd.DataFrame, *, power_transform: bool,
              min_train_samples: int, penalties: np.ndarray, n_jobs: int | None = None
              ) -> tuple[pd.DataFrame, pd.DataFrame, dict[Any, DrugModel]]:
    """Fit every drug (columns of ``response``, rows = ``features.lines``) and predict the
    test samples.

    Drugs screened on the same lines share one eigen-decomposition. The decompositions run in
    ``n_jobs`` threads with single-threaded BLAS each: LAPACK's symmetric eigen-solver gains
    little from threads at these sizes and slows down badly when the cores are shared.
    """
    values = response.to_numpy(dtype=float)
    gram = features.x_train @ features.x_train.T
    cross = features.x_test @ features.x_train.T
    measured = np.isfinite(values)
    predictions = np.full((len(features.samples), values.shape[1]), np.nan)
    rows: list[dict] = [_empty_row(d, int(measured[:, j].sum()))
                        for j, d in enumerate(response.columns)]
    models: dict[Any, DrugModel] = {}
    groups: dict[bytes, list[int]] = {}
    for j in range(values.shape[1]):
        y = values[measured[:, j], j]
        if len(y) < min_train_samples:
            rows[j]["reason"] = f"fewer than min_train_samples={min_train_samples} lines"
        elif np.ptp(y) == 0:
            rows[j]["reason"] = "constant response"
        else:
            groups.setdefault(np.packbits(measured[:, j]).tobytes(), []).append(j)

    def fit_group(columns: list[int]) -> list[tuple[int, np.ndarray, dict, DrugModel]]:
        kernel = _Kernel.of(gram, np.flatnonzero(measured[:, columns[0]]))
        return [(j, *_fit_one(response.columns[j], values[kernel.measured, j], kernel,
                              features, cross, penalties, power_transform)) for j in columns]

    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(
            _n_jobs(n_jobs)) as pool:
        for fitted in pool.map(fit_group, groups.values()):
            for j, pred, row, model in fitted:
                predictions[:, j], rows[j], models[response.columns[j]] = pred, row, model
    frame = pd.DataFrame(predictions, index=features.samples, columns=response.columns)
    frame.index.name = "sample"
    return frame, pd.DataFrame(rows).set_index("drug"), models


# ----------------------------------------------------------------------------------------------
# Public entry point
# ----------------------------------------------------------------------------------------------


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
        The arguments and counts (genes shared, kept after filtering, excluded, duplicates
        averaged, lines used and left out).
    """

    predictions: pd.DataFrame
    diagnostics: pd.DataFrame
    models: dict[str, DrugModel] = field(repr=False)
    genes: pd.DataFrame = field(repr=False)
    params: dict = field(default_factory=dict)


def check_expression(frame: Any, what: str) -> pd.DataFrame:
    """A genes x samples frame of finite numbers with unique sample names."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} must be a genes x samples pandas DataFrame, got "
                        f"{type(frame).__name__}")
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"{what} is empty (shape {frame.shape})")
    if frame.columns.has_duplicates:
        repeated = frame.columns[frame.columns.duplicated()].unique()
        raise ValueError(f"{len(repeated)} sample names occur more than once in the columns of "
                         f"{what} (e.g. {list(repeated[:3])}); keep one column per sample")
    frame = numeric_frame(frame, what, "gene", "sample")
    values = frame.to_numpy(dtype=float)
    if not np.isfinite(values).all():
        i, j = np.argwhere(~np.isfinite(values))[0]
        raise ValueError(f"{what} has {int((~np.isfinite(values)).sum())} missing or infinite "
                         f"values (e.g. gene {frame.index[i]!r}, sample {frame.columns[j]!r}); "
                         "impute or drop them first")
    return frame.astype(float)


def check_training_response(response: Any) -> pd.DataFrame:
    """A lines x drugs frame: numbers or NaN (not screened), unique line and drug names."""
    if not isinstance(response, pd.DataFrame):
        raise TypeError("train_response must be a cell lines x drugs DataFrame")
    if response.shape[0] == 0 or response.shape[1] == 0:
        raise ValueError(f"train_response is empty (shape {response.shape})")
    for axis, what, fix in ((response.index, "cell lines", "one row per line"),
                            (response.columns, "drugs", "one column per drug (e.g. average "
                                                        "repeated screens)")):
        if axis.has_duplicates:
            repeated = axis[axis.duplicated()].unique()
            raise ValueError(f"{len(repeated)} {what} occur more than once in train_response "
                             f"(e.g. {list(repeated[:3])}); keep {fix}")
    response = numeric_frame(response, "train_response", "line", "drug", " (NaN = not screened)")
    check_finite(response, "train_response")
    return response.astype(float)


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
    exclude_genes: list[str] | None = None,
    min_shared_genes: int = MIN_SHARED_GENES,
) -> ResponsePrediction:
    """Predict each drug's response for test samples from cell-line training data.

    Parameters
    ----------
    train_expr
        Genes x cell lines expression (e.g. GDSC, :func:`ferroscore.datasets.gdsc`).
    train_response
        Cell lines x drugs response (e.g. ln IC50; NaN = not screened).
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
    exclude_genes
        Genes left out of the models' features (e.g. a signature's genes, so that a predicted
        response cannot share them with a score); the number present is reported.
    min_shared_genes
        The fewest genes train and test must share (an error below, with the counts).

    Raises
    ------
    ValueError
        No cell lines in common, fewer than ``min_train_samples`` lines overall, fewer than
        ``min_shared_genes`` genes in common (with counts), duplicated names, bad values, a
        single test sample with a per-dataset homogenisation.

    Examples
    --------
    >>> data = fs.datasets.gdsc("GDSC2")
    >>> tumours, _ = fs.datasets.breast_cancer(as_frames=True)
    >>> result = fs.drugs.predict_response(data.expression, data.response[["Lapatinib"]],
    ...                                    tumours)
    >>> result.predictions.shape
    (124, 1)
    """
    train_expr = check_expression(train_expr, "train_expr")
    test_expr = check_expression(test_expr, "test_expr")
    train_response = check_training_response(train_response)
    lines = train_expr.columns.intersection(train_response.index, sort=False)
    if len(lines) < min_train_samples:
        raise ValueError(f"only {len(lines)} cell lines are in both train_expr (columns) and "
                         f"train_response (index); need at least {min_train_samples}")
    unused = train_response.index.difference(lines)
    if len(unused):
        warnings.warn(f"{len(unused)} train_response lines have no expression in train_expr "
                      f"and were left out (e.g. {list(unused[:3])})", UserWarning, stacklevel=2)
    features = prepare_features(train_expr[lines], test_expr, homogenize=homogenize,
                                min_variance_quantile=min_variance_quantile,
                                min_shared_genes=min_shared_genes)
    features = features.without(exclude_genes)
    grid = DEFAULT_PENALTIES if penalties is None else np.asarray(penalties, float)
    predictions, diagnostics, models = fit_drugs(
        features, train_response.loc[lines], power_transform=power_transform,
        min_train_samples=min_train_samples, penalties=grid)
    outside = diagnostics.index[diagnostics["n_nan"] > 0]
    if len(outside):
        warnings.warn(f"{int(diagnostics['n_nan'].sum())} predictions of {len(outside)} drugs "
                      f"(e.g. {list(outside[:3])}) fall outside the power transform's range and "
                      "are NaN (diagnostics['n_nan']); power_transform=False avoids this",
                      UserWarning, stacklevel=2)
    params = {"homogenize": homogenize, "min_variance_quantile": min_variance_quantile,
              "power_transform": power_transform, "min_train_samples": min_train_samples,
              "min_shared_genes": min_shared_genes, "penalties_relative": grid.tolist(),
              "n_lines": len(lines), "n_response_lines_without_expression": len(unused),
              **features.report}
    return ResponsePrediction(predictions, diagnostics, models, features.genes, params)
