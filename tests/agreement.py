"""Tolerances of the conformance tests, read from ``tests/agreement.toml`` (one source for the
tests and the documentation)."""

from __future__ import annotations

import tomllib
from pathlib import Path

REGISTRY_PATH = Path(__file__).resolve().parent / "agreement.toml"
REGISTRY: dict[str, dict] = tomllib.loads(REGISTRY_PATH.read_text())


def tolerance(key: str) -> float:
    """The asserted bound of comparison ``key`` (KeyError names the known keys)."""
    try:
        return float(REGISTRY[key]["tolerance"])
    except KeyError:
        raise KeyError(f"no agreement entry {key!r} in {REGISTRY_PATH.name}; known: "
                       f"{sorted(REGISTRY)}") from None
