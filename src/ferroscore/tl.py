"""scanpy-style tools: score cells in an AnnData and write the results into it.

``fs.tl.score`` defaults to UCell, which is robust to dropout in single-cell data (``fs.score``
defaults to singscore, for bulk). Like ``sc.tl.score_genes``, the functions work in place and
return None, or return a modified copy with ``copy=True``; ``layer`` and ``use_raw`` choose the
matrix (``use_raw`` defaults to True when ``adata.raw`` exists and no layer is given; giving
both is an error). Parameters, versions and the coverage report go to ``adata.uns[key_added]``.
Backed AnnData (``anndata.read_h5ad(path, backed="r")``) is streamed block by block and its file
is never written.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from ferroscore import genesets, ids
from ferroscore.matrix import anndata_matrix, is_backed_dataset, is_dask_array, var_gene_names
from ferroscore.result import ScoreResult, set_names, to_jsonable
from ferroscore.scoring import score as score_matrix

__all__ = ["score", "score_axes"]

NON_NEGATIVE_METHODS = ("ucell", "aucell")


def _use_raw(adata, use_raw: bool | None, layer: str | None) -> bool:
    """scanpy's default: the raw matrix when it exists and no layer is asked for."""
    if use_raw is not None:
        return use_raw
    return layer is None and adata.raw is not None


def _check_non_negative(matrix: Any, method: str, where: str) -> None:
    if method not in NON_NEGATIVE_METHODS:
        return
    if is_backed_dataset(matrix) or is_dask_array(matrix):
        sample = matrix[: min(matrix.shape[0], 200)]
        matrix = sample.compute() if is_dask_array(sample) else sample
    data = matrix.data if sparse.issparse(matrix) else np.asarray(matrix)
    if data.size and np.nanmin(data) < 0:
        raise ValueError(f"{where} has negative values (scaled data?); {method} ranks expression "
                         "and expects non-negative values, with zeros at the bottom. Score the "
                         "log-normalised values instead (layer=... or use_raw=True), or use a "
                         "method for centred data such as zscore")


def _uns_safe(value: Any) -> Any:
    """Make parameters writable to .h5ad: drop None, stringify mixed lists."""
    value = to_jsonable(value)
    if isinstance(value, dict):
        return {k: _uns_safe(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value) and value:
            return np.asarray(value)
        if all(isinstance(v, str) for v in value) and value:
            return np.asarray(value, dtype=object)
        if all(isinstance(v, dict) for v in value) and value:
            return {str(i): _uns_safe(v) for i, v in enumerate(value)}
        return np.asarray([str(v) for v in value], dtype=object)
    return value


def _coverage_table(coverage: pd.DataFrame) -> pd.DataFrame:
    """Coverage with list/dict cells flattened to strings (h5ad-friendly)."""
    flat = coverage.copy()
    for column in ("found", "missing", "excluded", "notes"):
        flat[column] = flat[column].map(lambda v: "; ".join(map(str, v)))
    for column in ("mapped_aliases", "ambiguous"):
        flat[column] = flat[column].map(lambda d: "; ".join(f"{k}->{v}" for k, v in d.items()))
    return flat.astype(dict.fromkeys(("set", "side"), str))


def _warn_if_clipped(result: ScoreResult, key_added: str) -> None:
    if result.params["method"] != "ucell" or not result.params["parameters"]["clip"]:
        return
    for entry in result.params["sets"]:
        if entry["type"] != "signature":
            continue
        zero = float((result.scores[entry["name"]] == 0).mean())
        if zero > 0.9:
            name = _obs_name(entry["name"], result, key_added)
            warnings.warn(f"UCell's signed score max(0, up - w_neg * down) is 0 in {zero:.0%} of "
                          f"cells for {entry['name']!r}: its suppressors outrank its drivers. "
                          f"See {name}_up / {name}_down, or pass clip=False for the "
                          "unclipped difference.", UserWarning, stacklevel=3)


def _obs_name(column: str, result: ScoreResult, key_added: str) -> str:
    names = set_names(result.params)
    if len(names) == 1:
        return key_added + column[len(names[0]):]
    return f"{key_added}_{column}"


def score(
    adata,
    sets: Any = "ferroptosis_core",
    method: str = "ucell",
    *,
    key_added: str = "ferroptosis",
    layer: str | None = None,
    use_raw: bool | None = None,
    gene_symbols: str | None = None,
    copy: bool = False,
    **params: Any,
):
    """Score every cell and write the scores to ``adata.obs``.

    Parameters
    ----------
    adata
        AnnData (in memory, backed read-only, or with a dask ``X``).
    sets
        As for :func:`ferroscore.score` (default ``"ferroptosis_core"``).
    method
        Scoring method; default ``"ucell"`` (single cells). See :func:`ferroscore.score`.
    key_added
        Name of the score column. One set writes ``obs[key_added]`` (and ``_up``, ``_down``,
        ``_pvalue``, ``_qvalue``, extras); several sets write ``obs[f"{key_added}_{column}"]``.
        ``uns[key_added]`` gets ``{"params": ..., "coverage": ...}``.
    layer, use_raw, gene_symbols
        Which matrix and gene names to use (scanpy semantics for ``layer``/``use_raw``;
        ``gene_symbols`` names a ``var`` column holding gene names).
    copy
        Return a modified copy instead of writing in place.
    **params
        Engine options and method parameters of :func:`ferroscore.score` (e.g.
        ``n_permutations``, ``chunk_size``, ``max_rank``).

    Returns
    -------
    AnnData or None
        The copy with ``copy=True``, else None.
    """
    if copy:
        if adata.isbacked:
            raise ValueError("copy=True needs an in-memory AnnData; call adata.to_memory() first "
                             "or score the backed AnnData in place (only obs and uns change)")
        adata = adata.copy()
    raw = _use_raw(adata, use_raw, layer)
    matrix, _, _, where = anndata_matrix(adata, layer, raw)
    _check_non_negative(matrix, method, where)
    result = score_matrix(adata, sets, method, layer=layer, use_raw=raw,
                          gene_symbols=gene_symbols, **params)
    for column in result.scores.columns:
        adata.obs[_obs_name(column, result, key_added)] = result.scores[column].to_numpy(
            dtype=np.float64)
    _warn_if_clipped(result, key_added)
    adata.uns[key_added] = {
        "params": _uns_safe({**result.params, "layer": layer, "use_raw": raw,
                             "obs_columns": [_obs_name(c, result, key_added)
                                             for c in result.scores.columns]}),
        "coverage": _coverage_table(result.coverage),
    }
    return adata if copy else None


def score_axes(
    adata,
    method: str = "ucell",
    *,
    axes: list[str] | None = None,
    key_added: str = "ferroptosis_axes",
    layer: str | None = None,
    use_raw: bool | None = None,
    gene_symbols: str | None = None,
    copy: bool = False,
    **params: Any,
):
    """Score the catalogue's pathway axes (iron import, iron storage, GSH/GPX4, lipid
    peroxidation, FSP1/CoQ10, GCH1/BH4, DHODH, NRF2, MUFA) for every cell.

    Writes a cells x axes DataFrame to ``adata.obsm[key_added]`` and parameters, coverage and
    each axis's direction (pro- or anti-ferroptotic) to ``adata.uns[key_added]``. Axes with no
    gene in the data are left out with a warning (listed in ``uns[key_added]["skipped"]``).
    """
    if copy:
        if adata.isbacked:
            raise ValueError("copy=True needs an in-memory AnnData; call adata.to_memory() first")
        adata = adata.copy()
    table = genesets.available()
    table = table[table["kind"] == "axis"]
    names = list(table["name"]) if axes is None else list(axes)
    unknown = sorted(set(names) - set(table["name"]))
    if unknown:
        raise KeyError(f"unknown axes {unknown}; available: {', '.join(table['name'])}")
    raw = _use_raw(adata, use_raw, layer)
    matrix, var, var_names, where = anndata_matrix(adata, layer, raw)
    features = var_gene_names(var, gene_symbols) if gene_symbols else var_names
    index = ids.FeatureIndex([str(f) for f in features], allow_duplicates=bool(gene_symbols))
    present = [n for n in names if ids.locate(genesets.load(n).genes, index).n_found > 0]
    skipped = [n for n in names if n not in present]
    if skipped:
        warnings.warn(f"axes without any gene in the data were skipped: {skipped}",
                      UserWarning, stacklevel=2)
    if not present:
        raise ValueError("none of the pathway axes has a gene in the data")
    _check_non_negative(matrix, method, where)
    result = score_matrix(adata, present, method, layer=layer, use_raw=raw,
                          gene_symbols=gene_symbols, **{"min_coverage": 0, **params})
    frame = result.scores[present].astype(np.float64)
    frame.index = adata.obs_names
    adata.obsm[key_added] = frame
    directions = table.set_index("name").loc[present, "direction"]
    adata.uns[key_added] = {
        "params": _uns_safe({**result.params, "layer": layer, "use_raw": raw}),
        "coverage": _coverage_table(result.coverage),
        "direction": {k: str(v) for k, v in directions.items()},
        "skipped": np.asarray(skipped, dtype=object),
    }
    return adata if copy else None
