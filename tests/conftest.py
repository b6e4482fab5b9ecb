"""Shared fixtures and paths for the ferroscore tests."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def breast():
    """The bundled GSE1992 cohort as (expression genes x samples, clinical)."""
    import ferroscore as fs

    return fs.datasets.breast_cancer(as_frames=True)
