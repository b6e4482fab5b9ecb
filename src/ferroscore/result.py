"""The :class:`ScoreResult` returned by :func:`ferroscore.score`, and its file format."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ScoreResult", "set_names", "to_jsonable"]

COVERAGE_COLUMNS = ["set", "side", "n_requested", "n_found", "fraction", "found", "missing",
                    "mapped_aliases", "ambiguous", "excluded", "notes"]


def to_jsonable(value: Any) -> Any:
    """Convert numpy / pandas scalars and containers into JSON-serialisable Python objects."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if value is pd.NA:
        return None
    return value


def set_names(params: dict) -> list[str]:
    """Names of the scored sets and signatures, in scoring order, from a result's ``params``
    (or the ``params`` of a saved result's JSON sidecar)."""
    return [entry["name"] for entry in params["sets"]]


@dataclass
class ScoreResult:
    """Per-sample scores with their coverage report and provenance.

    Attributes
    ----------
    scores
        DataFrame, index = sample IDs. For a plain set ``N`` the column ``N``; for a signature
        ``N`` the composite ``N`` plus ``N_up`` and ``N_down``; method extras (singscore
        ``N_dispersion``...) and, with permutations, ``N_pvalue`` and ``N_qvalue``.
    coverage
        DataFrame, one row per scored gene set (a signature has an ``_up`` and a ``_down``
        row): ``n_requested``, ``n_found``, ``fraction``, found and missing genes, aliases used
        (requested -> matrix feature), ambiguous members, genes excluded by the method, notes.
    params
        Method, parameters, input description, package versions and catalogue version.
    """

    scores: pd.DataFrame
    coverage: pd.DataFrame
    params: dict

    def __repr__(self) -> str:
        return (f"ScoreResult(method={self.params.get('method')!r}, "
                f"{self.scores.shape[0]} samples x {self.scores.shape[1]} columns: "
                f"{list(self.scores.columns[:6])}{' ...' if self.scores.shape[1] > 6 else ''})")

    def set_scores(self) -> pd.DataFrame:
        """The main score of every set and signature: samples x sets, without signature
        sides, method extras, p-values or q-values."""
        return self.scores[set_names(self.params)]

    def to_frame(self, *, long: bool = False) -> pd.DataFrame:
        """The scores as a wide copy (samples x columns) or, with ``long=True``, a tidy table
        with columns ``sample``, ``column``, ``value``."""
        if not long:
            return self.scores.copy()
        frame = self.scores.rename_axis("sample").reset_index()
        return frame.melt(id_vars="sample", var_name="column", value_name="value")

    def coverage_long(self) -> pd.DataFrame:
        """The coverage as a tidy table: one row per set side and requested gene.

        Columns ``set``, ``side``, ``gene`` (as requested), ``status`` (``found``,
        ``excluded`` by the method, ``ambiguous`` alias, or ``missing``) and ``matched_as``
        (the matrix feature a found gene was matched through, when it differs). Plain strings
        only, so ``read.delim`` in R reads a saved copy as it is.

        Examples
        --------
        >>> import ferroscore as fs
        >>> expr, _ = fs.datasets.breast_cancer(as_frames=True)
        >>> fs.score(expr, "ferroptosis_core").coverage_long().columns.tolist()
        ['set', 'side', 'gene', 'status', 'matched_as']
        """
        rows = []
        for _, row in self.coverage.iterrows():
            aliases = row.get("mapped_aliases") or {}
            lists = {"found": row.get("found"), "excluded": row.get("excluded"),
                     "ambiguous": list(row.get("ambiguous") or {}),
                     "missing": row.get("missing")}
            for status, genes in lists.items():
                rows += [{"set": row["set"], "side": row["side"], "gene": str(gene),
                          "status": status, "matched_as": str(aliases.get(gene, ""))}
                         for gene in genes or []]
        columns = ["set", "side", "gene", "status", "matched_as"]
        table = pd.DataFrame(rows, columns=columns)
        return table.drop_duplicates(["set", "side", "gene"]).reset_index(drop=True)

    @property
    def missing(self) -> pd.Series:
        """Number of NaN/inf values of each sample that its scores did not use
        (``na="per_sample"``: each sample is ranked on the genes it observed); 0 for every
        sample otherwise."""
        counts = self.params.get("missing", {}).get("samples", {})
        out = pd.Series(0, index=self.scores.index, name="n_missing", dtype=np.int64)
        for sample, n in counts.items():
            out[sample] = n
        return out

    def save(self, path: str | Path) -> Path:
        """Write the scores as TSV and coverage + parameters as a JSON sidecar.

        ``scores.tsv`` gets ``scores.tsv.json`` next to it. Both are written to temporary
        files first and then renamed, so a failure leaves neither (and no previous pair
        half-replaced). Returns the TSV path.
        """
        path = Path(path)
        sidecar_path = Path(f"{path}.json")
        tsv_tmp = path.with_name(f".{path.name}.tmp")
        json_tmp = sidecar_path.with_name(f".{sidecar_path.name}.tmp")
        try:
            sidecar = {"params": to_jsonable(self.params),
                       "coverage": to_jsonable(self.coverage.reset_index().to_dict("records"))}
            json_tmp.write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
            self.scores.rename_axis("sample").to_csv(tsv_tmp, sep="\t", float_format="%.17g")
            os.replace(json_tmp, sidecar_path)
            try:
                os.replace(tsv_tmp, path)
            except OSError:
                sidecar_path.unlink(missing_ok=True)
                raise
        finally:
            for tmp in (tsv_tmp, json_tmp):
                tmp.unlink(missing_ok=True)
        return path

    @classmethod
    def load(cls, path: str | Path) -> ScoreResult:
        """Read a result written by :meth:`save`."""
        path = Path(path)
        scores = pd.read_csv(path, sep="\t", index_col=0, float_precision="round_trip")
        scores.index = scores.index.astype(str)
        sidecar = json.loads(Path(f"{path}.json").read_text(encoding="utf-8"))
        coverage = pd.DataFrame.from_records(sidecar["coverage"])
        if "component" in coverage.columns:
            coverage = coverage.set_index("component")
        return cls(scores, coverage, sidecar["params"])
