"""Tolerances of the conformance tests, read from the package's ``data/agreement.toml`` (one
source for the tests, the README and the reports ferroscore writes)."""

from __future__ import annotations

from ferroscore._agreement import REGISTRY_NAME, registry, tolerance

REGISTRY: dict[str, dict] = registry()

__all__ = ["REGISTRY", "REGISTRY_NAME", "tolerance"]
