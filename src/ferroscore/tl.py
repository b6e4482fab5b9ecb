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

from typing import Any

import numpy as np
import pandas as pd

from ferroscore import genesets, ids
from ferroscore._interface import warn
from ferroscore.matrix import anndata_matrix, var_gene_names
from ferroscore.result import ScoreResult, set_names, to_jsonable
from ferroscore.scoring import score as score_matrix

__all__ = ["score", "score_axes"]


def _use_raw(adata, use_raw: bool | None, layer: str | None) -> bool:
    """scanpy's default: the raw matrix when it exists and no layer is asked for."""
    if use_raw is not None:
        return use_raw
    return layer is None and adata.raw is not None


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
        For a signature, UCell's composite is the difference ``UCell(up) - w_neg *
        UCell(down)`` (in [-w_neg, 1]); ``clip=True`` gives UCell's own signed score
        ``max(0, up - w_neg * down)``, which is 0 in most cells when broadly expressed
        suppressors outrank the drivers (94-96% of the HSMM myoblasts for ``ferroptosis_core``;
        a warning says so).
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
    result = score_matrix(adata, sets, method, layer=layer, use_raw=raw,
                          gene_symbols=gene_symbols, **params)
    for column in result.scores.columns:
        adata.obs[_obs_name(column, result, key_added)] = result.scores[column].to_numpy(
            dtype=np.float64)
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
    _, var, var_names, _ = anndata_matrix(adata, layer, raw)
    features = var_gene_names(var, gene_symbols) if gene_symbols else var_names
    index = ids.FeatureIndex([str(f) for f in features], allow_duplicates=bool(gene_symbols))
    present = [n for n in names if ids.locate(genesets.load(n).genes, index).n_found > 0]
    skipped = [n for n in names if n not in present]
    if skipped:
        warn(f"axes without any gene in the data were skipped: {skipped}")
    if not present:
        raise ValueError("none of the pathway axes has a gene in the data")
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
