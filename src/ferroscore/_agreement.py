"""The agreement registry (``data/agreement.toml``): how closely ferroscore reproduces each
reference implementation, as asserted by the test suite.

One source for the tests (``tests/agreement.py`` reads it), the README and the reports an
installed ferroscore writes (the demo quotes it), so a claimed tolerance is always one a test
asserts.
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources

REGISTRY_NAME = "agreement.toml"


def registry_text() -> str:
    """The registry file's text (TOML)."""
    return (resources.files("ferroscore") / "data" / REGISTRY_NAME).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def _registry() -> dict[str, dict]:
    return tomllib.loads(registry_text())


def registry() -> dict[str, dict]:
    """Comparison key -> entry (``procedure``, ``reference``, ``fixture``, ``quantity``,
    ``metric``, ``tolerance``)."""
    return {key: dict(entry) for key, entry in _registry().items()}


def tolerance(key: str) -> float:
    """The asserted bound of comparison ``key`` (KeyError names the known keys)."""
    entries = _registry()
    if key not in entries:
        raise KeyError(f"no agreement entry {key!r} in {REGISTRY_NAME}; known: "
                       f"{sorted(entries)}")
    return float(entries[key]["tolerance"])


def claim(key: str) -> str:
    """One phrase for a report: ``"<reference>, <quantity> within <tolerance> (<metric>)"``."""
    entry = _registry()[key]
    metric = {"max_abs": "absolute", "max_rel": "relative"}[entry["metric"]]
    return f"{entry['reference']}: within {tolerance(key):g} ({metric})"
